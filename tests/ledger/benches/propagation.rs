//! How long a consent change written through one instance takes to reach the others, over
//! PostgreSQL LISTEN/NOTIFY: 4 instances (this process writes; 3 child processes, this binary
//! run again, listen), each with its own `PostgresStore` on one fresh database of the server at
//! `DATABASE_URL`.
//!
//! The writer appends agreements and clears for rotating users through a gate, one every ~2 ms
//! (so the figure is the delay, not a backlog), and notes the wall-clock time each append was
//! acknowledged. Each listener prints the wall-clock time its store's notices delivered each
//! change. The delay of a change at a listener is the difference (all on one machine, one
//! clock); a notification that arrives before the writer's acknowledgement counts as 0.
//!
//! `cargo bench -p privacy-ledger-tests --bench propagation` writes p50/p90/p99/max over all
//! three listeners to `target/criterion/propagation/summary.json`; the target is p99 ≤ 100 ms on
//! loopback. Run as a test (`cargo test --benches`), it sends a few changes and writes nothing.
//! Without `DATABASE_URL` it says so and does nothing.

// The report is printed: that is what a bench is for.
#![allow(clippy::print_stdout)]

use std::collections::HashMap;
use std::io::Write as _;
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use privacy_ledger_tests::{fresh_database, july_guidelines};
use privacy_runtime::{FeedNotice, Gate, PostgresStore, WaitPolicy};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Set in a listener's environment to the database's URL.
const LISTENER_DATABASE: &str = "PRIVACY_PROPAGATION_BENCH_LISTENER_DATABASE_URL";

const INSTANCES: usize = 4;
const LISTENERS: usize = INSTANCES - 1;
const APP: &str = "wx-propagation-bench";
/// Changes measured under `cargo bench`, and as a test.
const CHANGES: usize = 2_000;
const CHANGES_AS_TEST: usize = 50;
/// Changes first sent and not counted (connections, caches and the planner settle).
const WARM_UP: usize = 100;
/// The writer's pace.
const PACE: Duration = Duration::from_millis(2);
/// Users the changes rotate over; each user's changes alternate between agree and clear.
const USERS: usize = 100;
/// How long the listeners may take to report the last changes once the writer is done.
const DRAIN: Duration = Duration::from_secs(20);
const TARGET_P99_MS: f64 = 100.0;

fn now_us() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_micros()).unwrap_or(i64::MAX)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("no tokio runtime: {e}"))
}

fn main() -> ExitCode {
    if let Ok(url) = std::env::var(LISTENER_DATABASE) {
        runtime().block_on(listener(&url));
        return ExitCode::SUCCESS;
    }
    if std::env::var_os("DATABASE_URL").is_none_or(|v| v.is_empty()) {
        println!(
            "propagation: skipped: DATABASE_URL is not set, and the bench needs a PostgreSQL server \
             (start one with `eval \"$(bash scripts/pg-up)\"`, then export DATABASE_URL)"
        );
        return ExitCode::SUCCESS;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    let measuring = std::env::args().any(|a| a == "--bench");
    runtime().block_on(writer(measuring))
}

/// A listening instance: its store's notices, as `recv <user> <t_us>` lines on stdout, until
/// its stdin ends.
async fn listener(url: &str) {
    let store = Arc::new(PostgresStore::connect(url).await.unwrap_or_else(|e| panic!("listener: {e}")));
    let mut notices = store.notices();
    // A gate reading the store, as in a real instance: the notices reach it first.
    let _gate =
        Gate::builder(APP, july_guidelines()).store(Arc::clone(&store)).wait_policy(WaitPolicy::ReturnPending).build();
    let (done_tx, mut done) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        // Nothing is ever sent: stdin only ends.
        for line in std::io::stdin().lines() {
            if line.is_err() {
                break;
            }
        }
        let _ = done_tx.send(());
    });
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "ready");
    let _ = out.flush();
    loop {
        let line = tokio::select! {
            _ = &mut done => return,
            n = notices.recv() => match n {
                Ok(FeedNotice::Changed { subject, .. }) => format!("recv {subject} {}", now_us()),
                Ok(FeedNotice::Down) => "down".to_owned(),
                Ok(FeedNotice::Resynced) => "resynced".to_owned(),
                Ok(other) => format!("notice {other:?}"),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => format!("lagged {n}"),
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
        };
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            return;
        }
    }
}

/// What one listener reported.
#[derive(Default)]
struct Heard {
    /// `(user, time)` in the order received.
    received: Vec<(String, i64)>,
    /// Anything else it said (a lost connection, lost notices).
    anomalies: Vec<String>,
}

struct Listener {
    process: Child,
    count: Arc<AtomicUsize>,
    heard: tokio::task::JoinHandle<Heard>,
}

async fn start_listener(url: &str) -> Listener {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("cannot find the bench binary: {e}"));
    let mut process = Command::new(exe)
        .env(LISTENER_DATABASE, url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start a listener: {e}"));
    let stdout = process.stdout.take().unwrap_or_else(|| panic!("a listener without stdout"));
    let mut lines = BufReader::new(stdout).lines();
    match tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await {
        Ok(Ok(Some(line))) if line == "ready" => {}
        other => panic!("a listener did not start: {other:?}"),
    }
    let count = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&count);
    let heard = tokio::spawn(async move {
        let mut heard = Heard::default();
        while let Ok(Some(line)) = lines.next_line().await {
            let mut parts = line.split(' ');
            match (parts.next(), parts.next(), parts.next().and_then(|t| t.parse().ok())) {
                (Some("recv"), Some(user), Some(t)) => {
                    heard.received.push((user.to_owned(), t));
                    counter.fetch_add(1, Ordering::Release);
                }
                _ => heard.anomalies.push(line),
            }
        }
        heard
    });
    Listener { process, count, heard }
}

/// The value at `p` (0..=1) of sorted `values`, by nearest rank.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

async fn writer(measuring: bool) -> ExitCode {
    let changes = if measuring { CHANGES } else { CHANGES_AS_TEST };
    let url = fresh_database().await;
    let store = Arc::new(PostgresStore::connect(&url).await.unwrap_or_else(|e| panic!("writer: {e}")));
    let gate =
        Gate::builder(APP, july_guidelines()).store(Arc::clone(&store)).wait_policy(WaitPolicy::ReturnPending).build();
    let mut listeners = Vec::new();
    for _ in 0..LISTENERS {
        listeners.push(start_listener(&url).await);
    }

    // (user, its n-th change) -> when the writer's append began, and when it was acknowledged.
    // Each listener hears one user's changes in commit order, which is the writer's order.
    let mut acked: HashMap<(String, usize), (i64, i64)> = HashMap::new();
    let mut occurrences: HashMap<String, usize> = HashMap::new();
    let mut tick = tokio::time::interval(PACE);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let total = WARM_UP + changes;
    for i in 0..total {
        tick.tick().await;
        let (user, agree) = if i < WARM_UP {
            (format!("warm-up-{}", i % 10), i % 20 < 10)
        } else {
            let j = i - WARM_UP;
            (format!("u{}", j % USERS), (j / USERS).is_multiple_of(2))
        };
        let began = now_us();
        if agree {
            gate.tap_agree_button(user.as_str(), "agree-btn").await.unwrap_or_else(|e| panic!("agree: {e}"));
        } else {
            gate.clear(user.as_str()).await.unwrap_or_else(|e| panic!("clear: {e}"));
        }
        let t = now_us();
        let n = occurrences.entry(user.clone()).or_insert(0);
        if i >= WARM_UP {
            acked.insert((user, *n), (began, t));
        }
        *n += 1;
    }

    // Every listener heard every change, or the drain time ran out.
    let deadline = tokio::time::Instant::now() + DRAIN;
    while listeners.iter().any(|l| l.count.load(Ordering::Acquire) < total) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut delays_ms = Vec::with_capacity(changes * LISTENERS);
    // From the start of the append instead: the write's own time included, never negative.
    let mut from_start_ms = Vec::with_capacity(changes * LISTENERS);
    let (mut early, mut unmatched) = (0usize, 0usize);
    let mut anomalies = Vec::new();
    for mut l in listeners {
        drop(l.process.stdin.take());
        let heard = l.heard.await.unwrap_or_else(|e| panic!("a listener's reader failed: {e}"));
        let _ = tokio::time::timeout(Duration::from_secs(10), l.process.wait()).await;
        anomalies.extend(heard.anomalies);
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (user, t) in &heard.received {
            let n = seen.entry(user.as_str()).or_insert(0);
            let key = (user.clone(), *n);
            *n += 1;
            if user.starts_with("warm-up-") {
                continue;
            }
            match acked.get(&key) {
                Some(&(began, ack)) => {
                    from_start_ms.push((t - began).max(0) as f64 / 1000.0);
                    let delay = t - ack;
                    if delay < 0 {
                        early += 1;
                    }
                    delays_ms.push(delay.max(0) as f64 / 1000.0);
                }
                None => unmatched += 1,
            }
        }
    }
    delays_ms.sort_by(f64::total_cmp);
    from_start_ms.sort_by(f64::total_cmp);
    let samples = delays_ms.len();
    let expected = changes * LISTENERS;
    let (p50, p90, p99, max) = (
        percentile(&delays_ms, 0.50),
        percentile(&delays_ms, 0.90),
        percentile(&delays_ms, 0.99),
        delays_ms.last().copied().unwrap_or(f64::NAN),
    );
    println!(
        "propagation: {INSTANCES} instances, {changes} changes ~{} ms apart, {samples}/{expected} deliveries: \
         p50 {p50:.2} ms, p90 {p90:.2} ms, p99 {p99:.2} ms, max {max:.2} ms (target p99 <= {TARGET_P99_MS} ms: {}); \
         {early} arrived before the writer's acknowledgement (counted as 0)",
        PACE.as_millis(),
        if p99 <= TARGET_P99_MS { "met" } else { "NOT met" },
    );
    println!(
        "propagation: counted from the start of each append instead: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&from_start_ms, 0.50),
        percentile(&from_start_ms, 0.99),
        from_start_ms.last().copied().unwrap_or(f64::NAN),
    );
    if !anomalies.is_empty() || unmatched > 0 {
        println!("propagation: {unmatched} unmatched deliveries; the listeners also said: {anomalies:?}");
    }
    if measuring {
        let summary = serde_json::json!({
            "instances": INSTANCES,
            "changes": changes,
            "p50_ms": p50,
            "p90_ms": p90,
            "p99_ms": p99,
            "max_ms": max,
            "samples": samples,
        });
        // The workspace's root is two levels up from this crate.
        let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = manifest.ancestors().nth(2).unwrap_or(manifest);
        let dir = root.join("target/criterion/propagation");
        let path = dir.join("summary.json");
        let written = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&path, serde_json::to_string_pretty(&summary).unwrap_or_default() + "\n"));
        match written {
            Ok(()) => println!("propagation: wrote {}", path.display()),
            Err(e) => {
                println!("propagation: cannot write {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
    }
    if samples < expected {
        println!("propagation: {} deliveries missing: a listener lost notifications", expected - samples);
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
