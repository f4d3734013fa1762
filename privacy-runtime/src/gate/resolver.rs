//! The answers to a pending authorization: the listener's one-shot [`Resolver`], the official
//! prompt's [`PromptResponder`], and the same answers sent by a client with a ticket.
//!
//! Answers that write to the store (`disagree`, the prompt's answer) are `async`, with a
//! `_blocking` twin. Dropping an answer object unanswered does no I/O and runs no user code: a
//! dropped resolver hands its authorization to the official prompt, which the next call that
//! drives the authorization shows; a dropped responder dismisses the prompt.

use std::fmt;
use std::sync::Arc;

use super::Gate;
use super::authorization::Authorization;
use crate::error::StoreError;
use crate::prompt::PromptAnswer;
use crate::ticket::Ticket;

/// What the client says about a pending authorization, by ticket (the resolver's events).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", tag = "event")]
#[non_exhaustive]
pub enum Resolution {
    /// `exposureAuthorization`: the app's popup was shown.
    ExposureAuthorization,
    /// `agree`, naming the agree button the user tapped.
    Agree {
        /// The button's id.
        #[serde(rename = "buttonId")]
        button_id: String,
    },
    /// `disagree`.
    Disagree,
}

/// Why a resolve, a tap or a prompt answer was not accepted.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// The button id is not a registered agree button.
    #[error("`{button_id}` is not a registered agree button{}; register it in the guidelines", suggestion_text(.suggestion.as_deref()))]
    UnregisteredButton {
        /// The id given.
        button_id: String,
        /// The closest registered id.
        suggestion: Option<String>,
    },
    /// `agree` named a button this user did not tap during this authorization.
    #[error(
        "agree with button `{button_id}` rejected: the user did not tap it during this authorization; resolve agree only from the button's tap handler"
    )]
    ButtonNotTapped {
        /// The id given.
        button_id: String,
    },
    /// No open authorization of this user has this ticket.
    #[error(
        "no pending authorization {ticket} for this user: it was settled, it expired, or it never existed; call the API again for a new one"
    )]
    UnknownTicket {
        /// The ticket given.
        ticket: Ticket,
    },
    /// The authorization's time ran out before the answer; the user is asked again on the next
    /// call.
    #[error("authorization {ticket} expired before this answer; call the API again to ask anew")]
    Expired {
        /// Its ticket.
        ticket: Ticket,
    },
    /// The authorization was already decided, or another answer is being recorded.
    #[error("authorization {ticket} was already decided")]
    AlreadySettled {
        /// Its ticket.
        ticket: Ticket,
    },
    /// The official prompt can only be answered once the authorization reached it.
    #[error("authorization {ticket} is waiting for the app's listener, not for the official prompt")]
    NotPrompting {
        /// Its ticket.
        ticket: Ticket,
    },
    /// The server shows the official prompt itself, so a client's answer is not taken.
    #[error(
        "authorization {ticket} is shown by the server's own official prompt; a client cannot answer it with answer_prompt"
    )]
    PromptIsServerSide {
        /// Its ticket.
        ticket: Ticket,
    },
    /// The user's consent was cleared after this agreement was given and before it could be
    /// written: the clear is the later word, so nothing was recorded.
    #[error("the user's consent was cleared after this agreement was given; nothing was recorded")]
    Withdrawn,
    /// The store did not record the decision.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn suggestion_text(s: Option<&str>) -> String {
    s.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
}

/// The error of a combined button: the action failed, or the consent could not be recorded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CombinedError<E> {
    /// The button id was not accepted; nothing ran.
    #[error(transparent)]
    Button(ResolveError),
    /// The action failed; no consent was recorded.
    #[error("the action failed; no consent was recorded")]
    Action(#[source] E),
    /// The user's consent was cleared while the action ran: its privacy calls lost their
    /// consent at once, nothing was recorded and the action's result was discarded.
    #[error(
        "the user's consent was cleared while the action ran; nothing was recorded and the action's result was discarded"
    )]
    Withdrawn,
    /// The consent could not be stored, so neither is reported as done (the action's result
    /// was discarded, or it was not run).
    #[error("the consent could not be stored, so the action's result was discarded: {0}")]
    Store(#[source] StoreError),
}

/// The one-shot answer to a need-authorization event (the platform's `resolve`).
///
/// `agree` and `disagree` consume it; a rejected `agree` hands it back. Dropping it unanswered
/// (and not [deferred](Resolver::defer)) hands the authorization to the official prompt, as the
/// platform does when the app does not respond.
pub struct Resolver {
    gate: Gate,
    auth: Option<Arc<Authorization>>,
}

/// An `agree` that was not accepted, with the resolver to try again.
#[derive(thiserror::Error)]
#[error("{error}")]
pub struct RejectedAgree {
    /// Why.
    pub error: ResolveError,
    /// The resolver, still unanswered (spent when the authorization was decided already).
    pub resolver: Resolver,
}

impl fmt::Debug for RejectedAgree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RejectedAgree").field("error", &self.error).finish_non_exhaustive()
    }
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver").field("ticket", &self.ticket()).finish()
    }
}

impl Resolver {
    pub(super) fn new(gate: Gate, auth: Arc<Authorization>) -> Self {
        Resolver { gate, auth: Some(auth) }
    }

    /// The pending authorization's ticket; `None` once answered.
    pub fn ticket(&self) -> Option<Ticket> {
        self.auth.as_ref().map(|a| a.ticket)
    }

    /// `exposureAuthorization`: the app's popup was shown. Appends an
    /// [`Exposed`](crate::ConsentEvent::Exposed) entry (once per authorization) in the background, on the gate's tokio
    /// runtime (without one, only a store that answers at once takes it); [`Gate::resolve`]
    /// waits for it instead.
    pub fn exposure(&self) {
        if let Some(a) = &self.auth
            && a.set_exposed()
        {
            self.gate.append_in_background(self.gate.exposed_event(a));
        }
    }

    /// `true` once [`exposure`](Self::exposure) was reported.
    pub fn exposed(&self) -> bool {
        self.auth.as_ref().is_some_and(|a| a.exposed())
    }

    /// `agree`: accepted only if `button_id` is a registered agree button that this user tapped
    /// during this authorization. The tap recorded the consent (and already released the calls
    /// it covers); `agree` settles the authorization, the calls still waiting re-check their own
    /// scopes, and an [`AgreeResolved`](crate::ConsentEvent::AgreeResolved) entry is appended as
    /// [`exposure`](Self::exposure) appends its own.
    pub fn agree(mut self, button_id: &str) -> Result<(), RejectedAgree> {
        let Some(auth) = self.auth.clone() else { return Ok(()) };
        match self.gate.agree_authorization(&auth, button_id) {
            Ok(()) => {
                self.auth = None;
                self.gate.append_in_background(self.gate.agree_event(&auth, button_id));
                Ok(())
            }
            Err(error @ (ResolveError::AlreadySettled { .. } | ResolveError::Expired { .. })) => {
                self.auth = None;
                Err(RejectedAgree { error, resolver: self })
            }
            Err(error) => Err(RejectedAgree { error, resolver: self }),
        }
    }

    /// `disagree`: every call waiting on the authorization fails with errno 104. Returns once the
    /// refusal is stored.
    pub async fn disagree(mut self) -> Result<(), ResolveError> {
        match self.auth.take() {
            Some(a) => self.gate.refuse(&a, None).await,
            None => Ok(()),
        }
    }

    /// [`disagree`](Self::disagree) for sync code.
    pub fn disagree_blocking(mut self) -> Result<(), ResolveError> {
        let blocker = self.gate.blocker().map_err(|_| StoreError::blocking_in_async("Resolver::disagree"))?;
        match self.auth.take() {
            Some(a) => blocker.run(self.gate.refuse(&a, None)),
            None => Ok(()),
        }
    }

    /// Keeps the authorization pending without answering now; the client resolves it later with
    /// [`Gate::resolve`] and the returned ticket.
    pub fn defer(mut self) -> Option<Ticket> {
        self.auth.take().map(|a| a.ticket)
    }
}

impl Drop for Resolver {
    fn drop(&mut self) {
        if let Some(a) = self.auth.take() {
            a.request_escalation();
        }
    }
}

/// The one-shot answer to an official prompt. Dropping it unanswered dismisses the prompt.
pub struct PromptResponder {
    gate: Gate,
    auth: Option<Arc<Authorization>>,
}

impl fmt::Debug for PromptResponder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PromptResponder").field("ticket", &self.auth.as_ref().map(|a| a.ticket)).finish()
    }
}

impl PromptResponder {
    pub(super) fn new(gate: Gate, auth: Arc<Authorization>) -> Self {
        PromptResponder { gate, auth: Some(auth) }
    }

    /// The authorization's ticket; `None` once answered.
    pub fn ticket(&self) -> Option<Ticket> {
        self.auth.as_ref().map(|a| a.ticket)
    }

    /// Gives the user's answer; returns once it is stored.
    pub async fn answer(mut self, answer: PromptAnswer) -> Result<(), ResolveError> {
        match self.auth.take() {
            Some(a) => self.gate.answer_authorization(&a, answer).await,
            None => Ok(()),
        }
    }

    /// [`answer`](Self::answer) for sync code.
    pub fn answer_blocking(mut self, answer: PromptAnswer) -> Result<(), ResolveError> {
        let blocker = self.gate.blocker().map_err(|_| StoreError::blocking_in_async("PromptResponder::answer"))?;
        match self.auth.take() {
            Some(a) => blocker.run(self.gate.answer_authorization(&a, answer)),
            None => Ok(()),
        }
    }
}

impl Drop for PromptResponder {
    fn drop(&mut self) {
        if let Some(a) = self.auth.take() {
            self.gate.inner.auths.dismiss(&a);
        }
    }
}
