//! The error a guarded call returns, with the platform's errno and errMsg.
//!
//! Every errMsg string of the runtime is written here and nowhere else.

use std::fmt;
use std::sync::Arc;

use crate::prompt::PromptStyle;
use crate::ticket::Ticket;

/// Why a guarded call of a privacy API did not run.
///
/// `Display` is the platform's errMsg (`chooseLocation:fail …`), and serde serializes it to the
/// shape a mini program client expects: `{"errMsg": "…", "errno": 112}` (no `errno` when the
/// platform gives none; a pending authorization also carries its `ticket` and `stage`).
///
/// ```
/// use privacy_runtime::{PrivacyError, PrivacyErrorKind};
/// let e = PrivacyError::new("getWeRunData", PrivacyErrorKind::NotDeclared);
/// assert_eq!(e.errno(), Some(112));
/// assert_eq!(e.to_string(), "getWeRunData:fail api scope is not declared in the privacy agreement");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{api}:fail {}", self.kind.message())]
pub struct PrivacyError {
    api: Arc<str>,
    kind: PrivacyErrorKind,
}

/// What went wrong, independent of the API that was called.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PrivacyErrorKind {
    /// errno 112: a scope of the API is not declared in the guidelines in effect.
    NotDeclared,
    /// The app declared "no personal data" at review; the platform revoked privacy APIs.
    Banned,
    /// The user did not agree: the listener resolved `disagree` (errno 104), or the official
    /// prompt was refused (errno 104 in the direct style, 103 in the style coupled with an
    /// authorization pane).
    NotAuthorized {
        /// The prompt style the refusal came from, or `None` for a `disagree` resolve.
        style: Option<PromptStyle>,
    },
    /// The user refused the official prompt less than the refusal hold ago: the call failed at
    /// once, without an event or a prompt.
    RefusalHold {
        /// The style of the refused prompt.
        style: PromptStyle,
    },
    /// The user has not decided yet; the client resolves the authorization with this ticket and
    /// calls again.
    Pending {
        /// The ticket of the pending authorization.
        ticket: Ticket,
        /// Whether the app's own popup or the official prompt is waiting for the user.
        stage: PendingStage,
    },
    /// The authorization ended without an answer: it expired, or the official prompt was
    /// dismissed unanswered. errno 104, as for a refusal, but no refusal is recorded and no hold
    /// starts; the next call asks again.
    Unanswered,
    /// A blocking check needed the consent store on a thread that a current-thread async runtime
    /// drives, where waiting would deadlock; the call was refused.
    BlockingInAsync {
        /// The async form to call instead.
        use_instead: &'static str,
    },
    /// The operating system gave no randomness for the authorization's ticket; the call was
    /// refused.
    TicketUnavailable {
        /// The operating system's message.
        message: String,
    },
    /// The consent store did not answer, so consent could not be proven; the call was refused.
    StoreUnavailable {
        /// The store's own message.
        message: String,
    },
    /// The call names no user: no `#[subject]` argument and no ambient subject.
    NoSubject,
    /// No gate is installed for this thread or task, nor globally.
    NoGate,
}

/// Who is waiting for the user's answer in a pending authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
#[serde(rename_all = "snake_case")]
pub enum PendingStage {
    /// The need-authorization listener holds the resolver (the app's own popup).
    Listener,
    /// The official prompt is shown.
    OfficialPrompt,
}

impl PrivacyErrorKind {
    fn message(&self) -> String {
        match self {
            PrivacyErrorKind::NotDeclared => "api scope is not declared in the privacy agreement".into(),
            PrivacyErrorKind::Banned => "AppID privacy api banned".into(),
            PrivacyErrorKind::NotAuthorized { .. } | PrivacyErrorKind::Unanswered => {
                "privacy permission is not authorized".into()
            }
            PrivacyErrorKind::RefusalHold { .. } => "privacy permission is not authorized in gap".into(),
            PrivacyErrorKind::Pending { ticket, .. } => format!(
                "privacy authorization pending (ticket {ticket}); show the privacy popup, resolve the ticket, then call again"
            ),
            PrivacyErrorKind::BlockingInAsync { use_instead } => format!(
                "privacy check needs the consent store, and a blocking call cannot wait for it on a current-thread async runtime; call {use_instead} with .await, or run on a multi-thread runtime"
            ),
            PrivacyErrorKind::TicketUnavailable { message } => {
                format!("privacy authorization could not be opened ({message}); the call was refused, retry")
            }
            PrivacyErrorKind::StoreUnavailable { message } => format!(
                "privacy consent store unavailable ({message}); the call was refused, retry when the store is back"
            ),
            PrivacyErrorKind::NoSubject => "privacy subject missing; mark a parameter #[subject] or run the call inside privacy_runtime::with_subject".into(),
            PrivacyErrorKind::NoGate => "privacy gate missing; install one with Gate::install_global or privacy_runtime::with_gate".into(),
        }
    }
}

impl PrivacyError {
    /// An error of `kind` for a call of `api`.
    pub fn new(api: impl Into<Arc<str>>, kind: PrivacyErrorKind) -> Self {
        PrivacyError { api: api.into(), kind }
    }

    /// The API that was called, as in the errMsg and the event's `referrer`.
    pub fn api(&self) -> &str {
        &self.api
    }

    /// What went wrong.
    pub fn kind(&self) -> &PrivacyErrorKind {
        &self.kind
    }

    /// The platform's errno: 112 not declared, 104 not authorized (direct prompt or
    /// `disagree`), 103 refused in the coupled prompt; `None` where the platform gives none.
    pub fn errno(&self) -> Option<u32> {
        match &self.kind {
            PrivacyErrorKind::NotDeclared => Some(112),
            PrivacyErrorKind::NotAuthorized { style } => Some(style.map_or(104, PromptStyle::errno)),
            PrivacyErrorKind::Unanswered => Some(104),
            PrivacyErrorKind::RefusalHold { style } => Some(style.errno()),
            _ => None,
        }
    }

    /// The platform's errMsg; the same as `to_string()`.
    pub fn err_msg(&self) -> String {
        self.to_string()
    }

    /// The ticket of a pending authorization.
    pub fn ticket(&self) -> Option<Ticket> {
        match &self.kind {
            PrivacyErrorKind::Pending { ticket, .. } => Some(*ticket),
            _ => None,
        }
    }

    /// `true` when the user did not agree (refused now, within the refusal hold, or left the
    /// authorization unanswered): the errMsg contains `privacy permission is not authorized`.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self.kind,
            PrivacyErrorKind::NotAuthorized { .. }
                | PrivacyErrorKind::RefusalHold { .. }
                | PrivacyErrorKind::Unanswered
        )
    }
}

impl serde::Serialize for PrivacyError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("errMsg", &self.to_string())?;
        if let Some(errno) = self.errno() {
            m.serialize_entry("errno", &errno)?;
        }
        if let PrivacyErrorKind::Pending { ticket, stage } = &self.kind {
            m.serialize_entry("ticket", ticket)?;
            m.serialize_entry("stage", stage)?;
        }
        m.end()
    }
}

/// The error of a store that could not answer.
#[derive(Debug, Clone, thiserror::Error)]
#[error("consent store unavailable: {message}")]
pub struct StoreError {
    message: String,
    #[source]
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl StoreError {
    /// A store error with a message that says what failed.
    pub fn new(message: impl Into<String>) -> Self {
        StoreError { message: message.into(), source: None }
    }

    /// A store error caused by `source`.
    pub fn with_source(message: impl Into<String>, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError { message: message.into(), source: Some(Arc::new(source)) }
    }

    /// The error of a `_blocking` method called on a thread that a current-thread async runtime
    /// drives, where waiting for the store would deadlock.
    pub fn blocking_in_async(use_instead: &'static str) -> Self {
        StoreError::new(format!(
            "a blocking call cannot wait for the store on a current-thread async runtime; call {use_instead} with .await"
        ))
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for PendingStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PendingStage::Listener => "listener",
            PendingStage::OfficialPrompt => "official_prompt",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_errnos_and_messages() {
        let cases = [
            (PrivacyErrorKind::NotDeclared, Some(112), "A:fail api scope is not declared in the privacy agreement"),
            (PrivacyErrorKind::Banned, None, "A:fail AppID privacy api banned"),
            (PrivacyErrorKind::NotAuthorized { style: None }, Some(104), "A:fail privacy permission is not authorized"),
            (
                PrivacyErrorKind::NotAuthorized { style: Some(PromptStyle::Coupled) },
                Some(103),
                "A:fail privacy permission is not authorized",
            ),
            (
                PrivacyErrorKind::RefusalHold { style: PromptStyle::Direct },
                Some(104),
                "A:fail privacy permission is not authorized in gap",
            ),
        ];
        for (kind, errno, msg) in cases {
            let e = PrivacyError::new("A", kind);
            assert_eq!(e.errno(), errno);
            assert_eq!(e.to_string(), msg);
        }
    }

    #[test]
    fn serializes_to_the_client_shape() {
        let e = PrivacyError::new("getWeRunData", PrivacyErrorKind::NotDeclared);
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"errMsg": "getWeRunData:fail api scope is not declared in the privacy agreement", "errno": 112})
        );
        let banned = serde_json::to_value(PrivacyError::new("getLocation", PrivacyErrorKind::Banned)).unwrap();
        assert_eq!(banned, serde_json::json!({"errMsg": "getLocation:fail AppID privacy api banned"}));
    }
}
