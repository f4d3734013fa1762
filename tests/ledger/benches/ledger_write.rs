//! The durable consent ledgers: an agreement appended through `SqliteStore` and `PostgresStore`
//! against a raw insert of the same row into the same table with the same durability, and the
//! consented hot path with a durable store behind the gate against a `MemoryStore`.
//!
//! ```text
//! eval "$(bash scripts/pg-up --durable)"     # a PostgreSQL with fsync on, for the PG figures
//! cargo bench -p privacy-ledger-tests --bench ledger_write
//! bash scripts/pg-down "$PGDIR"
//! python3 .ci/bench-report                   # rewrites BENCHMARKS.md
//! ```
//!
//! Without `DATABASE_URL` the PostgreSQL group is skipped, saying so.
//!
//! - `ledger_write_sqlite`: `store_append` is `SqliteStore::append` of an `agreed` event for the
//!   next of 10,000 users in rotation; `raw_insert` inserts the same row (the same columns, the
//!   seq counted by the benchmark) with one autocommit statement on a rusqlite connection to
//!   another file with the store's schema and pragmas (WAL, `synchronous = FULL`). Both run on
//!   tokio's blocking threads (`spawn_blocking`, as the store does), awaited one at a time from
//!   the same runtime, so both pay the same thread hop and one fsync of the WAL per append.
//! - `ledger_write_postgres`: `store_append` is `PostgresStore::append` of the same events;
//!   `raw_insert` is a prepared `INSERT … VALUES` of the same row with an explicit seq, on a
//!   tokio-postgres client to another database of the same server. One commit per append. The
//!   `_16_in_flight` pair runs 16 appends at a time (the store's 4 connections; the raw inserts
//!   on 4 clients): the time per append is the wall time over the appends.
//! - `hot_path_durable`: `Gate::check_blocking` for the next of 10,000 consented users, with a
//!   `MemoryStore` (`memory_store`) and a `SqliteStore` (`sqlite_store`) behind the gate, both
//!   snapshots warm: the durable store must not show on the consented path.
//!
//! On a machine whose disk is shared with other work, an fsync's time moves from one second to
//! the next, and criterion measures one function after the other. So each group also takes the
//! two ways alternately (store, raw, raw, store, …) and writes the medians to
//! `target/criterion/<group>/paired.json`: the ratio that drift between the two criterion runs
//! cannot skew.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use privacy_ledger_tests::{TempDir, fresh_database};
use privacy_runtime::rusqlite::{self, Connection};
use privacy_runtime::tokio_postgres::{self, Client, NoTls, Statement};
use privacy_runtime::{
    ConsentEvent, ConsentRecord, ConsentSource, ConsentStore, Gate, Guidelines, MemoryStore, PostgresStore,
    PrivacyError, Scope, ScopeSet, SqliteStore, Timestamp,
};
use tokio::runtime::Runtime;

const APP: &str = "bench";
const LOCATION: ScopeSet = ScopeSet::EMPTY.with(Scope::LOCATION);
const USERS: usize = 10_000;
/// Store and raw appends taken alternately for `paired.json`, of each.
const PAIRS: usize = 300;
/// Appends in flight in the concurrent PostgreSQL pair, and the connections they share.
const IN_FLIGHT: usize = 16;
const CONNECTIONS: usize = 4;

/// The store's statements (`privacy-runtime/src/consent/sqlite.rs`, `postgres.rs`) compute the
/// seq; these are given it.
const RAW_INSERT_SQLITE: &str = "INSERT INTO privacy_consent_ledger
    (app, subject, seq, at_ms, kind, version_published_ms, version_sha256, scopes, button_id, prompt_style, action, referrer, entry)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

const RAW_INSERT_POSTGRES: &str = "INSERT INTO privacy_consent_ledger
    (app, subject, seq, at_ms, kind, version_published_ms, version_sha256, scopes, button_id, prompt_style, action, referrer, entry)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

fn guidelines() -> Guidelines {
    Guidelines::builder("《基准测试隐私保护指引》")
        .version(Timestamp::utc(2023, 7, 11, 0, 0, 0), ["location"])
        .agree_button("agree-btn")
        .build()
        .expect("valid guidelines")
}

/// 10,000 openid-like ids, in a fixed shuffled order (the same as `guarded_call`'s).
fn users() -> Vec<String> {
    let mut users: Vec<String> = (0..USERS).map(|i| format!("o6_bmjrPTlm6_{i:05}_sgVt7hMZOPf")).collect();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..users.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        users.swap(i, (x % (i as u64 + 1)) as usize);
    }
    users
}

/// The next user of a rotation.
struct Rotation<'a> {
    users: &'a [String],
    at: usize,
}

impl<'a> Rotation<'a> {
    fn new(users: &'a [String]) -> Self {
        Rotation { users, at: 0 }
    }
    #[inline]
    fn next_user(&mut self) -> &'a str {
        let u = &self.users[self.at];
        self.at += 1;
        if self.at == self.users.len() {
            self.at = 0;
        }
        u
    }
}

/// The same as `guarded_call`'s `gate_by_hand`.
#[inline(never)]
fn locate(seed: u64) -> (u64, u64) {
    (seed.wrapping_mul(31), seed ^ 0x5bd1_e995)
}

#[inline(never)]
fn by_hand(gate: &Gate, user: &str, seed: u64) -> Result<(u64, u64), PrivacyError> {
    gate.check_blocking("getLocation", LOCATION, user)?;
    Ok(locate(seed))
}

/// One ledger row, as `privacy-runtime/src/consent/sql.rs` (`Row::of`) lays out an `agreed`
/// event from an agree button.
struct RawRow {
    subject: String,
    at_ms: i64,
    kind: &'static str,
    version_published_ms: Option<i64>,
    version_sha256: Option<String>,
    scopes: Option<String>,
    button_id: Option<String>,
    prompt_style: Option<&'static str>,
    action: Option<String>,
    referrer: Option<String>,
    entry: String,
}

impl RawRow {
    fn of(user: &str, record: &ConsentRecord) -> RawRow {
        let ConsentSource::AgreeButton { button_id } = &record.source else {
            panic!("the bench's agreements come from the agree button");
        };
        let event = ConsentEvent::Agreed(record.clone());
        RawRow {
            subject: format!("s:{user}"),
            at_ms: record.at.unix_millis(),
            kind: event.kind(),
            version_published_ms: record.version.as_ref().map(|v| v.published_at().unix_millis()),
            version_sha256: record.version.as_ref().map(|v| v.digest_hex()),
            scopes: Some(record.scopes.join(" ")),
            button_id: Some(button_id.clone()),
            prompt_style: Some("custom_popup"),
            action: None,
            referrer: record.referrer.clone(),
            entry: serde_json::to_string(&event).expect("an event serializes"),
        }
    }
}

/// What every group uses: the users, their agreements (as a gate records them) and the rows of
/// those agreements.
struct Fixture {
    users: Vec<String>,
    events: Arc<Vec<ConsentEvent>>,
    rows: Arc<Vec<RawRow>>,
    /// A gate over a `MemoryStore` in which every user has agreed.
    memory_gate: Gate,
}

fn fixture(rt: &Runtime) -> Fixture {
    let users = users();
    let memory_gate = {
        let _in_runtime = rt.enter();
        Gate::builder(APP, guidelines()).store(MemoryStore::new()).build()
    };
    let records: Vec<ConsentRecord> = rt.block_on(async {
        let mut records = Vec::with_capacity(USERS);
        for u in &users {
            records.push(memory_gate.tap_agree_button(u.as_str(), "agree-btn").await.expect("consent stored"));
        }
        records
    });
    assert!(records.iter().all(|r| r.version.is_some()), "every agreement names its version");
    let rows = users.iter().zip(&records).map(|(u, r)| RawRow::of(u, r)).collect();
    let events = records.into_iter().map(ConsentEvent::Agreed).collect();
    Fixture { users, events: Arc::new(events), rows: Arc::new(rows), memory_gate }
}

/// Where a rotation of appends is, and each user's next seq for the raw inserts. Criterion calls
/// a routine again for every sample, so this outlives the routine.
struct Cursor {
    at: usize,
    seqs: Vec<i64>,
}

impl Cursor {
    fn new() -> Cursor {
        Cursor { at: 0, seqs: vec![0; USERS] }
    }
    /// The next user's index, and their next seq.
    fn next(&mut self) -> (usize, i64) {
        let i = self.at;
        self.at = (self.at + 1) % USERS;
        self.seqs[i] += 1;
        (i, self.seqs[i])
    }
}

/// Times of single appends taken alternately, the store's and the raw ones.
#[derive(Default)]
struct Paired {
    store: Vec<Duration>,
    raw: Vec<Duration>,
}

fn median_ns(times: &mut [Duration]) -> f64 {
    times.sort_unstable();
    match times.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => times[n / 2].as_nanos() as f64,
        n => (times[n / 2 - 1].as_nanos() + times[n / 2].as_nanos()) as f64 / 2.0,
    }
}

impl Paired {
    /// Prints the medians and writes them to `target/criterion/<group>/paired.json`.
    fn report(mut self, group: &str, store_name: &str, raw_name: &str) {
        let (store, raw) = (median_ns(&mut self.store), median_ns(&mut self.raw));
        let unit = |ns: f64| if ns >= 10_000.0 { format!("{:.0} µs", ns / 1e3) } else { format!("{ns:.1} ns") };
        // Sorted by `median_ns`.
        let spread = |t: &[Duration]| {
            let at = |q: usize| t.get(t.len() * q / 10).map_or(f64::NAN, |d| d.as_nanos() as f64);
            format!("p10 {}, p90 {}", unit(at(1)), unit(at(9)))
        };
        eprintln!(
            "{group}: taken alternately, {} of each: {store_name} {} ({}), {raw_name} {} ({}) (medians): \
             {store_name}/{raw_name} = {:.3}",
            self.store.len(),
            unit(store),
            spread(&self.store),
            unit(raw),
            spread(&self.raw),
            store / raw
        );
        let report = format!(
            r#"{{"pairs": {}, "medians_ns": {{"{store_name}": {store:.1}, "{raw_name}": {raw:.1}}}}}"#,
            self.store.len()
        );
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/criterion").join(group);
        if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join("paired.json"), report)) {
            eprintln!("could not write the paired medians to {}: {e}", dir.display());
        }
    }
}

/// Times `op`.
async fn timed<T>(op: impl Future<Output = T>) -> Duration {
    let start = Instant::now();
    black_box(op.await);
    start.elapsed()
}

/// A connection set up as `SqliteStore` sets up its own: WAL, `synchronous = FULL`.
fn sqlite_connection(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("the raw file opens");
    conn.busy_timeout(Duration::from_secs(5)).expect("busy timeout set");
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).expect("WAL set");
    assert!(mode.eq_ignore_ascii_case("wal"), "journal mode {mode}, not WAL");
    conn.pragma_update(None, "synchronous", "FULL").expect("synchronous set");
    let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).expect("synchronous read");
    assert_eq!(sync, 2, "synchronous = FULL");
    conn
}

/// A file with the store's schema (made by opening a `SqliteStore` on it, then closing it).
fn sqlite_schema(rt: &Runtime, path: &Path) {
    drop(rt.block_on(SqliteStore::open(path)).expect("the schema is made"));
}

fn sqlite_insert(conn: &Connection, row: &RawRow, seq: i64) -> rusqlite::Result<usize> {
    conn.prepare_cached(RAW_INSERT_SQLITE)?.execute(rusqlite::params![
        APP,
        row.subject,
        seq,
        row.at_ms,
        row.kind,
        row.version_published_ms,
        row.version_sha256,
        row.scopes,
        row.button_id,
        row.prompt_style,
        row.action,
        row.referrer,
        row.entry
    ])
}

/// The raw insert of row `i` with `seq`, on a blocking thread as the store runs its own.
async fn sqlite_raw(conn: &Arc<Mutex<Connection>>, rows: &Arc<Vec<RawRow>>, (i, seq): (usize, i64)) -> usize {
    let (conn, rows) = (Arc::clone(conn), Arc::clone(rows));
    tokio::task::spawn_blocking(move || {
        let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
        sqlite_insert(&conn, &rows[i], seq)
    })
    .await
    .expect("the insert ran")
    .expect("inserted")
}

async fn append(store: &impl ConsentStore, events: &[ConsentEvent], (i, _): (usize, i64)) -> u64 {
    store.append(APP, &events[i]).await.expect("appended")
}

fn write_group<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    // About a millisecond an append: few iterations a sample, each sample timed as it is.
    g.sample_size(20).measurement_time(Duration::from_secs(3)).sampling_mode(SamplingMode::Flat);
    g
}

/// A store on `<tag>-store.db` and a raw connection to `<tag>-raw.db`, a file with the same
/// schema, pragmas and (empty) contents.
fn sqlite_pair(rt: &Runtime, dir: &TempDir, tag: &str) -> (SqliteStore, Arc<Mutex<Connection>>) {
    let store = rt.block_on(SqliteStore::open(dir.join(&format!("{tag}-store.db")))).expect("the store opens");
    let raw_path = dir.join(&format!("{tag}-raw.db"));
    sqlite_schema(rt, &raw_path);
    (store, Arc::new(Mutex::new(sqlite_connection(&raw_path))))
}

fn sqlite(c: &mut Criterion, rt: &Runtime, f: &Fixture) {
    let dir = TempDir::new("bench-write");

    // Alternately first, on files of their own that start empty and take the same appends: their
    // WALs then go through the same sizes (an fsync that grows the file costs more than one that
    // overwrites, so two files at different points of their checkpoint cycles differ).
    let (store, raw) = sqlite_pair(rt, &dir, "paired");
    let (mut sc, mut rc) = (Cursor::new(), Cursor::new());
    let mut paired = Paired::default();
    rt.block_on(async {
        for k in 0..PAIRS {
            if k % 2 == 0 {
                paired.store.push(timed(append(&store, &f.events, sc.next())).await);
                paired.raw.push(timed(sqlite_raw(&raw, &f.rows, rc.next())).await);
            } else {
                paired.raw.push(timed(sqlite_raw(&raw, &f.rows, rc.next())).await);
                paired.store.push(timed(append(&store, &f.events, sc.next())).await);
            }
        }
    });
    paired.report("ledger_write_sqlite", "store_append", "raw_insert");
    drop((store, raw));

    let (store, raw) = sqlite_pair(rt, &dir, "criterion");
    let (mut sc, mut rc) = (Cursor::new(), Cursor::new());
    let mut g = write_group(c, "ledger_write_sqlite");
    g.bench_function("store_append", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(append(&store, &f.events, sc.next()).await);
                }
                start.elapsed()
            })
        })
    });
    g.bench_function("raw_insert", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(sqlite_raw(&raw, &f.rows, rc.next()).await);
                }
                start.elapsed()
            })
        })
    });
    g.finish();
    drop((store, raw));

    // Each ledger holds as many rows as were appended to it, numbered alike.
    let count = |name: &str| -> (i64, i64) {
        let conn = Connection::open(dir.join(name)).expect("the file opens");
        conn.query_row("SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM privacy_consent_ledger", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("counted")
    };
    for (name, appended) in [("criterion-store.db", sc.at), ("criterion-raw.db", rc.at)] {
        let (rows, seq) = count(name);
        eprintln!("ledger_write_sqlite: {name}: {rows} rows, highest seq {seq} (the rotation is at user {appended})");
    }
}

/// The raw insert of row `i` with `seq`.
async fn postgres_raw(client: &Client, insert: &Statement, rows: &[RawRow], (i, seq): (usize, i64)) -> u64 {
    let row = &rows[i];
    client
        .execute(
            insert,
            &[
                &APP,
                &row.subject,
                &seq,
                &row.at_ms,
                &row.kind,
                &row.version_published_ms,
                &row.version_sha256,
                &row.scopes,
                &row.button_id,
                &row.prompt_style,
                &row.action,
                &row.referrer,
                &row.entry,
            ],
        )
        .await
        .expect("inserted")
}

/// A client to `url`, driven on the runtime, with the raw insert prepared.
async fn raw_client(url: &str) -> (Arc<Client>, Statement) {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.expect("the raw client connects");
    tokio::spawn(connection);
    let insert = client.prepare(RAW_INSERT_POSTGRES).await.expect("the insert prepares");
    (Arc::new(client), insert)
}

/// Runs `iters` appends, `IN_FLIGHT` at a time (each of `IN_FLIGHT` tasks takes the next from
/// `cursor` until none is left; `one` gets the task's number), and returns the wall time.
async fn in_flight<O, F>(iters: u64, cursor: &Arc<Mutex<Cursor>>, one: O) -> Duration
where
    O: Fn(usize, (usize, i64)) -> F + Send + Sync + 'static,
    F: Future<Output = u64> + Send + 'static,
{
    let (one, left) = (Arc::new(one), Arc::new(AtomicU64::new(iters)));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..IN_FLIGHT {
        let (one, left, cursor) = (Arc::clone(&one), Arc::clone(&left), Arc::clone(cursor));
        tasks.spawn(async move {
            while left.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1)).is_ok() {
                let at = cursor.lock().unwrap_or_else(PoisonError::into_inner).next();
                black_box(one(t, at).await);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("the appends ran");
    }
    start.elapsed()
}

fn postgres(c: &mut Criterion, rt: &Runtime, f: &Fixture) {
    let Some(url) = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!(
            "ledger_write_postgres skipped: DATABASE_URL is not set (start a durable server with \
             `eval \"$(bash scripts/pg-up --durable)\"`, then run the bench with DATABASE_URL set)"
        );
        return;
    };
    let (store_url, raw_url) = rt.block_on(async { (fresh_database().await, fresh_database().await) });
    let store = Arc::new(rt.block_on(PostgresStore::connect(&store_url)).expect("the store connects"));
    // The raw database gets the store's schema from a store that connects once and goes.
    drop(rt.block_on(PostgresStore::connect(&raw_url)).expect("the schema is made"));
    let clients = rt.block_on(async {
        let mut clients = Vec::new();
        for _ in 0..CONNECTIONS {
            clients.push(raw_client(&raw_url).await);
        }
        let mut settings = Vec::new();
        for s in ["fsync", "synchronous_commit", "wal_sync_method", "commit_delay"] {
            let row = clients[0].0.query_one(format!("SHOW {s}").as_str(), &[]).await.expect("setting read");
            settings.push(format!("{s} = {}", row.get::<_, String>(0)));
        }
        eprintln!("ledger_write_postgres: server at {} with {}", store.server(), settings.join(", "));
        if settings.iter().any(|s| s == "fsync = off" || s == "synchronous_commit = off") {
            eprintln!("ledger_write_postgres: WARNING: this server does not wait for the disk: not durable figures");
        }
        clients
    });
    let (client, insert) = (&*clients[0].0, &clients[0].1);
    let (mut sc, mut rc) = (Cursor::new(), Cursor::new());

    // Alternately first, while both tables are empty.
    let mut paired = Paired::default();
    rt.block_on(async {
        for k in 0..PAIRS {
            if k % 2 == 0 {
                paired.store.push(timed(append(&store, &f.events, sc.next())).await);
                paired.raw.push(timed(postgres_raw(client, insert, &f.rows, rc.next())).await);
            } else {
                paired.raw.push(timed(postgres_raw(client, insert, &f.rows, rc.next())).await);
                paired.store.push(timed(append(&store, &f.events, sc.next())).await);
            }
        }
    });
    paired.report("ledger_write_postgres", "store_append", "raw_insert");

    let mut g = write_group(c, "ledger_write_postgres");
    g.bench_function("store_append", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(append(&store, &f.events, sc.next()).await);
                }
                start.elapsed()
            })
        })
    });
    g.bench_function("raw_insert", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(postgres_raw(client, insert, &f.rows, rc.next()).await);
                }
                start.elapsed()
            })
        })
    });

    let (sc_shared, rc_shared) = (Arc::new(Mutex::new(sc)), Arc::new(Mutex::new(rc)));
    g.bench_function(format!("store_append_{IN_FLIGHT}_in_flight"), |b| {
        b.iter_custom(|iters| {
            let (store, events) = (Arc::clone(&store), Arc::clone(&f.events));
            rt.block_on(in_flight(iters, &sc_shared, move |_, at| {
                let (store, events) = (Arc::clone(&store), Arc::clone(&events));
                async move { append(&store, &events, at).await }
            }))
        })
    });
    g.bench_function(format!("raw_insert_{IN_FLIGHT}_in_flight"), |b| {
        b.iter_custom(|iters| {
            let (clients, rows) = (clients.clone(), Arc::clone(&f.rows));
            rt.block_on(in_flight(iters, &rc_shared, move |t, at| {
                let ((client, insert), rows) = (clients[t % CONNECTIONS].clone(), Arc::clone(&rows));
                async move { postgres_raw(&client, &insert, &rows, at).await }
            }))
        })
    });
    g.finish();

    // Tidy up: the two databases go with their connections.
    drop(store);
    drop(clients);
    rt.block_on(async {
        let (admin, connection) = tokio_postgres::connect(&url, NoTls).await.expect("the server is reachable");
        tokio::spawn(connection);
        for db in [&store_url, &raw_url] {
            let name = db.rsplit_once('/').map_or(db.as_str(), |(_, n)| n);
            if let Err(e) = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await {
                eprintln!("ledger_write_postgres: could not drop the bench's database {name}: {e}");
            }
        }
    });
}

fn hot_path(c: &mut Criterion, rt: &Runtime, f: &Fixture) {
    // A ledger that already holds every user's agreement (written in one transaction, as the
    // store lays rows out), opened as a restarted backend would open it.
    let dir = TempDir::new("bench-hot");
    let path = dir.join("consent.db");
    sqlite_schema(rt, &path);
    {
        let mut conn = sqlite_connection(&path);
        let tx = conn.transaction().expect("a transaction");
        for row in f.rows.iter() {
            sqlite_insert(&tx, row, 1).expect("inserted");
        }
        tx.commit().expect("committed");
    }
    let store = rt.block_on(SqliteStore::open(&path)).expect("the store opens");
    let sqlite_gate = {
        let _in_runtime = rt.enter();
        Gate::builder(APP, guidelines()).store(store).build()
    };
    // Warm: each user's consent read from the file once, into the snapshot.
    rt.block_on(async {
        for u in &f.users {
            sqlite_gate.check("getLocation", LOCATION, u.as_str()).await.expect("consented in the ledger");
        }
    });
    let gates = [("memory_store", &f.memory_gate), ("sqlite_store", &sqlite_gate)];
    for (name, gate) in gates {
        let stats = gate.stats();
        assert!(stats.change_feed_live, "{name}: the change feed is live");
        assert_eq!(stats.users_in_snapshot, USERS, "{name}: every user in the snapshot");
        for u in &f.users {
            assert!(by_hand(gate, u, 7).is_ok(), "{name}: {u} has consented");
        }
    }

    let mut g = c.benchmark_group("hot_path_durable");
    for (name, gate) in gates {
        g.bench_function(name, |b| {
            let mut r = Rotation::new(&f.users);
            b.iter(|| by_hand(gate, black_box(r.next_user()), black_box(7)))
        });
    }
    g.finish();

    // Alternately, a whole rotation on each gate at a time.
    let mut paired = Paired::default();
    let rotation = |gate: &Gate| {
        let start = Instant::now();
        for u in &f.users {
            let _ = black_box(by_hand(gate, black_box(u), black_box(7)));
        }
        start.elapsed() / USERS as u32
    };
    for k in 0..PAIRS {
        if k % 2 == 0 {
            paired.raw.push(rotation(&f.memory_gate));
            paired.store.push(rotation(&sqlite_gate));
        } else {
            paired.store.push(rotation(&sqlite_gate));
            paired.raw.push(rotation(&f.memory_gate));
        }
    }
    paired.report("hot_path_durable", "sqlite_store", "memory_store");
}

fn all(c: &mut Criterion) {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a tokio runtime");
    let f = fixture(&rt);
    hot_path(c, &rt, &f);
    sqlite(c, &rt, &f);
    postgres(c, &rt, &f);
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = all
}
criterion_main!(benches);
