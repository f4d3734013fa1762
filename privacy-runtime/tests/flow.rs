//! The decision for one call, step by step, through the gate's own API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use privacy_runtime::consent::BoxFuture;
use privacy_runtime::*;

const JULY_11: Timestamp = Timestamp::utc(2023, 7, 11, 0, 0, 0);
const JULY_12: Timestamp = Timestamp::utc(2023, 7, 12, 0, 0, 0);
const JULY_13: Timestamp = Timestamp::utc(2023, 7, 13, 0, 0, 0);
const JULY_14: Timestamp = Timestamp::utc(2023, 7, 14, 0, 0, 0);
const LOC: ScopeSet = ScopeSet::EMPTY.with(Scope::CHOSEN_LOCATION);
const RUN: ScopeSet = ScopeSet::EMPTY.with(Scope::WERUN);

fn seed_guidelines() -> Guidelines {
    Guidelines::builder("《示例小程序隐私保护指引》")
        .contract_url("https://example.com/privacy")
        .version(JULY_11, ["chosen_location"])
        .version(JULY_13, ["chosen_location", "werun"])
        .agree_button("agree-btn")
        .agree_button("phone-agree-btn")
        .build()
        .unwrap()
}

/// A store that fails on demand, in front of a memory store.
#[derive(Default, Clone)]
struct FlakyStore {
    inner: Arc<MemoryStore>,
    failing: Arc<AtomicBool>,
}

impl FlakyStore {
    fn fail(&self, on: bool) {
        self.failing.store(on, Ordering::SeqCst);
    }
    fn check(&self) -> Result<(), StoreError> {
        if self.failing.load(Ordering::SeqCst) { Err(StoreError::new("disk on fire")) } else { Ok(()) }
    }
}

impl ConsentStore for FlakyStore {
    fn append<'a>(&'a self, app: &'a str, event: &'a ConsentEvent) -> BoxFuture<'a, Result<(), StoreError>> {
        match self.check() {
            Ok(()) => self.inner.append(app, event),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }
    fn current<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Option<ConsentRecord>, StoreError>> {
        match self.check() {
            Ok(()) => self.inner.current(app, subject),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }
    fn history<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Vec<ConsentEvent>, StoreError>> {
        self.inner.history(app, subject)
    }
}

/// A listener that records every event and keeps every resolver.
#[derive(Default, Clone)]
struct Recorder {
    events: Arc<Mutex<Vec<NeedAuthorization>>>,
    resolvers: Arc<Mutex<Vec<Resolver>>>,
}

impl Recorder {
    fn install(&self, gate: &Gate) {
        let me = self.clone();
        gate.on_need_privacy_authorization(move |resolver, event| {
            me.events.lock().unwrap().push(event);
            me.resolvers.lock().unwrap().push(resolver);
        });
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

fn gate_at(t: Timestamp) -> (Gate, ManualClock) {
    let clock = ManualClock::new(t);
    let gate = Gate::builder("wx-demo", seed_guidelines()).clock(clock.clone()).ticket_seed(7).build();
    (gate, clock)
}

#[test]
fn seed_example_july_11_12_13() {
    let (gate, clock) = gate_at(JULY_12);
    let rec = Recorder::default();
    rec.install(&gate);

    // July 12: the user agrees to the July 11 version.
    gate.tap_agree_button_blocking("u1", "agree-btn").unwrap();
    assert_eq!(gate.check_blocking("chooseLocation", LOC, "u1"), Ok(()));

    // July 13: werun is declared; on July 14 it is in effect.
    clock.set(JULY_14);
    assert_eq!(gate.check_blocking("chooseLocation", LOC, "u1"), Ok(()), "covered scope keeps working");
    assert_eq!(rec.count(), 0, "chooseLocation raised no event");
    let err = gate.check_blocking("getWeRunData", RUN, "u1").unwrap_err();
    assert!(matches!(err.kind(), PrivacyErrorKind::Pending { .. }), "{err}");
    assert_eq!(rec.referrers(), vec!["getWeRunData"]);
    assert!(gate.get_privacy_setting_blocking("u1").unwrap().need_authorization);
}

#[test]
fn a_undeclared_scope_is_112_and_a_new_declaration_waits_five_minutes() {
    let (gate, clock) = gate_at(JULY_12);
    gate.tap_agree_button_blocking("u1", "agree-btn").unwrap();
    let err = gate.check_blocking("getWeRunData", RUN, "u1").unwrap_err();
    assert_eq!(err.errno(), Some(112));
    assert_eq!(err.to_string(), "getWeRunData:fail api scope is not declared in the privacy agreement");

    clock.set(JULY_13.plus(Duration::from_secs(4 * 60 + 59)));
    assert_eq!(gate.check_blocking("getWeRunData", RUN, "u1").unwrap_err().errno(), Some(112), "4:59 after publishing");
    clock.set(JULY_13.plus(Duration::from_secs(5 * 60)));
    let err = gate.check_blocking("getWeRunData", RUN, "u1").unwrap_err();
    assert_ne!(err.errno(), Some(112), "5:00 after publishing the scope is declared: {err}");
}

#[test]
fn b_banned_app() {
    let g = Guidelines::builder("x").version(JULY_11, ["location"]).banned(true).build().unwrap();
    let gate = Gate::builder("app", g).clock(ManualClock::new(JULY_12)).build();
    let err = gate.check_blocking("getLocation", ScopeSet::EMPTY.with(Scope::LOCATION), "u").unwrap_err();
    assert_eq!(err.errno(), None);
    assert_eq!(err.to_string(), "getLocation:fail AppID privacy api banned");
    // 112 comes first.
    let err = gate.check_blocking("getWeRunData", RUN, "u").unwrap_err();
    assert_eq!(err.errno(), Some(112));
}

#[test]
fn c_consented_call_runs_without_event() {
    let (gate, _clock) = gate_at(JULY_12);
    let rec = Recorder::default();
    rec.install(&gate);
    gate.tap_agree_button_blocking(42u64, "agree-btn").unwrap();
    for _ in 0..3 {
        assert_eq!(gate.check_blocking("chooseLocation", LOC, 42u64), Ok(()));
    }
    assert_eq!(rec.count(), 0);
    // Another user is not covered by that consent.
    assert!(gate.check_blocking("chooseLocation", LOC, 43u64).is_err());
    assert_eq!(rec.count(), 1);
}

#[test]
fn e_event_carries_referrer_and_agree_resumes_waiting_calls() {
    let (gate, _clock) = gate_at(JULY_12);
    let rec = Recorder::default();
    rec.install(&gate);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let g2 = gate.clone();
        let call = tokio::spawn(async move { g2.check("chooseLocation", LOC, "u1").await });
        tokio::task::yield_now().await;
        assert_eq!(rec.count(), 1);
        let ev = rec.events.lock().unwrap()[0].clone();
        assert_eq!(ev.referrer, "chooseLocation");
        assert_eq!(ev.scopes, LOC);
        assert_eq!(ev.subject, Subject::from("u1"));
        let resolver = rec.take();
        resolver.exposure();
        assert!(resolver.exposed());
        gate.tap_agree_button("u1", "agree-btn").await.unwrap();
        resolver.agree("agree-btn").unwrap();
        assert_eq!(call.await.unwrap(), Ok(()));
    });
    let history = gate.history_blocking("u1").unwrap();
    let ConsentEvent::Agreed(record) = &history[0] else { panic!("{history:?}") };
    assert_eq!(record.version, 1);
    assert_eq!(record.referrer.as_deref(), Some("chooseLocation"));
    assert_eq!(record.source, ConsentSource::AgreeButton { button_id: "agree-btn".into() });
}

#[test]
fn e_disagree_is_104_and_starts_no_hold() {
    let (gate, _clock) = gate_at(JULY_12);
    gate.on_need_privacy_authorization(|resolver: Resolver, _| resolver.disagree().unwrap());
    let err = gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err();
    assert_eq!(err.errno(), Some(104));
    assert_eq!(err.to_string(), "chooseLocation:fail privacy permission is not authorized");
    // No hold: the next call raises a new event (and is refused again by this listener).
    let err = gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err();
    assert!(matches!(err.kind(), PrivacyErrorKind::NotAuthorized { style: None }));
}

#[test]
fn e_forged_agrees_are_rejected_and_the_call_stays_pending() {
    let (gate, _clock) = gate_at(JULY_12);
    let rec = Recorder::default();
    rec.install(&gate);
    assert!(gate.check_blocking("chooseLocation", LOC, "u1").is_err());
    let resolver = rec.take();

    let rejected = resolver.agree("agre-btn").unwrap_err();
    assert!(
        matches!(&rejected.error, ResolveError::UnregisteredButton { suggestion: Some(s), .. } if s == "agree-btn")
    );
    let rejected = rejected.resolver.agree("agree-btn").unwrap_err();
    assert!(matches!(rejected.error, ResolveError::ButtonNotTapped { .. }), "never tapped");

    // Another user taps the button: still not this user's tap.
    gate.tap_agree_button_blocking("u2", "agree-btn").unwrap();
    let rejected = rejected.resolver.agree("agree-btn").unwrap_err();
    assert!(matches!(rejected.error, ResolveError::ButtonNotTapped { .. }), "another subject's tap");
    let resolver = rejected.resolver.defer().unwrap();
    assert_eq!(gate.pending_ticket("u1").map(|(t, _)| t), Some(resolver), "still pending");

    // Tapping the other registered button does not validate an agree naming agree-btn.
    gate.tap_agree_button_blocking("u1", "phone-agree-btn").unwrap();
    let err = gate.resolve("u1", resolver, Resolution::Agree { button_id: "agree-btn".into() }).unwrap_err();
    assert!(matches!(err, ResolveError::ButtonNotTapped { .. }));
    gate.resolve("u1", resolver, Resolution::Agree { button_id: "phone-agree-btn".into() }).unwrap();
}

#[test]
fn e_a_ticket_resolves_once_and_only_for_its_subject() {
    let (gate, _clock) = gate_at(JULY_12);
    let rec = Recorder::default();
    rec.install(&gate);
    let err = gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err();
    let ticket = err.ticket().unwrap();
    assert_eq!(rec.take().defer(), Some(ticket));
    assert!(matches!(gate.resolve("u2", ticket, Resolution::Disagree), Err(ResolveError::UnknownTicket { .. })));
    gate.resolve("u1", ticket, Resolution::Disagree).unwrap();
    assert!(matches!(gate.resolve("u1", ticket, Resolution::Disagree), Err(ResolveError::UnknownTicket { .. })));
}

#[test]
fn e_a_resolver_used_after_its_authorization_was_settled_is_rejected() {
    let (gate, _clock) = gate_at(JULY_12);
    let rec = Recorder::default();
    rec.install(&gate);
    let ticket = gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err().ticket().unwrap();
    let resolver = rec.take();
    gate.tap_agree_button_blocking("u1", "agree-btn").unwrap();
    gate.resolve("u1", ticket, Resolution::Agree { button_id: "agree-btn".into() }).unwrap();
    let rejected = resolver.agree("agree-btn").unwrap_err();
    assert!(matches!(rejected.error, ResolveError::AlreadySettled { .. }));
    assert_eq!(rejected.resolver.ticket(), None, "a settled resolver is spent");
}

#[test]
fn f_no_listener_goes_to_the_official_prompt() {
    let clock = ManualClock::new(JULY_12);
    let prompt = Arc::new(ScriptedPrompt::new([Some(PromptAnswer::Accept)]));
    let gate =
        Gate::builder("wx-demo", seed_guidelines()).clock(clock).official_prompt(SharedPrompt(prompt.clone())).build();
    assert_eq!(gate.check_blocking("chooseLocation", LOC, "u1"), Ok(()));
    assert_eq!(prompt.shown(), 1);
    let history = gate.history_blocking("u1").unwrap();
    assert!(matches!(&history[..], [ConsentEvent::Agreed(r)] if r.source == ConsentSource::OfficialPrompt));
    assert_eq!(gate.check_blocking("chooseLocation", LOC, "u1"), Ok(()));
    assert_eq!(prompt.shown(), 1, "consent remembered");
}

struct SharedPrompt(Arc<ScriptedPrompt>);
impl OfficialPrompt for SharedPrompt {
    fn show(&self, request: PromptRequest, responder: PromptResponder) {
        self.0.show(request, responder);
    }
}

#[test]
fn f_dropped_resolver_falls_back_to_the_prompt_and_refusals_carry_their_style() {
    let clock = ManualClock::new(JULY_12);
    let prompt = Arc::new(ScriptedPrompt::new([
        Some(PromptAnswer::Refuse(PromptStyle::Coupled)),
        Some(PromptAnswer::Refuse(PromptStyle::Direct)),
    ]));
    let gate = Gate::builder("wx-demo", seed_guidelines())
        .clock(clock.clone())
        .official_prompt(SharedPrompt(prompt.clone()))
        .build();
    let events = Arc::new(AtomicUsize::new(0));
    let e2 = events.clone();
    gate.on_need_privacy_authorization(move |resolver: Resolver, _| {
        e2.fetch_add(1, Ordering::SeqCst);
        drop(resolver);
    });
    let err = gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err();
    assert_eq!((events.load(Ordering::SeqCst), prompt.shown()), (1, 1));
    assert_eq!(err.errno(), Some(103));

    clock.advance(Duration::from_secs(11));
    let err = gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err();
    assert_eq!(err.errno(), Some(104));
    assert_eq!(err.to_string(), "chooseLocation:fail privacy permission is not authorized");
}

#[test]
fn d_refusal_hold_fails_at_once_for_ten_seconds() {
    let clock = ManualClock::new(JULY_12);
    let prompt = Arc::new(ScriptedPrompt::new([Some(PromptAnswer::Refuse(PromptStyle::Direct))]));
    let gate = Gate::builder("wx-demo", seed_guidelines())
        .clock(clock.clone())
        .official_prompt(SharedPrompt(prompt.clone()))
        .build();
    assert_eq!(gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err().errno(), Some(104));
    assert_eq!(prompt.shown(), 1);

    let rec = Recorder::default();
    rec.install(&gate);
    clock.advance(Duration::from_millis(9_999));
    let err = gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err();
    assert!(matches!(err.kind(), PrivacyErrorKind::RefusalHold { style: PromptStyle::Direct }));
    assert_eq!(err.to_string(), "chooseLocation:fail privacy permission is not authorized in gap");
    assert_eq!((rec.count(), prompt.shown()), (0, 1), "no event, no prompt during the hold");
    // Other users are not held.
    assert!(matches!(
        gate.check_blocking("chooseLocation", LOC, "u2").unwrap_err().kind(),
        PrivacyErrorKind::Pending { .. }
    ));

    clock.advance(Duration::from_millis(1));
    let err = gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err();
    assert!(matches!(err.kind(), PrivacyErrorKind::Pending { .. }), "{err}");
    assert_eq!(rec.count(), 2, "after the hold the event is raised again");
}

#[test]
fn d_hold_length_is_configurable() {
    let clock = ManualClock::new(JULY_12);
    let gate = Gate::builder("wx-demo", seed_guidelines())
        .clock(clock.clone())
        .refusal_hold(Duration::from_secs(60))
        .official_prompt(ScriptedPrompt::new([]))
        .build();
    assert!(gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err().is_refusal());
    clock.advance(Duration::from_secs(30));
    assert!(matches!(
        gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err().kind(),
        PrivacyErrorKind::RefusalHold { .. }
    ));
}

#[test]
fn g_store_failure_refuses_the_call() {
    let store = FlakyStore::default();
    let gate = Gate::builder("wx-demo", seed_guidelines())
        .clock(ManualClock::new(JULY_12))
        .store(store.clone())
        .official_prompt(ScriptedPrompt::new([Some(PromptAnswer::Accept)]))
        .build();
    store.fail(true);
    let err = gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err();
    assert!(matches!(err.kind(), PrivacyErrorKind::StoreUnavailable { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "chooseLocation:fail privacy consent store unavailable (disk on fire); the call was refused, retry when the store is back"
    );
    assert!(gate.tap_agree_button_blocking("u1", "agree-btn").is_err());
    assert!(gate.get_privacy_setting_blocking("u1").is_err());

    // The store answers reads but fails the write of the prompt's consent: refused, not let through.
    store.fail(false);
    assert!(gate.get_privacy_setting_blocking("u1").unwrap().need_authorization);
    let gate2 = Gate::builder("wx-demo", seed_guidelines())
        .clock(ManualClock::new(JULY_12))
        .store(FailingWrites(store.clone()))
        .official_prompt(ScriptedPrompt::new([Some(PromptAnswer::Accept)]))
        .build();
    let err = gate2.check_blocking("chooseLocation", LOC, "u1").unwrap_err();
    assert!(matches!(err.kind(), PrivacyErrorKind::StoreUnavailable { .. }), "{err}");
}

struct FailingWrites(FlakyStore);
impl ConsentStore for FailingWrites {
    fn append<'a>(&'a self, _: &'a str, _: &'a ConsentEvent) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(std::future::ready(Err(StoreError::new("read-only replica"))))
    }
    fn current<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Option<ConsentRecord>, StoreError>> {
        self.0.current(app, subject)
    }
    fn history<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Vec<ConsentEvent>, StoreError>> {
        self.0.history(app, subject)
    }
}

#[test]
fn thousand_concurrent_calls_on_two_threads_share_one_event() {
    let (gate, _clock) = gate_at(JULY_12);
    let rec = Recorder::default();
    rec.install(&gate);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let calls: Vec<_> = (0..1000)
            .map(|_| {
                let g = gate.clone();
                tokio::spawn(async move { g.check("chooseLocation", LOC, "u1").await })
            })
            .collect();
        while rec.count() == 0 {
            tokio::task::yield_now().await;
        }
        // Calls that arrive after the agree find the consent and pass without an event.
        gate.tap_agree_button("u1", "agree-btn").await.unwrap();
        rec.take().agree("agree-btn").unwrap();
        for c in calls {
            assert_eq!(c.await.unwrap(), Ok(()));
        }
    });
    assert_eq!(rec.count(), 1, "exactly one event for 1,000 calls");
}

/// Starts 1,000 calls of one user (each polled until it waits on the pending authorization),
/// hands the one resolver to `answer`, and returns every call's result and the number of events.
fn thousand_waiting_calls(answer: impl FnOnce(&Gate, Resolver)) -> (Vec<Result<(), PrivacyError>>, usize) {
    use std::future::Future;
    use std::task::{Context, Waker};
    let (gate, _clock) = gate_at(JULY_12);
    let rec = Recorder::default();
    rec.install(&gate);
    let mut calls: Vec<_> = (0..1000).map(|_| Box::pin(gate.check("chooseLocation", LOC, "u1"))).collect();
    let mut cx = Context::from_waker(Waker::noop());
    for call in &mut calls {
        assert!(call.as_mut().poll(&mut cx).is_pending(), "every call waits for the user");
    }
    answer(&gate, rec.take());
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let results = rt.block_on(async {
        let mut out = Vec::new();
        for call in calls {
            out.push(call.await);
        }
        out
    });
    (results, rec.count())
}

#[test]
fn thousand_waiting_calls_share_one_agree() {
    let (results, events) = thousand_waiting_calls(|gate, resolver| {
        gate.tap_agree_button_blocking("u1", "agree-btn").unwrap();
        resolver.agree("agree-btn").unwrap();
    });
    assert_eq!(events, 1);
    assert!(results.iter().all(Result::is_ok));
}

#[test]
fn thousand_waiting_calls_share_one_refusal() {
    let (results, events) = thousand_waiting_calls(|_, resolver| resolver.disagree().unwrap());
    assert_eq!(events, 1);
    assert_eq!(results.len(), 1000);
    assert!(results.iter().all(|r| r.as_ref().unwrap_err().errno() == Some(104)));
}

#[test]
fn clear_then_call_asks_again() {
    let (gate, _clock) = gate_at(JULY_12);
    let rec = Recorder::default();
    rec.install(&gate);
    gate.tap_agree_button_blocking("u1", "agree-btn").unwrap();
    assert_eq!(gate.check_blocking("chooseLocation", LOC, "u1"), Ok(()));
    gate.clear_blocking("u1").unwrap();
    assert!(gate.get_privacy_setting_blocking("u1").unwrap().need_authorization);
    assert!(gate.check_blocking("chooseLocation", LOC, "u1").is_err());
    assert_eq!(rec.count(), 1);
    let kinds: Vec<_> = gate
        .history_blocking("u1")
        .unwrap()
        .iter()
        .map(|e| match e {
            ConsentEvent::Agreed(_) => "agreed",
            ConsentEvent::Cleared { .. } => "cleared",
            ConsentEvent::Refused { .. } => "refused",
        })
        .collect();
    assert_eq!(kinds, ["agreed", "cleared"], "evidence is kept");
}

#[test]
fn wait_timeout_escalates_to_the_prompt_then_returns_pending() {
    let clock = ManualClock::new(JULY_12);
    let prompt = Arc::new(ScriptedPrompt::new([None]));
    let gate = Gate::builder("wx-demo", seed_guidelines())
        .clock(clock.clone())
        .official_prompt(SharedPrompt(prompt.clone()))
        .wait_policy(WaitPolicy::Wait { timeout: Some(Duration::from_secs(30)) })
        .build();
    let rec = Recorder::default();
    rec.install(&gate);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let g = gate.clone();
        let call = tokio::spawn(async move { g.check("chooseLocation", LOC, "u1").await });
        tokio::task::yield_now().await;
        assert_eq!((rec.count(), prompt.shown()), (1, 0));
        clock.advance(Duration::from_secs(30));
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        assert_eq!(prompt.shown(), 1, "the listener did not answer: official prompt");
        clock.advance(Duration::from_secs(30));
        let err = call.await.unwrap().unwrap_err();
        assert!(matches!(err.kind(), PrivacyErrorKind::Pending { stage: PendingStage::OfficialPrompt, .. }), "{err}");
        // The prompt is answered later: the next call goes through.
        prompt.take_open().pop().unwrap().answer(PromptAnswer::Accept).unwrap();
        assert_eq!(gate.check("chooseLocation", LOC, "u1").await, Ok(()));
    });
}

#[test]
fn return_pending_policy_hands_out_a_ticket_for_the_client() {
    let gate = Gate::builder("wx-demo", seed_guidelines())
        .clock(ManualClock::new(JULY_12))
        .wait_policy(WaitPolicy::ReturnPending)
        .build();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let err = gate.check("chooseLocation", LOC, "u1").await.unwrap_err();
        let PrivacyErrorKind::Pending { ticket, stage } = *err.kind() else { panic!("{err}") };
        assert_eq!(stage, PendingStage::OfficialPrompt, "no listener: the client shows the official prompt");
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["ticket"], ticket.to_string());
        assert!(matches!(
            gate.resolve("u1", ticket, Resolution::Agree { button_id: "agree-btn".into() }),
            Err(ResolveError::ButtonNotTapped { .. })
        ));
        gate.answer_prompt("u1", ticket, PromptAnswer::Accept).unwrap();
        assert_eq!(gate.check("chooseLocation", LOC, "u1").await, Ok(()));
    });
}

#[test]
fn answer_prompt_needs_the_prompt_stage() {
    let (gate, _clock) = gate_at(JULY_12);
    let rec = Recorder::default();
    rec.install(&gate);
    let ticket = gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err().ticket().unwrap();
    assert!(matches!(gate.answer_prompt("u1", ticket, PromptAnswer::Accept), Err(ResolveError::NotPrompting { .. })));
    drop(rec.take());
    assert_eq!(gate.pending_ticket("u1"), Some((ticket, PendingStage::OfficialPrompt)));
    gate.answer_prompt("u1", ticket, PromptAnswer::Accept).unwrap();
    assert_eq!(gate.check_blocking("chooseLocation", LOC, "u1"), Ok(()));
}

#[test]
fn combined_button_both_or_neither() {
    let store = FlakyStore::default();
    let gate =
        Gate::builder("wx-demo", seed_guidelines()).clock(ManualClock::new(JULY_12)).store(store.clone()).build();
    let ran = AtomicUsize::new(0);
    let phone = || {
        gate.check_blocking("getPhoneNumber", LOC, "u1")?;
        ran.fetch_add(1, Ordering::SeqCst);
        Ok::<_, PrivacyError>("+86 138 0000 0000")
    };

    // The action fails: nothing recorded.
    let r: Result<(), _> = gate.agree_with_action("u1", "phone-agree-btn", "getPhoneNumber", || Err("no phone"));
    assert!(matches!(r, Err(CombinedError::Action("no phone"))));
    assert!(gate.history_blocking("u1").unwrap().is_empty());

    // The store fails: the action ran, but it is not reported as done and nothing was kept.
    store.fail(true);
    let r = gate.agree_with_action("u1", "phone-agree-btn", "getPhoneNumber", phone);
    assert!(matches!(r, Err(CombinedError::Store(_))));
    store.fail(false);
    assert!(gate.get_privacy_setting_blocking("u1").unwrap().need_authorization);

    // Both succeed.
    let r = gate.agree_with_action("u1", "phone-agree-btn", "getPhoneNumber", phone);
    assert_eq!(r.unwrap(), "+86 138 0000 0000");
    assert_eq!(ran.load(Ordering::SeqCst), 2);
    let history = gate.history_blocking("u1").unwrap();
    assert!(matches!(&history[..], [ConsentEvent::Agreed(r)]
        if r.source == ConsentSource::CombinedButton { button_id: "phone-agree-btn".into(), action: "getPhoneNumber".into() }));
    assert_eq!(gate.check_blocking("chooseLocation", LOC, "u1"), Ok(()));

    // An unregistered button runs nothing.
    let r = gate.agree_with_action("u2", "nope", "getPhoneNumber", phone);
    assert!(matches!(r, Err(CombinedError::Button(ResolveError::UnregisteredButton { .. }))));
    assert_eq!(ran.load(Ordering::SeqCst), 2);
}

#[test]
fn privacy_setting_contract_and_listener_replacement() {
    let (gate, _clock) = gate_at(JULY_12);
    let s = gate.get_privacy_setting_blocking("u1").unwrap();
    assert_eq!(
        serde_json::to_value(&s).unwrap(),
        serde_json::json!({"needAuthorization": true, "privacyContractName": "《示例小程序隐私保护指引》", "errMsg": "getPrivacySetting:ok"})
    );
    let c = gate.open_privacy_contract();
    assert_eq!(c.location, Some(ContractLocation::Url("https://example.com/privacy".into())));

    let first = Recorder::default();
    let second = Recorder::default();
    first.install(&gate);
    second.install(&gate);
    assert!(gate.require_privacy_authorize_blocking("u1").is_err());
    assert_eq!((first.count(), second.count()), (0, 1), "registering replaces the previous listener");
    assert_eq!(second.referrers(), ["requirePrivacyAuthorize"]);

    gate.tap_agree_button_blocking("u1", "agree-btn").unwrap();
    assert_eq!(gate.require_privacy_authorize_blocking("u1"), Ok(()));
}

#[test]
fn nothing_declared_needs_no_authorization() {
    let g = Guidelines::builder("x").build().unwrap();
    let gate = Gate::builder("app", g).build();
    assert!(!gate.get_privacy_setting_blocking("u").unwrap().need_authorization);
    assert_eq!(gate.require_privacy_authorize_blocking("u"), Ok(()));
}

#[test]
fn sync_calls_never_wait_for_a_person() {
    let (gate, _clock) = gate_at(JULY_12);
    let rec = Recorder::default();
    rec.install(&gate);
    // The listener keeps the resolver: a sync call returns pending at once.
    let err = gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err();
    assert!(matches!(err.kind(), PrivacyErrorKind::Pending { stage: PendingStage::Listener, .. }));
    // A second call joins the same authorization: same ticket, no new event.
    let again = gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err();
    assert_eq!(again.ticket(), err.ticket());
    assert_eq!(rec.count(), 1);
}

#[test]
fn scoped_gates_do_not_leak_between_threads() {
    let (a, _c1) = gate_at(JULY_12);
    let (b, _c2) = gate_at(JULY_12);
    a.tap_agree_button_blocking("u1", "agree-btn").unwrap();
    with_gate(&a, || assert_eq!(current_gate().map(|g| g.app().to_owned()), Some("wx-demo".to_owned())));
    let t = std::thread::spawn(move || with_gate(&b, || current_gate().is_some()));
    assert!(t.join().unwrap());
    assert!(current_gate().is_none(), "nothing installed here");
}

#[test]
fn clear_ends_an_open_authorization() {
    let (gate, _clock) = gate_at(JULY_12);
    let rec = Recorder::default();
    rec.install(&gate);
    let ticket = gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err().ticket().unwrap();
    let _kept = rec.take().defer();
    gate.clear_blocking("u1").unwrap();
    assert!(matches!(gate.resolve("u1", ticket, Resolution::Disagree), Err(ResolveError::UnknownTicket { .. })));
    let again = gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err();
    assert_ne!(again.ticket(), Some(ticket), "a new authorization");
    assert_eq!(rec.count(), 2);
}
