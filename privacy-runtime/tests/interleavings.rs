//! The authorization state machine under explored schedules.
//!
//! Shuttle (built with the internal `__shuttle` feature, which swaps the runtime's locks and
//! atomics for shuttle's, so every lock and atomic access is a point where another task may run)
//! runs calls, taps, agree / disagree / a dropped resolver, prompt answers, a clear, a new
//! version taking effect and expiry against one user, thousands of times under random and PCT
//! schedules. Shuttle rather than loom: the gate's waits are async and its state spans several
//! locks, which shuttle explores with bounded, seeded randomness at a cost that fits CI, where an
//! exhaustive loom model of the same scenario does not terminate in reasonable time.
//!
//! ```text
//! cargo test -p privacy-runtime --features __shuttle --test interleavings --release
//! ```
//!
//! Checked in every schedule:
//! - **the invariant**: a call that returns `Ok` (its body would run) saw, at some moment while
//!   it was deciding, a stored consent covering its scopes in the version in effect then;
//! - every call ends (a call left waiting would be reported by shuttle as a deadlock), and the
//!   gate keeps no authorization, ticket, waiter or write lock afterwards;
//! - an answered authorization ends its calls with the answer, and a refusal of the official
//!   prompt is in the history before its hold can refuse anything;
//! - with two gates on one store, a clear through one is seen by every call of the other that
//!   starts after the clear returned, whatever store reads were in flight.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use privacy_runtime::*;
use shuttle::future;
// The test's own shared state takes shuttle's locks too: a task switch inside them is explored,
// never a real thread blocked.
use shuttle::sync::Mutex;

fn july_11() -> Timestamp {
    Timestamp::utc(2023, 7, 11, 0, 0, 0)
}
fn july_12() -> Timestamp {
    Timestamp::utc(2023, 7, 12, 23, 0, 0)
}
fn july_13() -> Timestamp {
    Timestamp::utc(2023, 7, 13, 0, 0, 0)
}
fn july_14() -> Timestamp {
    Timestamp::utc(2023, 7, 14, 0, 0, 0)
}
const LOC: ScopeSet = ScopeSet::EMPTY.with(Scope::CHOSEN_LOCATION);
const RUN: ScopeSet = ScopeSet::EMPTY.with(Scope::WERUN);
const TTL: Duration = Duration::from_secs(60);

fn guidelines() -> Guidelines {
    Guidelines::builder("《示例小程序隐私保护指引》")
        .version(july_11(), ["chosen_location"])
        .version(july_13(), ["chosen_location", "werun"])
        .agree_button("agree-btn")
        .build()
        .unwrap()
}

/// What happened, in order: every stored event and every move of the clock.
#[derive(Clone, Debug)]
enum Entry {
    Stored(ConsentEvent),
    Clock(Timestamp),
}

type Log = Arc<Mutex<Vec<Entry>>>;

/// A store in memory whose history is the log itself, so an append and its place in the log
/// are one step; a write yields before it lands.
struct LoggedStore {
    log: Log,
    /// A clear is stored, and then its answer is lost (the store reports an error).
    lose_clear_answer: bool,
}

impl LoggedStore {
    /// The events of `subject` in `log`, in order.
    fn stored<'l>(log: &'l [Entry], subject: &'l Subject) -> impl Iterator<Item = &'l ConsentEvent> {
        log.iter().filter_map(move |e| match e {
            Entry::Stored(ev) if ev.subject() == subject => Some(ev),
            _ => None,
        })
    }

    fn events(&self, subject: &Subject) -> Vec<ConsentEvent> {
        Self::stored(&self.log.lock().unwrap(), subject).cloned().collect()
    }
}

impl ConsentStore for LoggedStore {
    fn append<'a>(&'a self, _app: &'a str, event: &'a ConsentEvent) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            // A write takes time: other tasks run while it is on its way.
            future::yield_now().await;
            let seq = {
                let mut log = self.log.lock().unwrap();
                log.push(Entry::Stored(event.clone()));
                Self::stored(&log, event.subject()).count() as u64
            };
            if self.lose_clear_answer && matches!(event, ConsentEvent::Cleared { .. }) {
                return Err(StoreError::new("connection lost after commit"));
            }
            Ok(seq)
        })
    }
    fn current<'a>(
        &'a self,
        _app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Option<ConsentRecord>, StoreError>> {
        Box::pin(async move {
            // A read takes time too: what it read may have changed when it returns.
            let read = current_of(&self.events(subject));
            future::yield_now().await;
            Ok(read)
        })
    }
    fn history<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Vec<LedgerEntry>, StoreError>> {
        let entries =
            self.events(subject).into_iter().zip(1..).map(|(event, seq)| LedgerEntry::new(app, seq, event)).collect();
        Box::pin(std::future::ready(Ok(entries)))
    }
}

/// `true` if, after the first `k` entries of `log`, the stored consent covers `required` in the
/// version in effect.
fn covered_after(log: &[Entry], k: usize, g: &Guidelines, required: ScopeSet) -> bool {
    let mut now = july_12();
    let mut events = Vec::new();
    for e in &log[..k] {
        match e {
            Entry::Stored(ev) => events.push(ev.clone()),
            Entry::Clock(t) => now = *t,
        }
    }
    let declared = current_of(&events)
        .and_then(|r| r.version)
        .and_then(|id| g.version_by_id(&id))
        .map_or(ScopeSet::EMPTY, |v| v.declared);
    required.is_subset(declared.intersection(g.in_effect(now)))
}

/// Sets the clock and logs it in one step.
fn move_clock(clock: &ManualClock, log: &Log, t: Timestamp) {
    let mut log = log.lock().unwrap();
    clock.set(t);
    log.push(Entry::Clock(t));
}

/// A server-side prompt that keeps its responders for the answering task.
#[derive(Default)]
struct KeptPrompt(Mutex<Vec<PromptResponder>>);

impl OfficialPrompt for KeptPrompt {
    fn show(&self, _request: PromptRequest, responder: PromptResponder) {
        self.0.lock().unwrap().push(responder);
    }
}

/// How the answering task answers.
#[derive(Clone, Copy, Debug)]
struct Answers {
    listener_agrees: bool,
    listener_drops: bool,
    prompt_accepts: bool,
    clear_answer_lost: bool,
}

fn scenario(answers: Answers) {
    let log: Log = Arc::default();
    let clock = ManualClock::new(july_12());
    let prompt = Arc::new(KeptPrompt::default());
    let store = Arc::new(LoggedStore { log: Arc::clone(&log), lose_clear_answer: answers.clear_answer_lost });
    let gate = Gate::builder("wx-demo", guidelines())
        .clock(clock.clone())
        .store(Arc::clone(&store))
        .official_prompt(Arc::clone(&prompt))
        .authorization_ttl(TTL)
        .build();
    let resolvers: Arc<Mutex<Vec<Resolver>>> = Arc::default();
    let kept = Arc::clone(&resolvers);
    gate.on_need_privacy_authorization(move |resolver, _| kept.lock().unwrap().push(resolver));

    let calls: Vec<_> = [("chooseLocation", LOC), ("getWeRunData", RUN), ("chooseLocation", LOC)]
        .into_iter()
        .map(|(api, scopes)| {
            let (gate, log) = (gate.clone(), Arc::clone(&log));
            future::spawn(async move {
                let start = log.lock().unwrap().len();
                let result = gate.check(api, scopes, "u").await;
                let end = log.lock().unwrap().len();
                (scopes, start, end, result)
            })
        })
        .collect();

    let g = gate.clone();
    let tap = future::spawn(async move {
        let _ = g.tap_agree_button("u", "agree-btn").await;
    });
    let (g, l) = (gate.clone(), Arc::clone(&log));
    let clear = future::spawn(async move {
        future::yield_now().await;
        let _ = g.clear("u").await;
        // A call after the clear: it must not pass on what the clear withdrew.
        let start = l.lock().unwrap().len();
        let result = g.check("chooseLocation", LOC, "u").await;
        let end = l.lock().unwrap().len();
        (LOC, start, end, result)
    });
    let (c, l) = (clock.clone(), Arc::clone(&log));
    let version = future::spawn(async move {
        future::yield_now().await;
        move_clock(&c, &l, july_14());
    });
    let (rs, p) = (Arc::clone(&resolvers), Arc::clone(&prompt));
    let answer = future::spawn(async move {
        for _ in 0..6 {
            let resolver = rs.lock().unwrap().pop();
            if let Some(r) = resolver {
                r.exposure();
                if answers.listener_drops {
                    drop(r);
                } else if answers.listener_agrees {
                    let _ = r.agree("agree-btn");
                } else {
                    let _ = r.disagree().await;
                }
            }
            let responder = p.0.lock().unwrap().pop();
            if let Some(r) = responder {
                let a = if answers.prompt_accepts {
                    PromptAnswer::Accept
                } else {
                    PromptAnswer::Refuse(PromptStyle::Coupled)
                };
                let _ = r.answer(a).await;
            }
            future::yield_now().await;
        }
    });

    let mut calls = calls;
    calls.push(clear);
    future::block_on(async {
        tap.await.unwrap();
        version.await.unwrap();
        answer.await.unwrap();
        // Whatever is still open expires or is dismissed: every call ends.
        let mut later = july_14();
        for _ in 0..20 {
            if calls.iter().all(|c| c.is_finished()) {
                break;
            }
            later = later.plus(TTL).plus(Duration::from_secs(1));
            move_clock(&clock, &log, later);
            let dropped = std::mem::take(&mut *resolvers.lock().unwrap());
            drop(dropped);
            let dropped = std::mem::take(&mut *prompt.0.lock().unwrap());
            drop(dropped);
            future::yield_now().await;
        }
        let g = guidelines();
        for call in calls {
            let (scopes, start, end, result) = call.await.unwrap();
            if result.is_ok() {
                let log = log.lock().unwrap();
                assert!(
                    (start..=end).any(|k| covered_after(&log, k, &g, scopes)),
                    "a call ran without a stored consent covering {scopes:?} at any moment of its decision: \
                     entries {start}..={end} of {log:#?}"
                );
            }
        }
    });
    let dropped = std::mem::take(&mut *resolvers.lock().unwrap());
    drop(dropped);
    let dropped = std::mem::take(&mut *prompt.0.lock().unwrap());
    drop(dropped);
    let stats = gate.stats();
    assert_eq!((stats.open_tickets, stats.waiting_calls, stats.writes_in_flight), (0, 0, 0), "{stats:?}");
}

fn all_answers() -> Vec<Answers> {
    let mut out = Vec::new();
    for listener_agrees in [true, false] {
        for listener_drops in [true, false] {
            for prompt_accepts in [true, false] {
                for clear_answer_lost in [false, true] {
                    out.push(Answers { listener_agrees, listener_drops, prompt_accepts, clear_answer_lost });
                }
            }
        }
    }
    out
}

#[test]
fn random_schedules_keep_the_invariant() {
    for answers in all_answers() {
        shuttle::check_random(move || scenario(answers), 2000);
    }
}

#[test]
fn pct_schedules_keep_the_invariant() {
    for answers in all_answers() {
        shuttle::check_pct(move || scenario(answers), 2000, 3);
    }
}

/// Many calls of one user and a disagree: one event, every call refused, nothing left behind.
#[test]
fn one_event_for_concurrent_calls_under_every_schedule() {
    shuttle::check_random(
        || {
            let gate = Gate::builder("wx-demo", guidelines())
                .clock(ManualClock::new(july_12()))
                .authorization_ttl(TTL)
                .build();
            let events: Arc<Mutex<Vec<Resolver>>> = Arc::default();
            let kept = Arc::clone(&events);
            gate.on_need_privacy_authorization(move |r, _| kept.lock().unwrap().push(r));
            let calls: Vec<_> = (0..4)
                .map(|_| {
                    let g = gate.clone();
                    future::spawn(async move { g.check("chooseLocation", LOC, "u").await })
                })
                .collect();
            let (e, g) = (Arc::clone(&events), gate.clone());
            let answer = future::spawn(async move {
                // Once every call waits on the one authorization, the user refuses.
                while g.stats().waiting_calls < 4 {
                    future::yield_now().await;
                }
                let r = e.lock().unwrap().pop();
                r.expect("one event").disagree().await
            });
            future::block_on(async {
                answer.await.unwrap().unwrap();
                for c in calls {
                    let r = c.await.unwrap();
                    assert_eq!(r.unwrap_err().errno(), Some(104));
                }
            });
            assert!(events.lock().unwrap().is_empty(), "exactly one event");
            assert_eq!(gate.stats().open_tickets, 0);
        },
        500,
    );
}

/// [`LoggedStore`] with a change feed: an append tells every subscribed gate once it is in the
/// log, as a database's notification follows its commit.
struct FeedingStore {
    inner: LoggedStore,
    feeds: Mutex<Vec<ChangeFeed>>,
}

impl ConsentStore for FeedingStore {
    fn append<'a>(&'a self, app: &'a str, event: &'a ConsentEvent) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let seq = self.inner.append(app, event).await?;
            let feeds = self.feeds.lock().unwrap().clone();
            for f in feeds {
                // The notification travels: other tasks run before it arrives.
                future::yield_now().await;
                f.changed(app, event.subject().as_ref());
            }
            Ok(seq)
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
    fn subscribe(&self, feed: ChangeFeed) -> bool {
        self.feeds.lock().unwrap().push(feed);
        true
    }
}

/// Two gates on one store with a change feed. Gate B calls for `u`, reading `u`'s consent from
/// the store while `u` clears through gate A: once the clear has returned, no call of B that
/// starts lets `u` through, whatever B's reads in flight found.
#[test]
fn a_clear_through_one_gate_reaches_the_other_under_every_schedule() {
    use shuttle::sync::atomic::{AtomicBool, Ordering};
    shuttle::check_random(
        || {
            let log: Log = Arc::default();
            let store = Arc::new(FeedingStore {
                inner: LoggedStore { log: Arc::clone(&log), lose_clear_answer: false },
                feeds: Mutex::default(),
            });
            let clock = ManualClock::new(july_12());
            let gate = || {
                Gate::builder("wx-demo", guidelines())
                    .store(Arc::clone(&store))
                    .clock(clock.clone())
                    .wait_policy(WaitPolicy::ReturnPending)
                    .build()
            };
            let (a, b) = (gate(), gate());
            future::block_on(a.tap_agree_button("u", "agree-btn")).unwrap();
            future::block_on(a.tap_agree_button("v", "agree-btn")).unwrap();
            let cleared = Arc::new(AtomicBool::new(false));
            let done = Arc::clone(&cleared);
            let clearer = future::spawn(async move {
                a.clear("u").await.unwrap();
                done.store(true, Ordering::SeqCst);
            });
            let seen = Arc::clone(&cleared);
            let b2 = b.clone();
            let caller = future::spawn(async move {
                for i in 0..3 {
                    let after_clear = seen.load(Ordering::SeqCst);
                    let r = b2.check("chooseLocation", LOC, "u").await;
                    assert!(!(after_clear && r.is_ok()), "call {i}: gate B let u through after the clear returned");
                }
            });
            // Another user's read moves through the same snapshot meanwhile.
            let other = b.clone();
            let neighbour = future::spawn(async move { other.check("chooseLocation", LOC, "v").await.is_ok() });
            future::block_on(async {
                clearer.await.unwrap();
                caller.await.unwrap();
                assert!(neighbour.await.unwrap(), "v never withdrew");
            });
            assert!(future::block_on(b.check("chooseLocation", LOC, "u")).is_err());
        },
        3000,
    );
}
