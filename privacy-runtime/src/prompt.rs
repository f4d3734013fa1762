//! The official privacy prompt: what the platform shows when the app's listener does not answer.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::flow::PromptResponder;
use crate::flow::Ticket;
use crate::scope::ScopeSet;
use crate::subject::Subject;

/// The two styles of the official prompt, which differ in the errno of a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptStyle {
    /// The privacy prompt on its own; a refusal is errno 104.
    Direct,
    /// A privacy checkbox inside an authorization pane; a refusal is errno 103.
    Coupled,
}

impl PromptStyle {
    /// The errno of a refusal in this style.
    pub fn errno(self) -> u32 {
        match self {
            PromptStyle::Direct => 104,
            PromptStyle::Coupled => 103,
        }
    }
}

/// The user's answer to the official prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "answer", content = "style")]
pub enum PromptAnswer {
    /// The user agreed.
    Accept,
    /// The user refused in a prompt of this style.
    Refuse(PromptStyle),
}

/// What the official prompt is asked to show.
#[derive(Debug, Clone)]
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

/// Shows the official prompt. The app (or a test) supplies it; without one, the prompt is the
/// client's, answered through [`Gate::answer_prompt`](crate::Gate::answer_prompt).
///
/// `show` must not block: answer through `responder` now or later, from any thread. Dropping
/// the responder unanswered counts as a refusal in the direct style.
pub trait OfficialPrompt: Send + Sync + 'static {
    /// Shows the prompt for `request`.
    fn show(&self, request: PromptRequest, responder: PromptResponder);
}

/// A test double that answers from a script, one answer a prompt, and counts what it showed.
///
/// `None` in the script leaves the prompt open (the responder is kept, so nothing is answered).
#[derive(Default)]
pub struct ScriptedPrompt {
    script: Mutex<VecDeque<Option<PromptAnswer>>>,
    open: Mutex<Vec<PromptResponder>>,
    shown: AtomicUsize,
}

impl ScriptedPrompt {
    /// A prompt that gives `answers` in order, then refuses in the direct style.
    pub fn new(answers: impl IntoIterator<Item = Option<PromptAnswer>>) -> Self {
        ScriptedPrompt { script: Mutex::new(answers.into_iter().collect()), ..Default::default() }
    }

    /// How many prompts were shown.
    pub fn shown(&self) -> usize {
        self.shown.load(Ordering::SeqCst)
    }

    /// Takes the responders of prompts left open.
    pub fn take_open(&self) -> Vec<PromptResponder> {
        std::mem::take(&mut *self.open.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl OfficialPrompt for ScriptedPrompt {
    fn show(&self, _request: PromptRequest, responder: PromptResponder) {
        self.shown.fetch_add(1, Ordering::SeqCst);
        let next = self.script.lock().unwrap_or_else(PoisonError::into_inner).pop_front();
        match next.unwrap_or(Some(PromptAnswer::Refuse(PromptStyle::Direct))) {
            Some(answer) => {
                // A test double: a rejected answer (the authorization already settled) is fine.
                let _ = responder.answer(answer);
            }
            None => self.open.lock().unwrap_or_else(PoisonError::into_inner).push(responder),
        }
    }
}
