//! What the SQLite and PostgreSQL ledgers share: the schema and its migrations, how an entry is
//! laid out in a row, and how subjects are written.
//!
//! One table, `privacy_consent_ledger`, one row per entry, never updated or deleted:
//!
//! | column | type | what |
//! |---|---|---|
//! | `app` | text | the gate's app |
//! | `subject` | text | the user: `s:` then a string id, or `i:` then an integer id |
//! | `seq` | bigint | the entry's number in the subject's history, from 1, no gaps |
//! | `at_ms` | bigint | when, milliseconds since the Unix epoch (UTC) |
//! | `kind` | text | `exposed`, `agreed`, `agree_resolved`, `refused`, `cleared`, `expired` |
//! | `version_published_ms` | bigint, null | the guideline version's publish time |
//! | `version_sha256` | text, null | the SHA-256 of what that version declares |
//! | `scopes` | text, null | the scope ids agreed to, space-separated |
//! | `button_id` | text, null | the agree button |
//! | `prompt_style` | text, null | `custom_popup`, `official`, `official_direct`, `official_coupled` or `combined_button` |
//! | `action` | text, null | a combined button's action (`getPhoneNumber`, …) |
//! | `referrer` | text, null | the API whose call asked |
//! | `entry` | text | the whole entry as JSON: what the store reads back |
//!
//! The primary key `(app, subject, seq)` keeps sequences gap-free. SQLite has one writer (the
//! owner lock, and one writing connection behind a mutex), which reads a user's next number, or
//! remembers it, and inserts. PostgreSQL computes each number in the statement that inserts it,
//! and of two instances that computed the same number one fails on the key and tries again.
//!
//! `privacy_schema` lists the migrations applied; each runs once, in a transaction, at start-up.

use crate::consent::{ConsentEvent, ConsentSource, LedgerEntry};
use crate::error::StoreError;
use crate::prompt::PromptStyle;
use crate::subject::{Subject, SubjectRef};

/// Schema migrations, in order: version, what it does, and its statements (the same SQL for
/// SQLite and PostgreSQL).
pub(crate) const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "consent ledger",
    "CREATE TABLE privacy_consent_ledger (
        app TEXT NOT NULL,
        subject TEXT NOT NULL,
        seq BIGINT NOT NULL,
        at_ms BIGINT NOT NULL,
        kind TEXT NOT NULL,
        version_published_ms BIGINT,
        version_sha256 TEXT,
        scopes TEXT,
        button_id TEXT,
        prompt_style TEXT,
        action TEXT,
        referrer TEXT,
        entry TEXT NOT NULL,
        PRIMARY KEY (app, subject, seq)
    );
    CREATE INDEX privacy_consent_ledger_at ON privacy_consent_ledger (app, at_ms);",
)];

/// Creates the migrations table if needed.
pub(crate) const SCHEMA_TABLE: &str = "CREATE TABLE IF NOT EXISTS privacy_schema (
    version BIGINT PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at_ms BIGINT NOT NULL
)";

/// The newest schema this build knows.
pub(crate) fn newest_schema() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.0)
}

/// The error for a database whose schema is newer than this build.
pub(crate) fn schema_too_new(place: &str, found: i64) -> StoreError {
    StoreError::new(format!(
        "the consent ledger at {place} has schema version {found}, newer than the {} this build of \
         privacy-runtime knows; upgrade privacy-runtime in this program (an older build must not write to it)",
        newest_schema()
    ))
}

/// A subject as the `subject` column keeps it.
pub(crate) fn subject_key(subject: SubjectRef<'_>) -> String {
    super::subject_text(&subject.to_owned())
}

/// The subject of a `subject` column.
pub(crate) fn subject_of_key(key: &str) -> Option<Subject> {
    if let Some(s) = key.strip_prefix("s:") {
        return Some(Subject::from(s));
    }
    key.strip_prefix("i:")?.parse::<i128>().ok().map(Subject::Int)
}

/// The columns of one entry, besides app, subject and seq.
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) at_ms: i64,
    pub(crate) kind: &'static str,
    pub(crate) version_published_ms: Option<i64>,
    pub(crate) version_sha256: Option<String>,
    pub(crate) scopes: Option<String>,
    pub(crate) button_id: Option<String>,
    pub(crate) prompt_style: Option<&'static str>,
    pub(crate) action: Option<String>,
    pub(crate) referrer: Option<String>,
    /// The event as JSON.
    pub(crate) entry: String,
}

fn style_name(style: PromptStyle) -> &'static str {
    match style {
        PromptStyle::Direct => "official_direct",
        PromptStyle::Coupled => "official_coupled",
    }
}

/// The longest subject id the ledgers keep, in bytes (an openid is 28).
pub(crate) const MAX_SUBJECT_BYTES: usize = 4096;

impl Row {
    pub(crate) fn of(event: &ConsentEvent) -> Result<Row, StoreError> {
        if let crate::subject::SubjectRef::Str(id) = event.subject().as_ref()
            && id.len() > MAX_SUBJECT_BYTES
        {
            return Err(StoreError::new(format!(
                "a subject id of {} bytes is longer than the {MAX_SUBJECT_BYTES} the consent ledger keeps; identify \
                 users by a shorter id (an openid, a user number)",
                id.len()
            )));
        }
        let entry = serde_json::to_string(event)
            .map_err(|e| StoreError::with_source("a consent event could not be written as JSON", e))?;
        let mut row = Row {
            at_ms: event.at().unix_millis(),
            kind: event.kind(),
            version_published_ms: None,
            version_sha256: None,
            scopes: None,
            button_id: None,
            prompt_style: None,
            action: None,
            referrer: None,
            entry,
        };
        let version = match event {
            ConsentEvent::Agreed(r) => {
                row.scopes = Some(r.scopes.join(" "));
                row.referrer.clone_from(&r.referrer);
                match &r.source {
                    ConsentSource::AgreeButton { button_id } => {
                        row.button_id = Some(button_id.clone());
                        row.prompt_style = Some("custom_popup");
                    }
                    ConsentSource::CombinedButton { button_id, action } => {
                        row.button_id = Some(button_id.clone());
                        row.action = Some(action.clone());
                        row.prompt_style = Some("combined_button");
                    }
                    ConsentSource::OfficialPrompt => row.prompt_style = Some("official"),
                }
                r.version
            }
            ConsentEvent::Exposed { referrer, .. } => {
                row.referrer = Some(referrer.clone());
                row.prompt_style = Some("custom_popup");
                None
            }
            ConsentEvent::AgreeResolved { button_id, referrer, .. } => {
                row.button_id = Some(button_id.clone());
                row.referrer = Some(referrer.clone());
                row.prompt_style = Some("custom_popup");
                None
            }
            ConsentEvent::Refused { style, referrer, .. } => {
                row.referrer = Some(referrer.clone());
                row.prompt_style = Some(style.map_or("custom_popup", style_name));
                None
            }
            ConsentEvent::Cleared { .. } => None,
            ConsentEvent::Expired { version, .. } => *version,
        };
        if let Some(v) = version {
            row.version_published_ms = Some(v.published_at().unix_millis());
            row.version_sha256 = Some(v.digest_hex());
        }
        Ok(row)
    }
}

/// An entry read back from its row. A row whose JSON does not parse, or does not match its own
/// columns, is reported as damaged rather than skipped.
pub(crate) fn decode(
    place: &str,
    app: &str,
    subject: &str,
    seq: i64,
    kind: &str,
    entry: &str,
) -> Result<LedgerEntry, StoreError> {
    let damaged = |why: String| {
        StoreError::new(format!(
            "the consent ledger at {place} has a damaged entry (app {app}, subject {subject}, seq {seq}): {why}; \
             restore the database from a backup"
        ))
    };
    let event: ConsentEvent = serde_json::from_str(entry).map_err(|e| damaged(e.to_string()))?;
    if event.kind() != kind || subject_of_key(subject).as_ref() != Some(event.subject()) {
        return Err(damaged(format!("its columns say {kind} for {subject}, its JSON {}", event.kind())));
    }
    let seq = u64::try_from(seq).map_err(|_| damaged("a negative sequence number".into()))?;
    Ok(LedgerEntry::new(app, seq, event))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Timestamp;

    #[test]
    fn subjects_round_trip_and_keep_their_kind() {
        for s in [Subject::from("42"), Subject::Int(42), Subject::from("s:x"), Subject::Int(-7)] {
            let key = subject_key(s.as_ref());
            assert_eq!(subject_of_key(&key), Some(s));
        }
        assert_ne!(subject_key(Subject::from("42").as_ref()), subject_key(Subject::Int(42).as_ref()));
        assert_eq!(subject_of_key("x:1"), None);
    }

    #[test]
    fn an_overlong_subject_is_refused() {
        let at = Timestamp::from_unix_millis(5);
        let ok = ConsentEvent::Cleared { subject: Subject::from("x".repeat(MAX_SUBJECT_BYTES).as_str()), at };
        assert!(Row::of(&ok).is_ok());
        let long = ConsentEvent::Cleared { subject: Subject::from("x".repeat(MAX_SUBJECT_BYTES + 1).as_str()), at };
        let e = Row::of(&long).unwrap_err();
        assert!(e.message().contains("4097 bytes"), "{e}");
    }

    #[test]
    fn a_row_that_disagrees_with_its_json_is_damaged() {
        let event = ConsentEvent::Cleared { subject: Subject::from("u"), at: Timestamp::from_unix_millis(5) };
        let row = Row::of(&event).unwrap();
        assert_eq!(row.kind, "cleared");
        assert!(decode("db", "a", "s:u", 1, "cleared", &row.entry).is_ok());
        let e = decode("db", "a", "s:u", 1, "agreed", &row.entry).unwrap_err();
        assert!(e.message().contains("damaged entry"), "{e}");
        let e = decode("db", "a", "s:u", 1, "cleared", "{\"event\":\"clea").unwrap_err();
        assert!(e.message().contains("restore the database"), "{e}");
    }
}
