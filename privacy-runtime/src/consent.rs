//! Consent as evidence: the records, the store trait and the in-memory store.
//!
//! Every change is appended as a [`ConsentEvent`]; nothing is updated in place or deleted, so the
//! history of a user (who, when, which guideline version, which button, which API asked) is
//! always there to show.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};

use crate::clock::Timestamp;
use crate::error::StoreError;
use crate::prompt::PromptStyle;
use crate::subject::Subject;

/// A boxed, sendable future, the return type of the store's methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How a consent was given.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ConsentSource {
    /// An `agreePrivacyAuthorization` button.
    AgreeButton {
        /// The button's id.
        button_id: String,
    },
    /// A combined button such as `getPhoneNumber|agreePrivacyAuthorization`.
    CombinedButton {
        /// The button's id.
        button_id: String,
        /// The action it was combined with (`getPhoneNumber`, …).
        action: String,
    },
    /// The official prompt.
    OfficialPrompt,
}

/// One agreement of one user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConsentRecord {
    /// Who agreed.
    pub subject: Subject,
    /// When.
    pub at: Timestamp,
    /// The guideline version in effect then; 0 when none was.
    pub version: u32,
    /// Through which button or prompt.
    pub source: ConsentSource,
    /// The API whose call asked for it, if one did.
    pub referrer: Option<String>,
}

/// One entry of a user's consent history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum ConsentEvent {
    /// The user agreed.
    Agreed(ConsentRecord),
    /// The user refused: in the official prompt or in the app's own popup.
    Refused {
        /// Who.
        subject: Subject,
        /// When.
        at: Timestamp,
        /// In which prompt style; `None` for a `disagree` from the app's own popup.
        style: Option<PromptStyle>,
        /// The API whose call asked.
        referrer: String,
    },
    /// The user's consent was cleared (the mini program was removed from "recently used").
    Cleared {
        /// Who.
        subject: Subject,
        /// When.
        at: Timestamp,
    },
}

impl ConsentEvent {
    /// The user the event is about.
    pub fn subject(&self) -> &Subject {
        match self {
            ConsentEvent::Agreed(r) => &r.subject,
            ConsentEvent::Refused { subject, .. } | ConsentEvent::Cleared { subject, .. } => subject,
        }
    }
}

/// Where consent is kept. Methods return futures so that durable, networked stores fit behind
/// the same trait; the runtime awaits them in async calls and drives them to completion in sync
/// calls, so a store's futures must not depend on a particular executor's context.
///
/// A store appends and never forgets: [`current`](ConsentStore::current) is derived from the
/// history.
pub trait ConsentStore: Send + Sync + 'static {
    /// Appends `event` to the history of `app`. Returns only once the event is durable.
    fn append<'a>(&'a self, app: &'a str, event: &'a ConsentEvent) -> BoxFuture<'a, Result<(), StoreError>>;

    /// The consent in force for `subject`: the latest agreement not followed by a clear.
    fn current<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Option<ConsentRecord>, StoreError>>;

    /// Every event of `subject`, oldest first.
    fn history<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Vec<ConsentEvent>, StoreError>>;
}

/// The consent in force after `history`.
pub fn current_of(history: &[ConsentEvent]) -> Option<ConsentRecord> {
    history.iter().rev().find_map(|e| match e {
        ConsentEvent::Agreed(r) => Some(Some(r.clone())),
        ConsentEvent::Cleared { .. } => Some(None),
        ConsentEvent::Refused { .. } => None,
    })?
}

/// A store in memory, for tests and single-process demos. Its history lasts as long as the
/// process.
#[derive(Default)]
pub struct MemoryStore {
    events: Mutex<HashMap<(String, Subject), Vec<ConsentEvent>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<(String, Subject), Vec<ConsentEvent>>) -> T) -> T {
        f(&mut self.events.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl ConsentStore for MemoryStore {
    fn append<'a>(&'a self, app: &'a str, event: &'a ConsentEvent) -> BoxFuture<'a, Result<(), StoreError>> {
        self.with(|m| m.entry((app.to_owned(), event.subject().clone())).or_default().push(event.clone()));
        Box::pin(std::future::ready(Ok(())))
    }

    fn current<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Option<ConsentRecord>, StoreError>> {
        let r = self.with(|m| m.get(&(app.to_owned(), subject.clone())).and_then(|h| current_of(h)));
        Box::pin(std::future::ready(Ok(r)))
    }

    fn history<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Vec<ConsentEvent>, StoreError>> {
        let r = self.with(|m| m.get(&(app.to_owned(), subject.clone())).cloned().unwrap_or_default());
        Box::pin(std::future::ready(Ok(r)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agreed(at: i64) -> ConsentEvent {
        ConsentEvent::Agreed(ConsentRecord {
            subject: Subject::from("u"),
            at: Timestamp::from_unix_millis(at),
            version: 1,
            source: ConsentSource::OfficialPrompt,
            referrer: None,
        })
    }

    #[test]
    fn current_follows_the_latest_agree_or_clear() {
        let u = Subject::from("u");
        let clear = ConsentEvent::Cleared { subject: u.clone(), at: Timestamp::from_unix_millis(2) };
        let refuse = ConsentEvent::Refused {
            subject: u,
            at: Timestamp::from_unix_millis(4),
            style: Some(PromptStyle::Direct),
            referrer: "getLocation".into(),
        };
        assert_eq!(current_of(&[]), None);
        assert!(current_of(&[agreed(1)]).is_some());
        assert_eq!(current_of(&[agreed(1), clear.clone()]), None);
        assert_eq!(current_of(&[agreed(1), clear, agreed(3), refuse]).map(|r| r.at.unix_millis()), Some(3));
    }

    #[test]
    fn event_json_is_tagged() {
        let v = serde_json::to_value(agreed(0)).unwrap();
        assert_eq!(v["event"], "agreed");
        assert_eq!(v["source"]["kind"], "official_prompt");
        let back: ConsentEvent = serde_json::from_value(v).unwrap();
        assert_eq!(back, agreed(0));
    }
}
