//! Crash tests of the durable ledgers: a child process appends up to 10,000 agrees and clears
//! (several writers at once) and prints each acknowledgement; it is killed with SIGKILL at a
//! random point, 20 runs. After each restart every acknowledged entry is there, sequences are
//! gap-free and no entry is torn.
//!
//! - SQLite: the child is killed; the file is reopened (its owner lock must be free again), read
//!   through the store and, read-only, row by row.
//! - PostgreSQL: the test starts its own cluster with fsync on (`scripts/pg-up --durable`); the
//!   *server* is killed (the postmaster and every backend, SIGKILL), then the child; the cluster
//!   is restarted (crash recovery) and read back the same way.
//!
//! The child is this test binary itself, run as `crash_child` with the target in
//! `PRIVACY_CRASH_TARGET`. Every run prints a one-line summary to stderr. A run's kill point is
//! drawn from a seed printed first; `CRASH_SEED=<n>` replays a sequence of runs.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use privacy_ledger_tests::TempDir;
use privacy_runtime::{ConsentEvent, ConsentRecord, ConsentSource, ConsentStore, SqliteStore, Subject, Timestamp};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

/// Where the child writes: `sqlite:<path>` or `postgres:<url>`. Without it the child does nothing.
const TARGET: &str = "PRIVACY_CRASH_TARGET";
/// The child test's name, for `--exact`.
const CHILD: &str = "crash_child";
/// Events the child appends if it is not killed first.
const EVENTS: u64 = 10_000;
/// Subjects the events are spread over.
const SUBJECTS: u64 = 50;
/// Writers appending at once in the child.
const WRITERS: usize = 4;
/// Crash runs per store.
const RUNS: usize = 20;
/// The app the child writes to.
const APP: &str = "wx-crash";
/// Event `i` happens at `BASE_MS + i`: its time identifies it.
const BASE_MS: i64 = 1_689_120_000_000;

fn subject_name(s: u64) -> String {
    format!("u{s}")
}

/// Which subject event `i` is about: spread at random-looking (but fixed) places, so that
/// writers running at once sometimes append for the same subject.
fn subject_of(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) % SUBJECTS
}

/// The child: appends up to [`EVENTS`] events with [`WRITERS`] writers, each subject's events
/// alternating agree and clear, and prints `ack <subject> <seq> <kind> <at_ms>` for each append
/// once it returned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "child process of the crash tests"]
async fn crash_child() {
    let Ok(target) = std::env::var(TARGET) else { return };
    let store: Arc<dyn ConsentStore> = if let Some(path) = target.strip_prefix("sqlite:") {
        Arc::new(SqliteStore::open(path).await.unwrap_or_else(|e| panic!("child: {e}")))
    } else if let Some(url) = target.strip_prefix("postgres:") {
        Arc::new(privacy_runtime::PostgresStore::connect(url).await.unwrap_or_else(|e| panic!("child: {e}")))
    } else {
        panic!("child: {TARGET}={target} is neither sqlite:<path> nor postgres:<url>")
    };
    let next = Arc::new(AtomicU64::new(0));
    let per_subject: Arc<Vec<AtomicUsize>> = Arc::new((0..SUBJECTS).map(|_| AtomicUsize::new(0)).collect());
    let writers: Vec<_> = (0..WRITERS)
        .map(|_| {
            let (store, next, per_subject) = (Arc::clone(&store), Arc::clone(&next), Arc::clone(&per_subject));
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= EVENTS {
                        return Ok::<(), privacy_runtime::StoreError>(());
                    }
                    let s = subject_of(i);
                    let name = subject_name(s);
                    let subject = Subject::from(name.as_str());
                    let at = Timestamp::from_unix_millis(BASE_MS + i64::try_from(i).unwrap_or(i64::MAX));
                    let event = if per_subject[usize::try_from(s).unwrap_or(0)].fetch_add(1, Ordering::Relaxed) % 2 == 0
                    {
                        ConsentEvent::Agreed(ConsentRecord::new(
                            subject,
                            at,
                            None,
                            ConsentSource::AgreeButton { button_id: "agree-btn".into() },
                            Some("getLocation".into()),
                        ))
                    } else {
                        ConsentEvent::Cleared { subject, at }
                    };
                    let seq = store.append(APP, &event).await?;
                    // Acknowledged: only now may the line be written, whole, and flushed.
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {name} {seq} {} {}", event.kind(), at.unix_millis())
                        .and_then(|()| out.flush())
                        .unwrap_or_else(|e| panic!("child: cannot write an acknowledgement: {e}"));
                }
            })
        })
        .collect();
    let mut failed = Vec::new();
    for w in writers {
        match w.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failed.push(e.to_string()),
            Err(e) => failed.push(e.to_string()),
        }
    }
    assert!(failed.is_empty(), "child: appends failed: {failed:#?}");
}

/// One acknowledgement the child printed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ack {
    subject: String,
    seq: u64,
    kind: String,
    at_ms: i64,
}

fn parse_ack(line: &str) -> Option<Ack> {
    let mut parts = line.strip_prefix("ack ")?.split(' ');
    let ack = Ack {
        subject: parts.next()?.to_owned(),
        seq: parts.next()?.parse().ok()?,
        kind: parts.next()?.to_owned(),
        at_ms: parts.next()?.parse().ok()?,
    };
    parts.next().is_none().then_some(ack)
}

/// A small random generator (xorshift64*), seeded from `CRASH_SEED` or at random.
struct Rng(u64);

impl Rng {
    fn new(test: &str) -> Rng {
        let seed = match std::env::var("CRASH_SEED") {
            Ok(s) => s.parse().unwrap_or_else(|e| panic!("CRASH_SEED={s}: {e}")),
            Err(_) => {
                use std::hash::{BuildHasher, Hasher};
                let mut h = std::collections::hash_map::RandomState::new().build_hasher();
                h.write_u128(
                    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()),
                );
                h.write_u32(std::process::id());
                h.finish()
            }
        };
        eprintln!("crash {test}: seed {seed} (CRASH_SEED={seed} replays these kill points)");
        Rng(seed.max(1))
    }

    /// A number in `lo..hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        lo + self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % (hi - lo)
    }
}

/// A running child and what it printed.
struct Writer {
    child: Child,
    stdout: BufReader<ChildStdout>,
    stderr: tokio::task::JoinHandle<String>,
    acks: Vec<Ack>,
    seen: HashSet<(String, u64)>,
}

impl Writer {
    fn start(target: &str) -> Writer {
        let exe = std::env::current_exe().unwrap_or_else(|e| panic!("no path to this test binary: {e}"));
        let mut child = Command::new(exe)
            .args(["--exact", CHILD, "--nocapture", "--ignored"])
            .env(TARGET, target)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start the child: {e}"));
        let stdout = BufReader::new(child.stdout.take().unwrap_or_else(|| panic!("the child's stdout is piped")));
        let mut err = child.stderr.take().unwrap_or_else(|| panic!("the child's stderr is piped"));
        let stderr = tokio::spawn(async move {
            let mut text = String::new();
            let _ = err.read_to_string(&mut text).await;
            text
        });
        Writer { child, stdout, stderr, acks: Vec::new(), seen: HashSet::new() }
    }

    /// Reads one line; `false` at the end of the output. A last line without its newline (the
    /// child killed while writing it) is not counted.
    async fn read_one(&mut self) -> bool {
        let mut line = String::new();
        match self.stdout.read_line(&mut line).await {
            Ok(0) => false,
            Ok(_) => {
                // The harness may print `test crash_child ... ` before the first line.
                if let Some(whole) = line.strip_suffix('\n')
                    && let Some(ack) = whole.find("ack ").and_then(|at| parse_ack(&whole[at..]))
                {
                    assert!(
                        self.seen.insert((ack.subject.clone(), ack.seq)),
                        "the store acknowledged seq {} of {} twice",
                        ack.seq,
                        ack.subject
                    );
                    self.acks.push(ack);
                }
                true
            }
            Err(e) => panic!("reading the child's output: {e}"),
        }
    }

    /// Waits until the child has acknowledged `n` appends (its output is the signal).
    async fn until_acks(&mut self, n: usize) {
        while self.acks.len() < n {
            if !self.read_one().await {
                let _ = self.child.wait().await;
                let stderr = (&mut self.stderr).await.unwrap_or_default();
                panic!(
                    "the child stopped after {} acknowledgements, before the kill at {n}:\n{stderr}",
                    self.acks.len()
                );
            }
        }
    }

    /// Kills the child with SIGKILL and reads what it printed before it died: every line
    /// written was acknowledged. Returns the child's stderr.
    async fn kill(mut self) -> (Vec<Ack>, String) {
        // SIGKILL (a child that already exited is only reaped).
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        while self.read_one().await {}
        let stderr = self.stderr.await.unwrap_or_default();
        (self.acks, stderr)
    }
}

/// A row of `privacy_consent_ledger` as stored.
struct RawRow {
    app: String,
    subject: String,
    seq: i64,
    kind: String,
    entry: String,
}

/// Reads the ledger back through the store: for every subject the history reads (no damaged
/// entry), its sequence numbers are 1..=n, each event is stored once, and every acknowledged
/// entry is there with its kind and time. Returns how many entries there are.
async fn check_store(store: &dyn ConsentStore, acks: &[Ack]) -> usize {
    let mut acked: HashMap<&str, Vec<&Ack>> = HashMap::new();
    for a in acks {
        acked.entry(a.subject.as_str()).or_default().push(a);
    }
    let names: HashSet<String> = (0..SUBJECTS).map(subject_name).collect();
    for s in acked.keys() {
        assert!(names.contains(*s), "an acknowledgement for an unknown subject {s}");
    }
    let mut times = HashSet::new();
    let mut total = 0;
    for name in &names {
        let subject = Subject::from(name.as_str());
        let history = store
            .history(APP, &subject)
            .await
            .unwrap_or_else(|e| panic!("the history of {name} does not read after the crash: {e}"));
        let seqs: Vec<u64> = history.iter().map(|e| e.seq).collect();
        let expected: Vec<u64> = (1..=history.len() as u64).collect();
        assert_eq!(seqs, expected, "the sequence numbers of {name} are not 1..=n");
        for e in &history {
            assert_eq!(e.app, APP);
            assert_eq!(e.event.subject(), &subject, "entry {} of {name} is about someone else", e.seq);
            let at = e.event.at().unix_millis();
            assert!(
                (BASE_MS..BASE_MS + EVENTS as i64).contains(&at),
                "entry {} of {name} has a time no event had: {at}",
                e.seq
            );
            assert!(times.insert(at), "the event at {at} is stored twice (again as entry {} of {name})", e.seq);
        }
        for a in acked.get(name.as_str()).into_iter().flatten() {
            let Some(e) = usize::try_from(a.seq - 1).ok().and_then(|i| history.get(i)) else {
                panic!(
                    "acknowledged entry {} of {name} ({}) is missing: the history has {}",
                    a.seq,
                    a.kind,
                    history.len()
                )
            };
            assert_eq!(
                (e.event.kind(), e.event.at().unix_millis()),
                (a.kind.as_str(), a.at_ms),
                "entry {} of {name} is not the one acknowledged",
                a.seq
            );
        }
        total += history.len();
    }
    assert!(total >= acks.len(), "{} acknowledged, {total} stored", acks.len());
    // At most one append per writer was in flight: stored, not yet acknowledged.
    assert!(
        total - acks.len() <= WRITERS,
        "{total} entries stored but {} acknowledged: more than {WRITERS} writers had in flight",
        acks.len()
    );
    total
}

/// Checks the rows themselves: exactly the entries the store read, each one's JSON whole and
/// agreeing with its columns.
fn check_rows(rows: &[RawRow], entries: usize) {
    assert_eq!(rows.len(), entries, "the table holds rows the histories did not show");
    for r in rows {
        let event: ConsentEvent = serde_json::from_str(&r.entry).unwrap_or_else(|e| {
            panic!(
                "torn entry: {} seq {} of {} ({}) does not parse: {e}: {:?}",
                r.subject, r.seq, r.app, r.kind, r.entry
            )
        });
        assert_eq!(r.app, APP);
        assert_eq!(event.kind(), r.kind, "{} seq {}: the kind column disagrees with the entry", r.subject, r.seq);
        assert_eq!(
            Some(event.subject()),
            r.subject.strip_prefix("s:").map(Subject::from).as_ref(),
            "seq {}: the subject column disagrees with the entry",
            r.seq
        );
    }
}

/// Reads the SQLite file read-only: an integrity check, then every row.
fn sqlite_rows(path: &Path) -> Vec<RawRow> {
    use privacy_runtime::rusqlite::{Connection, OpenFlags};
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("cannot open {} read-only: {e}", path.display()));
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap_or_else(|e| panic!("integrity check of {}: {e}", path.display()));
    assert_eq!(integrity, "ok", "{} is damaged", path.display());
    let mut st = conn
        .prepare("SELECT app, subject, seq, kind, entry FROM privacy_consent_ledger ORDER BY app, subject, seq")
        .unwrap_or_else(|e| panic!("{e}"));
    st.query_map([], |r| {
        Ok(RawRow { app: r.get(0)?, subject: r.get(1)?, seq: r.get(2)?, kind: r.get(3)?, entry: r.get(4)? })
    })
    .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
    .unwrap_or_else(|e| panic!("reading the rows of {}: {e}", path.display()))
}

/// Writes to a fresh SQLite file and kills the writer at a random acknowledgement, 20 times.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_ledger_survives_sigkill() {
    let mut rng = Rng::new("sqlite");
    let started = Instant::now();
    let mut acked_total = 0;
    for run in 1..=RUNS {
        let t0 = Instant::now();
        let dir = TempDir::new("crash");
        let path = dir.join("consent.db");
        let kill_at = usize::try_from(rng.range(1, EVENTS)).unwrap_or(1);
        let mut writer = Writer::start(&format!("sqlite:{}", path.display()));
        writer.until_acks(kill_at).await;
        let write_time = t0.elapsed();
        let (acks, stderr) = writer.kill().await;
        // The kernel released the owner lock with the process: the file opens again.
        let store = SqliteStore::open(&path)
            .await
            .unwrap_or_else(|e| panic!("run {run}: the ledger does not reopen after SIGKILL: {e}\nchild: {stderr}"));
        let entries = check_store(&store, &acks).await;
        let rows_path = path.clone();
        let rows = tokio::task::spawn_blocking(move || sqlite_rows(&rows_path))
            .await
            .unwrap_or_else(|e| panic!("run {run}: {e}"));
        check_rows(&rows, entries);
        drop(store);
        acked_total += acks.len();
        eprintln!(
            "crash sqlite run {run:2}/{RUNS}: killed at ack {kill_at:5}, {:5} acked, {entries:5} entries found \
             (gap-free, none torn), {:.2}s writing, {:.2}s in all",
            acks.len(),
            write_time.as_secs_f64(),
            t0.elapsed().as_secs_f64()
        );
    }
    eprintln!("crash sqlite: {RUNS} runs, {acked_total} acknowledged appends, {:.1}s", started.elapsed().as_secs_f64());
}

/// A throwaway PostgreSQL cluster with fsync on (`scripts/pg-up --durable`), stopped and removed
/// when dropped (`scripts/pg-down`).
struct Cluster {
    root: PathBuf,
    pgdir: PathBuf,
    pgbin: PathBuf,
    port: String,
    /// The cluster's `consent_test` database, for creating the others.
    admin_url: String,
}

async fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().await.unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Cluster {
    async fn start() -> Cluster {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let out =
            run(Command::new("bash").arg("scripts/pg-up").arg("--durable").current_dir(&root), "pg-up --durable").await;
        let vars: HashMap<&str, &str> = out.lines().filter_map(|l| l.split_once('=')).collect();
        let var = |k: &str| vars.get(k).copied().unwrap_or_else(|| panic!("pg-up printed no {k}: {out}")).to_owned();
        Cluster {
            pgdir: PathBuf::from(var("PGDIR")),
            pgbin: PathBuf::from(var("PGBIN")),
            port: var("PGPORT"),
            admin_url: var("DATABASE_URL"),
            root,
        }
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Kills the server as a crash would: the postmaster (stopped first, so that it starts
    /// nothing more) and every process it started, with SIGKILL. Returns once they are dead.
    async fn kill_server(&self) -> usize {
        let pidfile = self.pgdir.join("data/postmaster.pid");
        let text = std::fs::read_to_string(&pidfile).unwrap_or_else(|e| panic!("{}: {e}", pidfile.display()));
        let postmaster: u32 = text
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .unwrap_or_else(|| panic!("{} names no pid: {text}", pidfile.display()));
        run(Command::new("kill").args(["-STOP", &postmaster.to_string()]), "kill -STOP the postmaster").await;
        let deadline = Instant::now() + Duration::from_secs(60);
        // Stopped for sure (the signal is delivered asynchronously): no process is started
        // behind the list of its children.
        while process_state(postmaster).is_some_and(|s| s != 'T') {
            assert!(Instant::now() < deadline, "the postmaster {postmaster} did not stop");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let mut pids = children_of(postmaster);
        pids.push(postmaster);
        run(Command::new("kill").arg("-KILL").args(pids.iter().map(u32::to_string)), "kill -KILL the server").await;
        // Dead is not enough for the postmaster: until it is reaped (by init, which may take a
        // second or two) its pid is taken, and a new postmaster refuses to start over a
        // postmaster.pid whose process exists.
        while pids.iter().any(|&p| match process_state(p) {
            None => false,
            Some(state) => p == postmaster || state != 'Z',
        }) {
            assert!(Instant::now() < deadline, "the killed server processes {pids:?} are still there after 60 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        pids.len()
    }

    /// Starts the cluster again, with the flags pg-up --durable used; the server recovers from
    /// its WAL before `pg_ctl -w` returns.
    async fn restart(&self) {
        let pg_ctl = self.pgbin.join("pg_ctl");
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
            self.port,
            self.pgdir.display()
        );
        let mut cmd = if is_root().await {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(pg_ctl);
            c
        } else {
            Command::new(pg_ctl)
        };
        cmd.arg("-D")
            .arg(self.pgdir.join("data"))
            .arg("-l")
            .arg(self.pgdir.join("server.log"))
            .args(["-w", "-t", "120", "-o", &opts, "start"])
            .stdout(Stdio::null());
        let out = cmd.output().await.unwrap_or_else(|e| panic!("pg_ctl start: {e}"));
        if !out.status.success() {
            let log = std::fs::read_to_string(self.pgdir.join("server.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            panic!(
                "pg_ctl start after the crash failed: {}\n{}\nserver.log:\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr),
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Also after a failure: the server is stopped and its directory removed. A postmaster
        // left stopped by a failed kill is let go on first, so that it can stop.
        if let Some(pid) = std::fs::read_to_string(self.pgdir.join("data/postmaster.pid"))
            .ok()
            .and_then(|t| t.lines().next().map(|l| l.trim().to_owned()))
        {
            let _ = std::process::Command::new("kill").args(["-CONT", &pid]).stderr(Stdio::null()).status();
        }
        let _ = std::process::Command::new("bash")
            .arg("scripts/pg-down")
            .arg(&self.pgdir)
            .current_dir(&self.root)
            .stdout(Stdio::null())
            .status();
    }
}

async fn is_root() -> bool {
    run(Command::new("id").arg("-u"), "id -u").await.trim() == "0"
}

/// The state letter of process `pid` (`R`, `S`, `Z`, …), `None` once it is gone.
fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// The processes whose parent is `parent`.
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.flatten()
        .filter_map(|d| d.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| s.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse::<u32>().ok())
                == Some(parent)
        })
        .collect()
}

/// A client on `url`, retrying until `deadline` while the server comes back.
async fn pg_client(url: &str, deadline: Instant) -> privacy_runtime::tokio_postgres::Client {
    use privacy_runtime::tokio_postgres::{NoTls, connect};
    loop {
        match connect(url, NoTls).await {
            Ok((client, connection)) => {
                tokio::spawn(connection);
                return client;
            }
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("cannot connect to {url}: {e}"),
        }
    }
}

/// Writes to a fresh database and kills the server (then the writer) at a random
/// acknowledgement, 20 times on one cluster with fsync on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    no_pg_server,
    ignore = "PostgreSQL server binaries (initdb, pg_ctl) not found: this test starts, kills and restarts its own server (apt-get install postgresql)"
)]
async fn postgres_ledger_survives_a_killed_server() {
    let mut rng = Rng::new("postgres");
    let started = Instant::now();
    let cluster = Cluster::start().await;
    eprintln!("crash postgres: cluster up in {:.1}s at {}", started.elapsed().as_secs_f64(), cluster.pgdir.display());
    let mut acked_total = 0;
    for run in 1..=RUNS {
        let t0 = Instant::now();
        let admin = pg_client(&cluster.admin_url, Instant::now() + Duration::from_secs(30)).await;
        for (setting, want) in [("fsync", "on"), ("synchronous_commit", "on"), ("full_page_writes", "on")] {
            let got: String = admin
                .query_one(&format!("SHOW {setting}"), &[])
                .await
                .and_then(|r| r.try_get(0))
                .unwrap_or_else(|e| panic!("SHOW {setting}: {e}"));
            assert_eq!(got, want, "the crash test needs {setting}={want}");
        }
        let database = format!("crash_{run}");
        admin
            .batch_execute(&format!("CREATE DATABASE {database}"))
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {database}: {e}"));
        drop(admin);
        let url = cluster.url(&database);
        let kill_at = usize::try_from(rng.range(1, EVENTS)).unwrap_or(1);
        let t_write = Instant::now();
        let mut writer = Writer::start(&format!("postgres:{url}"));
        writer.until_acks(kill_at).await;
        let write_time = t_write.elapsed();
        let t_kill = Instant::now();
        let killed = cluster.kill_server().await;
        let (acks, _stderr) = writer.kill().await;
        let kill_time = t_kill.elapsed();
        let t_restart = Instant::now();
        cluster.restart().await;
        let recovery = t_restart.elapsed();
        let store = privacy_runtime::PostgresStore::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("run {run}: the ledger does not reconnect after the crash: {e}"));
        let entries = check_store(&store, &acks).await;
        drop(store);
        let client = pg_client(&url, Instant::now() + Duration::from_secs(30)).await;
        let rows: Vec<RawRow> = client
            .query("SELECT app, subject, seq, kind, entry FROM privacy_consent_ledger ORDER BY app, subject, seq", &[])
            .await
            .unwrap_or_else(|e| panic!("run {run}: reading the rows: {e}"))
            .iter()
            .map(|r| RawRow { app: r.get(0), subject: r.get(1), seq: r.get(2), kind: r.get(3), entry: r.get(4) })
            .collect();
        check_rows(&rows, entries);
        drop(client);
        // Checked: dropped, so that the files the next recovery syncs do not pile up.
        let admin = pg_client(&cluster.admin_url, Instant::now() + Duration::from_secs(30)).await;
        admin
            .batch_execute(&format!("DROP DATABASE {database} WITH (FORCE)"))
            .await
            .unwrap_or_else(|e| panic!("DROP DATABASE {database}: {e}"));
        drop(admin);
        acked_total += acks.len();
        eprintln!(
            "crash postgres run {run:2}/{RUNS}: server ({killed} processes) killed at ack {kill_at:5}, {:5} acked, \
             {entries:5} entries found (gap-free, none torn), {:.2}s writing, {:.2}s killing, {:.2}s restart, \
             {:.2}s in all",
            acks.len(),
            write_time.as_secs_f64(),
            kill_time.as_secs_f64(),
            recovery.as_secs_f64(),
            t0.elapsed().as_secs_f64()
        );
    }
    eprintln!(
        "crash postgres: {RUNS} runs, {acked_total} acknowledged appends, {:.1}s",
        started.elapsed().as_secs_f64()
    );
    drop(cluster);
}
