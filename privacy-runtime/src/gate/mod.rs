//! The consent gate of one app, and the counterparts of the platform's privacy APIs.
//!
//! - `mod.rs`: [`Gate`] and [`GateBuilder`], the facade with the platform's API names;
//! - `decide`: the decision of one call;
//! - `record`: every consent change (tap, combined button, answers, clear), store first;
//! - `authorization`: the open authorizations, joining, waiting, expiry and holds;
//! - `snapshot`: what the gate knows of each user's consent;
//! - `resolver`: the answers ([`Resolver`], [`PromptResponder`], [`Resolution`]);
//! - `official`: the [`OfficialPrompt`] trait;
//! - `blocking`, `provisional`: sync twins, and the consent a combined button is giving.

mod authorization;
mod blocking;
mod decide;
mod official;
mod provisional;
mod record;
mod resolver;
mod snapshot;

pub use official::{OfficialPrompt, PromptRequest};
pub use resolver::{CombinedError, PromptResponder, RejectedAgree, Resolution, ResolveError, Resolver};

use std::fmt;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use crate::clock::{Clock, SystemClock, Timestamp};
use crate::consent::{ChangeFeed, ChangeSink, ConsentStore, MemoryStore};
use crate::error::PendingStage;
use crate::guidelines::{ContractLocation, Guidelines};
use crate::scope::ScopeSet;
use crate::subject::{AsSubject, Subject, SubjectRef};
use crate::sync::{AtomicBool, RwLock};
use crate::ticket::{Ticket, TicketSource};
use authorization::Table;
use blocking::{Blocker, InAsync, RuntimeHandle};
use snapshot::{Snapshots, WriteLocks};

/// The platform's hold after a refused official prompt.
pub const DEFAULT_REFUSAL_HOLD: Duration = Duration::from_secs(10);

/// How long an authorization stays open by default: five minutes.
///
/// Long enough for a person to read the contract and answer the popup, short enough that a call
/// waiting on an abandoned popup (the user closed the mini program) gives up, and that an open
/// authorization, its ticket and its waiters do not outlive the visit. The platform's own
/// declarations take effect after the same five minutes.
pub const DEFAULT_AUTHORIZATION_TTL: Duration = Duration::from_secs(5 * 60);

/// How many users' consent a gate keeps in memory by default: 1,048,576 (about 80 MB with
/// 30-byte ids). A user past it is read from the store on their next call.
pub const DEFAULT_SNAPSHOT_CAPACITY: usize = 1 << 20;

/// How long a gate trusts what it read of a user's consent when its store has no live change
/// feed: one second.
///
/// A withdrawal must stop calls on every instance about as fast as a person can act again: one
/// second is below the time a user takes to go back to the page that uses the data, while it
/// bounds the extra load at about one store read per active user per second per instance
/// (calls racing on an aged entry may each read). Stores with a feed ([`MemoryStore`], or a
/// database's notifications) are told of every change and do not pay it; a feed that breaks
/// falls back to it until it is live again.
pub const DEFAULT_STALENESS_BOUND: Duration = Duration::from_secs(1);

/// The API name a [`Gate::require_privacy_authorize`] call reports as `referrer`.
pub const REQUIRE_PRIVACY_AUTHORIZE: &str = "requirePrivacyAuthorize";

/// How long a guarded call waits for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitPolicy {
    /// Async calls wait for the decision. When the listener has not answered after `timeout`,
    /// the official prompt is shown; when that too is unanswered after another `timeout`, the
    /// call returns a pending error with its ticket. `None` waits for the listener until it
    /// answers or drops its resolver. Either way no call waits past the authorization's expiry
    /// ([`GateBuilder::authorization_ttl`]), when it fails with errno 104.
    Wait {
        /// How long to wait at each stage.
        timeout: Option<Duration>,
    },
    /// Calls return at once with a pending error and its ticket (the HTTP pattern); the client
    /// resolves the ticket and calls again.
    ReturnPending,
}

/// The event a need-authorization listener receives (the platform's `eventInfo`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NeedAuthorization {
    /// The API whose call raised the event.
    pub referrer: String,
    /// The scopes that call needs.
    pub scopes: ScopeSet,
    /// The user.
    pub subject: Subject,
    /// The pending authorization.
    pub ticket: Ticket,
}

/// An open authorization, as [`Gate::pending`] reports it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OpenAuthorization {
    /// Its ticket, for [`Gate::resolve`] and [`Gate::answer_prompt`].
    pub ticket: Ticket,
    /// Who holds it now: the app's listener or the official prompt.
    pub stage: PendingStage,
    /// The API whose call opened it (the event's `referrer`).
    pub referrer: String,
    /// The scopes its calls need.
    pub scopes: ScopeSet,
    /// Whether the app reported its popup shown (`exposureAuthorization`).
    pub exposed: bool,
    /// When it ends unanswered.
    pub expires_at: Timestamp,
}

/// Listens for calls that need the user's agreement (`wx.onNeedPrivacyAuthorization`).
///
/// Install a closure with [`Gate::on_need_privacy_authorization`], or a type of your own (an
/// `Arc` of it, to keep a handle) with [`Gate::set_need_privacy_authorization_listener`]. The
/// listener is called with no lock held; it must not block: keep the resolver and answer later,
/// or answer at once.
pub trait NeedAuthorizationListener: Send + Sync + 'static {
    /// Called once per authorization, when a call opens it.
    fn on_need_privacy_authorization(&self, resolver: Resolver, event: NeedAuthorization);
}

impl<L: NeedAuthorizationListener + ?Sized> NeedAuthorizationListener for Arc<L> {
    fn on_need_privacy_authorization(&self, resolver: Resolver, event: NeedAuthorization) {
        (**self).on_need_privacy_authorization(resolver, event);
    }
}

struct FnListener<F>(F);

impl<F: Fn(Resolver, NeedAuthorization) + Send + Sync + 'static> NeedAuthorizationListener for FnListener<F> {
    fn on_need_privacy_authorization(&self, resolver: Resolver, event: NeedAuthorization) {
        (self.0)(resolver, event);
    }
}

/// `wx.getPrivacySetting`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PrivacySetting {
    /// `true` when scopes are in effect that the user's consent does not cover.
    pub need_authorization: bool,
    /// The contract's name.
    pub privacy_contract_name: String,
    /// Always `getPrivacySetting:ok`.
    pub err_msg: &'static str,
}

/// `wx.openPrivacyContract`'s target: the contract to show.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct PrivacyContract {
    /// The contract's name.
    pub name: String,
    /// Its page or text.
    pub location: Option<ContractLocation>,
}

pub(crate) struct GateInner {
    app: Arc<str>,
    guidelines: Guidelines,
    store: Arc<dyn ConsentStore>,
    clock: Arc<dyn Clock>,
    clock_is_wall: bool,
    prompt: Option<Arc<dyn OfficialPrompt>>,
    listener: RwLock<Option<Arc<dyn NeedAuthorizationListener>>>,
    wait: WaitPolicy,
    refusal_hold: Duration,
    ttl: Duration,
    max_consent_age: Option<Duration>,
    snapshots: Snapshots,
    writes: WriteLocks,
    auths: Table,
    actions: provisional::Actions,
    settled: AtomicBool,
    tickets: TicketSource,
    runtime: RuntimeHandle,
}

/// The consent gate of one app: guidelines, store, clock, listener and prompt. Cheap to clone.
///
/// ```
/// use privacy_runtime::{Gate, Guidelines, Timestamp};
///
/// let guidelines = Guidelines::builder("《示例小程序隐私保护指引》")
///     .version(Timestamp::utc(2023, 7, 11, 0, 0, 0), ["chosen_location"])
///     .agree_button("agree-btn")
///     .build()?;
/// let gate = Gate::builder("wx-demo", guidelines).build();
///
/// assert!(gate.get_privacy_setting_blocking("openid-1")?.need_authorization);
/// gate.tap_agree_button_blocking("openid-1", "agree-btn")?;
/// assert!(!gate.get_privacy_setting_blocking("openid-1")?.need_authorization);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Gate {
    pub(crate) inner: Arc<GateInner>,
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gate")
            .field("app", &self.inner.app)
            .field("guidelines", &self.inner.guidelines.to_string())
            .finish()
    }
}

/// Builds a [`Gate`].
#[must_use]
pub struct GateBuilder {
    app: String,
    guidelines: Guidelines,
    store: Arc<dyn ConsentStore>,
    clock: Arc<dyn Clock>,
    clock_is_wall: bool,
    prompt: Option<Arc<dyn OfficialPrompt>>,
    wait: WaitPolicy,
    refusal_hold: Duration,
    ttl: Duration,
    tickets: TicketSource,
    runtime: Option<RuntimeHandle>,
    snapshot_capacity: usize,
    staleness_bound: Duration,
    max_consent_age: Option<Duration>,
}

impl GateBuilder {
    /// Where consent is kept (default: a [`MemoryStore`]). Pass an `Arc` to keep a handle on it.
    /// The gate keeps a snapshot of what it read and wrote; changes made to the store by anything
    /// else (another gate, another process) reach it through the store's change feed
    /// ([`ConsentStore::subscribe`]), or after the staleness bound for a store without one.
    pub fn store(mut self, store: impl ConsentStore) -> Self {
        self.store = Arc::new(store);
        self
    }

    /// The clock (default: [`SystemClock`]).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self.clock_is_wall = false;
        self
    }

    /// The official prompt shown on the server's side. Without one, the client shows it and
    /// answers through [`Gate::answer_prompt`]; with one, client answers are refused.
    pub fn official_prompt(mut self, prompt: impl OfficialPrompt) -> Self {
        self.prompt = Some(Arc::new(prompt));
        self
    }

    /// How long calls wait for a person (default: `Wait { timeout: None }`, bounded by the
    /// authorization's expiry).
    pub fn wait_policy(mut self, wait: WaitPolicy) -> Self {
        self.wait = wait;
        self
    }

    /// How long after a refused official prompt calls fail at once (default 10 s).
    pub fn refusal_hold(mut self, hold: Duration) -> Self {
        self.refusal_hold = hold;
        self
    }

    /// How long an authorization stays open before it ends unanswered
    /// (default [`DEFAULT_AUTHORIZATION_TTL`], five minutes). Its ticket dies with it.
    pub fn authorization_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// How many users' consent the gate keeps in memory (default [`DEFAULT_SNAPSHOT_CAPACITY`]).
    /// Only users with a consent in force are kept. Past the capacity some are dropped, and read
    /// from the store again on their next call; nothing is guessed.
    pub fn snapshot_capacity(mut self, users: usize) -> Self {
        self.snapshot_capacity = users;
        self
    }

    /// How long what the gate read of a user's consent is trusted while the store's change feed
    /// is not live, or when the store has none (default [`DEFAULT_STALENESS_BOUND`], one
    /// second). Counted in whole seconds, rounded up; zero reads the store on every call.
    pub fn staleness_bound(mut self, bound: Duration) -> Self {
        self.staleness_bound = bound;
        self
    }

    /// How long a consent counts (default: for ever). Past that age, the user's next call finds
    /// it expired: the gate appends an [`Expired`](crate::ConsentEvent::Expired) entry and asks
    /// again, as for a user who never agreed. 13 months is a common choice (about 396 days).
    pub fn max_consent_age(mut self, age: Duration) -> Self {
        self.max_consent_age = Some(age);
        self
    }

    /// The tokio runtime that drives the store when a `_blocking` method is called from a thread
    /// outside any runtime. By default, the runtime the gate is built on, if any.
    #[cfg(feature = "tokio")]
    pub fn runtime(mut self, handle: tokio::runtime::Handle) -> Self {
        self.runtime = Some(Some(handle));
        self
    }

    /// Tickets from a predictable sequence, for tests that compare them. Never in production:
    /// one ticket gives away the next.
    #[cfg(feature = "test-util")]
    pub fn ticket_seed(mut self, seed: u64) -> Self {
        self.tickets = TicketSource::Seeded(Box::new(crate::sync::Mutex::new(u128::from(seed))));
        self
    }

    /// Builds the gate, and subscribes it to the store's change feed.
    pub fn build(self) -> Gate {
        let sets = self.guidelines.versions().iter().map(|v| v.declared).collect::<Vec<_>>();
        let snapshots = Snapshots::new(sets, self.snapshot_capacity, self.staleness_bound, self.clock.now());
        let gate = Gate {
            inner: Arc::new(GateInner {
                app: self.app.into(),
                guidelines: self.guidelines,
                store: self.store,
                clock: self.clock,
                clock_is_wall: self.clock_is_wall,
                prompt: self.prompt,
                listener: RwLock::new(None),
                wait: self.wait,
                refusal_hold: self.refusal_hold,
                ttl: self.ttl,
                max_consent_age: self.max_consent_age,
                snapshots,
                writes: WriteLocks::default(),
                auths: Table::default(),
                actions: provisional::Actions::default(),
                settled: AtomicBool::new(false),
                tickets: self.tickets,
                runtime: self.runtime.unwrap_or_else(blocking::current_runtime),
            }),
        };
        let sink: std::sync::Weak<dyn ChangeSink> = Arc::downgrade(&gate.inner) as std::sync::Weak<GateInner>;
        let live = gate.inner.store.subscribe(ChangeFeed::new(sink));
        gate.inner.snapshots.subscribed(live);
        gate
    }
}

impl ChangeSink for GateInner {
    fn changed(&self, app: &str, subject: SubjectRef<'_>) {
        if app == &*self.app {
            self.snapshots.forget(subject);
            // Changed by someone else (this gate's own writes hold the user's write lock and
            // settle the user's authorization themselves): the calls waiting on it decide again,
            // and a later call asks afresh.
            let subject = subject.to_owned();
            if !self.writes.is_held(&subject) {
                self.auths.changed_elsewhere(&subject);
            }
        }
    }

    fn resync(&self) {
        self.snapshots.forget_all();
    }

    fn set_live(&self, live: bool) {
        self.snapshots.set_feed_live(live);
    }
}

/// What a gate keeps in memory: authorizations, holds and write locks (what is open, nothing
/// more), and the users in its consent snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct GateStats {
    /// Users with an open authorization or a running refusal hold.
    pub users_with_state: usize,
    /// Tickets of authorizations still open (a ticket kept after the tap that settled it, for
    /// the client's `agree`, is not counted).
    pub open_tickets: usize,
    /// Calls waiting on an open authorization.
    pub waiting_calls: usize,
    /// Users with a consent change being written.
    pub writes_in_flight: usize,
    /// Users whose consent the gate keeps in memory (at most about the snapshot capacity).
    pub users_in_snapshot: usize,
    /// `true` while the store's change feed is live (otherwise the staleness bound applies).
    pub change_feed_live: bool,
}

impl Gate {
    /// Starts a gate for the app `app` (its AppID or any stable name) with its guidelines.
    pub fn builder(app: impl Into<String>, guidelines: Guidelines) -> GateBuilder {
        GateBuilder {
            app: app.into(),
            guidelines,
            store: Arc::new(MemoryStore::new()),
            clock: Arc::new(SystemClock),
            clock_is_wall: true,
            prompt: None,
            wait: WaitPolicy::Wait { timeout: None },
            refusal_hold: DEFAULT_REFUSAL_HOLD,
            ttl: DEFAULT_AUTHORIZATION_TTL,
            tickets: TicketSource::Os,
            runtime: None,
            snapshot_capacity: DEFAULT_SNAPSHOT_CAPACITY,
            staleness_bound: DEFAULT_STALENESS_BOUND,
            max_consent_age: None,
        }
    }

    /// The app's name.
    pub fn app(&self) -> &str {
        &self.inner.app
    }

    /// The guidelines.
    #[inline]
    pub fn guidelines(&self) -> &Guidelines {
        &self.inner.guidelines
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn ConsentStore> {
        &self.inner.store
    }

    /// The clock's time.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// What the gate keeps in memory: open authorizations, writes, the consent snapshot.
    pub fn stats(&self) -> GateStats {
        let (users_with_state, open_tickets, waiting_calls) = self.inner.auths.sizes();
        GateStats {
            users_with_state,
            open_tickets,
            waiting_calls,
            writes_in_flight: self.inner.writes.len(),
            users_in_snapshot: self.inner.snapshots.len(),
            change_feed_live: self.inner.snapshots.feed_live(),
        }
    }

    pub(crate) fn id(&self) -> u64 {
        self.inner.snapshots.id()
    }

    /// `wx.onNeedPrivacyAuthorization`: registers the listener, replacing the previous one.
    pub fn on_need_privacy_authorization(
        &self,
        listener: impl Fn(Resolver, NeedAuthorization) + Send + Sync + 'static,
    ) {
        self.set_need_privacy_authorization_listener(FnListener(listener));
    }

    /// Registers a listener of your own type (or an `Arc` of it), replacing the previous one.
    pub fn set_need_privacy_authorization_listener(&self, listener: impl NeedAuthorizationListener) {
        self.replace_listener(Some(Arc::new(listener)));
    }

    /// Removes the listener: unanswered calls go straight to the official prompt.
    pub fn clear_need_privacy_authorization(&self) {
        self.replace_listener(None);
    }

    fn replace_listener(&self, new: Option<Arc<dyn NeedAuthorizationListener>>) {
        let old = std::mem::replace(&mut *self.inner.listener.write().unwrap_or_else(PoisonError::into_inner), new);
        // The old listener is dropped here, with the lock released.
        drop(old);
    }

    /// `wx.openPrivacyContract`: the contract to show.
    pub fn open_privacy_contract(&self) -> PrivacyContract {
        let g = &self.inner.guidelines;
        PrivacyContract { name: g.contract_name().to_owned(), location: g.contract().cloned() }
    }

    /// The open authorization of `subject`, if one is, with the stage it is at.
    pub fn pending_ticket(&self, subject: impl AsSubject) -> Option<(Ticket, PendingStage)> {
        self.pending(subject).map(|open| (open.ticket, open.stage))
    }

    /// The open authorization of `subject`, if one is, as a client showing the user's popup
    /// sees it: its ticket, stage, the API that opened it, its scopes and whether the popup was
    /// reported shown. What an HTTP backend answers a client that polls for the event.
    pub fn pending(&self, subject: impl AsSubject) -> Option<OpenAuthorization> {
        let subject = subject.as_subject().to_owned();
        let a = self.inner.auths.open_of(&subject)?;
        let now = self.now();
        if now >= a.expires_at {
            self.inner.auths.expire(&a, now);
            return None;
        }
        self.drive(&a);
        Some(OpenAuthorization {
            ticket: a.ticket,
            stage: a.stage(),
            referrer: a.referrer.to_string(),
            scopes: a.scopes,
            exposed: a.exposed(),
            expires_at: a.expires_at,
        })
    }

    /// The app's listener will not answer the authorization `ticket` (the page has none, or it
    /// gave up): the official prompt takes over, as when a [`Resolver`] is dropped unanswered.
    /// Returns the stage it is at now.
    pub fn unanswered(&self, subject: impl AsSubject, ticket: Ticket) -> Result<PendingStage, ResolveError> {
        let subject = subject.as_subject().to_owned();
        let auth =
            self.inner.auths.lookup(&subject, ticket, self.now()).ok_or(ResolveError::UnknownTicket { ticket })?;
        if auth.outcome().is_some() {
            return Err(ResolveError::AlreadySettled { ticket });
        }
        auth.request_escalation();
        self.drive(&auth);
        Ok(auth.stage())
    }

    /// How a `_blocking` method may wait here.
    fn blocker(&self) -> Result<Blocker<'_>, InAsync> {
        blocking::blocker(&self.inner.runtime)
    }
}
