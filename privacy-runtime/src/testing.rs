//! Test doubles (the `test-util` feature): an official prompt that answers from a script.
//! [`ManualClock`](crate::ManualClock) and seeded tickets
//! ([`GateBuilder::ticket_seed`](crate::GateBuilder::ticket_seed)) are there too.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::gate::{OfficialPrompt, PromptRequest, PromptResponder};
use crate::prompt::{PromptAnswer, PromptStyle};

/// An official prompt that answers from a script, one answer a prompt, and counts what it
/// showed. Install it as an `Arc` to keep inspecting it.
///
/// `None` in the script leaves the prompt open (the responder is kept: take it with
/// [`take_open`](Self::take_open)). An answer is given on the tokio runtime of the thread that
/// shows the prompt, as a task of its own, or else right away with
/// [`PromptResponder::answer_blocking`].
#[derive(Default)]
pub struct ScriptedPrompt {
    script: Mutex<VecDeque<Option<PromptAnswer>>>,
    open: Mutex<Vec<PromptResponder>>,
    shown: AtomicUsize,
    requests: Mutex<Vec<PromptRequest>>,
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

    /// The referrers of the prompts shown, in order.
    pub fn referrers(&self) -> Vec<String> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner).iter().map(|r| r.referrer.clone()).collect()
    }

    /// Takes the responders of prompts left open.
    pub fn take_open(&self) -> Vec<PromptResponder> {
        std::mem::take(&mut *self.open.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl OfficialPrompt for ScriptedPrompt {
    fn show(&self, request: PromptRequest, responder: PromptResponder) {
        self.shown.fetch_add(1, Ordering::SeqCst);
        self.requests.lock().unwrap_or_else(PoisonError::into_inner).push(request);
        let next = self.script.lock().unwrap_or_else(PoisonError::into_inner).pop_front();
        match next.unwrap_or(Some(PromptAnswer::Refuse(PromptStyle::Direct))) {
            Some(answer) => answer_now(responder, answer),
            None => self.open.lock().unwrap_or_else(PoisonError::into_inner).push(responder),
        }
    }
}

/// Gives `answer` from inside `show`. A test double: an answer rejected because the
/// authorization settled meanwhile is not an error here.
fn answer_now(responder: PromptResponder, answer: PromptAnswer) {
    #[cfg(feature = "tokio")]
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        rt.spawn(async move {
            let _ = responder.answer(answer).await;
        });
        return;
    }
    let _ = responder.answer_blocking(answer);
}
