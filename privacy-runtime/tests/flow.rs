//! The behaviour suite: the decision for one call, step by step, through the gate's async API.
//!
//! Every case runs three times: on the in-memory store with a current-thread runtime, and on a
//! store whose futures need tokio (they await `tokio::time::sleep` and a `tokio::sync::Mutex`)
//! with a current-thread and with a multi-thread runtime.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use privacy_runtime::*;

mod common;
use common::{TokioStore, july_11, july_12, july_13, july_14};

const LOC: ScopeSet = ScopeSet::EMPTY.with(Scope::CHOSEN_LOCATION);
const RUN: ScopeSet = ScopeSet::EMPTY.with(Scope::WERUN);

fn seed_guidelines() -> Guidelines {
    Guidelines::builder("《示例小程序隐私保护指引》")
        .contract_url("https://example.com/privacy")
        .version(july_11(), ["chosen_location"])
        .version(july_13(), ["chosen_location", "werun"])
        .agree_button("agree-btn")
        .agree_button("phone-agree-btn")
        .build()
        .unwrap()
}

/// A store that fails on demand, in front of another.
#[derive(Clone)]
struct FlakyStore {
    inner: Arc<dyn ConsentStore>,
    failing_reads: Arc<AtomicBool>,
    failing_writes: Arc<AtomicBool>,
}

impl FlakyStore {
    fn new(inner: Arc<dyn ConsentStore>) -> Self {
        FlakyStore { inner, failing_reads: Arc::default(), failing_writes: Arc::default() }
    }
    fn fail(&self, on: bool) {
        self.failing_reads.store(on, Ordering::SeqCst);
        self.failing_writes.store(on, Ordering::SeqCst);
    }
    fn fail_writes(&self, on: bool) {
        self.failing_writes.store(on, Ordering::SeqCst);
    }
}

fn failed<'a, T: Send + 'a>() -> BoxFuture<'a, Result<T, StoreError>> {
    Box::pin(std::future::ready(Err(StoreError::new("disk on fire"))))
}

impl ConsentStore for FlakyStore {
    fn append<'a>(&'a self, app: &'a str, event: &'a ConsentEvent) -> BoxFuture<'a, Result<u64, StoreError>> {
        if self.failing_writes.load(Ordering::SeqCst) { failed() } else { self.inner.append(app, event) }
    }
    fn current<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Option<ConsentRecord>, StoreError>> {
        if self.failing_reads.load(Ordering::SeqCst) { failed() } else { self.inner.current(app, subject) }
    }
    fn history<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Vec<LedgerEntry>, StoreError>> {
        self.inner.history(app, subject)
    }
}

/// A listener that records every event and keeps every resolver.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<NeedAuthorization>>,
    resolvers: Mutex<Vec<Resolver>>,
}

impl NeedAuthorizationListener for Recorder {
    fn on_need_privacy_authorization(&self, resolver: Resolver, event: NeedAuthorization) {
        self.events.lock().unwrap().push(event);
        self.resolvers.lock().unwrap().push(resolver);
    }
}

impl Recorder {
    fn install(gate: &Gate) -> Arc<Recorder> {
        let rec = Arc::new(Recorder::default());
        gate.set_need_privacy_authorization_listener(Arc::clone(&rec));
        rec
    }
    fn count(&self) -> usize {
        self.events.lock().unwrap().len()
    }
    fn take(&self) -> Resolver {
        self.resolvers.lock().unwrap().pop().expect("a resolver")
    }
    fn referrers(&self) -> Vec<String> {
        self.events.lock().unwrap().iter().map(|e| e.referrer.clone()).collect()
    }
}

/// What a case runs with: a store of the configuration's kind and a manual clock.
struct Env {
    store: Arc<dyn ConsentStore>,
    clock: ManualClock,
}

impl Env {
    fn builder(&self) -> GateBuilder {
        Gate::builder("wx-demo", seed_guidelines()).clock(self.clock.clone()).store(Arc::clone(&self.store))
    }
    fn gate(&self) -> Gate {
        self.builder().build()
    }
}

#[derive(Clone, Copy)]
enum StoreKind {
    Memory,
    Tokio,
}

fn run<F, Fut>(kind: StoreKind, multi_thread: bool, case: F)
where
    F: FnOnce(Env) -> Fut,
    Fut: Future<Output = ()>,
{
    let rt = if multi_thread {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    };
    let store: Arc<dyn ConsentStore> = match kind {
        StoreKind::Memory => Arc::new(MemoryStore::new()),
        StoreKind::Tokio => Arc::new(TokioStore::default()),
    };
    let env = Env { store, clock: ManualClock::new(july_12()) };
    rt.block_on(case(env));
}

macro_rules! suite {
    ($($case:ident),* $(,)?) => {
        mod memory_store_current_thread {
            $( #[test] fn $case() { super::run(super::StoreKind::Memory, false, super::$case) } )*
        }
        mod tokio_store_current_thread {
            $( #[test] fn $case() { super::run(super::StoreKind::Tokio, false, super::$case) } )*
        }
        mod tokio_store_multi_thread {
            $( #[test] fn $case() { super::run(super::StoreKind::Tokio, true, super::$case) } )*
        }
    };
}

suite!(
    seed_example_july_11_12_13,
    undeclared_scope_is_112_and_a_new_declaration_waits_five_minutes,
    banned_app,
    consented_call_runs_without_event,
    event_carries_referrer_and_agree_resumes_waiting_calls,
    disagree_is_104_and_starts_no_hold,
    forged_agrees_are_rejected,
    a_ticket_resolves_once_and_only_for_its_subject,
    a_resolver_used_after_its_authorization_was_settled_is_rejected,
    no_listener_goes_to_the_official_prompt,
    dropped_resolver_falls_back_to_the_prompt_and_refusals_carry_their_style,
    refusal_hold_fails_at_once_for_ten_seconds,
    store_failure_refuses_the_call,
    thousand_concurrent_calls_share_one_event,
    thousand_waiting_calls_share_one_refusal,
    clear_then_call_asks_again,
    clear_ends_an_open_authorization,
    wait_timeout_escalates_to_the_prompt_then_returns_pending,
    return_pending_policy_hands_out_a_ticket_for_the_client,
    answer_prompt_needs_the_prompt_stage,
    combined_button_both_or_neither,
    privacy_setting_contract_and_listener_replacement,
    // The authorization lifecycle.
    a_new_version_raises_its_own_event_after_the_readme_flow,
    a_call_for_other_scopes_waits_then_raises_its_own_event,
    an_old_agree_never_releases_a_call_its_consent_does_not_cover,
    a_tap_settles_the_open_authorization_and_no_prompt_follows,
    the_default_configuration_never_waits_without_bound,
    a_refusal_of_a_settled_authorization_starts_no_hold,
    tickets_expire_with_their_authorization,
    a_consent_is_bound_to_its_version_by_identity,
    // The ledger.
    the_ledger_numbers_entries_without_gaps_and_keeps_resolutions_by_ticket,
);

/// `user`'s history once it holds `n` entries: a resolver's notices are written by a task of
/// their own on a store whose futures need tokio.
async fn history_of_len(gate: &Gate, user: &str, n: usize) -> Vec<LedgerEntry> {
    for _ in 0..10_000 {
        let history = gate.history(user).await.unwrap();
        if history.len() >= n {
            return history;
        }
        tokio::time::sleep(Duration::from_micros(50)).await;
    }
    panic!("{user}'s history never reached {n} entries: {:?}", gate.history(user).await);
}

async fn yield_until(mut cond: impl FnMut() -> bool) {
    for _ in 0..10_000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_micros(50)).await;
    }
    panic!("condition not reached");
}

async fn seed_example_july_11_12_13(env: Env) {
    let gate = env.builder().wait_policy(WaitPolicy::ReturnPending).build();
    let rec = Recorder::install(&gate);

    // July 12: the user agrees to the July 11 version.
    gate.tap_agree_button("u1", "agree-btn").await.unwrap();
    assert_eq!(gate.check("chooseLocation", LOC, "u1").await, Ok(()));

    // July 13: werun is declared; on July 14 it is in effect.
    env.clock.set(july_14());
    assert_eq!(gate.check("chooseLocation", LOC, "u1").await, Ok(()), "covered scope keeps working");
    assert_eq!(rec.count(), 0, "chooseLocation raised no event");
    let err = gate.check("getWeRunData", RUN, "u1").await.unwrap_err();
    assert!(matches!(err.kind(), PrivacyErrorKind::Pending { .. }), "{err}");
    assert_eq!(rec.referrers(), vec!["getWeRunData"]);
    assert!(gate.get_privacy_setting("u1").await.unwrap().need_authorization);
}

async fn undeclared_scope_is_112_and_a_new_declaration_waits_five_minutes(env: Env) {
    let gate = env.builder().wait_policy(WaitPolicy::ReturnPending).build();
    gate.tap_agree_button("u1", "agree-btn").await.unwrap();
    let err = gate.check("getWeRunData", RUN, "u1").await.unwrap_err();
    assert_eq!(err.errno(), Some(112));
    assert_eq!(err.to_string(), "getWeRunData:fail api scope is not declared in the privacy agreement");

    env.clock.set(july_13().plus(Duration::from_secs(4 * 60 + 59)));
    assert_eq!(gate.check("getWeRunData", RUN, "u1").await.unwrap_err().errno(), Some(112), "4:59 after publishing");
    env.clock.set(july_13().plus(Duration::from_secs(5 * 60)));
    let err = gate.check("getWeRunData", RUN, "u1").await.unwrap_err();
    assert_ne!(err.errno(), Some(112), "5:00 after publishing the scope is declared: {err}");
}

async fn banned_app(env: Env) {
    let g = Guidelines::builder("x").version(july_11(), ["location"]).banned(true).build().unwrap();
    let gate = Gate::builder("app", g).clock(env.clock.clone()).store(Arc::clone(&env.store)).build();
    let err = gate.check("getLocation", ScopeSet::EMPTY.with(Scope::LOCATION), "u").await.unwrap_err();
    assert_eq!(err.errno(), None);
    assert_eq!(err.to_string(), "getLocation:fail AppID privacy api banned");
    // 112 comes first.
    assert_eq!(gate.check("getWeRunData", RUN, "u").await.unwrap_err().errno(), Some(112));
}

async fn consented_call_runs_without_event(env: Env) {
    let gate = env.builder().wait_policy(WaitPolicy::ReturnPending).build();
    let rec = Recorder::install(&gate);
    gate.tap_agree_button(42u64, "agree-btn").await.unwrap();
    for _ in 0..3 {
        assert_eq!(gate.check("chooseLocation", LOC, 42u64).await, Ok(()));
    }
    assert_eq!(rec.count(), 0);
    // Another user is not covered by that consent.
    assert!(gate.check("chooseLocation", LOC, 43u64).await.is_err());
    assert_eq!(rec.count(), 1);
}

async fn event_carries_referrer_and_agree_resumes_waiting_calls(env: Env) {
    let gate = env.gate();
    let rec = Recorder::install(&gate);
    let g2 = gate.clone();
    let call = tokio::spawn(async move { g2.check("chooseLocation", LOC, "u1").await });
    yield_until(|| rec.count() == 1).await;
    let ev = rec.events.lock().unwrap()[0].clone();
    assert_eq!(ev.referrer, "chooseLocation");
    assert_eq!(ev.scopes, LOC);
    assert_eq!(ev.subject, Subject::from("u1"));
    let resolver = rec.take();
    resolver.exposure();
    assert!(resolver.exposed());
    // The popup was shown before the user could tap in it: its entry is in the ledger first.
    history_of_len(&gate, "u1", 1).await;
    gate.tap_agree_button("u1", "agree-btn").await.unwrap();
    resolver.agree("agree-btn").unwrap();
    assert_eq!(call.await.unwrap(), Ok(()));

    let history = history_of_len(&gate, "u1", 3).await;
    let [
        LedgerEntry { seq: 1, event: ConsentEvent::Exposed { referrer: shown_for, .. }, .. },
        LedgerEntry { seq: 2, event: ConsentEvent::Agreed(record), .. },
        LedgerEntry { seq: 3, event: ConsentEvent::AgreeResolved { button_id, referrer: agreed_for, .. }, .. },
    ] = &history[..]
    else {
        panic!("{history:?}")
    };
    assert_eq!(shown_for, "chooseLocation");
    assert_eq!(record.version, Some(gate.guidelines().versions()[0].id));
    assert_eq!(record.referrer.as_deref(), Some("chooseLocation"));
    assert_eq!(record.source, ConsentSource::AgreeButton { button_id: "agree-btn".into() });
    assert_eq!((button_id.as_str(), agreed_for.as_str()), ("agree-btn", "chooseLocation"));
}

async fn disagree_is_104_and_starts_no_hold(env: Env) {
    let gate = env.gate();
    gate.on_need_privacy_authorization(|resolver, _| {
        tokio::spawn(resolver.disagree());
    });
    let err = gate.check("chooseLocation", LOC, "u1").await.unwrap_err();
    assert_eq!(err.errno(), Some(104));
    assert_eq!(err.to_string(), "chooseLocation:fail privacy permission is not authorized");
    // No hold: the next call raises a new event (and is refused again by this listener).
    let err = gate.check("chooseLocation", LOC, "u1").await.unwrap_err();
    assert!(matches!(err.kind(), PrivacyErrorKind::NotAuthorized { style: None }), "{err}");
    let history = gate.history("u1").await.unwrap();
    assert_eq!(history.len(), 2, "each disagree is evidence: {history:?}");
}

async fn forged_agrees_are_rejected(env: Env) {
    let gate = env.builder().wait_policy(WaitPolicy::ReturnPending).build();
    let rec = Recorder::install(&gate);
    let ticket = gate.check("chooseLocation", LOC, "u1").await.unwrap_err().ticket().unwrap();
    let resolver = rec.take();

    let rejected = resolver.agree("agre-btn").unwrap_err();
    assert!(
        matches!(&rejected.error, ResolveError::UnregisteredButton { suggestion: Some(s), .. } if s == "agree-btn")
    );
    let rejected = rejected.resolver.agree("agree-btn").unwrap_err();
    assert!(matches!(rejected.error, ResolveError::ButtonNotTapped { .. }), "never tapped");

    // Another user taps the button: still not this user's tap.
    gate.tap_agree_button("u2", "agree-btn").await.unwrap();
    let rejected = rejected.resolver.agree("agree-btn").unwrap_err();
    assert!(matches!(rejected.error, ResolveError::ButtonNotTapped { .. }), "another subject's tap");
    assert_eq!(rejected.resolver.defer(), Some(ticket));
    assert_eq!(gate.pending_ticket("u1").map(|(t, _)| t), Some(ticket), "still pending");
    let err = gate.resolve("u1", ticket, Resolution::Agree { button_id: "agree-btn".into() }).await.unwrap_err();
    assert!(matches!(err, ResolveError::ButtonNotTapped { .. }));
    assert_eq!(gate.check("chooseLocation", LOC, "u1").await.unwrap_err().ticket(), Some(ticket));
}

async fn a_ticket_resolves_once_and_only_for_its_subject(env: Env) {
    let gate = env.builder().wait_policy(WaitPolicy::ReturnPending).build();
    let rec = Recorder::install(&gate);
    let ticket = gate.check("chooseLocation", LOC, "u1").await.unwrap_err().ticket().unwrap();
    assert_eq!(rec.take().defer(), Some(ticket));
    let other = gate.resolve("u2", ticket, Resolution::Disagree).await;
    assert!(matches!(other, Err(ResolveError::UnknownTicket { .. })), "{other:?}");
    gate.resolve("u1", ticket, Resolution::Disagree).await.unwrap();
    let again = gate.resolve("u1", ticket, Resolution::Disagree).await;
    assert!(matches!(again, Err(ResolveError::UnknownTicket { .. })), "single use: {again:?}");
}

async fn a_resolver_used_after_its_authorization_was_settled_is_rejected(env: Env) {
    let gate = env.builder().wait_policy(WaitPolicy::ReturnPending).build();
    let rec = Recorder::install(&gate);
    gate.check("chooseLocation", LOC, "u1").await.unwrap_err();
    let resolver = rec.take();
    gate.clear("u1").await.unwrap();
    let rejected = resolver.agree("agree-btn").unwrap_err();
    assert!(matches!(rejected.error, ResolveError::ButtonNotTapped { .. }));
    let err = rejected.resolver.disagree().await.unwrap_err();
    assert!(matches!(err, ResolveError::AlreadySettled { .. }), "{err}");
}

async fn no_listener_goes_to_the_official_prompt(env: Env) {
    let prompt = Arc::new(ScriptedPrompt::new([Some(PromptAnswer::Accept)]));
    let gate = env.builder().official_prompt(Arc::clone(&prompt)).build();
    assert_eq!(gate.check("chooseLocation", LOC, "u1").await, Ok(()));
    assert_eq!(prompt.shown(), 1);
    assert_eq!(prompt.referrers(), ["chooseLocation"]);
    let history = gate.history("u1").await.unwrap();
    assert!(
        matches!(&history[..], [LedgerEntry { seq: 1, event: ConsentEvent::Agreed(r), .. }] if r.source == ConsentSource::OfficialPrompt),
        "{history:?}"
    );
    assert_eq!(gate.check("chooseLocation", LOC, "u1").await, Ok(()));
    assert_eq!(prompt.shown(), 1, "consent remembered");
}

async fn dropped_resolver_falls_back_to_the_prompt_and_refusals_carry_their_style(env: Env) {
    let prompt = Arc::new(ScriptedPrompt::new([
        Some(PromptAnswer::Refuse(PromptStyle::Coupled)),
        Some(PromptAnswer::Refuse(PromptStyle::Direct)),
    ]));
    let gate = env.builder().official_prompt(Arc::clone(&prompt)).build();
    let events = Arc::new(AtomicUsize::new(0));
    let e2 = Arc::clone(&events);
    gate.on_need_privacy_authorization(move |resolver, _| {
        e2.fetch_add(1, Ordering::SeqCst);
        drop(resolver);
    });
    let err = gate.check("chooseLocation", LOC, "u1").await.unwrap_err();
    assert_eq!((events.load(Ordering::SeqCst), prompt.shown()), (1, 1));
    assert_eq!(err.errno(), Some(103));

    env.clock.advance(Duration::from_secs(11));
    let err = gate.check("chooseLocation", LOC, "u1").await.unwrap_err();
    assert_eq!(err.errno(), Some(104));
    assert_eq!(err.to_string(), "chooseLocation:fail privacy permission is not authorized");
}

async fn refusal_hold_fails_at_once_for_ten_seconds(env: Env) {
    let prompt = Arc::new(ScriptedPrompt::new([Some(PromptAnswer::Refuse(PromptStyle::Direct))]));
    let gate = env.builder().official_prompt(Arc::clone(&prompt)).wait_policy(WaitPolicy::ReturnPending).build();
    // The prompt's refusal is stored by a task of its own: wait for the call to see it.
    let _ = gate.check("chooseLocation", LOC, "u1").await;
    yield_until(|| gate.pending_ticket("u1").is_none()).await;
    assert_eq!(prompt.shown(), 1);

    let rec = Recorder::install(&gate);
    env.clock.advance(Duration::from_millis(9_999));
    let err = gate.check("chooseLocation", LOC, "u1").await.unwrap_err();
    assert!(matches!(err.kind(), PrivacyErrorKind::RefusalHold { style: PromptStyle::Direct }), "{err}");
    assert_eq!(err.to_string(), "chooseLocation:fail privacy permission is not authorized in gap");
    assert_eq!((rec.count(), prompt.shown()), (0, 1), "no event, no prompt during the hold");
    // Other users are not held.
    assert!(matches!(
        gate.check("chooseLocation", LOC, "u2").await.unwrap_err().kind(),
        PrivacyErrorKind::Pending { .. }
    ));

    env.clock.advance(Duration::from_millis(1));
    let err = gate.check("chooseLocation", LOC, "u1").await.unwrap_err();
    assert!(matches!(err.kind(), PrivacyErrorKind::Pending { .. }), "{err}");
    assert_eq!(rec.count(), 2, "after the hold the event is raised again");
}

async fn store_failure_refuses_the_call(env: Env) {
    let store = FlakyStore::new(Arc::clone(&env.store));
    let gate = env
        .builder()
        .store(store.clone())
        .official_prompt(ScriptedPrompt::new([Some(PromptAnswer::Accept), Some(PromptAnswer::Accept)]))
        .build();
    store.fail(true);
    let err = gate.check("chooseLocation", LOC, "u1").await.unwrap_err();
    assert!(matches!(err.kind(), PrivacyErrorKind::StoreUnavailable { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "chooseLocation:fail privacy consent store unavailable (disk on fire); the call was refused, retry when the store is back"
    );
    assert!(gate.tap_agree_button("u1", "agree-btn").await.is_err());
    assert!(gate.get_privacy_setting("u1").await.is_err());

    // The store answers reads but fails the write of the prompt's consent: refused, not let through.
    store.fail(false);
    store.fail_writes(true);
    assert!(gate.get_privacy_setting("u1").await.unwrap().need_authorization);
    let err = gate.check("chooseLocation", LOC, "u1").await.unwrap_err();
    assert!(matches!(err.kind(), PrivacyErrorKind::StoreUnavailable { .. }), "{err}");
    assert!(gate.history("u1").await.unwrap().is_empty(), "nothing acknowledged that was not written");
}

async fn thousand_concurrent_calls_share_one_event(env: Env) {
    let gate = env.gate();
    let rec = Recorder::install(&gate);
    let calls: Vec<_> = (0..1000)
        .map(|_| {
            let g = gate.clone();
            tokio::spawn(async move { g.check("chooseLocation", LOC, "u1").await })
        })
        .collect();
    yield_until(|| rec.count() > 0).await;
    // Calls that arrive after the tap find the consent and pass without an event.
    gate.tap_agree_button("u1", "agree-btn").await.unwrap();
    rec.take().agree("agree-btn").unwrap();
    for c in calls {
        assert_eq!(c.await.unwrap(), Ok(()));
    }
    assert_eq!(rec.count(), 1, "exactly one event for 1,000 calls");
    assert_eq!(gate.stats().open_tickets, 0);
}

async fn thousand_waiting_calls_share_one_refusal(env: Env) {
    let gate = env.gate();
    let rec = Recorder::install(&gate);
    let calls: Vec<_> = (0..1000)
        .map(|_| {
            let g = gate.clone();
            tokio::spawn(async move { g.check("chooseLocation", LOC, "u1").await })
        })
        .collect();
    yield_until(|| gate.stats().waiting_calls == 1000).await;
    rec.take().disagree().await.unwrap();
    for c in calls {
        assert_eq!(c.await.unwrap().unwrap_err().errno(), Some(104));
    }
    assert_eq!(rec.count(), 1);
    assert_eq!(gate.stats().waiting_calls, 0);
}

async fn clear_then_call_asks_again(env: Env) {
    let gate = env.builder().wait_policy(WaitPolicy::ReturnPending).build();
    let rec = Recorder::install(&gate);
    gate.tap_agree_button("u1", "agree-btn").await.unwrap();
    assert_eq!(gate.check("chooseLocation", LOC, "u1").await, Ok(()));
    gate.clear("u1").await.unwrap();
    assert!(gate.get_privacy_setting("u1").await.unwrap().need_authorization);
    assert!(gate.check("chooseLocation", LOC, "u1").await.is_err());
    assert_eq!(rec.count(), 1);
    let kinds: Vec<_> = gate.history("u1").await.unwrap().iter().map(|e| e.event.kind()).collect();
    assert_eq!(kinds, ["agreed", "cleared"], "evidence is kept");
}

async fn clear_ends_an_open_authorization(env: Env) {
    let gate = env.gate();
    let rec = Recorder::install(&gate);
    let g2 = gate.clone();
    let call = tokio::spawn(async move { g2.check("chooseLocation", LOC, "u1").await });
    yield_until(|| rec.count() == 1).await;
    let ticket = rec.take().defer().unwrap();
    gate.clear("u1").await.unwrap();
    assert_eq!(call.await.unwrap().unwrap_err().errno(), Some(104));
    assert!(matches!(gate.resolve("u1", ticket, Resolution::Disagree).await, Err(ResolveError::UnknownTicket { .. })));
}

async fn wait_timeout_escalates_to_the_prompt_then_returns_pending(env: Env) {
    let prompt = Arc::new(ScriptedPrompt::new([None]));
    let gate = env
        .builder()
        .official_prompt(Arc::clone(&prompt))
        .wait_policy(WaitPolicy::Wait { timeout: Some(Duration::from_secs(30)) })
        .build();
    let rec = Recorder::install(&gate);
    let g = gate.clone();
    let call = tokio::spawn(async move { g.check("chooseLocation", LOC, "u1").await });
    yield_until(|| rec.count() == 1).await;
    assert_eq!(prompt.shown(), 0);
    env.clock.advance(Duration::from_secs(30));
    yield_until(|| prompt.shown() == 1).await;
    env.clock.advance(Duration::from_secs(30));
    let err = call.await.unwrap().unwrap_err();
    assert!(matches!(err.kind(), PrivacyErrorKind::Pending { stage: PendingStage::OfficialPrompt, .. }), "{err}");
    // The prompt is answered later: the next call goes through.
    prompt.take_open().pop().unwrap().answer(PromptAnswer::Accept).await.unwrap();
    assert_eq!(gate.check("chooseLocation", LOC, "u1").await, Ok(()));
}

async fn return_pending_policy_hands_out_a_ticket_for_the_client(env: Env) {
    let gate = env.builder().wait_policy(WaitPolicy::ReturnPending).build();
    let err = gate.check("chooseLocation", LOC, "u1").await.unwrap_err();
    let PrivacyErrorKind::Pending { ticket, stage } = *err.kind() else { panic!("{err}") };
    assert_eq!(stage, PendingStage::OfficialPrompt, "no listener: the client shows the official prompt");
    let json = serde_json::to_value(&err).unwrap();
    assert_eq!(json["ticket"], ticket.to_string());
    let forged = gate.resolve("u1", ticket, Resolution::Agree { button_id: "agree-btn".into() }).await;
    assert!(matches!(forged, Err(ResolveError::ButtonNotTapped { .. })));
    gate.answer_prompt("u1", ticket, PromptAnswer::Accept).await.unwrap();
    assert_eq!(gate.check("chooseLocation", LOC, "u1").await, Ok(()));
}

async fn answer_prompt_needs_the_prompt_stage(env: Env) {
    let gate = env.builder().wait_policy(WaitPolicy::ReturnPending).build();
    let rec = Recorder::install(&gate);
    let ticket = gate.check("chooseLocation", LOC, "u1").await.unwrap_err().ticket().unwrap();
    let early = gate.answer_prompt("u1", ticket, PromptAnswer::Accept).await;
    assert!(matches!(early, Err(ResolveError::NotPrompting { .. })), "{early:?}");
    drop(rec.take());
    assert_eq!(gate.pending_ticket("u1"), Some((ticket, PendingStage::OfficialPrompt)));
    gate.answer_prompt("u1", ticket, PromptAnswer::Accept).await.unwrap();
    assert_eq!(gate.check("chooseLocation", LOC, "u1").await, Ok(()));
}

async fn combined_button_both_or_neither(env: Env) {
    let store = FlakyStore::new(Arc::clone(&env.store));
    let gate = env.builder().store(store.clone()).wait_policy(WaitPolicy::ReturnPending).build();
    let ran = Arc::new(AtomicUsize::new(0));
    let phone = || {
        let (gate, ran) = (gate.clone(), Arc::clone(&ran));
        async move {
            gate.check("getPhoneNumber", LOC, "u1").await?;
            ran.fetch_add(1, Ordering::SeqCst);
            Ok::<_, PrivacyError>("+86 138 0000 0000")
        }
    };

    // The action fails: nothing recorded.
    let r: Result<(), _> =
        gate.agree_with_action_async("u1", "phone-agree-btn", "getPhoneNumber", async { Err("no phone") }).await;
    assert!(matches!(r, Err(CombinedError::Action("no phone"))));
    assert!(gate.history("u1").await.unwrap().is_empty());

    // The store fails: the action ran, but it is not reported as done and nothing was kept.
    store.fail_writes(true);
    let r = gate.agree_with_action_async("u1", "phone-agree-btn", "getPhoneNumber", phone()).await;
    assert!(matches!(r, Err(CombinedError::Store(_))));
    store.fail_writes(false);
    assert!(gate.get_privacy_setting("u1").await.unwrap().need_authorization);

    // Both succeed.
    let r = gate.agree_with_action_async("u1", "phone-agree-btn", "getPhoneNumber", phone()).await;
    assert_eq!(r.unwrap(), "+86 138 0000 0000");
    assert_eq!(ran.load(Ordering::SeqCst), 2);
    let history = gate.history("u1").await.unwrap();
    assert!(matches!(&history[..], [LedgerEntry { seq: 1, event: ConsentEvent::Agreed(r), .. }]
        if r.source == ConsentSource::CombinedButton { button_id: "phone-agree-btn".into(), action: "getPhoneNumber".into() }));
    assert_eq!(gate.check("chooseLocation", LOC, "u1").await, Ok(()));

    // An unregistered button runs nothing.
    let r = gate.agree_with_action_async("u2", "nope", "getPhoneNumber", phone()).await;
    assert!(matches!(r, Err(CombinedError::Button(ResolveError::UnregisteredButton { .. }))));
    assert_eq!(ran.load(Ordering::SeqCst), 2);
}

async fn privacy_setting_contract_and_listener_replacement(env: Env) {
    let gate = env.builder().wait_policy(WaitPolicy::ReturnPending).build();
    let s = gate.get_privacy_setting("u1").await.unwrap();
    assert_eq!(
        serde_json::to_value(&s).unwrap(),
        serde_json::json!({"needAuthorization": true, "privacyContractName": "《示例小程序隐私保护指引》", "errMsg": "getPrivacySetting:ok"})
    );
    let c = gate.open_privacy_contract();
    assert_eq!(c.location, Some(ContractLocation::Url("https://example.com/privacy".into())));

    let first = Recorder::install(&gate);
    let second = Recorder::install(&gate);
    assert!(gate.require_privacy_authorize("u1").await.is_err());
    assert_eq!((first.count(), second.count()), (0, 1), "registering replaces the previous listener");
    assert_eq!(second.referrers(), ["requirePrivacyAuthorize"]);

    gate.tap_agree_button("u1", "agree-btn").await.unwrap();
    assert_eq!(gate.require_privacy_authorize("u1").await, Ok(()));
}

// --- The authorization lifecycle ---

/// README's flow (refused call → tap → call proceeds), then a new version: `getWeRunData` raises
/// an event of its own.
async fn a_new_version_raises_its_own_event_after_the_readme_flow(env: Env) {
    let gate = env.builder().wait_policy(WaitPolicy::ReturnPending).build();
    let rec = Recorder::install(&gate);
    assert!(gate.check("chooseLocation", LOC, "u1").await.unwrap_err().ticket().is_some());
    gate.tap_agree_button("u1", "agree-btn").await.unwrap();
    assert_eq!(gate.check("chooseLocation", LOC, "u1").await, Ok(()));
    assert_eq!(gate.pending_ticket("u1"), None, "the tap settled the authorization");

    env.clock.set(july_14());
    assert!(gate.check("getWeRunData", RUN, "u1").await.is_err());
    assert_eq!(rec.referrers(), ["chooseLocation", "getWeRunData"]);
}

/// One popup at a time: a call whose scopes the open authorization does not cover waits for it,
/// then raises its own event with its own referrer.
async fn a_call_for_other_scopes_waits_then_raises_its_own_event(env: Env) {
    env.clock.set(july_14());
    let gate = env.gate();
    let rec = Recorder::install(&gate);
    let g = gate.clone();
    let location = tokio::spawn(async move { g.check("chooseLocation", LOC, "u1").await });
    yield_until(|| rec.count() == 1).await;
    let g = gate.clone();
    let werun = tokio::spawn(async move { g.check("getWeRunData", RUN, "u1").await });
    yield_until(|| gate.stats().waiting_calls == 2).await;
    assert_eq!(rec.count(), 1, "no second popup while one is open");

    rec.take().disagree().await.unwrap();
    assert_eq!(location.await.unwrap().unwrap_err().errno(), Some(104));
    yield_until(|| rec.count() == 2).await;
    assert_eq!(rec.referrers(), ["chooseLocation", "getWeRunData"]);
    gate.tap_agree_button("u1", "agree-btn").await.unwrap();
    rec.take().agree("agree-btn").unwrap();
    assert_eq!(werun.await.unwrap(), Ok(()));
}

/// The July 12 popup's `agree` arriving after werun took effect releases no `getWeRunData` call:
/// the body runs only on a consent that covers werun.
async fn an_old_agree_never_releases_a_call_its_consent_does_not_cover(env: Env) {
    let gate = env.gate();
    let rec = Recorder::install(&gate);
    let g = gate.clone();
    let location = tokio::spawn(async move { g.check("chooseLocation", LOC, "u1").await });
    yield_until(|| rec.count() == 1).await;
    let old = rec.take();
    gate.tap_agree_button("u1", "agree-btn").await.unwrap();
    assert_eq!(location.await.unwrap(), Ok(()));

    env.clock.set(july_14());
    let g = gate.clone();
    let werun = tokio::spawn(async move { g.check("getWeRunData", RUN, "u1").await });
    yield_until(|| rec.count() == 2).await;
    old.agree("agree-btn").unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(!werun.is_finished(), "the old agree released nothing");
    let fresh = rec.take();
    fresh.disagree().await.unwrap();
    assert_eq!(werun.await.unwrap().unwrap_err().errno(), Some(104));
}

/// A tap records consent and settles the open authorization; a resolver dropped afterwards shows
/// no official prompt.
async fn a_tap_settles_the_open_authorization_and_no_prompt_follows(env: Env) {
    let prompt = Arc::new(ScriptedPrompt::new([]));
    let gate = env.builder().official_prompt(Arc::clone(&prompt)).build();
    let rec = Recorder::install(&gate);
    let g = gate.clone();
    let call = tokio::spawn(async move { g.check("chooseLocation", LOC, "u1").await });
    yield_until(|| rec.count() == 1).await;
    gate.tap_agree_button("u1", "agree-btn").await.unwrap();
    assert_eq!(call.await.unwrap(), Ok(()));
    drop(rec.take());
    assert_eq!(gate.check("chooseLocation", LOC, "u1").await, Ok(()));
    assert_eq!(prompt.shown(), 0, "no prompt for a user who agreed");
}

/// No listener, no official prompt, `Wait { timeout: None }`: the call ends when its
/// authorization expires, and nothing stays behind.
async fn the_default_configuration_never_waits_without_bound(env: Env) {
    let gate = env.gate();
    let g = gate.clone();
    let call = tokio::spawn(async move { g.check("chooseLocation", LOC, "u1").await });
    yield_until(|| gate.stats().waiting_calls == 1).await;
    env.clock.advance(DEFAULT_AUTHORIZATION_TTL);
    let err = call.await.unwrap().unwrap_err();
    assert_eq!(*err.kind(), PrivacyErrorKind::Unanswered);
    assert_eq!(err.errno(), Some(104));
    assert_eq!(gate.stats().open_tickets, 0);
    assert_eq!(gate.stats().waiting_calls, 0);
}

/// A refusal that arrives after the authorization was decided starts no hold and records nothing.
async fn a_refusal_of_a_settled_authorization_starts_no_hold(env: Env) {
    let prompt = Arc::new(ScriptedPrompt::new([None, None]));
    let gate = env.builder().official_prompt(Arc::clone(&prompt)).wait_policy(WaitPolicy::ReturnPending).build();
    assert!(gate.check("chooseLocation", LOC, "u1").await.is_err());
    let responder = prompt.take_open().pop().unwrap();
    gate.clear("u1").await.unwrap();
    let late = responder.answer(PromptAnswer::Refuse(PromptStyle::Direct)).await;
    assert!(matches!(late, Err(ResolveError::AlreadySettled { .. })), "{late:?}");
    let err = gate.check("chooseLocation", LOC, "u1").await.unwrap_err();
    assert!(matches!(err.kind(), PrivacyErrorKind::Pending { .. }), "no hold: {err}");
    let history = gate.history("u1").await.unwrap();
    assert!(history.iter().all(|e| !matches!(e.event, ConsentEvent::Refused { .. })), "{history:?}");
}

/// Tickets die with their authorization; a client's prompt answer is refused when the server
/// shows the prompt itself.
async fn tickets_expire_with_their_authorization(env: Env) {
    let gate = env.builder().wait_policy(WaitPolicy::ReturnPending).authorization_ttl(Duration::from_secs(60)).build();
    let ticket = gate.check("chooseLocation", LOC, "u1").await.unwrap_err().ticket().unwrap();
    assert_eq!(ticket.to_string().len(), 32);
    env.clock.advance(Duration::from_secs(60));
    let late = gate.answer_prompt("u1", ticket, PromptAnswer::Accept).await;
    assert!(matches!(late, Err(ResolveError::UnknownTicket { .. })), "{late:?}");
    assert!(gate.history("u1").await.unwrap().is_empty());
    let fresh = gate.check("chooseLocation", LOC, "u1").await.unwrap_err().ticket().unwrap();
    assert_ne!(fresh, ticket);

    let server =
        env.builder().wait_policy(WaitPolicy::ReturnPending).official_prompt(ScriptedPrompt::new([None])).build();
    let t = server.check("chooseLocation", LOC, "u2").await.unwrap_err().ticket().unwrap();
    let client = server.answer_prompt("u2", t, PromptAnswer::Accept).await;
    assert!(matches!(client, Err(ResolveError::PromptIsServerSide { .. })), "{client:?}");
}

/// A stored consent names its version by identity: other versions added or removed around it
/// change nothing, and once its own version is gone it covers nothing.
async fn a_consent_is_bound_to_its_version_by_identity(env: Env) {
    let gate = env.gate();
    gate.tap_agree_button("u1", "agree-btn").await.unwrap();

    let inserted = Guidelines::builder("《示例小程序隐私保护指引》")
        .contract_url("https://example.com/privacy")
        .version(Timestamp::utc(2023, 7, 1, 0, 0, 0), ["location"])
        .version(july_11(), ["chosen_location"])
        .version(july_13(), ["chosen_location", "werun"])
        .agree_button("agree-btn")
        .build()
        .unwrap();
    let g2 = Gate::builder("wx-demo", inserted).clock(env.clock.clone()).store(Arc::clone(&env.store)).build();
    assert_eq!(g2.check("chooseLocation", LOC, "u1").await, Ok(()), "an older version inserted: same consent");

    let removed = Guidelines::builder("《示例小程序隐私保护指引》")
        .version(Timestamp::utc(2023, 7, 1, 0, 0, 0), ["chosen_location", "werun"])
        .version(july_13(), ["chosen_location", "werun"])
        .agree_button("agree-btn")
        .build()
        .unwrap();
    let g3 = Gate::builder("wx-demo", removed)
        .clock(env.clock.clone())
        .store(Arc::clone(&env.store))
        .wait_policy(WaitPolicy::ReturnPending)
        .build();
    assert!(g3.get_privacy_setting("u1").await.unwrap().need_authorization, "its version is gone: asked again");
    let err = g3.check("chooseLocation", LOC, "u1").await.unwrap_err();
    assert!(matches!(err.kind(), PrivacyErrorKind::Pending { .. }), "{err}");
    let err = g3.check("getWeRunData", RUN, "u1").await.unwrap_err();
    assert!(matches!(err.kind(), PrivacyErrorKind::Pending { .. }), "never another version's scopes: {err}");
}

// --- The ledger ---

/// A user's entries are numbered 1..=n with no gaps, whatever happened (a tap, a clear, another
/// tap), and the app's own popup and its `agree`, resolved by ticket, are entries too, each
/// naming the API whose call asked.
async fn the_ledger_numbers_entries_without_gaps_and_keeps_resolutions_by_ticket(env: Env) {
    let gate = env.builder().wait_policy(WaitPolicy::ReturnPending).build();
    let rec = Recorder::install(&gate);
    gate.tap_agree_button("u1", "agree-btn").await.unwrap();
    gate.clear("u1").await.unwrap();
    gate.tap_agree_button("u1", "agree-btn").await.unwrap();
    let history = gate.history("u1").await.unwrap();
    assert_eq!(history.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3], "{history:?}");
    assert_eq!(history.iter().map(|e| e.event.kind()).collect::<Vec<_>>(), ["agreed", "cleared", "agreed"]);
    assert!(history.iter().all(|e| e.app == "wx-demo" && *e.event.subject() == Subject::from("u1")), "{history:?}");
    assert!(gate.history("u2").await.unwrap().is_empty(), "numbered per user");

    // July 14: werun is in effect and the July 11 consent does not cover it. The client shows
    // the app's own popup for the call's ticket, the user taps, the client resolves `agree`.
    env.clock.set(july_14());
    let ticket = gate.check("getWeRunData", RUN, "u1").await.unwrap_err().ticket().unwrap();
    assert_eq!(rec.take().defer(), Some(ticket));
    gate.resolve("u1", ticket, Resolution::ExposureAuthorization).await.unwrap();
    // The tap covers the authorization's scopes and settles it; the client's `agree` that
    // follows, by ticket, is still accepted and recorded.
    gate.tap_agree_button("u1", "agree-btn").await.unwrap();
    gate.resolve("u1", ticket, Resolution::Agree { button_id: "agree-btn".into() }).await.unwrap();
    assert_eq!(gate.check("getWeRunData", RUN, "u1").await, Ok(()));

    let history = gate.history("u1").await.unwrap();
    assert_eq!(history.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=6).collect::<Vec<u64>>(), "{history:?}");
    let [
        LedgerEntry { event: ConsentEvent::Exposed { referrer: shown_for, .. }, .. },
        LedgerEntry { event: ConsentEvent::Agreed(record), .. },
        LedgerEntry { event: ConsentEvent::AgreeResolved { button_id, referrer: agreed_for, .. }, .. },
    ] = &history[3..]
    else {
        panic!("{history:?}")
    };
    assert_eq!(shown_for, "getWeRunData");
    assert_eq!(record.referrer.as_deref(), Some("getWeRunData"));
    assert_eq!(record.version, Some(gate.guidelines().versions()[1].id));
    assert_eq!(record.scopes, ["chosen_location", "werun"]);
    assert_eq!((button_id.as_str(), agreed_for.as_str()), ("agree-btn", "getWeRunData"));
    // Once answered, the ticket takes no second answer.
    let again = gate.resolve("u1", ticket, Resolution::Disagree).await;
    assert!(
        matches!(again, Err(ResolveError::AlreadySettled { .. } | ResolveError::UnknownTicket { .. })),
        "{again:?}"
    );
}
