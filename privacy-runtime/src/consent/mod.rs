//! Consent as evidence: the records and events, the store contract and the in-memory store.
//!
//! Every change is appended as a [`ConsentEvent`]; nothing is updated in place or deleted, so the
//! history of a user (who, when, which guideline version, which button, which API asked) is
//! always there to show.

mod feed;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
mod receipt;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;

pub use feed::ChangeFeed;
pub(crate) use feed::ChangeSink;
pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::{FeedNotice, PostgresStore};
pub(crate) use receipt::json_lines;
pub use receipt::{Collection, ConsentReceipt, ConsentState, Controller, Notice, Purpose};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
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
    /// The guideline version in effect then, by identity (its publish time and the SHA-256 of
    /// what it declares); `None` when none was.
    pub version: Option<VersionId>,
    /// The ids of the scopes that version declares: what the user agreed to.
    #[serde(default)]
    pub scopes: Vec<String>,
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
        ConsentRecord { subject, at, version, scopes: Vec::new(), source, referrer }
    }

    /// The record with the ids of the scopes it covers.
    #[must_use]
    pub fn with_scopes(mut self, scopes: Vec<String>) -> Self {
        self.scopes = scopes;
        self
    }
}

/// One entry of a user's consent history.
///
/// | event | when | written by |
/// |---|---|---|
/// | `exposed` | the app's own popup was shown (`resolve({ event: 'exposureAuthorization' })`) | [`Gate::resolve`](crate::Gate::resolve) |
/// | `agreed` | the agree button was tapped, alone or combined, or the official prompt accepted | [`Gate::tap_agree_button`](crate::Gate::tap_agree_button), [`Gate::agree_with_action`](crate::Gate::agree_with_action), the official prompt |
/// | `agree_resolved` | `resolve({ event: 'agree', buttonId })` settled an authorization | [`Gate::resolve`](crate::Gate::resolve) |
/// | `refused` | `disagree`, or the official prompt refused | [`Gate::resolve`](crate::Gate::resolve), the official prompt |
/// | `cleared` | consent withdrawn | [`Gate::clear`](crate::Gate::clear) |
/// | `expired` | consent reached its maximum age | the gate, at the user's next call |
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
#[non_exhaustive]
pub enum ConsentEvent {
    /// The app's own privacy popup was shown for an authorization.
    Exposed {
        /// To whom.
        subject: Subject,
        /// When.
        at: Timestamp,
        /// The API whose call asked.
        referrer: String,
    },
    /// The user agreed.
    Agreed(ConsentRecord),
    /// The app answered an authorization with `agree`, naming the button the user tapped (the
    /// consent itself is the `agreed` entry of the tap).
    AgreeResolved {
        /// Who.
        subject: Subject,
        /// When.
        at: Timestamp,
        /// The agree button named.
        button_id: String,
        /// The API whose call asked.
        referrer: String,
    },
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
    /// The user's consent reached the gate's maximum age
    /// ([`GateBuilder::max_consent_age`](crate::GateBuilder::max_consent_age)): it no longer
    /// counts, and the user is asked again.
    Expired {
        /// Who.
        subject: Subject,
        /// When the gate found it expired.
        at: Timestamp,
        /// When the consent that expired was given.
        agreed_at: Timestamp,
        /// The version it agreed to.
        version: Option<VersionId>,
    },
}

impl ConsentEvent {
    /// The user the event is about.
    pub fn subject(&self) -> &Subject {
        match self {
            ConsentEvent::Agreed(r) => &r.subject,
            ConsentEvent::Exposed { subject, .. }
            | ConsentEvent::AgreeResolved { subject, .. }
            | ConsentEvent::Refused { subject, .. }
            | ConsentEvent::Cleared { subject, .. }
            | ConsentEvent::Expired { subject, .. } => subject,
        }
    }

    /// When it happened.
    pub fn at(&self) -> Timestamp {
        match self {
            ConsentEvent::Agreed(r) => r.at,
            ConsentEvent::Exposed { at, .. }
            | ConsentEvent::AgreeResolved { at, .. }
            | ConsentEvent::Refused { at, .. }
            | ConsentEvent::Cleared { at, .. }
            | ConsentEvent::Expired { at, .. } => *at,
        }
    }

    /// `true` for the events that change the consent in force (`agreed`, `cleared`,
    /// `expired`): the ones a store reports through its change feed.
    pub fn changes_consent(&self) -> bool {
        matches!(self, ConsentEvent::Agreed(_) | ConsentEvent::Cleared { .. } | ConsentEvent::Expired { .. })
    }

    /// The event's name in the ledger and in exports: `exposed`, `agreed`, `agree_resolved`,
    /// `refused`, `cleared` or `expired`.
    pub fn kind(&self) -> &'static str {
        match self {
            ConsentEvent::Exposed { .. } => "exposed",
            ConsentEvent::Agreed(_) => "agreed",
            ConsentEvent::AgreeResolved { .. } => "agree_resolved",
            ConsentEvent::Refused { .. } => "refused",
            ConsentEvent::Cleared { .. } => "cleared",
            ConsentEvent::Expired { .. } => "expired",
        }
    }
}

/// One entry of the consent ledger: an event, the app it belongs to, and its place in the
/// subject's history. Sequence numbers start at 1 and have no gaps: entry `n` of a subject is
/// the `n`th event ever appended for them in that app.
///
/// Serialized flat, one JSON object per entry: `{"app":…,"seq":…,"event":"agreed",…}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct LedgerEntry {
    /// The app (the gate's app id).
    pub app: String,
    /// The entry's number in the subject's history, from 1.
    pub seq: u64,
    /// What happened.
    #[serde(flatten)]
    pub event: ConsentEvent,
}

impl LedgerEntry {
    /// An entry, as a store reads one back.
    pub fn new(app: impl Into<String>, seq: u64, event: ConsentEvent) -> Self {
        LedgerEntry { app: app.into(), seq, event }
    }
}

/// A subject as text that keeps its kind: `s:` and a string id, or `i:` and an integer id.
pub(crate) fn subject_text(subject: &Subject) -> String {
    match subject.as_ref() {
        crate::subject::SubjectRef::Int(i) => format!("i:{i}"),
        crate::subject::SubjectRef::Str(s) => format!("s:{s}"),
    }
}

/// The consent in force after `history`: the latest agreement not followed by a clear, nor by
/// an expiry of that very agreement (an expiry names the agreement it ends by its time, so one
/// written by a gate that had not yet seen a newer agreement leaves the newer one in force).
/// Stores derive [`ConsentStore::current`] with it.
pub fn current_of<'a>(
    history: impl IntoIterator<Item = &'a ConsentEvent, IntoIter: DoubleEndedIterator>,
) -> Option<ConsentRecord> {
    let mut expired: Vec<Timestamp> = Vec::new();
    for e in history.into_iter().rev() {
        match e {
            ConsentEvent::Agreed(r) if expired.contains(&r.at) => return None,
            ConsentEvent::Agreed(r) => return Some(r.clone()),
            ConsentEvent::Cleared { .. } => return None,
            ConsentEvent::Expired { agreed_at, .. } => expired.push(*agreed_at),
            ConsentEvent::Exposed { .. } | ConsentEvent::AgreeResolved { .. } | ConsentEvent::Refused { .. } => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agreed(at: i64) -> ConsentEvent {
        ConsentEvent::Agreed(ConsentRecord::new(
            Subject::from("u"),
            Timestamp::from_unix_millis(at),
            None,
            ConsentSource::OfficialPrompt,
            None,
        ))
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
        let expired = ConsentEvent::Expired {
            subject: Subject::from("u"),
            at: Timestamp::from_unix_millis(5),
            agreed_at: Timestamp::from_unix_millis(3),
            version: None,
        };
        assert_eq!(current_of(&[]), None);
        assert!(current_of(&[agreed(1)]).is_some());
        assert_eq!(current_of(&[agreed(1), clear.clone()]), None);
        assert_eq!(current_of(&[agreed(1), clear, agreed(3), refuse.clone()]).map(|r| r.at.unix_millis()), Some(3));
        assert_eq!(current_of(&[agreed(3), refuse, expired.clone()]), None);
        // An expiry of an older agreement, written after a newer one landed, ends nothing.
        assert_eq!(current_of(&[agreed(3), agreed(4), expired.clone()]).map(|r| r.at.unix_millis()), Some(4));
        assert_eq!(current_of(&[agreed(3), expired.clone(), expired]), None);
    }

    #[test]
    fn event_json_is_tagged() {
        let v = serde_json::to_value(agreed(0)).unwrap();
        assert_eq!(v["event"], "agreed");
        assert_eq!(v["source"]["kind"], "official_prompt");
        let back: ConsentEvent = serde_json::from_value(v).unwrap();
        assert_eq!(back, agreed(0));
        let entry = LedgerEntry::new("wx1", 7, agreed(0));
        let line = serde_json::to_string(&entry).unwrap();
        assert!(line.starts_with(r#"{"app":"wx1","seq":7,"event":"agreed","#), "{line}");
        assert_eq!(serde_json::from_str::<LedgerEntry>(&line).unwrap(), entry);
    }
}
