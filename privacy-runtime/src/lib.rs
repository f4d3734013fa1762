#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod clock;
mod consent;
mod context;
mod error;
mod gate;
mod guidelines;
mod manifest;
mod prompt;
mod registry;
mod scope;
mod subject;
mod sync;
#[cfg(feature = "test-util")]
mod testing;
mod ticket;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

#[cfg(feature = "test-util")]
pub use clock::ManualClock;
pub use clock::{Clock, Sleep, SystemClock, Timestamp, TimestampError};
#[cfg(feature = "sqlite")]
pub use consent::SqliteStore;
pub use consent::{
    BoxFuture, ChangeFeed, Collection, ConsentEvent, ConsentReceipt, ConsentRecord, ConsentSource, ConsentState,
    ConsentStore, Controller, LedgerEntry, MemoryStore, Notice, Purpose, current_of,
};
#[cfg(feature = "postgres")]
pub use consent::{FeedNotice, PostgresStore};
pub use context::{
    GateAlreadyInstalled, Scoped, current_gate, current_subject, subject_scope, with_gate, with_subject,
};
pub use error::{PendingStage, PrivacyError, PrivacyErrorKind, StoreError};
pub use gate::{
    CombinedError, DEFAULT_AUTHORIZATION_TTL, DEFAULT_REFUSAL_HOLD, DEFAULT_SNAPSHOT_CAPACITY, DEFAULT_STALENESS_BOUND,
    Gate, GateBuilder, GateStats, NeedAuthorization, NeedAuthorizationListener, OfficialPrompt, OpenAuthorization,
    PrivacyContract, PrivacySetting, PromptRequest, PromptResponder, REQUIRE_PRIVACY_AUTHORIZE, RejectedAgree,
    Resolution, ResolveError, Resolver, WaitPolicy,
};
pub use guidelines::{
    ContractLocation, CustomScope, DEFAULT_EFFECT_DELAY, GuidelineVersion, Guidelines, GuidelinesBuilder,
    GuidelinesError, MAX_EFFECT_DELAY, VersionId,
};
pub use manifest::{Manifest, ManifestApi, ManifestScope, UndeclaredUse};
pub use privacy_macros::{guidelines, privacy_scope};
pub use prompt::{PromptAnswer, PromptStyle};
pub use registry::{CallSite, UndeclaredScope, apis, undeclared_scopes};
/// The SQLite client [`SqliteStore`] uses, for reading the ledger with SQL of your own.
#[cfg(feature = "sqlite")]
pub use rusqlite;
pub use scope::{BUILTIN_COUNT, BuiltinScope, MAX_SCOPES, Scope, ScopeSet, UnknownScopeError};
pub use subject::{AsSubject, Subject, SubjectRef};
#[cfg(feature = "test-util")]
pub use testing::ScriptedPrompt;
pub use ticket::Ticket;
/// The PostgreSQL client [`PostgresStore`] uses, for its connection settings.
#[cfg(feature = "postgres")]
pub use tokio_postgres;
