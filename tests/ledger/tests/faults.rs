//! Faults: a damaged file, a file another process owns, a database locked by someone else, a
//! server that cannot be reached or goes away mid-write. Calls that need a decision are refused
//! with the store's error, nothing is acknowledged that was not written, and every error names
//! the file or the server and says what to do.

use std::sync::{Arc, Mutex};

use privacy_ledger_tests::{TempDir, fresh_database, july_guidelines};
use privacy_runtime::*;
use tokio::net::{TcpListener, TcpStream};

fn gate(store: impl ConsentStore) -> Gate {
    let gate = Gate::builder("wx-faults", july_guidelines())
        .store(store)
        .clock(ManualClock::new(Timestamp::utc(2023, 7, 12, 0, 0, 0)))
        .wait_policy(WaitPolicy::ReturnPending)
        .build();
    gate.on_need_privacy_authorization(|r: Resolver, _| {
        let _ = r.defer();
    });
    gate
}

fn location(gate: &Gate) -> ScopeSet {
    [gate.guidelines().scope("chosen_location").unwrap_or_else(|e| panic!("{e}"))].into_iter().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_file_is_refused_named_and_left_as_it_is() {
    let dir = TempDir::new("corrupt");
    let path = dir.join("consent.db");
    let garbage = b"this is not an SQLite database, whatever its name says".repeat(100);
    std::fs::write(&path, &garbage).unwrap();
    let err = SqliteStore::open(&path).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("damaged or is not an SQLite database"), "{message}");
    assert!(message.contains("restore it from a backup"), "{message}");
    assert_eq!(std::fs::read(&path).unwrap(), garbage, "the file is left as it was");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_entry_refuses_the_calls_of_its_user() {
    let dir = TempDir::new("damaged-row");
    let path = dir.join("consent.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let g = gate(store);
    g.tap_agree_button("u1", "agree-btn").await.unwrap();
    // Someone edits the file behind the store's back: the entry's JSON is cut short.
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute("UPDATE privacy_consent_ledger SET entry = substr(entry, 1, 20) WHERE subject = 's:u1'", []).unwrap();
    drop(raw);
    drop(g);
    let g = gate(SqliteStore::open(&path).await.unwrap());
    let err = g.check("chooseLocation", location(&g), "u1").await.unwrap_err();
    assert!(matches!(err.kind(), PrivacyErrorKind::StoreUnavailable { .. }), "{err:?}");
    let history = g.history("u1").await.unwrap_err().to_string();
    assert!(history.contains("damaged entry") && history.contains("seq 1"), "{history}");
    assert!(history.contains(&path.display().to_string()), "{history}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_open_elsewhere_is_refused_with_what_to_do() {
    let dir = TempDir::new("owned");
    let path = dir.join("consent.db");
    let first = SqliteStore::open(&path).await.unwrap();
    let err = SqliteStore::open(&path).await.unwrap_err().to_string();
    assert!(err.contains("is already open") && err.contains("PostgresStore"), "{err}");
    drop(first);
    SqliteStore::open(&path).await.unwrap_or_else(|e| panic!("free again once closed: {e}"));
}

/// What durability rests on is in place: WAL, `synchronous = FULL` (a SIGKILL test cannot tell
/// it from `OFF`, the page cache survives a killed process), and readers that cannot write.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_is_in_wal_mode_with_full_sync() {
    let dir = TempDir::new("pragmas");
    let store = SqliteStore::open(dir.join("consent.db")).await.unwrap();
    let (mode, sync) = store
        .read(|c| {
            let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
            let sync: i64 = c.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
            Ok((mode, sync))
        })
        .await
        .unwrap();
    assert_eq!((mode.as_str(), sync), ("wal", 2), "WAL, synchronous = FULL (2)");
    let write = store.read(|c| c.execute("DELETE FROM privacy_consent_ledger", [])).await;
    assert!(write.is_err(), "a reader connection cannot write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_refuses_the_write_and_acknowledges_nothing() {
    let dir = TempDir::new("locked");
    let path = dir.join("consent.db");
    let g = gate(SqliteStore::open(&path).await.unwrap());
    // Another program holds the write lock for longer than the store waits (5 s).
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch("BEGIN EXCLUSIVE; INSERT INTO privacy_schema VALUES (99, 'held', 0)").unwrap();
    let err = g.tap_agree_button("u1", "agree-btn").await.unwrap_err().to_string();
    assert!(err.contains("locked by another connection or process"), "{err}");
    assert!(err.contains(&path.display().to_string()), "{err}");
    raw.execute_batch("ROLLBACK").unwrap();
    assert!(g.history("u1").await.unwrap().is_empty(), "nothing was acknowledged, nothing is there");
    assert!(g.check("chooseLocation", location(&g), "u1").await.is_err(), "no consent: refused");
    g.tap_agree_button("u1", "agree-btn").await.unwrap();
    assert_eq!(g.history("u1").await.unwrap().len(), 1);
}

/// A TCP proxy in front of the PostgreSQL server, to cut the connections and bring them back.
struct Proxy {
    port: u16,
    upstream: String,
    links: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    accept: Option<tokio::task::JoinHandle<()>>,
    /// Set: every connection stops carrying bytes but stays open, as over a network cut
    /// without a word to either end.
    frozen: tokio::sync::watch::Sender<bool>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut proxy =
            Proxy { port, upstream, links: Arc::default(), accept: None, frozen: tokio::sync::watch::channel(false).0 };
        proxy.serve(listener);
        proxy
    }

    fn serve(&mut self, listener: TcpListener) {
        let (upstream, links, frozen) = (self.upstream.clone(), Arc::clone(&self.links), self.frozen.clone());
        self.accept = Some(tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let mut frozen = frozen.subscribe();
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                            () = until_frozen(&mut frozen) => {
                                // Both sockets stay open; nothing moves.
                                std::future::pending::<()>().await;
                            }
                        }
                    }
                });
                links.lock().unwrap().push(link);
            }
        }));
    }

    /// Drops every connection and refuses new ones.
    fn cut(&mut self) {
        if let Some(a) = self.accept.take() {
            a.abort();
        }
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    /// Stops every connection carrying bytes, leaving them open.
    fn freeze(&self) {
        self.frozen.send_replace(true);
    }

    async fn restore(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        self.serve(listener);
    }
}

async fn until_frozen(frozen: &mut tokio::sync::watch::Receiver<bool>) {
    loop {
        let now = *frozen.borrow_and_update();
        if now {
            return;
        }
        if frozen.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// `DATABASE_URL`'s server behind a proxy: (proxied URL, proxy).
async fn proxied_database() -> (String, Proxy) {
    let url = fresh_database().await;
    let rest = url.strip_prefix("postgres://").unwrap_or_else(|| panic!("DATABASE_URL={url} is not postgres://"));
    let (user, rest) = rest.split_once('@').unwrap();
    let (server, database) = rest.split_once('/').unwrap();
    let proxy = Proxy::start(server.to_owned()).await;
    (format!("postgres://{user}@127.0.0.1:{}/{database}", proxy.port), proxy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_is_named_with_what_to_do() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let err = PostgresStore::connect(&format!("postgres://consent@127.0.0.1:{port}/ledger")).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains(&format!("postgres://consent@127.0.0.1:{port}/ledger")), "{message}");
    assert!(message.contains("cannot reach the server"), "{message}");
    let err = PostgresStore::connect("postgres://a@b@c:notaport/x").await.unwrap_err().to_string();
    assert!(err.contains("does not parse") && err.contains("postgres://user:password@host:port/database"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_database, ignore = "needs PostgreSQL: DATABASE_URL is not set (bash scripts/test starts one)")]
async fn a_lost_server_refuses_calls_and_acknowledges_nothing_then_recovers() {
    let (url, mut proxy) = proxied_database().await;
    let store = Arc::new(PostgresStore::connect(&url).await.unwrap());
    let g = gate(Arc::clone(&store));
    g.tap_agree_button("kept", "agree-btn").await.unwrap();
    assert!(g.check("chooseLocation", location(&g), "kept").await.is_ok());

    proxy.cut();
    // A user the gate has not read: the store must answer, cannot, and the call is refused.
    let err = g.check("chooseLocation", location(&g), "new-user").await.unwrap_err();
    let PrivacyErrorKind::StoreUnavailable { message } = err.kind() else { panic!("{err:?}") };
    assert!(message.contains(&format!("127.0.0.1:{}", proxy.port)), "{message}");
    // A consent that cannot be written is not acknowledged.
    let err = g.tap_agree_button("new-user", "agree-btn").await.unwrap_err().to_string();
    assert!(err.contains("127.0.0.1") && (err.contains("cannot reach") || err.contains("lost")), "{err}");
    // The listener is down too: the gate was told, and trusts what it read for its bound only.
    let mut notices = store.notices();
    if store.is_listening() {
        assert_eq!(notices.recv().await.unwrap(), FeedNotice::Down);
    }

    proxy.restore().await;
    while !store.is_listening() {
        notices.recv().await.unwrap();
    }
    g.tap_agree_button("new-user", "agree-btn").await.unwrap();
    assert!(g.check("chooseLocation", location(&g), "new-user").await.is_ok());
    let history = g.history("new-user").await.unwrap();
    assert_eq!(history.len(), 1, "only the acknowledged agreement: {history:?}");
    assert_eq!(history[0].seq, 1);
}

/// A listening connection that dies without a word (no FIN, no RST: a cut network) is found by
/// the store's probe, and the gates are told the feed is down, within seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_database, ignore = "needs PostgreSQL: DATABASE_URL is not set (bash scripts/test starts one)")]
async fn a_listener_that_dies_silently_is_noticed() {
    let (url, proxy) = proxied_database().await;
    let store = PostgresStore::connect(&url).await.unwrap();
    let mut notices = store.notices();
    assert!(store.is_listening());
    let frozen_at = std::time::Instant::now();
    proxy.freeze();
    let notice = tokio::time::timeout(std::time::Duration::from_secs(30), notices.recv())
        .await
        .unwrap_or_else(|_| panic!("no Down notice 30 s after the connection went silent"));
    assert_eq!(notice.unwrap(), FeedNotice::Down);
    assert!(!store.is_listening());
    eprintln!("silent listener noticed after {:?}", frozen_at.elapsed());
}
