//! The runtime's behaviour over each store: one body per behaviour, run against the memory store,
//! the SQLite ledger and the PostgreSQL ledger (ignored, with the reason, without `DATABASE_URL`).

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use privacy_ledger_tests::{july_guidelines, postgres_store, sqlite_store};
use privacy_runtime::*;

/// A store under test, and whatever must live as long as it (a temporary directory).
struct Fixture {
    store: Arc<dyn ConsentStore>,
    _keep: Box<dyn Any + Send>,
}

async fn memory() -> Fixture {
    Fixture { store: Arc::new(MemoryStore::new()), _keep: Box::new(()) }
}

async fn sqlite() -> Fixture {
    let (store, dir) = sqlite_store().await.unwrap_or_else(|e| panic!("{e}"));
    Fixture { store: Arc::new(store), _keep: Box::new(dir) }
}

async fn postgres() -> Fixture {
    let store = postgres_store().await.unwrap_or_else(|e| panic!("{e}"));
    Fixture { store: Arc::new(store), _keep: Box::new(()) }
}

fn july_12() -> Timestamp {
    Timestamp::utc(2023, 7, 12, 0, 0, 0)
}

fn july_14() -> Timestamp {
    Timestamp::utc(2023, 7, 14, 0, 0, 0)
}

impl Fixture {
    fn gate_with(&self, guidelines: Guidelines, clock: &ManualClock, max_age: Option<Duration>) -> Gate {
        let mut b = Gate::builder("wx-ledger", guidelines)
            .store(Arc::clone(&self.store))
            .clock(clock.clone())
            .wait_policy(WaitPolicy::ReturnPending);
        if let Some(age) = max_age {
            b = b.max_consent_age(age);
        }
        let gate = b.build();
        // The client shows the app's own popup and answers by ticket.
        gate.on_need_privacy_authorization(|r: Resolver, _| {
            let _ = r.defer();
        });
        gate
    }

    fn gate(&self, clock: &ManualClock) -> Gate {
        self.gate_with(july_guidelines(), clock, None)
    }
}

fn scopes(gate: &Gate, ids: &[&str]) -> ScopeSet {
    ids.iter().map(|id| gate.guidelines().scope(id).unwrap_or_else(|e| panic!("{e}"))).collect()
}

/// `true` when a call of `api` needing `ids` would run its body now.
async fn runs(gate: &Gate, api: &str, ids: &[&str], user: &str) -> bool {
    gate.check(api, scopes(gate, ids), user).await.is_ok()
}

fn kinds(history: &[LedgerEntry]) -> Vec<&'static str> {
    history.iter().map(|e| e.event.kind()).collect()
}

fn assert_gap_free(history: &[LedgerEntry]) {
    let seqs: Vec<u64> = history.iter().map(|e| e.seq).collect();
    let expected: Vec<u64> = (1..=history.len() as u64).collect();
    assert_eq!(seqs, expected, "sequence numbers are 1..=n in order");
}

mod bodies {
    use super::*;

    pub async fn consent_lets_calls_through_and_a_clear_asks_again(f: Fixture) {
        let clock = ManualClock::new(july_12());
        let gate = f.gate(&clock);
        assert!(!runs(&gate, "chooseLocation", &["chosen_location"], "u1").await, "no consent yet");
        assert!(gate.get_privacy_setting("u1").await.unwrap().need_authorization);
        gate.tap_agree_button("u1", "agree-btn").await.unwrap();
        assert!(runs(&gate, "chooseLocation", &["chosen_location"], "u1").await);
        assert!(!gate.get_privacy_setting("u1").await.unwrap().need_authorization);
        assert!(!runs(&gate, "chooseLocation", &["chosen_location"], "u2").await, "another user is not covered");
        gate.clear("u1").await.unwrap();
        assert!(!runs(&gate, "chooseLocation", &["chosen_location"], "u1").await, "cleared");
        // A new gate on the same store (a restart) knows what the store knows.
        let again = f.gate(&clock);
        assert!(!runs(&again, "chooseLocation", &["chosen_location"], "u1").await);
        gate.tap_agree_button("u1", "agree-btn").await.unwrap();
        assert!(runs(&again, "chooseLocation", &["chosen_location"], "u1").await);
    }

    /// The seed's example: agreed on July 12 to version 1; `werun`, added July 13, needs consent
    /// again, `chosen_location` does not.
    pub async fn a_scope_added_later_needs_consent_again(f: Fixture) {
        let clock = ManualClock::new(july_12());
        let gate = f.gate(&clock);
        gate.tap_agree_button("u1", "agree-btn").await.unwrap();
        clock.set(july_14());
        assert!(runs(&gate, "chooseLocation", &["chosen_location"], "u1").await);
        assert!(!runs(&gate, "getWeRunData", &["werun"], "u1").await);
        let record = gate.tap_agree_button("u1", "agree-btn").await.unwrap();
        assert_eq!(record.scopes, ["chosen_location", "werun"]);
        assert!(runs(&gate, "getWeRunData", &["werun"], "u1").await);
        let restarted = f.gate(&clock);
        assert!(runs(&restarted, "getWeRunData", &["werun"], "u1").await);
    }

    pub async fn every_step_is_an_entry_in_order(f: Fixture) {
        let clock = ManualClock::new(july_12());
        let gate = f.gate(&clock);
        // A call opens an authorization; the client shows its popup, the user taps (which settles
        // it), the client answers `agree`; then a clear, and a refusal of the next one.
        let pending = gate.check("chooseLocation", scopes(&gate, &["chosen_location"]), "u1").await.unwrap_err();
        let ticket = pending.ticket().unwrap_or_else(|| panic!("a pending error carries its ticket: {pending}"));
        gate.resolve("u1", ticket, Resolution::ExposureAuthorization).await.unwrap();
        gate.tap_agree_button("u1", "agree-btn").await.unwrap();
        gate.resolve("u1", ticket, Resolution::Agree { button_id: "agree-btn".into() }).await.unwrap();
        gate.clear("u1").await.unwrap();
        let pending = gate.check("chooseLocation", scopes(&gate, &["chosen_location"]), "u1").await.unwrap_err();
        let ticket = pending.ticket().unwrap_or_else(|| panic!("{pending}"));
        gate.resolve("u1", ticket, Resolution::Disagree).await.unwrap();

        let history = gate.history("u1").await.unwrap();
        assert_gap_free(&history);
        assert_eq!(kinds(&history), ["exposed", "agreed", "agree_resolved", "cleared", "refused"]);
        assert!(history.iter().all(|e| e.app == "wx-ledger"));
        let ConsentEvent::Agreed(record) = &history[1].event else { panic!("{history:?}") };
        assert_eq!(record.source, ConsentSource::AgreeButton { button_id: "agree-btn".into() });
        assert_eq!(record.referrer.as_deref(), Some("chooseLocation"));
        assert_eq!(record.scopes, ["chosen_location"]);
        assert_eq!(record.version, gate.guidelines().version(1).map(|v| v.id));
        assert_eq!(record.at, july_12());
        let ConsentEvent::Exposed { referrer, .. } = &history[0].event else { panic!("{history:?}") };
        assert_eq!(referrer, "chooseLocation");
        let ConsentEvent::AgreeResolved { button_id, referrer: agreed_for, .. } = &history[2].event else {
            panic!("{history:?}")
        };
        assert_eq!((button_id.as_str(), agreed_for.as_str()), ("agree-btn", "chooseLocation"));
        let ConsentEvent::Refused { style: None, referrer, .. } = &history[4].event else { panic!("{history:?}") };
        assert_eq!(referrer, "chooseLocation");
        // Read back exactly as written, through a gate that never saw them.
        assert_eq!(f.gate(&clock).history("u1").await.unwrap(), history);
    }

    /// The export is the ledger, line for line; the receipt says what was agreed to, how, and
    /// what holds now.
    pub async fn exports_and_receipts_follow_the_ledger(f: Fixture) {
        let clock = ManualClock::new(july_12());
        let gate = f.gate(&clock);
        let receipt = gate.consent_receipt("u1").await.unwrap();
        assert_eq!(
            (receipt.state, receipt.ledger_entries, receipt.consent.is_none()),
            (ConsentState::NotGiven, 0, true)
        );
        gate.tap_agree_button("u1", "agree-btn").await.unwrap();
        let receipt = gate.consent_receipt("u1").await.unwrap();
        assert_eq!(receipt.state, ConsentState::Given);
        assert_eq!(receipt.controller.app, "wx-ledger");
        let notice = receipt.notice.clone().unwrap();
        assert_eq!(notice.name, "《示例小程序隐私保护指引》");
        assert_eq!(notice.version, gate.guidelines().version(1).map(|v| v.id));
        assert_eq!(receipt.purposes.iter().map(|p| p.scope.as_str()).collect::<Vec<_>>(), ["chosen_location"]);
        let consent = receipt.consent.clone().unwrap();
        assert_eq!(
            (consent.method.as_str(), consent.button_id.as_deref(), consent.seq),
            ("agree_button", Some("agree-btn"), 1)
        );
        assert_eq!(consent.given_at, july_12());
        clock.advance(Duration::from_secs(60));
        gate.clear("u1").await.unwrap();
        let withdrawn = gate.consent_receipt("u1").await.unwrap();
        assert_eq!(withdrawn.state, ConsentState::Withdrawn);
        assert_eq!(withdrawn.consent.as_ref().and_then(|c| c.ended_at), Some(july_12().plus(Duration::from_secs(60))));
        assert_ne!(withdrawn.receipt_id, receipt.receipt_id, "a new state, a new receipt");

        let lines = gate.export_history("u1").await.unwrap();
        let history = gate.history("u1").await.unwrap();
        let parsed: Vec<LedgerEntry> = lines.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(parsed, history);
        let json: serde_json::Value = serde_json::to_value(&withdrawn).unwrap();
        assert_eq!(json["state"], "withdrawn");
        assert_eq!(json["notice"]["version"]["sha256"].as_str().map(str::len), Some(64));
    }

    /// Two gates agreeing and clearing the same user at once: every write gets its own number,
    /// and the numbers have no gaps.
    pub async fn concurrent_writers_keep_sequences_gap_free(f: Fixture) {
        let clock = ManualClock::new(july_12());
        let (a, b) = (f.gate(&clock), f.gate(&clock));
        let mut tasks = Vec::new();
        for i in 0..40 {
            let gate = if i % 2 == 0 { a.clone() } else { b.clone() };
            tasks.push(tokio::spawn(async move {
                if i % 3 == 0 {
                    gate.clear("same-user").await.map(|()| true).map_err(|e| e.to_string())
                } else {
                    match gate.tap_agree_button("same-user", "agree-btn").await {
                        Ok(_) => Ok(true),
                        // A clear that came after the tap wins; the tap writes nothing.
                        Err(ResolveError::Withdrawn) => Ok(false),
                        Err(e) => Err(e.to_string()),
                    }
                }
            }));
        }
        let mut written = 0;
        for t in tasks {
            written += usize::from(t.await.unwrap().unwrap());
        }
        let history = a.history("same-user").await.unwrap();
        assert_eq!(history.len(), written, "every acknowledged write is an entry, and nothing else");
        assert_gap_free(&history);
        let clears = history.iter().filter(|e| e.event.kind() == "cleared").count();
        assert_eq!(clears, 14);
        // Both gates agree with the store on the outcome.
        let consented = current_of(history.iter().map(|e| &e.event)).is_some();
        assert_eq!(runs(&a, "chooseLocation", &["chosen_location"], "same-user").await, consented);
        assert_eq!(runs(&b, "chooseLocation", &["chosen_location"], "same-user").await, consented);
    }

    /// A consent withdrawn through one gate stops the calls of another gate on the same store at
    /// once (it had the consent in its snapshot).
    pub async fn a_clear_through_one_gate_stops_the_other(f: Fixture) {
        let clock = ManualClock::new(july_12());
        let (a, b) = (f.gate(&clock), f.gate(&clock));
        a.tap_agree_button("u1", "agree-btn").await.unwrap();
        assert!(runs(&b, "chooseLocation", &["chosen_location"], "u1").await);
        a.clear("u1").await.unwrap();
        assert!(!runs(&b, "chooseLocation", &["chosen_location"], "u1").await);
        b.tap_agree_button("u1", "agree-btn").await.unwrap();
        assert!(runs(&a, "chooseLocation", &["chosen_location"], "u1").await);
    }

    /// A call waiting on its user's answer through one gate is released when the user agrees
    /// through another gate on the same store, and runs.
    pub async fn a_consent_given_through_another_gate_releases_a_waiting_call(f: Fixture) {
        let clock = ManualClock::new(july_12());
        let a = f.gate(&clock);
        let b = Gate::builder("wx-ledger", july_guidelines())
            .store(Arc::clone(&f.store))
            .clock(clock.clone())
            .wait_policy(WaitPolicy::Wait { timeout: Some(Duration::from_secs(30)) })
            .build();
        let (raised_tx, raised_rx) = tokio::sync::oneshot::channel::<Ticket>();
        let raised_tx = std::sync::Mutex::new(Some(raised_tx));
        b.on_need_privacy_authorization(move |r: Resolver, _| {
            if let (Some(tx), Some(ticket)) = (raised_tx.lock().unwrap().take(), r.defer()) {
                let _ = tx.send(ticket);
            }
        });
        let waiting = {
            let b = b.clone();
            tokio::spawn(async move { b.check("chooseLocation", scopes(&b, &["chosen_location"]), "u1").await })
        };
        raised_rx.await.unwrap();
        a.tap_agree_button("u1", "agree-btn").await.unwrap();
        assert_eq!(waiting.await.unwrap(), Ok(()), "released by the consent given through the other gate");
    }

    /// Past the maximum age, the next call finds the consent expired: one `expired` entry, and
    /// the user is asked again.
    pub async fn a_consent_past_its_maximum_age_expires(f: Fixture) {
        let clock = ManualClock::new(july_12());
        let thirteen_months = Duration::from_secs(396 * 86_400);
        let gate = f.gate_with(july_guidelines(), &clock, Some(thirteen_months));
        gate.tap_agree_button("u1", "agree-btn").await.unwrap();
        assert!(runs(&gate, "chooseLocation", &["chosen_location"], "u1").await);
        clock.advance(thirteen_months - Duration::from_secs(1));
        assert!(runs(&gate, "chooseLocation", &["chosen_location"], "u1").await, "a second before the end");
        clock.advance(Duration::from_secs(1));
        assert_eq!(
            gate.consent_receipt("u1").await.unwrap().state,
            ConsentState::Superseded,
            "expired, not yet marked"
        );
        assert!(!runs(&gate, "chooseLocation", &["chosen_location"], "u1").await, "expired");
        assert!(!runs(&gate, "chooseLocation", &["chosen_location"], "u1").await);
        let history = gate.history("u1").await.unwrap();
        assert_eq!(kinds(&history), ["agreed", "expired"], "one expiry entry, however many calls");
        let ConsentEvent::Expired { agreed_at, version, .. } = &history[1].event else { panic!("{history:?}") };
        assert_eq!(*agreed_at, july_12());
        assert_eq!(*version, gate.guidelines().version(1).map(|v| v.id));
        gate.tap_agree_button("u1", "agree-btn").await.unwrap();
        assert!(runs(&gate, "chooseLocation", &["chosen_location"], "u1").await);
        // A restarted gate finds the same: the expiry is in the store.
        let restarted = f.gate_with(july_guidelines(), &clock, Some(thirteen_months));
        assert_eq!(kinds(&restarted.history("u1").await.unwrap()), ["agreed", "expired", "agreed"]);
    }

    /// A version marked as requiring fresh consent asks everyone again once it is in effect,
    /// though it adds no scope; consent given to it is then enough.
    pub async fn a_version_requiring_fresh_consent_asks_again(f: Fixture) {
        let guidelines = || {
            Guidelines::builder("《示例小程序隐私保护指引》")
                .version_with_purposes(Timestamp::utc(2023, 7, 11, 0, 0, 0), [("chosen_location", "展示附近门店")])
                .version_with_purposes(Timestamp::utc(2023, 7, 13, 0, 0, 0), [("chosen_location", "用于广告推荐")])
                .requires_fresh_consent()
                .agree_button("agree-btn")
                .build()
                .unwrap()
        };
        let clock = ManualClock::new(july_12());
        let gate = f.gate_with(guidelines(), &clock, None);
        gate.tap_agree_button("u1", "agree-btn").await.unwrap();
        assert!(runs(&gate, "chooseLocation", &["chosen_location"], "u1").await);
        clock.set(Timestamp::utc(2023, 7, 13, 0, 4, 59));
        assert!(runs(&gate, "chooseLocation", &["chosen_location"], "u1").await, "not in effect yet");
        clock.set(Timestamp::utc(2023, 7, 13, 0, 5, 0));
        assert!(!runs(&gate, "chooseLocation", &["chosen_location"], "u1").await, "in effect: asked again");
        assert!(gate.get_privacy_setting("u1").await.unwrap().need_authorization);
        // The receipt says so, and shows the purpose as the version agreed to gave it.
        let receipt = gate.consent_receipt("u1").await.unwrap();
        assert_eq!(receipt.state, ConsentState::Superseded);
        assert_eq!(receipt.purposes[0].purpose.as_deref(), Some("展示附近门店"));
        gate.tap_agree_button("u1", "agree-btn").await.unwrap();
        assert!(runs(&gate, "chooseLocation", &["chosen_location"], "u1").await);
        let restarted = f.gate_with(guidelines(), &clock, None);
        assert!(runs(&restarted, "chooseLocation", &["chosen_location"], "u1").await);
    }
}

/// Runs every body against one store.
macro_rules! suite {
    ($store:ident $(, #[$attr:meta])*) => {
        mod $store {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$attr])*
            async fn consent_lets_calls_through_and_a_clear_asks_again() {
                bodies::consent_lets_calls_through_and_a_clear_asks_again(super::$store().await).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$attr])*
            async fn a_scope_added_later_needs_consent_again() {
                bodies::a_scope_added_later_needs_consent_again(super::$store().await).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$attr])*
            async fn every_step_is_an_entry_in_order() {
                bodies::every_step_is_an_entry_in_order(super::$store().await).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$attr])*
            async fn exports_and_receipts_follow_the_ledger() {
                bodies::exports_and_receipts_follow_the_ledger(super::$store().await).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$attr])*
            async fn concurrent_writers_keep_sequences_gap_free() {
                bodies::concurrent_writers_keep_sequences_gap_free(super::$store().await).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$attr])*
            async fn a_clear_through_one_gate_stops_the_other() {
                bodies::a_clear_through_one_gate_stops_the_other(super::$store().await).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$attr])*
            async fn a_consent_given_through_another_gate_releases_a_waiting_call() {
                bodies::a_consent_given_through_another_gate_releases_a_waiting_call(super::$store().await).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$attr])*
            async fn a_consent_past_its_maximum_age_expires() {
                bodies::a_consent_past_its_maximum_age_expires(super::$store().await).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            $(#[$attr])*
            async fn a_version_requiring_fresh_consent_asks_again() {
                bodies::a_version_requiring_fresh_consent_asks_again(super::$store().await).await
            }
        }
    };
}

suite!(memory);
suite!(sqlite);
suite!(postgres, #[cfg_attr(no_database, ignore = "needs PostgreSQL: DATABASE_URL is not set (bash scripts/test starts one)")]);
