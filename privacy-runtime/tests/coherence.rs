//! Several gates on one store: each sees the others' agreements and withdrawals before its next
//! call decides (through the store's change feed), or within the staleness bound when the store
//! has no feed. And what the snapshot keeps: consented users only, up to its capacity.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use privacy_runtime::*;

mod common;
use common::{FeedStore, GatedStore, july_11, july_12, july_13, july_14};

const LOC: ScopeSet = ScopeSet::EMPTY.with(Scope::CHOSEN_LOCATION);
const WERUN: ScopeSet = ScopeSet::EMPTY.with(Scope::WERUN);

/// The seed's July case: July 11 declares the chosen location, July 13 adds WeRun.
fn guidelines() -> Guidelines {
    Guidelines::builder("《示例小程序隐私保护指引》")
        .version(july_11(), ["chosen_location"])
        .version(july_13(), ["chosen_location", "werun"])
        .agree_button("agree-btn")
        .build()
        .unwrap()
}

/// A gate that never waits: an uncovered call returns its pending error at once.
fn gate_on(store: impl ConsentStore, clock: &ManualClock) -> Gate {
    Gate::builder("wx-demo", guidelines())
        .store(store)
        .clock(clock.clone())
        .wait_policy(WaitPolicy::ReturnPending)
        .build()
}

/// A gate on `shared` through a store without a change feed: it trusts what it read for `bound`.
fn gate_without_feed(shared: Arc<MemoryStore>, clock: &ManualClock, bound: Duration) -> Gate {
    Gate::builder("wx-demo", guidelines())
        .store(FeedStore::over(shared, false))
        .clock(clock.clone())
        .wait_policy(WaitPolicy::ReturnPending)
        .staleness_bound(bound)
        .build()
}

fn allowed(gate: &Gate, scopes: ScopeSet, user: &str) -> bool {
    match gate.check_blocking("getWeRunData", scopes, user) {
        Ok(()) => true,
        Err(e) if matches!(e.kind(), PrivacyErrorKind::Pending { .. }) => false,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

/// Two gates on one `MemoryStore`, both having let `u1` through once.
fn two_gates() -> (Gate, Gate, ManualClock) {
    let clock = ManualClock::new(july_12());
    let store = Arc::new(MemoryStore::new());
    let a = gate_on(Arc::clone(&store), &clock);
    let b = gate_on(store, &clock);
    a.tap_agree_button_blocking("u1", "agree-btn").unwrap();
    assert!(allowed(&a, LOC, "u1") && allowed(&b, LOC, "u1"));
    assert!(a.stats().change_feed_live && b.stats().change_feed_live);
    (a, b, clock)
}

#[test]
fn a_clear_through_one_gate_stops_the_other_at_its_next_call() {
    for first_clears in [true, false] {
        let (a, b, _clock) = two_gates();
        let (clearing, other) = if first_clears { (&a, &b) } else { (&b, &a) };
        clearing.clear_blocking("u1").unwrap();
        assert!(!allowed(other, LOC, "u1"), "the other gate let a withdrawn user through");
        assert!(!allowed(clearing, LOC, "u1"));
    }
}

#[test]
fn an_agreement_through_one_gate_is_seen_by_the_other_at_its_next_call() {
    for first_agrees in [true, false] {
        let (a, b, clock) = two_gates();
        // July 14: WeRun is in effect, and u1's July 11 consent does not cover it, on either gate.
        clock.set(july_14());
        assert!(!allowed(&a, WERUN, "u1") && !allowed(&b, WERUN, "u1"));
        let (agreeing, other) = if first_agrees { (&a, &b) } else { (&b, &a) };
        agreeing.tap_agree_button_blocking("u1", "agree-btn").unwrap();
        assert!(allowed(other, WERUN, "u1"), "the other gate kept the older consent");
        assert!(allowed(agreeing, WERUN, "u1"));
    }
}

#[test]
fn gates_of_other_apps_on_the_same_store_are_not_disturbed() {
    let clock = ManualClock::new(july_12());
    let store = Arc::new(MemoryStore::new());
    let a = gate_on(Arc::clone(&store), &clock);
    let other = Gate::builder("another-app", guidelines()).store(store).clock(clock.clone()).build();
    other.tap_agree_button_blocking("u1", "agree-btn").unwrap();
    assert!(allowed(&other, LOC, "u1"));
    a.clear_blocking("u1").unwrap();
    assert_eq!(other.stats().users_in_snapshot, 1, "a change in one app dropped another app's user");
    assert!(allowed(&other, LOC, "u1"));
}

#[test]
fn without_a_feed_a_withdrawal_reaches_the_gate_within_the_staleness_bound() {
    let clock = ManualClock::new(july_12());
    let shared = Arc::new(MemoryStore::new());
    let a = gate_on(Arc::clone(&shared), &clock);
    let b = gate_without_feed(shared, &clock, Duration::from_secs(5));
    assert!(!b.stats().change_feed_live);
    a.tap_agree_button_blocking("u1", "agree-btn").unwrap();
    assert!(allowed(&b, LOC, "u1"));
    a.clear_blocking("u1").unwrap();
    // Trusted for at most the bound; from then on the store is read again.
    clock.advance(Duration::from_secs(5));
    assert!(!allowed(&b, LOC, "u1"), "a snapshot older than the bound was trusted");
    assert_eq!(b.stats().users_in_snapshot, 0);
}

#[test]
fn a_zero_bound_reads_the_store_on_every_call() {
    let clock = ManualClock::new(july_12());
    let shared = Arc::new(MemoryStore::new());
    let a = gate_on(Arc::clone(&shared), &clock);
    let b = gate_without_feed(shared, &clock, Duration::ZERO);
    a.tap_agree_button_blocking("u1", "agree-btn").unwrap();
    assert!(allowed(&b, LOC, "u1"));
    a.clear_blocking("u1").unwrap();
    assert!(!allowed(&b, LOC, "u1"));
}

#[test]
fn a_broken_feed_falls_back_to_the_bound_and_a_resync_forgets_everyone() {
    let clock = ManualClock::new(july_12());
    let shared = Arc::new(MemoryStore::new());
    let store = Arc::new(FeedStore::over(Arc::clone(&shared), true));
    let writer = gate_on(Arc::clone(&shared), &clock);
    let gate = Gate::builder("wx-demo", guidelines())
        .store(Arc::clone(&store))
        .clock(clock.clone())
        .wait_policy(WaitPolicy::ReturnPending)
        .staleness_bound(Duration::from_secs(2))
        .build();
    for u in ["u1", "u2"] {
        writer.tap_agree_button_blocking(u, "agree-btn").unwrap();
        assert!(allowed(&gate, LOC, u));
    }
    assert!(gate.stats().change_feed_live);
    let feed = store.feed();

    // The connection drops: changes made elsewhere are not delivered.
    feed.set_live(false);
    assert!(!gate.stats().change_feed_live);
    writer.clear_blocking("u1").unwrap();
    clock.advance(Duration::from_secs(2));
    assert!(!allowed(&gate, LOC, "u1"), "with the feed down, the bound applies");
    assert!(allowed(&gate, LOC, "u2"));

    // Back: the store resyncs before it says the feed is live again.
    writer.clear_blocking("u2").unwrap();
    feed.resync();
    feed.set_live(true);
    assert_eq!(gate.stats().users_in_snapshot, 0);
    assert!(!allowed(&gate, LOC, "u2"));

    // The feed does not keep its gate alive.
    assert!(!feed.is_closed());
    drop(gate);
    assert!(feed.is_closed());
    feed.changed("wx-demo", SubjectRef::Str("u1"));
}

#[test]
fn only_consented_users_are_kept() {
    let clock = ManualClock::new(july_12());
    let gate = gate_on(MemoryStore::new(), &clock);
    for i in 0..1000 {
        assert!(!allowed(&gate, LOC, &format!("stranger-{i}")));
    }
    assert_eq!(gate.stats().users_in_snapshot, 0, "unknown ids were kept");
    gate.tap_agree_button_blocking("u1", "agree-btn").unwrap();
    gate.clear_blocking("u1").unwrap();
    assert!(!allowed(&gate, LOC, "u1"));
    assert_eq!(gate.stats().users_in_snapshot, 0, "a withdrawn user was kept");
}

#[test]
fn past_its_capacity_the_snapshot_reads_the_store_again_and_never_guesses() {
    let clock = ManualClock::new(july_12());
    let store = Arc::new(MemoryStore::new());
    let writer = gate_on(Arc::clone(&store), &clock);
    let users: Vec<String> = (0..2000).map(|i| format!("user-{i}")).collect();
    for u in &users {
        writer.tap_agree_button_blocking(u.as_str(), "agree-btn").unwrap();
    }
    let gate = Gate::builder("wx-demo", guidelines())
        .store(Arc::clone(&store))
        .clock(clock.clone())
        .wait_policy(WaitPolicy::ReturnPending)
        .snapshot_capacity(128)
        .build();
    for round in 0..2 {
        for u in &users {
            assert!(allowed(&gate, LOC, u), "round {round}: {u} refused");
        }
        assert!(gate.stats().users_in_snapshot <= 128, "kept {}", gate.stats().users_in_snapshot);
    }
    // Withdrawals made while a user was evicted are read, not guessed.
    for u in users.iter().step_by(3) {
        writer.clear_blocking(u.as_str()).unwrap();
    }
    for (i, u) in users.iter().enumerate() {
        assert_eq!(allowed(&gate, LOC, u), i % 3 != 0, "{u}");
    }
}

#[test]
fn a_gate_sees_its_own_changes_without_any_feed() {
    // A store that claims a feed but delivers nothing: the gate applies its own changes itself.
    let clock = ManualClock::new(july_12());
    let store = Arc::new(FeedStore::over(Arc::new(MemoryStore::new()), true));
    store.deliver.store(false, Ordering::SeqCst);
    let gate = Gate::builder("wx-demo", guidelines())
        .store(Arc::clone(&store))
        .clock(clock.clone())
        .wait_policy(WaitPolicy::ReturnPending)
        .build();
    gate.tap_agree_button_blocking("u1", "agree-btn").unwrap();
    assert!(allowed(&gate, LOC, "u1"));
    gate.clear_blocking("u1").unwrap();
    assert!(!allowed(&gate, LOC, "u1"));
    assert!(!allowed(&gate, LOC, "u1"));
}

/// A clear whose write takes longer than the staleness bound: while it is being stored, no call
/// passes, however old the withdrawal shown in the snapshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawal_being_stored_never_ages_out() {
    let clock = ManualClock::new(july_12());
    let store = Arc::new(GatedStore::closed_without_feed());
    let gate = Gate::builder("wx-demo", guidelines())
        .store(Arc::clone(&store))
        .clock(clock.clone())
        .wait_policy(WaitPolicy::ReturnPending)
        .staleness_bound(Duration::from_secs(1))
        .build();
    store.open.add_permits(1);
    gate.tap_agree_button("u1", "agree-btn").await.unwrap();
    assert_eq!(store.open.forget_permits(1), 1, "the store is closed again");
    assert!(gate.check("getWeRunData", LOC, "u1").await.is_ok());

    let clearing = tokio::spawn({
        let gate = gate.clone();
        async move { gate.clear("u1").await }
    });
    // The clear shows its withdrawal, then waits for the store.
    let mut spins = 0;
    while gate.check("getWeRunData", LOC, "u1").await.is_ok() {
        spins += 1;
        assert!(spins < 100_000, "the clear never started");
        tokio::task::yield_now().await;
    }
    assert_eq!(gate.stats().writes_in_flight, 1, "the clear is still being stored");
    clock.advance(Duration::from_secs(30));
    assert!(gate.check("getWeRunData", LOC, "u1").await.is_err(), "the withdrawal aged out while being stored");
    store.open.add_permits(1);
    clearing.await.unwrap().unwrap();
    assert!(gate.check("getWeRunData", LOC, "u1").await.is_err());
}

#[test]
fn a_clock_that_goes_back_does_not_stretch_the_bound() {
    let clock = ManualClock::new(july_12());
    let shared = Arc::new(MemoryStore::new());
    let a = gate_on(Arc::clone(&shared), &clock);
    let b = gate_without_feed(shared, &clock, Duration::from_secs(1));
    a.tap_agree_button_blocking("u1", "agree-btn").unwrap();
    a.tap_agree_button_blocking("u2", "agree-btn").unwrap();
    assert!(allowed(&b, LOC, "u1") && allowed(&b, LOC, "u2"));
    // The wall clock steps back ten minutes, then a withdrawal is made elsewhere.
    clock.set(july_12().plus(Duration::from_secs(3600)));
    assert!(allowed(&b, LOC, "u2"));
    clock.set(july_12().plus(Duration::from_secs(3000)));
    a.clear_blocking("u2").unwrap();
    clock.advance(Duration::from_secs(1));
    assert!(!allowed(&b, LOC, "u2"), "an entry read 'in the future' was trusted");
    // And back before the gate was built.
    a.clear_blocking("u1").unwrap();
    clock.set(Timestamp::utc(2023, 7, 11, 12, 0, 0));
    assert!(!allowed(&b, LOC, "u1"), "a time before the gate's start was trusted");
}

#[test]
fn the_longest_bound_builds_and_trusts() {
    let clock = ManualClock::new(july_12());
    let shared = Arc::new(MemoryStore::new());
    let a = gate_on(Arc::clone(&shared), &clock);
    let b = gate_without_feed(shared, &clock, Duration::MAX);
    a.tap_agree_button_blocking("u1", "agree-btn").unwrap();
    assert!(allowed(&b, LOC, "u1"));
    a.clear_blocking("u1").unwrap();
    clock.advance(Duration::from_secs(86_400));
    assert!(allowed(&b, LOC, "u1"), "an unbounded trust is what was asked for");
}

/// A store whose feed is down already while the gate subscribes.
struct DownAtSubscribe(Arc<MemoryStore>);

impl ConsentStore for DownAtSubscribe {
    fn append<'a>(&'a self, app: &'a str, event: &'a ConsentEvent) -> BoxFuture<'a, Result<u64, StoreError>> {
        self.0.append(app, event)
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
    ) -> BoxFuture<'a, Result<Vec<LedgerEntry>, StoreError>> {
        self.0.history(app, subject)
    }
    fn subscribe(&self, feed: ChangeFeed) -> bool {
        // It will report changes, but its connection dropped before it could answer.
        feed.set_live(false);
        true
    }
}

#[test]
fn a_feed_that_goes_down_while_subscribing_stays_down() {
    let clock = ManualClock::new(july_12());
    let gate = Gate::builder("wx-demo", guidelines())
        .store(DownAtSubscribe(Arc::new(MemoryStore::new())))
        .clock(clock.clone())
        .build();
    assert!(!gate.stats().change_feed_live);
}
