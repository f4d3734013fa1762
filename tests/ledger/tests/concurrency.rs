//! Sequence numbers under concurrent writers: many appends for one user at the same moment,
//! through several stores on one database (several instances), each get their own number, and
//! together the numbers are exactly 1..=n.

use std::collections::BTreeSet;
use std::sync::Arc;

use privacy_ledger_tests::{TempDir, fresh_database};
use privacy_runtime::*;

const WRITERS: usize = 4;
const EACH: usize = 40;

fn event(i: usize) -> ConsentEvent {
    let at = Timestamp::from_unix_millis(1_689_120_000_000 + i as i64);
    if i.is_multiple_of(3) {
        ConsentEvent::Cleared { subject: Subject::from("contended"), at }
    } else {
        ConsentEvent::Agreed(ConsentRecord::new(
            Subject::from("contended"),
            at,
            None,
            ConsentSource::AgreeButton { button_id: "agree-btn".into() },
            Some("chooseLocation".into()),
        ))
    }
}

/// Every writer appends `EACH` events for the same user at once; returns the numbers handed out.
async fn race(stores: Vec<Arc<dyn ConsentStore>>) -> Vec<u64> {
    let start = Arc::new(tokio::sync::Barrier::new(WRITERS * EACH));
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        for k in 0..EACH {
            let (store, start) = (Arc::clone(&stores[w % stores.len()]), Arc::clone(&start));
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                store.append("wx-race", &event(w * EACH + k)).await
            }));
        }
    }
    let mut seqs = Vec::new();
    for t in tasks {
        seqs.push(t.await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|e| panic!("{e}")));
    }
    seqs
}

async fn check(stores: Vec<Arc<dyn ConsentStore>>) {
    let reader = Arc::clone(&stores[0]);
    let seqs = race(stores).await;
    let unique: BTreeSet<u64> = seqs.iter().copied().collect();
    assert_eq!(unique.len(), seqs.len(), "a number handed out twice: {seqs:?}");
    assert_eq!(unique, (1..=(WRITERS * EACH) as u64).collect(), "numbers are exactly 1..=n");
    let history = reader.history("wx-race", &Subject::from("contended")).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(history.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=(WRITERS * EACH) as u64).collect::<Vec<_>>());
    // Each event is stored once.
    let times: BTreeSet<i64> = history.iter().map(|e| e.event.at().unix_millis()).collect();
    assert_eq!(times.len(), WRITERS * EACH);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_store() {
    check(vec![Arc::new(MemoryStore::new())]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_store() {
    let dir = TempDir::new("race");
    let store = SqliteStore::open(dir.join("consent.db")).await.unwrap_or_else(|e| panic!("{e}"));
    check(vec![Arc::new(store)]).await;
}

/// Four stores (four instances) on one database, 40 writes each for the same user at once: the
/// lost races are retried until every write has its own number.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(no_database, ignore = "needs PostgreSQL: DATABASE_URL is not set (bash scripts/test starts one)")]
async fn postgres_instances() {
    let url = fresh_database().await;
    let mut stores: Vec<Arc<dyn ConsentStore>> = Vec::new();
    for _ in 0..WRITERS {
        stores.push(Arc::new(PostgresStore::connect(&url).await.unwrap_or_else(|e| panic!("{e}"))));
    }
    check(stores).await;
}
