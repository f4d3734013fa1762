//! Two gates on one PostgreSQL ledger, in two processes: a consent given or cleared through one
//! reaches the other through LISTEN/NOTIFY (the test waits on the other's feed, never on a
//! sleep), and a listening connection cut and restored in between makes the other resync, so it
//! sees what changed while it was deaf.
//!
//! Instance A runs in the test's process; instance B is a child: the test binary runs itself
//! again with only [`propagation_child`] selected, and drives it over its stdin and stdout with
//! one-line commands (see [`child`]).
//!
//! A change that arrives through the feed also ends the authorization the other gate had open
//! for the user (its calls decide again), so after a clear the event is raised afresh, with a
//! new ticket, rather than joining an authorization opened before the consent was given.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use privacy_ledger_tests::{database_url, fresh_database, july_guidelines};
use privacy_runtime::tokio_postgres::{self, NoTls};
use privacy_runtime::*;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::broadcast;

/// Set in the child's environment to the database it connects to; without it the child test
/// does nothing.
const CHILD_DATABASE: &str = "PRIVACY_PROPAGATION_CHILD_DATABASE_URL";

/// Set in the child's environment to its gate's authorization TTL in milliseconds; the default
/// TTL without it.
const CHILD_TTL_MS: &str = "PRIVACY_PROPAGATION_CHILD_AUTHORIZATION_TTL_MS";

/// The child test's name, as the harness matches it with `--exact`.
const CHILD_TEST: &str = "propagation_child";

/// Starts every line the child answers with, to tell it from the harness's own output.
const REPLY: &str = "propagation-child: ";

/// The app both gates serve.
const APP: &str = "wx-propagation";

/// How long anything may take before the test gives up (a change crosses in milliseconds; a
/// reconnection takes one backoff step or a few).
const PATIENCE: Duration = Duration::from_secs(30);

/// A gate of `APP` on `store` whose need-authorization listener counts the events and leaves
/// them unanswered (the client shows its own popup later), and the count. `ttl`: how long its
/// authorizations stay open, if not the default.
fn gate_on(store: Arc<PostgresStore>, ttl: Option<Duration>) -> (Gate, Arc<AtomicUsize>) {
    let mut builder = Gate::builder(APP, july_guidelines()).store(store).wait_policy(WaitPolicy::ReturnPending);
    if let Some(ttl) = ttl {
        builder = builder.authorization_ttl(ttl);
    }
    let gate = builder.build();
    let events = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&events);
    gate.on_need_privacy_authorization(move |r: Resolver, _| {
        counter.fetch_add(1, Ordering::SeqCst);
        let _ = r.defer();
    });
    (gate, events)
}

fn location(gate: &Gate) -> ScopeSet {
    [gate.guidelines().scope("chosen_location").unwrap_or_else(|e| panic!("{e}"))].into_iter().collect()
}

/// Waits on `notices` for the first notice `want` accepts; the ones before it are passed over.
async fn wait_for_notice(
    notices: &mut broadcast::Receiver<FeedNotice>,
    what: &str,
    want: impl Fn(&FeedNotice) -> bool,
) -> Result<(), String> {
    let wait = async {
        loop {
            match notices.recv().await {
                Ok(n) if want(&n) => return Ok(()),
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    return Err(format!("{n} notices lost waiting for {what}"));
                }
                Err(broadcast::error::RecvError::Closed) => return Err(format!("the store closed waiting for {what}")),
            }
        }
    };
    tokio::time::timeout(PATIENCE, wait).await.unwrap_or_else(|_| Err(format!("no {what} within {PATIENCE:?}")))
}

fn changed_for(user: &str) -> impl Fn(&FeedNotice) -> bool + '_ {
    move |n| matches!(n, FeedNotice::Changed { app, subject } if app == APP && subject.to_string() == user)
}

/// Instance B: one store and one gate on the database in [`CHILD_DATABASE`], driven by the lines
/// on stdin, each answered by one line on stdout that starts with [`REPLY`]:
///
/// - `call <user>`: `ok` when a call needing `chosen_location` would run, else
///   `refused events=<n>` (`n`: need-authorization events raised so far);
/// - `wait-changed <user>`: `changed <user>` once the store's notices delivered that user's change
///   (notices are read in order from a receiver taken at start, so none is missed);
/// - `wait-down`, `wait-resynced`: `down`, `resynced`, likewise for the listener's notices;
/// - `listening`: `listening <true|false>`;
/// - `quit`, or the end of stdin: ends.
///
/// A failed wait answers `error <why>`.
mod child {
    use super::*;

    pub async fn run(url: &str, ttl: Option<Duration>) {
        let store = Arc::new(PostgresStore::connect(url).await.unwrap_or_else(|e| panic!("instance B: {e}")));
        let mut notices = store.notices();
        let (gate, events) = gate_on(Arc::clone(&store), ttl);
        let scopes = location(&gate);
        answer("ready");
        // Stdin read on a thread of its own (the crate's tokio has no `io-std`).
        let (tx, mut lines) = tokio::sync::mpsc::unbounded_channel::<String>();
        std::thread::spawn(move || {
            for line in std::io::stdin().lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        while let Some(line) = lines.recv().await {
            let (command, arg) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
            let reply = match command {
                "call" => match gate.check("chooseLocation", scopes, arg).await {
                    Ok(()) => "ok".to_owned(),
                    Err(e) => format!("refused events={} ({e})", events.load(Ordering::SeqCst)),
                },
                "wait-changed" => match wait_for_notice(&mut notices, "Changed", changed_for(arg)).await {
                    Ok(()) => format!("changed {arg}"),
                    Err(e) => format!("error {e}"),
                },
                "wait-down" => match wait_for_notice(&mut notices, "Down", |n| *n == FeedNotice::Down).await {
                    Ok(()) => "down".to_owned(),
                    Err(e) => format!("error {e}"),
                },
                "wait-resynced" => {
                    match wait_for_notice(&mut notices, "Resynced", |n| *n == FeedNotice::Resynced).await {
                        Ok(()) => "resynced".to_owned(),
                        Err(e) => format!("error {e}"),
                    }
                }
                "listening" => format!("listening {}", store.is_listening()),
                "quit" => break,
                other => format!("error unknown command {other:?}"),
            };
            answer(&reply);
        }
    }

    /// One answer line to the parent, flushed at once.
    fn answer(reply: &str) {
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{REPLY}{reply}").and_then(|()| out.flush()).unwrap_or_else(|e| panic!("instance B: {e}"));
    }
}

/// The child process, as the parent sees it.
struct InstanceB {
    process: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl InstanceB {
    /// Instance B on the database at `url`, its authorizations open for `ttl` (default if `None`).
    async fn start(url: &str, ttl: Option<Duration>) -> InstanceB {
        let exe = std::env::current_exe().unwrap_or_else(|e| panic!("cannot find the test binary: {e}"));
        let mut command = Command::new(exe);
        command.args(["--exact", CHILD_TEST, "--nocapture", "--ignored"]).env(CHILD_DATABASE, url);
        if let Some(ttl) = ttl {
            command.env(CHILD_TTL_MS, ttl.as_millis().to_string());
        }
        let mut process = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start instance B: {e}"));
        let stdin = process.stdin.take().unwrap_or_else(|| panic!("instance B has no stdin"));
        let stdout =
            BufReader::new(process.stdout.take().unwrap_or_else(|| panic!("instance B has no stdout"))).lines();
        let mut b = InstanceB { process, stdin, stdout };
        assert_eq!(b.reply().await, "ready");
        b
    }

    /// The child's next answer.
    async fn reply(&mut self) -> String {
        let read = async {
            loop {
                match self.stdout.next_line().await {
                    Ok(Some(line)) => {
                        // Other lines are the harness's own ("running 1 test", ...).
                        if let Some(reply) = line.strip_prefix(REPLY) {
                            return reply.to_owned();
                        }
                    }
                    Ok(None) => panic!("instance B exited"),
                    Err(e) => panic!("reading from instance B: {e}"),
                }
            }
        };
        // The child bounds its own waits by PATIENCE; this only catches a child that hangs.
        tokio::time::timeout(PATIENCE * 2, read).await.unwrap_or_else(|_| panic!("instance B stopped answering"))
    }

    async fn ask(&mut self, command: &str) -> String {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await
            .unwrap_or_else(|e| panic!("writing to instance B: {e}"));
        self.stdin.flush().await.unwrap_or_else(|e| panic!("writing to instance B: {e}"));
        let reply = self.reply().await;
        assert!(!reply.starts_with("error"), "instance B, {command}: {reply}");
        reply
    }

    /// `Ok(())` when B's next call for `user` runs, else the refusal with B's event count.
    async fn call(&mut self, user: &str) -> Result<(), String> {
        match self.ask(&format!("call {user}")).await {
            ok if ok == "ok" => Ok(()),
            refused => Err(refused),
        }
    }

    async fn quit(mut self) {
        let _ = self.stdin.write_all(b"quit\n").await;
        drop(self.stdin);
        let status = tokio::time::timeout(PATIENCE, self.process.wait())
            .await
            .unwrap_or_else(|_| panic!("instance B did not exit"))
            .unwrap_or_else(|e| panic!("waiting for instance B: {e}"));
        assert!(status.success(), "instance B failed: {status}");
    }
}

fn events_of(refusal: &str) -> usize {
    refusal
        .strip_prefix("refused events=")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a refusal: {refusal}"))
}

/// A connection to the server's own database (not the test's: a database cannot close itself to
/// new connections from inside).
async fn admin() -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&database_url(), NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the server at DATABASE_URL: {e}"));
    tokio::spawn(connection);
    client
}

fn database_of(url: &str) -> &str {
    url.rsplit_once('/').map_or_else(|| panic!("{url} names no database"), |(_, name)| name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_database, ignore = "needs PostgreSQL: DATABASE_URL is not set (bash scripts/test starts one)")]
async fn a_change_in_one_process_reaches_the_other_across_a_lost_listener() {
    let url = fresh_database().await;
    let store_a = Arc::new(PostgresStore::connect(&url).await.unwrap_or_else(|e| panic!("instance A: {e}")));
    let mut notices_a = store_a.notices();
    let (a, events_a) = gate_on(Arc::clone(&store_a), None);
    let mut b = InstanceB::start(&url, None).await;

    // 1. B has no consent for u1: refused, and the event is raised.
    let refusal = b.call("u1").await.expect_err("no consent yet");
    assert_eq!(events_of(&refusal), 1, "{refusal}");
    // A agrees; once B's feed delivered the change, B's next call runs.
    a.tap_agree_button("u1", "agree-btn").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(b.ask("wait-changed u1").await, "changed u1");
    assert_eq!(b.call("u1").await, Ok(()), "B sees A's consent");
    assert_eq!(b.ask("listening").await, "listening true");

    // 2. Both listeners cut, and kept from reconnecting while A clears u1: B misses the
    // notification and only the resync can tell it.
    // Every pool connection of A opened first: A writes while the database takes no new ones.
    for _ in 0..8 {
        a.history("warm-up").await.unwrap_or_else(|e| panic!("{e}"));
    }
    let admin = admin().await;
    let name = database_of(&url);
    admin.batch_execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false")).await.unwrap();
    let cut = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = $2",
            &[&PostgresStore::LISTENER_APPLICATION_NAME, &name],
        )
        .await
        .unwrap();
    let terminated = cut.iter().filter(|r| r.get::<_, bool>(0)).count();
    assert_eq!(terminated, 2, "one listener per instance");
    assert_eq!(b.ask("wait-down").await, "down");
    wait_for_notice(&mut notices_a, "Down", |n| *n == FeedNotice::Down).await.unwrap();
    assert_eq!(b.ask("listening").await, "listening false");
    assert!(!store_a.is_listening());
    a.clear("u1").await.unwrap_or_else(|e| panic!("A clears while the listeners are down: {e}"));
    admin.batch_execute(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true")).await.unwrap();
    assert_eq!(b.ask("wait-resynced").await, "resynced");
    wait_for_notice(&mut notices_a, "Resynced", |n| *n == FeedNotice::Resynced).await.unwrap();
    assert_eq!(b.ask("listening").await, "listening true");
    assert!(store_a.is_listening());
    // B had u1's consent in its snapshot; the resync made it forget: the call is refused, and the
    // client is asked again.
    let refusal = b.call("u1").await.expect_err("B must see the clear made while it was deaf");
    assert_eq!(events_of(&refusal), 2, "the event is raised again: {refusal}");

    // 3. Live again: an agreement and a clear through A each reach B.
    a.tap_agree_button("u1", "agree-btn").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(b.ask("wait-changed u1").await, "changed u1");
    assert_eq!(b.call("u1").await, Ok(()), "B sees A's new consent");
    a.clear("u1").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(b.ask("wait-changed u1").await, "changed u1");
    let refusal = b.call("u1").await.expect_err("B must see the clear");
    assert_eq!(events_of(&refusal), 3, "the event is raised again: {refusal}");

    // And the other way: B's own calls never raised an event in A.
    assert_eq!(events_a.load(Ordering::SeqCst), 0);
    b.quit().await;
}

/// Instance B of the test above; run by it, and does nothing on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "child process of the propagation test"]
async fn propagation_child() {
    if let Ok(url) = std::env::var(CHILD_DATABASE) {
        let ttl = std::env::var(CHILD_TTL_MS)
            .ok()
            .map(|ms| Duration::from_millis(ms.parse().unwrap_or_else(|e| panic!("{CHILD_TTL_MS}={ms}: {e}"))));
        child::run(&url, ttl).await;
    }
}

/// With the default authorization lifetime, instance B's first authorization would outlive the
/// consent given through A; the change from the feed ends it, so after A clears, B's next call
/// raises the event again instead of joining it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_database, ignore = "needs PostgreSQL: DATABASE_URL is not set (bash scripts/test starts one)")]
async fn a_clear_from_another_instance_raises_the_event_again_with_the_default_ttl() {
    let url = fresh_database().await;
    let store_a = Arc::new(PostgresStore::connect(&url).await.unwrap_or_else(|e| panic!("instance A: {e}")));
    let (a, _) = gate_on(store_a, None);
    let mut b = InstanceB::start(&url, None).await;
    let refusal = b.call("u1").await.expect_err("no consent yet");
    assert_eq!(events_of(&refusal), 1, "{refusal}");
    a.tap_agree_button("u1", "agree-btn").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(b.ask("wait-changed u1").await, "changed u1");
    assert_eq!(b.call("u1").await, Ok(()));
    a.clear("u1").await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(b.ask("wait-changed u1").await, "changed u1");
    let refusal = b.call("u1").await.expect_err("B must see the clear");
    assert_eq!(events_of(&refusal), 2, "the event is raised again, with a new ticket: {refusal}");
    b.quit().await;
}
