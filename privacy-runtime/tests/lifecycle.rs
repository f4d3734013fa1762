//! The authorization lifecycle from sync code and at the edges: blocking twins on every kind of
//! thread, user code that re-enters the runtime, memory bounded by what is open, tickets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use privacy_runtime::*;

mod common;
use common::{GatedStore, TokioStore, july_11, july_12};

const LOC: ScopeSet = ScopeSet::EMPTY.with(Scope::CHOSEN_LOCATION);

fn guidelines() -> Guidelines {
    Guidelines::builder("《示例小程序隐私保护指引》")
        .version(july_11(), ["chosen_location"])
        .agree_button("agree-btn")
        .build()
        .unwrap()
}

fn gate_at(t: Timestamp) -> (Gate, ManualClock) {
    let clock = ManualClock::new(t);
    (Gate::builder("wx-demo", guidelines()).clock(clock.clone()).build(), clock)
}

#[test]
fn sync_calls_never_wait_for_a_person() {
    let (gate, _clock) = gate_at(july_12());
    let events = Arc::new(Mutex::new(Vec::new()));
    let e2 = Arc::clone(&events);
    gate.on_need_privacy_authorization(move |resolver, event| e2.lock().unwrap().push((resolver, event)));
    let err = gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err();
    assert!(matches!(err.kind(), PrivacyErrorKind::Pending { stage: PendingStage::Listener, .. }));
    // A second call joins the same authorization: same ticket, no new event.
    let again = gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err();
    assert_eq!(again.ticket(), err.ticket());
    assert_eq!(events.lock().unwrap().len(), 1);
}

#[test]
fn nothing_declared_needs_no_authorization() {
    let gate = Gate::builder("app", Guidelines::builder("x").build().unwrap()).build();
    assert!(!gate.get_privacy_setting_blocking("u").unwrap().need_authorization);
    assert_eq!(gate.require_privacy_authorize_blocking("u"), Ok(()));
}

#[test]
fn a_sync_listener_answers_with_the_blocking_twin() {
    let (gate, _clock) = gate_at(july_12());
    gate.on_need_privacy_authorization(|resolver, _| resolver.disagree_blocking().unwrap());
    assert_eq!(gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err().errno(), Some(104));
}

#[test]
fn hold_length_is_configurable() {
    let clock = ManualClock::new(july_12());
    let gate = Gate::builder("wx-demo", guidelines())
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
fn scoped_gates_do_not_leak_between_threads() {
    let (a, _c1) = gate_at(july_12());
    let (b, _c2) = gate_at(july_12());
    with_gate(&a, || assert_eq!(current_gate().map(|g| g.app().to_owned()), Some("wx-demo".to_owned())));
    let t = std::thread::spawn(move || with_gate(&b, || current_gate().is_some()));
    assert!(t.join().unwrap());
    assert!(current_gate().is_none(), "nothing installed here");
}

// --- Blocking twins and async runtimes ---

#[test]
fn blocking_twins_refuse_on_a_current_thread_runtime_and_name_the_async_form() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let gate = Gate::builder("wx-demo", guidelines()).store(TokioStore::default()).build();
        let err = gate.clear_blocking("u1").unwrap_err();
        assert!(err.to_string().contains("Gate::clear"), "{err}");
        let err = gate.tap_agree_button_blocking("u1", "agree-btn").unwrap_err();
        assert!(err.to_string().contains("Gate::tap_agree_button"), "{err}");
        let err = gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err();
        assert!(matches!(err.kind(), PrivacyErrorKind::BlockingInAsync { use_instead: "Gate::check" }), "{err}");
        assert!(err.to_string().contains("Gate::check with .await"), "{err}");
        // The async forms work on the same thread.
        gate.tap_agree_button("u1", "agree-btn").await.unwrap();
        assert_eq!(gate.check("chooseLocation", LOC, "u1").await, Ok(()));
        // And a consented sync call needs no store: it passes.
        assert_eq!(gate.check_blocking("chooseLocation", LOC, "u1"), Ok(()));
    });
}

#[test]
fn blocking_twins_work_on_a_multi_thread_runtime_and_off_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let gate = rt.block_on(async {
        let gate = Gate::builder("wx-demo", guidelines()).store(TokioStore::default()).build();
        let g = gate.clone();
        tokio::spawn(async move { g.tap_agree_button_blocking("u1", "agree-btn").map(|_| ()) }).await.unwrap().unwrap();
        gate
    });
    // A plain thread: the store's futures run on the runtime the gate was built on.
    let g = gate.clone();
    std::thread::spawn(move || {
        assert!(!g.get_privacy_setting_blocking("u1").unwrap().need_authorization);
        g.clear_blocking("u1").unwrap();
        assert_eq!(g.history_blocking("u1").unwrap().len(), 2);
    })
    .join()
    .unwrap();
}

// --- User code never runs under the runtime's borrows, locks or in Drop ---

#[privacy_scope("chosen_location", api = "chooseLocation")]
fn choose_location() -> Result<&'static str, PrivacyError> {
    Ok("here")
}

#[test]
fn a_listener_may_use_the_ambient_subject_and_scoped_gates() {
    let (gate, _clock) = gate_at(july_12());
    let inner_gate = gate.clone();
    let seen = Arc::new(AtomicUsize::new(0));
    let s2 = Arc::clone(&seen);
    gate.on_need_privacy_authorization(move |resolver, event| {
        // Re-entering the runtime's thread-locals from the listener.
        let who = with_subject("someone-else", current_subject);
        assert_eq!(who, Some(Subject::from("someone-else")));
        with_gate(&inner_gate, || assert!(current_gate().is_some()));
        assert_eq!(current_subject(), Some(event.subject));
        s2.fetch_add(1, Ordering::SeqCst);
        drop(resolver);
    });
    with_gate(&gate, || {
        let err = with_subject("u1", choose_location).unwrap_err();
        assert!(err.ticket().is_some(), "{err}");
    });
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

/// A prompt that needs the app's own lock: shown from `Drop` under that lock, it would deadlock.
struct LockingPrompt {
    app_lock: Arc<Mutex<Vec<Resolver>>>,
    shown_under_lock: AtomicBool,
    shown: AtomicUsize,
}

impl OfficialPrompt for LockingPrompt {
    fn show(&self, _request: PromptRequest, responder: PromptResponder) {
        self.shown.fetch_add(1, Ordering::SeqCst);
        if self.app_lock.try_lock().is_err() {
            self.shown_under_lock.store(true, Ordering::SeqCst);
        }
        let _ = responder.answer_blocking(PromptAnswer::Accept);
    }
}

#[test]
fn a_resolver_dropped_under_the_apps_lock_shows_the_prompt_later_outside_it() {
    let app_lock: Arc<Mutex<Vec<Resolver>>> = Arc::default();
    let prompt = Arc::new(LockingPrompt {
        app_lock: Arc::clone(&app_lock),
        shown_under_lock: AtomicBool::new(false),
        shown: AtomicUsize::new(0),
    });
    let clock = ManualClock::new(july_12());
    let gate = Gate::builder("wx-demo", guidelines()).clock(clock).official_prompt(Arc::clone(&prompt)).build();
    let kept = Arc::clone(&app_lock);
    gate.on_need_privacy_authorization(move |resolver, _| kept.lock().unwrap().push(resolver));
    assert!(gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err().ticket().is_some());
    // The app drops the resolver while holding its own lock.
    app_lock.lock().unwrap().clear();
    assert_eq!(prompt.shown.load(Ordering::SeqCst), 0, "nothing ran in Drop");
    // The next call drives the authorization: the prompt is shown, outside every lock.
    assert_eq!(gate.check_blocking("chooseLocation", LOC, "u1"), Ok(()));
    assert_eq!(prompt.shown.load(Ordering::SeqCst), 1);
    assert!(!prompt.shown_under_lock.load(Ordering::SeqCst));
}

// --- A released call re-checks its own scopes ---

#[test]
fn a_released_call_re_checks_its_scopes_before_it_runs() {
    let (gate, _clock) = gate_at(july_12());
    let events = Arc::new(AtomicUsize::new(0));
    let e2 = Arc::clone(&events);
    gate.on_need_privacy_authorization(move |resolver, _| {
        e2.fetch_add(1, Ordering::SeqCst);
        let _ = resolver.defer();
    });
    let mut call = Box::pin(gate.check("chooseLocation", LOC, "u1"));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(call.as_mut().poll(&mut cx).is_pending());
    // The tap releases the call; a clear lands before the call runs again.
    gate.tap_agree_button_blocking("u1", "agree-btn").unwrap();
    gate.clear_blocking("u1").unwrap();
    assert!(call.as_mut().poll(&mut cx).is_pending(), "not let through on a cleared consent");
    assert_eq!(events.load(Ordering::SeqCst), 2, "it asked again");
}

// --- Memory bounded by what is open ---

struct CountingWaker;
impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {}
}

#[test]
fn a_waiter_polled_many_times_keeps_one_slot_and_leaves_none_when_dropped() {
    let (gate, _clock) = gate_at(july_12());
    let mut call = Box::pin(gate.check("chooseLocation", LOC, "u1"));
    for _ in 0..1000 {
        let waker = Waker::from(Arc::new(CountingWaker));
        assert!(call.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
    }
    assert_eq!(gate.stats().waiting_calls, 1);
    drop(call);
    assert_eq!(gate.stats().waiting_calls, 0);
}

#[test]
fn expired_authorizations_and_old_holds_are_pruned() {
    let clock = ManualClock::new(july_12());
    let gate = Gate::builder("wx-demo", guidelines())
        .clock(clock.clone())
        .official_prompt(ScriptedPrompt::new((0..1000).map(|_| Some(PromptAnswer::Refuse(PromptStyle::Direct)))))
        .build();
    for u in 0..1000u64 {
        assert!(gate.check_blocking("chooseLocation", LOC, u).unwrap_err().is_refusal());
    }
    assert_eq!(gate.stats().users_with_state, 1000, "1,000 holds");
    let pending = Gate::builder("wx-demo", guidelines()).clock(clock.clone()).build();
    for u in 0..10_000u64 {
        assert!(pending.check_blocking("chooseLocation", LOC, u).unwrap_err().ticket().is_some());
    }
    assert_eq!(pending.stats().open_tickets, 10_000);

    clock.advance(DEFAULT_AUTHORIZATION_TTL);
    for u in 0..100u64 {
        let _ = pending.check_blocking("chooseLocation", LOC, 1_000_000 + u);
        let _ = gate.check_blocking("chooseLocation", LOC, 1_000_000 + u);
    }
    assert!(pending.stats().open_tickets <= 100, "{:?}", pending.stats());
    assert!(gate.stats().users_with_state <= 100, "{:?}", gate.stats());
    assert_eq!(gate.stats().writes_in_flight, 0);
}

// --- Tickets ---

#[test]
fn two_gates_built_one_after_the_other_issue_unrelated_tickets() {
    let tickets: Vec<Ticket> = (0..2)
        .map(|_| {
            let (gate, _clock) = gate_at(july_12());
            gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err().ticket().unwrap()
        })
        .collect();
    assert_ne!(tickets[0], tickets[1]);
    // Seeded sources repeat, for tests only.
    let seeded: Vec<Ticket> = (0..2)
        .map(|_| {
            let gate = Gate::builder("wx-demo", guidelines()).clock(ManualClock::new(july_12())).ticket_seed(7).build();
            gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err().ticket().unwrap()
        })
        .collect();
    assert_eq!(seeded[0], seeded[1]);
}

// --- Answers are decided first, written, then applied ---

#[test]
fn a_clear_during_a_prompt_accept_is_ordered_after_it() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let store = Arc::new(GatedStore::closed());
        let gate = Gate::builder("wx-demo", guidelines())
            .clock(ManualClock::new(july_12()))
            .store(Arc::clone(&store))
            .wait_policy(WaitPolicy::ReturnPending)
            .build();
        let ticket = gate.check("chooseLocation", LOC, "u1").await.unwrap_err().ticket().unwrap();
        let g = gate.clone();
        let accept = tokio::spawn(async move { g.answer_prompt("u1", ticket, PromptAnswer::Accept).await });
        tokio::task::yield_now().await;
        let g = gate.clone();
        let clear = tokio::spawn(async move { g.clear("u1").await });
        tokio::task::yield_now().await;
        store.open.add_permits(2);
        accept.await.unwrap().unwrap();
        clear.await.unwrap().unwrap();
        let history = gate.history("u1").await.unwrap();
        assert!(
            matches!(
                &history[..],
                [
                    LedgerEntry { seq: 1, event: ConsentEvent::Agreed(_), .. },
                    LedgerEntry { seq: 2, event: ConsentEvent::Cleared { .. }, .. }
                ]
            ),
            "{history:?}"
        );
        assert!(gate.get_privacy_setting("u1").await.unwrap().need_authorization, "the clear came last");
    });
}

// --- Edges found in review ---

#[test]
fn a_plain_thread_reads_a_tokio_store_through_the_gates_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let gate = rt.block_on(async { Gate::builder("wx-demo", guidelines()).store(TokioStore::default()).build() });
    let g = gate.clone();
    let setting = std::thread::spawn(move || g.get_privacy_setting_blocking("u2").map(|s| s.need_authorization));
    assert!(setting.join().unwrap().unwrap(), "a user never seen, read from the store");
    let g = gate.clone();
    let call = std::thread::spawn(move || g.check_blocking("chooseLocation", LOC, "u3"));
    assert!(call.join().unwrap().unwrap_err().ticket().is_some());
}

#[test]
fn a_writer_abandoned_after_the_expiry_lets_its_waiting_call_end() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let clock = ManualClock::new(july_12());
        let store = Arc::new(GatedStore::closed());
        let gate = Gate::builder("wx-demo", guidelines()).clock(clock.clone()).store(Arc::clone(&store)).build();
        let g = gate.clone();
        let call = tokio::spawn(async move { g.check("chooseLocation", LOC, "u1").await });
        while gate.stats().waiting_calls == 0 {
            tokio::task::yield_now().await;
        }
        let (ticket, stage) = gate.pending_ticket("u1").unwrap();
        assert_eq!(stage, PendingStage::OfficialPrompt);
        let g = gate.clone();
        let answer = tokio::spawn(async move { g.answer_prompt("u1", ticket, PromptAnswer::Accept).await });
        while gate.stats().writes_in_flight == 0 {
            tokio::task::yield_now().await;
        }
        clock.advance(DEFAULT_AUTHORIZATION_TTL);
        tokio::task::yield_now().await;
        // The client that was answering went away mid-write.
        answer.abort();
        let ended = tokio::time::timeout(Duration::from_secs(10), call).await.expect("the call ended");
        assert_eq!(*ended.unwrap().unwrap_err().kind(), PrivacyErrorKind::Unanswered);
        let stats = gate.stats();
        assert_eq!((stats.open_tickets, stats.waiting_calls, stats.writes_in_flight), (0, 0, 0));
    });
}

#[test]
fn a_clear_while_a_combined_action_runs_withdraws_it() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let clock = ManualClock::new(july_12());
        let gate = Gate::builder("wx-demo", guidelines()).clock(clock.clone()).build();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let g = gate.clone();
        let action = tokio::spawn(async move {
            let inner = g.clone();
            g.agree_with_action_async("u1", "agree-btn", "getPhoneNumber", async move {
                assert_eq!(inner.check("getPhoneNumber", LOC, "u1").await, Ok(()), "the action runs on the consent");
                rx.await.unwrap();
                // Cleared meanwhile: the action's own calls lost the consent.
                inner.check_blocking("getPhoneNumber", LOC, "u1")
            })
            .await
        });
        tokio::task::yield_now().await;
        clock.advance(Duration::from_secs(60));
        gate.clear("u1").await.unwrap();
        tx.send(()).unwrap();
        let r = action.await.unwrap();
        assert!(matches!(r, Err(CombinedError::Action(ref e)) if e.ticket().is_some()), "{r:?}");
        assert!(gate.get_privacy_setting("u1").await.unwrap().need_authorization);

        // The same with an action that does not call back: the result is discarded.
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let g = gate.clone();
        let action = tokio::spawn(async move {
            g.agree_with_action_async("u1", "agree-btn", "getPhoneNumber", async move {
                rx.await.unwrap();
                Ok::<_, ()>("+86 138 0000 0000")
            })
            .await
        });
        tokio::task::yield_now().await;
        gate.clear("u1").await.unwrap();
        tx.send(()).unwrap();
        assert!(matches!(action.await.unwrap(), Err(CombinedError::Withdrawn)));
        let history = gate.history("u1").await.unwrap();
        assert!(history.iter().all(|e| !matches!(e.event, ConsentEvent::Agreed(_))), "{history:?}");
    });
}

#[test]
fn answers_after_the_expiry_are_refused_and_record_nothing() {
    let clock = ManualClock::new(july_12());
    let prompt = Arc::new(ScriptedPrompt::new([None]));
    let gate = Gate::builder("wx-demo", guidelines()).clock(clock.clone()).official_prompt(Arc::clone(&prompt)).build();
    let kept = Arc::new(Mutex::new(Vec::new()));
    let k2 = Arc::clone(&kept);
    assert!(gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err().ticket().is_some());
    gate.on_need_privacy_authorization(move |r, _| k2.lock().unwrap().push(r));
    assert!(gate.check_blocking("chooseLocation", LOC, "u2").unwrap_err().ticket().is_some());
    clock.advance(DEFAULT_AUTHORIZATION_TTL * 100);
    let late = prompt.take_open().pop().unwrap().answer_blocking(PromptAnswer::Accept);
    assert!(matches!(late, Err(ResolveError::Expired { .. })), "{late:?}");
    gate.tap_agree_button_blocking("u3", "agree-btn").unwrap();
    let late = kept.lock().unwrap().pop().unwrap().disagree_blocking();
    assert!(matches!(late, Err(ResolveError::Expired { .. })), "{late:?}");
    assert!(gate.history_blocking("u1").unwrap().is_empty());
    assert!(gate.history_blocking("u2").unwrap().is_empty());
}

/// A store whose clear may have landed although it reported an error.
struct LostAnswers {
    inner: MemoryStore,
    lose: AtomicBool,
}

impl ConsentStore for LostAnswers {
    fn append<'a>(&'a self, app: &'a str, event: &'a ConsentEvent) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let seq = self.inner.append(app, event).await?;
            if self.lose.load(Ordering::SeqCst) {
                Err(StoreError::new("connection lost after commit"))
            } else {
                Ok(seq)
            }
        })
    }
    fn current<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Option<ConsentRecord>, StoreError>> {
        self.inner.current(app, subject)
    }
    fn history<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Vec<LedgerEntry>, StoreError>> {
        self.inner.history(app, subject)
    }
}

#[test]
fn a_failed_clear_is_read_back_from_the_store() {
    let store = Arc::new(LostAnswers { inner: MemoryStore::new(), lose: AtomicBool::new(false) });
    let gate =
        Gate::builder("wx-demo", guidelines()).clock(ManualClock::new(july_12())).store(Arc::clone(&store)).build();
    gate.tap_agree_button_blocking("u1", "agree-btn").unwrap();
    assert_eq!(gate.check_blocking("chooseLocation", LOC, "u1"), Ok(()));
    store.lose.store(true, Ordering::SeqCst);
    assert!(gate.clear_blocking("u1").is_err());
    assert!(gate.check_blocking("chooseLocation", LOC, "u1").is_err(), "the store holds the clear");
}

#[test]
fn a_combined_button_records_the_version_in_effect_when_it_was_pressed() {
    let g = Guidelines::builder("《示例小程序隐私保护指引》")
        .version(july_11(), ["chosen_location"])
        .version(july_12().plus(Duration::from_secs(60)), ["chosen_location", "werun"])
        .agree_button("agree-btn")
        .build()
        .unwrap();
    let clock = ManualClock::new(july_12());
    let gate = Gate::builder("wx-demo", g).clock(clock.clone()).build();
    let v1 = gate.guidelines().versions()[0].id;
    // The action (a phone-number lookup, say) runs past the moment the next version takes effect.
    gate.agree_with_action("u1", "agree-btn", "getPhoneNumber", || {
        clock.advance(Duration::from_secs(3600));
        Ok::<_, ()>(())
    })
    .unwrap();
    let history = gate.history_blocking("u1").unwrap();
    let [LedgerEntry { seq: 1, event: ConsentEvent::Agreed(record), .. }] = &history[..] else { panic!("{history:?}") };
    assert_eq!(record.version, Some(v1), "the user saw the version of the press");
    assert_eq!(record.at, july_12());
    let werun = ScopeSet::EMPTY.with(Scope::WERUN);
    assert!(gate.check_blocking("getWeRunData", werun, "u1").is_err(), "werun was never agreed to");
}

#[test]
fn the_official_prompt_waits_while_an_answer_is_being_written() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let clock = ManualClock::new(july_12());
        let store = Arc::new(GatedStore::closed());
        let prompt = Arc::new(ScriptedPrompt::new([None]));
        let gate = Gate::builder("wx-demo", guidelines())
            .clock(clock.clone())
            .store(Arc::clone(&store))
            .official_prompt(Arc::clone(&prompt))
            .wait_policy(WaitPolicy::Wait { timeout: Some(Duration::from_secs(30)) })
            .build();
        let kept = Arc::new(Mutex::new(Vec::new()));
        let k2 = Arc::clone(&kept);
        gate.on_need_privacy_authorization(move |r, _| k2.lock().unwrap().push(r));
        let g = gate.clone();
        let call = tokio::spawn(async move { g.check("chooseLocation", LOC, "u1").await });
        while kept.lock().unwrap().is_empty() {
            tokio::task::yield_now().await;
        }
        let resolver = kept.lock().unwrap().pop().unwrap();
        let refusal = tokio::spawn(resolver.disagree());
        while gate.stats().writes_in_flight == 0 {
            tokio::task::yield_now().await;
        }
        // The listener's time runs out while its refusal is on its way to the store.
        clock.advance(Duration::from_secs(30));
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert_eq!(prompt.shown(), 0, "no prompt for a user whose refusal is being written");
        store.open.add_permits(1);
        refusal.await.unwrap().unwrap();
        assert_eq!(call.await.unwrap().unwrap_err().errno(), Some(104));
        assert_eq!(prompt.shown(), 0);
    });
}

/// A listener whose `Drop` uses the gate (it unregisters itself, say).
struct SelfClearing(Gate);

impl NeedAuthorizationListener for SelfClearing {
    fn on_need_privacy_authorization(&self, resolver: Resolver, _event: NeedAuthorization) {
        let _ = resolver.defer();
    }
}

impl Drop for SelfClearing {
    fn drop(&mut self) {
        self.0.clear_need_privacy_authorization();
    }
}

#[test]
fn a_replaced_listener_is_dropped_outside_the_runtimes_lock() {
    let (gate, _clock) = gate_at(july_12());
    gate.set_need_privacy_authorization_listener(SelfClearing(gate.clone()));
    // Replacing it drops the old one, whose Drop takes the listener lock again.
    gate.on_need_privacy_authorization(|resolver, _| {
        let _ = resolver.defer();
    });
    assert!(gate.check_blocking("chooseLocation", LOC, "u1").unwrap_err().ticket().is_some());
}
