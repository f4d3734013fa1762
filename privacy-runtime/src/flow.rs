//! The authorization flow: the [`Gate`] that decides every guarded call, and the counterparts of
//! the platform's privacy APIs.
//!
//! The decision for a call of API `A` needing scopes `S` by subject `U`, in order:
//!
//! 1. a scope of `S` not in effect in the guidelines: errno 112, the body never runs;
//! 2. the app is banned: `privacy api banned`;
//! 3. `U`'s consent covers `S`: the body runs (the hot path: no allocation, no global lock);
//! 4. within the refusal hold after `U` refused the official prompt: fail at once;
//! 5. otherwise the need-authorization listener gets an event and a one-shot [`Resolver`];
//! 6. no listener, or the resolver dropped unanswered: the [`OfficialPrompt`];
//! 7. the store fails: the call is refused with its own error.
//!
//! Concurrent calls of one subject share one pending authorization: one event, one decision.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::clock::{Clock, SystemClock, Timestamp};
use crate::consent::{ConsentEvent, ConsentRecord, ConsentSource, ConsentStore, MemoryStore};
use crate::context;
use crate::error::{PendingStage, PrivacyError, PrivacyErrorKind, StoreError};
use crate::guidelines::{ContractLocation, Guidelines};
use crate::prompt::{OfficialPrompt, PromptAnswer, PromptRequest, PromptStyle};
use crate::scope::ScopeSet;
use crate::subject::{AsSubject, Subject, SubjectRef};

/// The platform's hold after a refused official prompt.
pub const DEFAULT_REFUSAL_HOLD: Duration = Duration::from_secs(10);

/// The API name a [`Gate::require_privacy_authorize`] call reports as `referrer`.
pub const REQUIRE_PRIVACY_AUTHORIZE: &str = "requirePrivacyAuthorize";

/// Identifies one pending authorization, so a client can resolve it later.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ticket(u64);

impl Ticket {
    /// The ticket's number.
    pub fn get(self) -> u64 {
        self.0
    }

    /// A ticket from its number (as a client sends it back).
    pub fn from_u64(n: u64) -> Ticket {
        Ticket(n)
    }

    /// Parses the 16-hex-digit form that `Display` prints.
    pub fn parse(s: &str) -> Option<Ticket> {
        (s.len() == 16).then(|| u64::from_str_radix(s, 16).ok().map(Ticket))?
    }
}

impl fmt::Display for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ticket({self})")
    }
}

impl serde::Serialize for Ticket {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Ticket {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ticket::parse(&s).ok_or_else(|| serde::de::Error::custom("a ticket is 16 hex digits"))
    }
}

/// How long a guarded call waits for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitPolicy {
    /// Async calls wait for the decision. When the listener has not answered after `timeout`,
    /// the official prompt is shown; when that too is unanswered after another `timeout`, the
    /// call returns a pending error with its ticket. `None` waits without limit.
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

/// Listens for calls that need the user's agreement (`wx.onNeedPrivacyAuthorization`).
///
/// Any `Fn(Resolver, NeedAuthorization) + Send + Sync` closure is a listener. It must not block:
/// keep the resolver and answer later, or answer at once.
pub trait NeedAuthorizationListener: Send + Sync + 'static {
    /// Called once per pending authorization.
    fn on_need_privacy_authorization(&self, resolver: Resolver, event: NeedAuthorization);
}

impl<F> NeedAuthorizationListener for F
where
    F: Fn(Resolver, NeedAuthorization) + Send + Sync + 'static,
{
    fn on_need_privacy_authorization(&self, resolver: Resolver, event: NeedAuthorization) {
        self(resolver, event);
    }
}

/// What the client says about a pending authorization, by ticket (the resolver's events).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", tag = "event")]
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
    /// No pending authorization of this user has this ticket.
    #[error("no pending authorization {ticket} for this user; it was settled already or never existed")]
    UnknownTicket {
        /// The ticket given.
        ticket: Ticket,
    },
    /// The authorization was already decided.
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
    /// The store did not record the decision.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn suggestion_text(s: Option<&str>) -> String {
    s.map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default()
}

/// The error of a combined button: the action failed, or the consent could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum CombinedError<E> {
    /// The button id was not accepted; nothing ran.
    #[error(transparent)]
    Button(ResolveError),
    /// The action failed; no consent was recorded.
    #[error("the action failed; no consent was recorded")]
    Action(#[source] E),
    /// The action ran but the consent could not be stored, so neither is reported as done.
    #[error("the consent could not be stored, so the action's result was discarded: {0}")]
    Store(#[source] StoreError),
}

/// `wx.getPrivacySetting`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
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
pub struct PrivacyContract {
    /// The contract's name.
    pub name: String,
    /// Its page or text.
    pub location: Option<ContractLocation>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Agreed,
    Refused(Option<PromptStyle>),
    StoreFailed(String),
}

struct Pending {
    ticket: Ticket,
    subject: Subject,
    referrer: String,
    scopes: ScopeSet,
    state: Mutex<PendingState>,
}

struct PendingState {
    stage: PendingStage,
    outcome: Option<Outcome>,
    exposed: bool,
    taps: Vec<String>,
    wakers: Vec<Waker>,
}

impl Pending {
    fn lock(&self) -> std::sync::MutexGuard<'_, PendingState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Default)]
struct IdHasher(u64);
impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}
type ById<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;
/// One shard: subjects (and their covered scopes) by hash.
type Shard = RwLock<ById<Vec<(Subject, ScopeSet)>>>;

const SHARDS: usize = 64;

/// What the gate knows of each user's consent: the scopes of the agreed version, keyed by the
/// subject's hash. Sharded so that calls of different users never meet on one lock, and read
/// through a per-thread cache that an epoch invalidates, so repeated calls of one user take no
/// lock at all.
struct Snapshots {
    shards: Box<[Shard]>,
    /// Unique for the life of the process, so a cache entry never outlives its gate's identity.
    id: u64,
    /// Bumped after every write; a cached entry is valid while its epoch is current.
    epoch: AtomicU64,
}

const CACHE_SLOTS: usize = 64;

struct CacheEntry {
    gate: u64,
    hash: u64,
    epoch: u64,
    subject: Subject,
    covered: ScopeSet,
}

thread_local! {
    static SNAPSHOT_CACHE: std::cell::RefCell<Vec<Option<CacheEntry>>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Snapshots {
    fn new() -> Self {
        static IDS: AtomicU64 = AtomicU64::new(1);
        Snapshots {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            id: IDS.fetch_add(1, Ordering::Relaxed),
            epoch: AtomicU64::new(0),
        }
    }

    /// The snapshot of `subject`, from this thread's cache when it is current.
    #[inline]
    fn get_cached(&self, subject: SubjectRef<'_>) -> Option<ScopeSet> {
        let h = subject.hash64();
        let epoch = self.epoch.load(Ordering::Acquire);
        let slot = (h as usize) % CACHE_SLOTS;
        let hit = SNAPSHOT_CACHE.with(|c| {
            let c = c.try_borrow().ok()?;
            let e = c.get(slot)?.as_ref()?;
            (e.gate == self.id && e.hash == h && e.epoch == epoch && e.subject == subject).then_some(e.covered)
        });
        if hit.is_some() {
            return hit;
        }
        self.load_into_cache(subject, h, epoch)
    }

    /// The cache miss: reads the shard and remembers the answer on this thread.
    #[cold]
    #[inline(never)]
    fn load_into_cache(&self, subject: SubjectRef<'_>, h: u64, epoch: u64) -> Option<ScopeSet> {
        let slot = (h as usize) % CACHE_SLOTS;
        let (owned, covered) = {
            let shard = self.shard(h).read().unwrap_or_else(PoisonError::into_inner);
            let (s, c) = shard.get(&h)?.iter().find(|(s, _)| *s == subject)?;
            (s.clone(), *c)
        };
        SNAPSHOT_CACHE.with(|c| {
            if let Ok(mut c) = c.try_borrow_mut() {
                if c.len() < CACHE_SLOTS {
                    c.resize_with(CACHE_SLOTS, || None);
                }
                c[slot] = Some(CacheEntry { gate: self.id, hash: h, epoch, subject: owned, covered });
            }
        });
        Some(covered)
    }

    #[inline]
    fn shard(&self, h: u64) -> &Shard {
        &self.shards[(h >> 58) as usize % SHARDS]
    }

    fn set(&self, subject: &Subject, covered: ScopeSet, only_if_absent: bool) {
        let h = subject.as_ref().hash64();
        let mut shard = self.shard(h).write().unwrap_or_else(PoisonError::into_inner);
        let bucket = shard.entry(h).or_default();
        match bucket.iter_mut().find(|(s, _)| s == subject) {
            Some(_) if only_if_absent => return,
            Some(entry) => entry.1 = covered,
            None => bucket.push((subject.clone(), covered)),
        }
        drop(shard);
        self.epoch.fetch_add(1, Ordering::Release);
    }
}

#[derive(Default)]
struct PendingTable {
    by_subject: HashMap<Subject, Arc<Pending>>,
    by_ticket: HashMap<Ticket, Arc<Pending>>,
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
    snapshots: Snapshots,
    pending: Mutex<PendingTable>,
    holds: Mutex<HashMap<Subject, (Timestamp, PromptStyle)>>,
    settled: AtomicBool,
    tickets: AtomicU64,
    ticket_key: u64,
}

/// The consent gate of one app: guidelines, store, clock, listener and prompt. Cheap to clone.
///
/// ```
/// use privacy_runtime::{Gate, Guidelines, Scope, Timestamp, ManualClock};
///
/// let guidelines = Guidelines::builder("《示例小程序隐私保护指引》")
///     .version(Timestamp::utc(2023, 7, 11, 0, 0, 0), ["chosen_location"])
///     .agree_button("agree-btn")
///     .build()?;
/// let clock = ManualClock::new(Timestamp::utc(2023, 7, 12, 0, 0, 0));
/// let gate = Gate::builder("wx-demo", guidelines).clock(clock).build();
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
    ticket_seed: Option<u64>,
}

impl GateBuilder {
    /// Where consent is kept (default: a [`MemoryStore`]).
    pub fn store(mut self, store: impl ConsentStore) -> Self {
        self.store = Arc::new(store);
        self
    }

    /// A store shared with other gates or code.
    pub fn shared_store(mut self, store: Arc<dyn ConsentStore>) -> Self {
        self.store = store;
        self
    }

    /// The clock (default: [`SystemClock`]).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self.clock_is_wall = false;
        self
    }

    /// The official prompt. Without one, the client shows it and answers through
    /// [`Gate::answer_prompt`].
    pub fn official_prompt(mut self, prompt: impl OfficialPrompt) -> Self {
        self.prompt = Some(Arc::new(prompt));
        self
    }

    /// How long calls wait for a person (default: wait without limit).
    pub fn wait_policy(mut self, wait: WaitPolicy) -> Self {
        self.wait = wait;
        self
    }

    /// How long after a refused official prompt calls fail at once (default 10 s).
    pub fn refusal_hold(mut self, hold: Duration) -> Self {
        self.refusal_hold = hold;
        self
    }

    /// Seeds the ticket sequence, for tests that compare tickets.
    pub fn ticket_seed(mut self, seed: u64) -> Self {
        self.ticket_seed = Some(seed);
        self
    }

    /// Builds the gate.
    pub fn build(self) -> Gate {
        let seed = self.ticket_seed.unwrap_or_else(|| {
            let t = SystemClock.now().unix_millis().unsigned_abs();
            let addr = std::ptr::from_ref(&self).addr() as u64;
            splitmix(t ^ addr.rotate_left(32))
        });
        Gate {
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
                snapshots: Snapshots::new(),
                pending: Mutex::default(),
                holds: Mutex::default(),
                settled: AtomicBool::new(false),
                tickets: AtomicU64::new(0),
                ticket_key: seed,
            }),
        }
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Runs a future to completion on this thread. Used for store I/O from sync code; never for
/// waiting on a person.
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    struct ThreadWaker(std::thread::Thread);
    impl std::task::Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

enum Precheck {
    Allowed,
    Wait(Arc<Pending>),
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
            ticket_seed: None,
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

    /// The clock.
    pub fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    pub(crate) fn id(&self) -> usize {
        Arc::as_ptr(&self.inner).addr()
    }

    /// `wx.onNeedPrivacyAuthorization`: registers the listener, replacing the previous one.
    pub fn on_need_privacy_authorization(&self, listener: impl NeedAuthorizationListener) {
        *self.inner.listener.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(listener));
    }

    /// Removes the listener: unanswered calls go straight to the official prompt.
    pub fn clear_need_privacy_authorization(&self) {
        *self.inner.listener.write().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// `wx.openPrivacyContract`: the contract to show.
    pub fn open_privacy_contract(&self) -> PrivacyContract {
        let g = &self.inner.guidelines;
        PrivacyContract { name: g.contract_name().to_owned(), location: g.contract().cloned() }
    }

    /// The scopes callable now.
    #[inline]
    fn in_effect_now(&self) -> ScopeSet {
        let inner = &*self.inner;
        if inner.settled.load(Ordering::Relaxed) {
            return inner.guidelines.latest_declared();
        }
        let now = inner.clock.now();
        if inner.clock_is_wall && now >= inner.guidelines.settled_at() {
            inner.settled.store(true, Ordering::Relaxed);
        }
        inner.guidelines.in_effect(now)
    }

    /// The hot path: `true` when the consent snapshot already proves the call allowed.
    #[inline]
    pub(crate) fn fast_allows(&self, required: ScopeSet, subject: SubjectRef<'_>) -> bool {
        if self.inner.guidelines.is_banned() {
            return false;
        }
        let in_effect = self.in_effect_now();
        match self.inner.snapshots.get_cached(subject) {
            Some(covered) => required.is_subset(covered.intersection(in_effect)),
            None => false,
        }
    }

    async fn covered(&self, subject: &Subject) -> Result<ScopeSet, StoreError> {
        if let Some(c) = self.inner.snapshots.get_cached(subject.as_ref()) {
            return Ok(c);
        }
        let record = self.inner.store.current(&self.inner.app, subject).await?;
        let covered = self.covered_by(record.as_ref());
        self.inner.snapshots.set(subject, covered, true);
        Ok(self.inner.snapshots.get_cached(subject.as_ref()).unwrap_or(covered))
    }

    fn covered_by(&self, record: Option<&ConsentRecord>) -> ScopeSet {
        record.and_then(|r| self.inner.guidelines.version(r.version)).map_or(ScopeSet::EMPTY, |v| v.declared)
    }

    fn hold_active(&self, subject: &Subject, now: Timestamp) -> Option<PromptStyle> {
        let holds = self.inner.holds.lock().unwrap_or_else(PoisonError::into_inner);
        holds.get(subject).filter(|(until, _)| now < *until).map(|(_, style)| *style)
    }

    /// Steps 1–3 of the decision: `Ok(None)` when the call is allowed, `Ok(Some(required))`
    /// when the user's consent is missing.
    async fn consent_check(
        &self,
        api: &str,
        required: Option<ScopeSet>,
        subject: &Subject,
    ) -> Result<Option<ScopeSet>, PrivacyError> {
        let err = |kind| PrivacyError::new(api, kind);
        let inner = &*self.inner;
        let in_effect = inner.guidelines.in_effect(inner.clock.now());
        let required = required.ok_or_else(|| err(PrivacyErrorKind::NotDeclared))?;
        if !required.is_subset(in_effect) {
            return Err(err(PrivacyErrorKind::NotDeclared));
        }
        if inner.guidelines.is_banned() {
            return Err(err(PrivacyErrorKind::Banned));
        }
        // A combined button's action runs on the consent being given right now.
        if context::provisional_covers(self.id(), subject, required) {
            return Ok(None);
        }
        let covered = self
            .covered(subject)
            .await
            .map_err(|e| err(PrivacyErrorKind::StoreUnavailable { message: e.message().to_owned() }))?;
        Ok((!required.is_subset(covered.intersection(in_effect))).then_some(required))
    }

    /// Steps 1–5 of the decision: everything up to raising the event.
    async fn precheck(
        &self,
        api: &str,
        required: Option<ScopeSet>,
        subject: &Subject,
    ) -> Result<Precheck, PrivacyError> {
        let Some(required) = self.consent_check(api, required, subject).await? else {
            return Ok(Precheck::Allowed);
        };
        if let Some(style) = self.hold_active(subject, self.inner.clock.now()) {
            return Err(PrivacyError::new(api, PrivacyErrorKind::RefusalHold { style }));
        }
        match self.join_or_open(subject, api, required) {
            None => Ok(Precheck::Allowed),
            Some((pending, opened)) => {
                if opened {
                    self.raise(&pending);
                }
                Ok(Precheck::Wait(pending))
            }
        }
    }

    /// Steps 1–3 only, for a `degrade` fallback: `Ok(true)` when the user's consent covers the
    /// call, `Ok(false)` when it is missing. Raises no event.
    pub(crate) fn peek_blocking(
        &self,
        api: &str,
        required: Option<ScopeSet>,
        subject: Subject,
    ) -> Result<bool, PrivacyError> {
        block_on(self.consent_check(api, required, &subject)).map(|missing| missing.is_none())
    }

    /// Joins the user's pending authorization or opens one (`true`: opened). `None` when the
    /// user agreed since this call checked: an agreement is visible in the snapshot before its
    /// authorization leaves the table, so a call never opens a second one for a decided agree.
    fn join_or_open(&self, subject: &Subject, api: &str, scopes: ScopeSet) -> Option<(Arc<Pending>, bool)> {
        let mut table = self.inner.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(p) = table.by_subject.get(subject) {
            return Some((Arc::clone(p), false));
        }
        let in_effect = self.in_effect_now();
        if self
            .inner
            .snapshots
            .get_cached(subject.as_ref())
            .is_some_and(|c| scopes.is_subset(c.intersection(in_effect)))
        {
            return None;
        }
        let n = self.inner.tickets.fetch_add(1, Ordering::Relaxed);
        let ticket = Ticket(splitmix(self.inner.ticket_key ^ n));
        let p = Arc::new(Pending {
            ticket,
            subject: subject.clone(),
            referrer: api.to_owned(),
            scopes,
            state: Mutex::new(PendingState {
                stage: PendingStage::Listener,
                outcome: None,
                exposed: false,
                taps: Vec::new(),
                wakers: Vec::new(),
            }),
        });
        table.by_subject.insert(subject.clone(), Arc::clone(&p));
        table.by_ticket.insert(ticket, Arc::clone(&p));
        Some((p, true))
    }

    fn raise(&self, pending: &Arc<Pending>) {
        let listener = self.inner.listener.read().unwrap_or_else(PoisonError::into_inner).clone();
        match listener {
            Some(l) => {
                let event = NeedAuthorization {
                    referrer: pending.referrer.clone(),
                    scopes: pending.scopes,
                    subject: pending.subject.clone(),
                    ticket: pending.ticket,
                };
                let resolver = Resolver { gate: self.clone(), pending: Some(Arc::clone(pending)) };
                l.on_need_privacy_authorization(resolver, event);
            }
            None => self.escalate(pending),
        }
    }

    /// Moves a pending authorization from the listener to the official prompt.
    fn escalate(&self, pending: &Arc<Pending>) {
        {
            let mut st = pending.lock();
            if st.outcome.is_some() || st.stage == PendingStage::OfficialPrompt {
                return;
            }
            st.stage = PendingStage::OfficialPrompt;
        }
        if let Some(prompt) = &self.inner.prompt {
            let request = PromptRequest {
                subject: pending.subject.clone(),
                referrer: pending.referrer.clone(),
                scopes: pending.scopes,
                ticket: pending.ticket,
                contract_name: self.inner.guidelines.contract_name().to_owned(),
            };
            prompt.show(request, PromptResponder { gate: self.clone(), pending: Some(Arc::clone(pending)) });
        }
    }

    fn settle(&self, pending: &Pending, outcome: Outcome) -> Result<(), ResolveError> {
        let wakers = {
            let mut st = pending.lock();
            if st.outcome.is_some() {
                return Err(ResolveError::AlreadySettled { ticket: pending.ticket });
            }
            st.outcome = Some(outcome);
            std::mem::take(&mut st.wakers)
        };
        {
            let mut table = self.inner.pending.lock().unwrap_or_else(PoisonError::into_inner);
            table.by_ticket.remove(&pending.ticket);
            if table.by_subject.get(&pending.subject).is_some_and(|p| p.ticket == pending.ticket) {
                table.by_subject.remove(&pending.subject);
            }
        }
        wakers.into_iter().for_each(Waker::wake);
        Ok(())
    }

    fn outcome_of(pending: &Pending) -> Option<Outcome> {
        pending.lock().outcome.clone()
    }

    fn result_of(api: &str, outcome: Outcome) -> Result<(), PrivacyError> {
        let kind = match outcome {
            Outcome::Agreed => return Ok(()),
            Outcome::Refused(style) => PrivacyErrorKind::NotAuthorized { style },
            Outcome::StoreFailed(message) => PrivacyErrorKind::StoreUnavailable { message },
        };
        Err(PrivacyError::new(api, kind))
    }

    fn pending_error(api: &str, pending: &Pending) -> PrivacyError {
        let stage = pending.lock().stage;
        PrivacyError::new(api, PrivacyErrorKind::Pending { ticket: pending.ticket, stage })
    }

    fn wait_outcome(pending: &Pending) -> impl Future<Output = Outcome> + '_ {
        std::future::poll_fn(move |cx| {
            let mut st = pending.lock();
            match &st.outcome {
                Some(o) => Poll::Ready(o.clone()),
                None => {
                    st.wakers.push(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
    }

    /// The outcome, or `None` when `timeout` passed first.
    async fn wait_until(&self, pending: &Pending, timeout: Option<Duration>) -> Option<Outcome> {
        let Some(timeout) = timeout else { return Some(Self::wait_outcome(pending).await) };
        let deadline = self.inner.clock.now().plus(timeout);
        let mut outcome = pin!(Self::wait_outcome(pending));
        let mut sleep = self.inner.clock.sleep_until(deadline);
        std::future::poll_fn(|cx| {
            if let Poll::Ready(o) = outcome.as_mut().poll(cx) {
                return Poll::Ready(Some(o));
            }
            sleep.as_mut().poll(cx).map(|()| None)
        })
        .await
    }

    /// Decides a call in an async context, waiting for a person as the wait policy says.
    pub(crate) async fn authorize(
        &self,
        api: &str,
        required: Option<ScopeSet>,
        subject: Subject,
    ) -> Result<(), PrivacyError> {
        let pending = match self.precheck(api, required, &subject).await? {
            Precheck::Allowed => return Ok(()),
            Precheck::Wait(p) => p,
        };
        if let Some(o) = Self::outcome_of(&pending) {
            return Self::result_of(api, o);
        }
        let timeout = match self.inner.wait {
            WaitPolicy::ReturnPending => return Err(Self::pending_error(api, &pending)),
            WaitPolicy::Wait { timeout } => timeout,
        };
        if let Some(o) = self.wait_until(&pending, timeout).await {
            return Self::result_of(api, o);
        }
        // Nobody answered the event: the official prompt takes over.
        self.escalate(&pending);
        match self.wait_until(&pending, timeout).await {
            Some(o) => Self::result_of(api, o),
            None => Err(Self::pending_error(api, &pending)),
        }
    }

    /// Decides a call in a sync context: store I/O is driven to completion, but the thread never
    /// waits for a person; an undecided call returns a pending error with its ticket.
    #[cold]
    #[inline(never)]
    pub(crate) fn authorize_blocking(
        &self,
        api: &str,
        required: Option<ScopeSet>,
        subject: Subject,
    ) -> Result<(), PrivacyError> {
        match block_on(self.precheck(api, required, &subject))? {
            Precheck::Allowed => Ok(()),
            Precheck::Wait(pending) => match Self::outcome_of(&pending) {
                Some(o) => Self::result_of(api, o),
                None => Err(Self::pending_error(api, &pending)),
            },
        }
    }

    /// Checks a call of `api` needing `scopes` by `subject` without a macro: the same decision a
    /// `#[privacy_scope]` function makes.
    pub async fn check(&self, api: &str, scopes: ScopeSet, subject: impl AsSubject) -> Result<(), PrivacyError> {
        let subject = subject.as_subject();
        if self.fast_allows(scopes, subject) {
            return Ok(());
        }
        self.authorize(api, Some(scopes), subject.to_owned()).await
    }

    /// [`check`](Self::check) for sync code: never waits for a person.
    #[inline]
    pub fn check_blocking(&self, api: &str, scopes: ScopeSet, subject: impl AsSubject) -> Result<(), PrivacyError> {
        let subject = subject.as_subject();
        if self.fast_allows(scopes, subject) {
            return Ok(());
        }
        self.authorize_blocking(api, Some(scopes), subject.to_owned())
    }

    /// `wx.requirePrivacyAuthorize`: simulates a privacy call needing every scope in effect.
    /// Succeeds at once when the user already agreed; otherwise raises the event (referrer
    /// `requirePrivacyAuthorize`) and waits as the wait policy says.
    pub async fn require_privacy_authorize(&self, subject: impl AsSubject) -> Result<(), PrivacyError> {
        let scopes = self.in_effect_now();
        self.check(REQUIRE_PRIVACY_AUTHORIZE, scopes, subject).await
    }

    /// [`require_privacy_authorize`](Self::require_privacy_authorize) for sync code.
    pub fn require_privacy_authorize_blocking(&self, subject: impl AsSubject) -> Result<(), PrivacyError> {
        let scopes = self.in_effect_now();
        self.check_blocking(REQUIRE_PRIVACY_AUTHORIZE, scopes, subject)
    }

    /// `wx.getPrivacySetting`: whether the user must still agree, and the contract's name.
    pub async fn get_privacy_setting(&self, subject: impl AsSubject) -> Result<PrivacySetting, StoreError> {
        let subject = subject.as_subject().to_owned();
        let in_effect = self.in_effect_now();
        let covered = self.covered(&subject).await?;
        Ok(PrivacySetting {
            need_authorization: !in_effect.is_subset(covered),
            privacy_contract_name: self.inner.guidelines.contract_name().to_owned(),
            err_msg: "getPrivacySetting:ok",
        })
    }

    /// [`get_privacy_setting`](Self::get_privacy_setting) for sync code.
    pub fn get_privacy_setting_blocking(&self, subject: impl AsSubject) -> Result<PrivacySetting, StoreError> {
        block_on(self.get_privacy_setting(subject))
    }

    fn check_button(&self, button_id: &str) -> Result<(), ResolveError> {
        let g = &self.inner.guidelines;
        if g.is_agree_button(button_id) {
            return Ok(());
        }
        Err(ResolveError::UnregisteredButton {
            button_id: button_id.to_owned(),
            suggestion: privacy_spec::closest(button_id, g.agree_buttons().iter().map(String::as_str))
                .map(str::to_owned),
        })
    }

    fn new_record(&self, subject: &Subject, source: ConsentSource) -> ConsentRecord {
        let now = self.inner.clock.now();
        let pending =
            self.inner.pending.lock().unwrap_or_else(PoisonError::into_inner).by_subject.get(subject).cloned();
        ConsentRecord {
            subject: subject.clone(),
            at: now,
            version: self.inner.guidelines.version_in_effect(now).map_or(0, |v| v.number),
            source,
            referrer: pending.map(|p| p.referrer.clone()),
        }
    }

    /// Makes a stored agreement visible: snapshot, hold lifted, tap noted on the pending
    /// authorization.
    fn apply_agreement(&self, record: &ConsentRecord, button_id: Option<&str>) {
        self.inner.snapshots.set(&record.subject, self.covered_by(Some(record)), false);
        self.inner.holds.lock().unwrap_or_else(PoisonError::into_inner).remove(&record.subject);
        let pending =
            self.inner.pending.lock().unwrap_or_else(PoisonError::into_inner).by_subject.get(&record.subject).cloned();
        if let (Some(p), Some(id)) = (pending, button_id) {
            p.lock().taps.push(id.to_owned());
        }
    }

    /// The agree button was tapped (`bindagreeprivacyauthorization`): records the user's consent
    /// to the guidelines in effect. A pending authorization of the user still waits for the
    /// listener's `agree` with this button's id.
    pub async fn tap_agree_button(
        &self,
        subject: impl AsSubject,
        button_id: &str,
    ) -> Result<ConsentRecord, ResolveError> {
        self.check_button(button_id)?;
        let subject = subject.as_subject().to_owned();
        let record = self.new_record(&subject, ConsentSource::AgreeButton { button_id: button_id.to_owned() });
        self.inner.store.append(&self.inner.app, &ConsentEvent::Agreed(record.clone())).await?;
        self.apply_agreement(&record, Some(button_id));
        Ok(record)
    }

    /// [`tap_agree_button`](Self::tap_agree_button) for sync code.
    pub fn tap_agree_button_blocking(
        &self,
        subject: impl AsSubject,
        button_id: &str,
    ) -> Result<ConsentRecord, ResolveError> {
        block_on(self.tap_agree_button(subject, button_id))
    }

    /// A combined button (`getPhoneNumber|agreePrivacyAuthorization`): runs `action` as if the
    /// user had agreed, then records the consent. Both happen or neither is reported as done:
    /// a failed action records nothing, and a consent the store cannot keep discards the
    /// action's result.
    pub fn agree_with_action<T, E>(
        &self,
        subject: impl AsSubject,
        button_id: &str,
        action: &str,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, CombinedError<E>> {
        block_on(self.agree_with_action_async(subject, button_id, action, async move { f() }))
    }

    /// [`agree_with_action`](Self::agree_with_action) for an async action.
    pub async fn agree_with_action_async<T, E, F>(
        &self,
        subject: impl AsSubject,
        button_id: &str,
        action: &str,
        fut: F,
    ) -> Result<T, CombinedError<E>>
    where
        F: Future<Output = Result<T, E>>,
    {
        self.check_button(button_id).map_err(CombinedError::Button)?;
        let subject = subject.as_subject().to_owned();
        let source = ConsentSource::CombinedButton { button_id: button_id.to_owned(), action: action.to_owned() };
        let record = self.new_record(&subject, source);
        let covers = self.covered_by(Some(&record));
        let value = context::Scoped::provisional(self.id(), subject.clone(), covers, fut)
            .await
            .map_err(CombinedError::Action)?;
        self.inner
            .store
            .append(&self.inner.app, &ConsentEvent::Agreed(record.clone()))
            .await
            .map_err(CombinedError::Store)?;
        self.apply_agreement(&record, Some(button_id));
        Ok(value)
    }

    /// Clears the user's consent (the mini program was removed from "recently used"). The history
    /// keeps the clear; an open authorization of the user fails with errno 104; the next call asks
    /// again.
    pub async fn clear(&self, subject: impl AsSubject) -> Result<(), StoreError> {
        let subject = subject.as_subject().to_owned();
        let event = ConsentEvent::Cleared { subject: subject.clone(), at: self.inner.clock.now() };
        self.inner.store.append(&self.inner.app, &event).await?;
        self.inner.snapshots.set(&subject, ScopeSet::EMPTY, false);
        self.inner.holds.lock().unwrap_or_else(PoisonError::into_inner).remove(&subject);
        // An authorization still open for the cleared user ends unauthorized; the next call asks
        // afresh.
        let open = self.inner.pending.lock().unwrap_or_else(PoisonError::into_inner).by_subject.get(&subject).cloned();
        if let Some(p) = open {
            // Already settled by a concurrent answer: nothing left to end.
            let _ = self.settle(&p, Outcome::Refused(None));
        }
        Ok(())
    }

    /// [`clear`](Self::clear) for sync code.
    pub fn clear_blocking(&self, subject: impl AsSubject) -> Result<(), StoreError> {
        block_on(self.clear(subject))
    }

    /// The user's consent history, oldest first.
    pub async fn history(&self, subject: impl AsSubject) -> Result<Vec<ConsentEvent>, StoreError> {
        let subject = subject.as_subject().to_owned();
        self.inner.store.history(&self.inner.app, &subject).await
    }

    /// [`history`](Self::history) for sync code.
    pub fn history_blocking(&self, subject: impl AsSubject) -> Result<Vec<ConsentEvent>, StoreError> {
        block_on(self.history(subject))
    }

    fn pending_for(&self, subject: SubjectRef<'_>, ticket: Ticket) -> Result<Arc<Pending>, ResolveError> {
        let table = self.inner.pending.lock().unwrap_or_else(PoisonError::into_inner);
        table
            .by_ticket
            .get(&ticket)
            .filter(|p| p.subject == subject)
            .cloned()
            .ok_or(ResolveError::UnknownTicket { ticket })
    }

    /// The pending authorization of `subject`, if one is open.
    pub fn pending_ticket(&self, subject: impl AsSubject) -> Option<(Ticket, PendingStage)> {
        let subject = subject.as_subject().to_owned();
        let p = self.inner.pending.lock().unwrap_or_else(PoisonError::into_inner).by_subject.get(&subject).cloned()?;
        let stage = p.lock().stage;
        Some((p.ticket, stage))
    }

    /// Resolves a pending authorization by its ticket: the resolver's events sent by a client
    /// that shows the app's own popup.
    pub fn resolve(&self, subject: impl AsSubject, ticket: Ticket, resolution: Resolution) -> Result<(), ResolveError> {
        let pending = self.pending_for(subject.as_subject(), ticket)?;
        self.apply_resolution(&pending, resolution)
    }

    fn apply_resolution(&self, pending: &Arc<Pending>, resolution: Resolution) -> Result<(), ResolveError> {
        match resolution {
            Resolution::ExposureAuthorization => {
                pending.lock().exposed = true;
                Ok(())
            }
            Resolution::Agree { button_id } => {
                self.check_button(&button_id)?;
                if !pending.lock().taps.contains(&button_id) {
                    return Err(ResolveError::ButtonNotTapped { button_id });
                }
                self.settle(pending, Outcome::Agreed)
            }
            Resolution::Disagree => self.refuse(pending, None),
        }
    }

    fn refuse(&self, pending: &Pending, style: Option<PromptStyle>) -> Result<(), ResolveError> {
        let now = self.inner.clock.now();
        if let Some(style) = style {
            let until = now.plus(self.inner.refusal_hold);
            self.inner
                .holds
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(pending.subject.clone(), (until, style));
        }
        self.settle(pending, Outcome::Refused(style))?;
        let event = ConsentEvent::Refused {
            subject: pending.subject.clone(),
            at: now,
            style,
            referrer: pending.referrer.clone(),
        };
        block_on(self.inner.store.append(&self.inner.app, &event))?;
        Ok(())
    }

    /// Answers the official prompt of a pending authorization, for clients that show it
    /// themselves (no [`OfficialPrompt`] installed).
    pub fn answer_prompt(
        &self,
        subject: impl AsSubject,
        ticket: Ticket,
        answer: PromptAnswer,
    ) -> Result<(), ResolveError> {
        let pending = self.pending_for(subject.as_subject(), ticket)?;
        if pending.lock().stage != PendingStage::OfficialPrompt {
            return Err(ResolveError::NotPrompting { ticket });
        }
        self.apply_prompt_answer(&pending, answer)
    }

    fn apply_prompt_answer(&self, pending: &Pending, answer: PromptAnswer) -> Result<(), ResolveError> {
        match answer {
            PromptAnswer::Refuse(style) => self.refuse(pending, Some(style)),
            PromptAnswer::Accept => {
                if Self::outcome_of(pending).is_some() {
                    return Err(ResolveError::AlreadySettled { ticket: pending.ticket });
                }
                let mut record = self.new_record(&pending.subject, ConsentSource::OfficialPrompt);
                record.referrer = Some(pending.referrer.clone());
                match block_on(self.inner.store.append(&self.inner.app, &ConsentEvent::Agreed(record.clone()))) {
                    Ok(()) => {
                        self.apply_agreement(&record, None);
                        self.settle(pending, Outcome::Agreed)
                    }
                    Err(e) => {
                        self.settle(pending, Outcome::StoreFailed(e.message().to_owned()))?;
                        Err(e.into())
                    }
                }
            }
        }
    }
}

/// The one-shot answer to a need-authorization event (the platform's `resolve`).
///
/// `agree` and `disagree` consume it; a rejected `agree` hands it back. Dropping it unanswered
/// (and not [deferred](Resolver::defer)) shows the official prompt, as the platform does when
/// the app does not respond.
pub struct Resolver {
    gate: Gate,
    pending: Option<Arc<Pending>>,
}

/// An `agree` that was not accepted, with the resolver to try again.
#[derive(thiserror::Error)]
#[error("{error}")]
pub struct RejectedAgree {
    /// Why.
    pub error: ResolveError,
    /// The resolver, still unanswered.
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
    /// The pending authorization's ticket.
    pub fn ticket(&self) -> Option<Ticket> {
        self.pending.as_ref().map(|p| p.ticket)
    }

    /// `exposureAuthorization`: the app's popup was shown.
    pub fn exposure(&self) {
        if let Some(p) = &self.pending {
            p.lock().exposed = true;
        }
    }

    /// `true` once [`exposure`](Self::exposure) was reported.
    pub fn exposed(&self) -> bool {
        self.pending.as_ref().is_some_and(|p| p.lock().exposed)
    }

    /// `agree`: accepted only if `button_id` is a registered agree button that this user tapped
    /// during this authorization; then every waiting call proceeds.
    pub fn agree(mut self, button_id: &str) -> Result<(), RejectedAgree> {
        let Some(p) = self.pending.clone() else { return Ok(()) };
        let resolution = Resolution::Agree { button_id: button_id.to_owned() };
        match self.gate.apply_resolution(&p, resolution) {
            Ok(()) => {
                self.pending = None;
                Ok(())
            }
            Err(error @ ResolveError::AlreadySettled { .. }) => {
                self.pending = None;
                Err(RejectedAgree { error, resolver: self })
            }
            Err(error) => Err(RejectedAgree { error, resolver: self }),
        }
    }

    /// `disagree`: every waiting call fails with errno 104.
    pub fn disagree(mut self) -> Result<(), ResolveError> {
        match self.pending.take() {
            Some(p) => self.gate.refuse(&p, None),
            None => Ok(()),
        }
    }

    /// Keeps the authorization pending without answering now; the client resolves it later with
    /// [`Gate::resolve`] and the returned ticket.
    pub fn defer(mut self) -> Option<Ticket> {
        self.pending.take().map(|p| p.ticket)
    }
}

impl Drop for Resolver {
    fn drop(&mut self) {
        if let Some(p) = self.pending.take() {
            self.gate.escalate(&p);
        }
    }
}

/// The one-shot answer to an official prompt. Dropping it unanswered counts as a refusal in the
/// direct style.
pub struct PromptResponder {
    gate: Gate,
    pending: Option<Arc<Pending>>,
}

impl fmt::Debug for PromptResponder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PromptResponder").field("ticket", &self.pending.as_ref().map(|p| p.ticket)).finish()
    }
}

impl PromptResponder {
    /// Gives the user's answer.
    pub fn answer(mut self, answer: PromptAnswer) -> Result<(), ResolveError> {
        match self.pending.take() {
            Some(p) => self.gate.apply_prompt_answer(&p, answer),
            None => Ok(()),
        }
    }
}

impl Drop for PromptResponder {
    fn drop(&mut self) {
        if let Some(p) = self.pending.take() {
            // Dismissed: a refusal. An already settled authorization has nothing to refuse.
            let _ = self.gate.apply_prompt_answer(&p, PromptAnswer::Refuse(PromptStyle::Direct));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_print_and_parse() {
        let t = Ticket(0xdead_beef);
        assert_eq!(t.to_string(), "00000000deadbeef");
        assert_eq!(Ticket::parse("00000000deadbeef"), Some(t));
        assert_eq!(Ticket::parse("beef"), None);
    }

    #[test]
    fn block_on_drives_a_future_that_wakes_later() {
        let (tx, rx) = std::sync::mpsc::channel::<Waker>();
        let mut fired = false;
        let fut = std::future::poll_fn(move |cx| {
            if fired {
                Poll::Ready(7)
            } else {
                fired = true;
                let _ = tx.send(cx.waker().clone());
                Poll::Pending
            }
        });
        let h = std::thread::spawn(move || {
            if let Ok(w) = rx.recv() {
                w.wake();
            }
        });
        assert_eq!(block_on(fut), 7);
        h.join().unwrap();
    }
}
