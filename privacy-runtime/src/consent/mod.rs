//! Consent as evidence: the records and events, the store contract and the in-memory store.
//!
//! Every change is appended as a [`ConsentEvent`]; nothing is updated in place or deleted, so the
//! history of a user (who, when, which guideline version, which button, which API asked) is
//! always there to show.

mod feed;
mod memory;
mod store;

pub use feed::ChangeFeed;
pub(crate) use feed::ChangeSink;
pub use memory::MemoryStore;
pub use store::{BoxFuture, ConsentStore};

use crate::clock::Timestamp;
use crate::guidelines::VersionId;
use crate::prompt::PromptStyle;
use crate::subject::Subject;

/// How a consent was given.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
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
#[non_exhaustive]
pub struct ConsentRecord {
    /// Who agreed.
    pub subject: Subject,
    /// When.
    pub at: Timestamp,
    /// The guideline version in effect then, by identity; `None` when none was.
    pub version: Option<VersionId>,
    /// Through which button or prompt.
    pub source: ConsentSource,
    /// The API whose call asked for it, if one did.
    pub referrer: Option<String>,
}

impl ConsentRecord {
    /// A record, as a store reads one back from its own rows.
    pub fn new(
        subject: Subject,
        at: Timestamp,
        version: Option<VersionId>,
        source: ConsentSource,
        referrer: Option<String>,
    ) -> Self {
        ConsentRecord { subject, at, version, source, referrer }
    }
}

/// One entry of a user's consent history.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
#[non_exhaustive]
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

    /// When it happened.
    pub fn at(&self) -> Timestamp {
        match self {
            ConsentEvent::Agreed(r) => r.at,
            ConsentEvent::Refused { at, .. } | ConsentEvent::Cleared { at, .. } => *at,
        }
    }
}

/// The consent in force after `history`: the latest agreement not followed by a clear. Stores
/// derive [`ConsentStore::current`] with it.
pub fn current_of(history: &[ConsentEvent]) -> Option<ConsentRecord> {
    history.iter().rev().find_map(|e| match e {
        ConsentEvent::Agreed(r) => Some(Some(r.clone())),
        ConsentEvent::Cleared { .. } => Some(None),
        ConsentEvent::Refused { .. } => None,
    })?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agreed(at: i64) -> ConsentEvent {
        ConsentEvent::Agreed(ConsentRecord {
            subject: Subject::from("u"),
            at: Timestamp::from_unix_millis(at),
            version: None,
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
