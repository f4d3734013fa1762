//! The official privacy prompt: what the platform shows when the app's listener does not answer.

use std::sync::Arc;

use super::resolver::PromptResponder;
use crate::scope::ScopeSet;
use crate::subject::Subject;
use crate::ticket::Ticket;

/// What the official prompt is asked to show.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PromptRequest {
    /// The user.
    pub subject: Subject,
    /// The API whose call opened the authorization.
    pub referrer: String,
    /// The scopes the call needs.
    pub scopes: ScopeSet,
    /// The pending authorization.
    pub ticket: Ticket,
    /// The contract's name, for the prompt's text.
    pub contract_name: String,
}

/// Shows the official prompt on the server's side (an in-process UI, or a test). Without one,
/// the prompt is the client's, answered through [`Gate::answer_prompt`](crate::Gate::answer_prompt).
///
/// `show` is called with no lock held, from the call that drives the authorization at that
/// moment. It must not block: keep the responder and answer later with
/// [`PromptResponder::answer`] (async) or [`PromptResponder::answer_blocking`] from a thread of
/// your own. Dropping the responder unanswered dismisses the prompt: the waiting calls fail with
/// errno 104, and since the user refused nothing, no refusal is recorded and no hold starts.
///
/// `Arc<P>` is a prompt when `P` is, so a test can keep a handle on the prompt it installed.
pub trait OfficialPrompt: Send + Sync + 'static {
    /// Shows the prompt for `request`.
    fn show(&self, request: PromptRequest, responder: PromptResponder);
}

impl<P: OfficialPrompt + ?Sized> OfficialPrompt for Arc<P> {
    fn show(&self, request: PromptRequest, responder: PromptResponder) {
        (**self).show(request, responder);
    }
}
