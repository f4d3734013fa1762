#![doc = include_str!("../../README.md")]
#![warn(missing_docs)]

pub mod clock;
pub mod consent;
pub mod context;
pub mod error;
pub mod flow;
pub mod guidelines;
pub mod manifest;
pub mod prompt;
pub mod registry;
pub mod scope;
pub mod subject;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use consent::{ConsentEvent, ConsentRecord, ConsentSource, ConsentStore, MemoryStore};
pub use context::{Scoped, current_gate, current_subject, subject_scope, with_gate, with_subject};
pub use error::{PendingStage, PrivacyError, PrivacyErrorKind, StoreError};
pub use flow::{
    CombinedError, Gate, GateBuilder, NeedAuthorization, NeedAuthorizationListener, PrivacyContract, PrivacySetting,
    PromptResponder, RejectedAgree, Resolution, ResolveError, Resolver, Ticket, WaitPolicy,
};
pub use guidelines::{ContractLocation, CustomScope, GuidelineVersion, Guidelines, GuidelinesError};
pub use manifest::Manifest;
pub use privacy_macros::{guidelines, privacy_scope};
pub use prompt::{OfficialPrompt, PromptAnswer, PromptRequest, PromptStyle, ScriptedPrompt};
pub use registry::{CallSite, UndeclaredScope, apis, undeclared_scopes};
pub use scope::{Scope, ScopeSet, UnknownScopeError};
pub use subject::{AsSubject, Subject, SubjectRef};
