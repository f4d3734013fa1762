//! The consent ledger in PostgreSQL: one ledger for several backend instances, with
//! LISTEN/NOTIFY as the change feed.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc};
use tokio_postgres::Config;
use tokio_postgres::config::Host;

mod listen;
mod pool;

use listen::{listen, run_listener};
use pool::{Pool, connect};

use super::sql::{self, Row};
use super::{BoxFuture, ChangeFeed, ConsentEvent, ConsentRecord, ConsentStore, LedgerEntry, current_of};
use crate::error::StoreError;
use crate::subject::Subject;

/// What a [`PostgresStore`]'s listener saw, for monitoring and for tests that wait on it
/// ([`PostgresStore::notices`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FeedNotice {
    /// Another instance changed `subject`'s consent in `app`; this instance's gates were told.
    Changed {
        /// The app.
        app: String,
        /// The user.
        subject: Subject,
    },
    /// The listening connection was lost: the gates fall back to their staleness bound.
    Down,
    /// Listening again; every gate forgot what it read, since changes may have been missed.
    Resynced,
}

/// The consent ledger in PostgreSQL, for backends that run as several instances.
///
/// - **One ledger, many instances.** Every instance appends to `privacy_consent_ledger`. The
///   store's writer commits the appends waiting in batches, one statement each, which numbers
///   every row with its subject's next sequence number; a batch that lost the race for a number
///   to another instance is numbered again, so sequences stay gap-free and in order with any
///   number of writers.
/// - **Durable before acknowledged.** An append returns once its batch committed; the store's
///   sessions always run with `synchronous_commit = on`. A lost connection mid-write is an error:
///   the entry is not acknowledged, and may or may not be stored.
/// - **The change feed.** The same statement sends `NOTIFY privacy_consent_changed` for every
///   entry that changes consent, delivered when it commits. Each store keeps one listening
///   connection; a notification from another instance reaches this instance's gates as
///   [`ChangeFeed::changed`]. That connection is probed every 5 s (`SELECT 1`, 5 s to answer)
///   beside the delivery of notifications; two probes unanswered in a row end it, so one that
///   died without a word is found within about 20 s. When it is lost, the gates are told the feed
///   is down (they trust what they read for their staleness bound only); the store reconnects
///   with backoff, listens again, then tells every gate to forget what it read (anything may have
///   changed meanwhile), then that the feed is live.
/// - **Fails closed.** An unreachable server, a full disk, a lost connection: the error names
///   the server and says what to do, and a gate refuses the calls it cannot decide.
///
/// The schema is created, and migrated, when the store connects (instances starting together
/// take turns on an advisory lock).
pub struct PostgresStore {
    inner: Arc<Shared>,
    listener: tokio::task::JoinHandle<()>,
    /// The runtime the store was connected on: every statement runs there, so a call polled from
    /// anywhere (a plain thread, another executor) works, and a caller that gives up half way
    /// cannot stop an acknowledged write from being reported to the gates.
    runtime: tokio::runtime::Handle,
}

struct Shared {
    pool: Pool,
    /// Appends waiting for the writer, which commits them in batches.
    writes: mpsc::UnboundedSender<Pending>,
    place: String,
    /// Tells this store's own notifications from other instances'.
    instance: String,
    feeds: Mutex<Vec<ChangeFeed>>,
    live: AtomicBool,
    notices: broadcast::Sender<FeedNotice>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").field("server", &self.inner.place).finish_non_exhaustive()
    }
}

/// Appends a batch of entries in one statement (one commit, so one flush for the whole
/// batch): each row gets the next number of its subject, in the batch's order, and each entry
/// that changes consent sends its notification, delivered at commit. Returns (position in the
/// batch, seq).
const APPEND: &str = "WITH input AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::bigint[], $6::text[], $7::text[],
                             $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bool[], $14::text[])
            WITH ORDINALITY AS t(app, subject, at_ms, kind, version_published_ms, version_sha256, scopes, button_id,
                                 prompt_style, action, referrer, entry, notify, payload, ord)),
    numbered AS (
        SELECT input.*,
               COALESCE((SELECT MAX(l.seq) FROM privacy_consent_ledger l
                         WHERE l.app = input.app AND l.subject = input.subject), 0)
               + ROW_NUMBER() OVER (PARTITION BY input.app, input.subject ORDER BY input.ord) AS seq
        FROM input),
    ins AS (
        INSERT INTO privacy_consent_ledger
            (app, subject, seq, at_ms, kind, version_published_ms, version_sha256, scopes, button_id, prompt_style,
             action, referrer, entry)
        SELECT app, subject, seq, at_ms, kind, version_published_ms, version_sha256, scopes, button_id, prompt_style,
               action, referrer, entry
        FROM numbered)
    SELECT ord, seq, CASE WHEN notify THEN pg_notify($15::text, payload) END FROM numbered ORDER BY ord";

/// The most entries one append statement carries.
const MAX_BATCH: usize = 256;

/// The latest agreement or clear, and the expiries after it: what `current_of` needs.
const CURRENT: &str = "SELECT seq, kind, entry FROM privacy_consent_ledger
    WHERE app = $1::text AND subject = $2::text AND kind IN ('agreed', 'cleared', 'expired')
      AND seq >= COALESCE((SELECT MAX(seq) FROM privacy_consent_ledger
                           WHERE app = $1::text AND subject = $2::text AND kind IN ('agreed', 'cleared')), 0)
    ORDER BY seq";

const HISTORY: &str =
    "SELECT seq, kind, entry FROM privacy_consent_ledger WHERE app = $1::text AND subject = $2::text ORDER BY seq";

/// The longest payload PostgreSQL delivers is 8000 bytes; a longer one asks for a resync.
const MAX_PAYLOAD: usize = 7900;

/// How many times an append retries after losing the race for a sequence number.
const SEQ_RETRIES: usize = 64;

/// How long connecting may take before the server is reported unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a statement may take before the store reports the server unavailable (and drops
/// the connection, whose state is then unknown).
const QUERY_TIMEOUT: Duration = Duration::from_secs(10);

/// After a failed connection, how long callers are answered with that failure rather than each
/// waiting for a connection attempt of their own.
const RECONNECT_BACKOFF: Duration = Duration::from_secs(1);

/// Connections kept by default. Each one carries many statements at once (pipelined).
const DEFAULT_CONNECTIONS: usize = 4;

impl PostgresStore {
    /// The notification channel every instance listens on.
    pub const CHANNEL: &'static str = "privacy_consent_changed";

    /// The `application_name` of the connection that listens, to find it in `pg_stat_activity`.
    pub const LISTENER_APPLICATION_NAME: &'static str = "privacy-runtime-listener";

    /// Connects to the database at `url` (`postgres://user:password@host:port/database`, or
    /// `host=… user=… dbname=…`), creates or migrates the schema, and starts listening.
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        let config = Config::from_str(url).map_err(|e| {
            StoreError::with_source(
                "the PostgreSQL URL does not parse; write it as postgres://user:password@host:port/database",
                e,
            )
        })?;
        PostgresStore::connect_with(config, DEFAULT_CONNECTIONS).await
    }

    /// Connects with a configuration of your own and `connections` connections (at least 1).
    /// Unless the configuration sets one, connecting times out after 5 s.
    ///
    /// Whatever the configuration says, the store's sessions commit synchronously
    /// (`synchronous_commit = on`: an acknowledged entry survives a server crash) at `read
    /// committed` isolation, and TCP keepalives are on.
    pub async fn connect_with(mut config: Config, connections: usize) -> Result<PostgresStore, StoreError> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| StoreError::new("PostgresStore::connect needs a tokio runtime: call it from within one"))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.keepalives(true);
        if config.get_keepalives_idle() > Duration::from_secs(30) {
            config.keepalives_idle(Duration::from_secs(30));
        }
        if config.get_tcp_user_timeout().is_none() {
            // Unacknowledged data for this long ends the connection (Linux).
            config.tcp_user_timeout(QUERY_TIMEOUT * 3);
        }
        let options = config.get_options().map(str::to_owned).unwrap_or_default();
        config.options(format!("{options} -c synchronous_commit=on -c default_transaction_isolation=read\\ committed"));
        let place = place_of(&config);
        migrate(&config, &place).await?;
        let pool = Pool::new(config.clone(), connections.max(1), place.clone());
        pool.get().await?;
        let (listening, notifications) =
            listen(&config).await.map_err(|e| error(&place, "listening for changes", &e))?;
        let mut id = [0u8; 8];
        getrandom::fill(&mut id).map_err(|e| StoreError::new(format!("no randomness for an instance id: {e}")))?;
        let instance = id.iter().map(|b| format!("{b:02x}")).collect();
        let (writes, queue) = mpsc::unbounded_channel();
        let inner = Arc::new(Shared {
            pool,
            writes,
            place,
            instance,
            feeds: Mutex::new(Vec::new()),
            live: AtomicBool::new(true),
            notices: broadcast::channel(1024).0,
        });
        runtime.spawn(run_writer(Arc::downgrade(&inner), queue));
        let listener = runtime.spawn(run_listener(Arc::downgrade(&inner), config, listening, notifications));
        Ok(PostgresStore { inner, listener, runtime })
    }

    /// Where the store connects, as `postgres://user@host:port/database` (no password).
    pub fn server(&self) -> &str {
        &self.inner.place
    }

    /// What the listener sees from now on: changes made by other instances, the connection lost,
    /// listening again. A receiver that falls more than 1,024 notices behind loses the oldest.
    pub fn notices(&self) -> broadcast::Receiver<FeedNotice> {
        self.inner.notices.subscribe()
    }

    /// `true` while the listening connection is up.
    pub fn is_listening(&self) -> bool {
        self.inner.live.load(Ordering::Acquire)
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// The error of a statement the server did not answer in time.
fn timed_out(place: &str, doing: &str) -> StoreError {
    StoreError::new(format!(
        "consent ledger at {place}: {doing} failed: the server did not answer within {} s (a cut network, or \
         an overloaded server); nothing was acknowledged, and a write may or may not be stored (the gate reads \
         it back before deciding); check the server and the network",
        QUERY_TIMEOUT.as_secs()
    ))
}

/// An append waiting for the writer.
struct Pending {
    app: String,
    subject: String,
    event_subject: Subject,
    row: Row,
    notify: bool,
    payload: String,
    reply: tokio::sync::oneshot::Sender<Result<u64, StoreError>>,
}

/// Commits the appends waiting, up to [`MAX_BATCH`] at a time, in one statement each: appends
/// that arrive while one commit is flushed share the next (the server serializes commits that
/// notify, so one flush per append would cap every instance together at the disk's flush rate).
/// Once a batch is stored, this instance's gates are told, then each caller; a caller that
/// stopped waiting changes nothing. Ends with the store.
async fn run_writer(shared: Weak<Shared>, mut queue: mpsc::UnboundedReceiver<Pending>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let Some(store) = shared.upgrade() else { return };
        match store.write_batch(&batch).await {
            Ok(seqs) => {
                for (p, seq) in batch.into_iter().zip(seqs) {
                    if p.notify {
                        for feed in store.feeds() {
                            feed.changed(&p.app, p.event_subject.as_ref());
                        }
                    }
                    let _ = p.reply.send(Ok(seq));
                }
            }
            Err(e) => {
                for p in batch {
                    let _ = p.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// A lost race for a sequence number: a unique violation, or a serialization failure or
/// deadlock under a stricter isolation level.
fn is_race(e: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    e.code().is_some_and(|c| {
        *c == SqlState::UNIQUE_VIOLATION
            || *c == SqlState::T_R_SERIALIZATION_FAILURE
            || *c == SqlState::T_R_DEADLOCK_DETECTED
    })
}

impl Shared {
    fn feeds(&self) -> Vec<ChangeFeed> {
        let mut feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        feeds.retain(|f| !f.is_closed());
        feeds.clone()
    }

    fn set_live(&self, live: bool) {
        let was = self.live.swap(live, Ordering::AcqRel);
        if was == live {
            return;
        }
        for feed in self.feeds() {
            if live {
                // Listening again: first forget, then trust.
                feed.resync();
            }
            feed.set_live(live);
        }
        let _ = self.notices.send(if live { FeedNotice::Resynced } else { FeedNotice::Down });
    }

    fn dispatch(&self, payload: &str) {
        let mut parts = payload.splitn(3, '\t');
        let (Some(instance), Some(app)) = (parts.next(), parts.next()) else { return };
        if instance == self.instance {
            return;
        }
        match parts.next().and_then(sql::subject_of_key) {
            Some(subject) => {
                for feed in self.feeds() {
                    feed.changed(app, subject.as_ref());
                }
                let _ = self.notices.send(FeedNotice::Changed { app: app.to_owned(), subject });
            }
            // Too long to send, or not understood: anything may have changed.
            None => {
                for feed in self.feeds() {
                    feed.resync();
                }
                let _ = self.notices.send(FeedNotice::Resynced);
            }
        }
    }

    /// Writes `batch` in one statement; a batch that lost a race for a number (another instance
    /// wrote for one of its users meanwhile) is written again, whole.
    async fn write_batch(&self, batch: &[Pending]) -> Result<Vec<u64>, StoreError> {
        let doing = "appending a consent entry";
        let col = |f: fn(&Pending) -> Option<&str>| batch.iter().map(f).collect::<Vec<_>>();
        let apps: Vec<&str> = batch.iter().map(|p| p.app.as_str()).collect();
        let subjects: Vec<&str> = batch.iter().map(|p| p.subject.as_str()).collect();
        let at_ms: Vec<i64> = batch.iter().map(|p| p.row.at_ms).collect();
        let kinds: Vec<&str> = batch.iter().map(|p| p.row.kind).collect();
        let published: Vec<Option<i64>> = batch.iter().map(|p| p.row.version_published_ms).collect();
        let sha = col(|p| p.row.version_sha256.as_deref());
        let scopes = col(|p| p.row.scopes.as_deref());
        let buttons = col(|p| p.row.button_id.as_deref());
        let styles = col(|p| p.row.prompt_style);
        let actions = col(|p| p.row.action.as_deref());
        let referrers = col(|p| p.row.referrer.as_deref());
        let entries: Vec<&str> = batch.iter().map(|p| p.row.entry.as_str()).collect();
        let notify: Vec<bool> = batch.iter().map(|p| p.notify).collect();
        let payloads: Vec<&str> = batch.iter().map(|p| p.payload.as_str()).collect();
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 15] = [
            &apps,
            &subjects,
            &at_ms,
            &kinds,
            &published,
            &sha,
            &scopes,
            &buttons,
            &styles,
            &actions,
            &referrers,
            &entries,
            &notify,
            &payloads,
            &PostgresStore::CHANNEL,
        ];
        let mut tries = 0;
        loop {
            let (slot, conn) = self.pool.get().await?;
            let rows = match tokio::time::timeout(QUERY_TIMEOUT, conn.client.query(&conn.append, &params)).await {
                Ok(rows) => rows,
                Err(_) => {
                    self.pool.discard(slot).await;
                    return Err(timed_out(&self.place, doing));
                }
            };
            match rows {
                Ok(rows) => {
                    let mut seqs = vec![0; batch.len()];
                    for r in &rows {
                        let ord: i64 = r.try_get(0).map_err(|e| error(&self.place, doing, &e))?;
                        let seq: i64 = r.try_get(1).map_err(|e| error(&self.place, doing, &e))?;
                        let slot = usize::try_from(ord - 1).ok().and_then(|i| seqs.get_mut(i));
                        match (slot, u64::try_from(seq)) {
                            (Some(s), Ok(seq)) => *s = seq,
                            _ => {
                                return Err(StoreError::new(format!(
                                    "{}: the server numbered an entry {ord}/{seq}",
                                    self.place
                                )));
                            }
                        }
                    }
                    if rows.len() != batch.len() || seqs.contains(&0) {
                        return Err(StoreError::new(format!(
                            "consent ledger at {}: the server answered {} rows for {} entries",
                            self.place,
                            rows.len(),
                            batch.len()
                        )));
                    }
                    return Ok(seqs);
                }
                // Another writer took a number (or, under a stricter isolation, the transaction
                // could not be serialized): number the batch again.
                Err(e) if is_race(&e) && tries < SEQ_RETRIES => tries += 1,
                Err(e) if is_race(&e) => {
                    return Err(StoreError::with_source(
                        format!(
                            "consent ledger at {}: appending a consent entry failed: {SEQ_RETRIES} other writes to \
                             the same users won the race for the next sequence number in a row; nothing was \
                             acknowledged, retry the write",
                            self.place
                        ),
                        CloneError(e.to_string()),
                    ));
                }
                Err(e) => return Err(error(&self.place, doing, &e)),
            }
        }
    }

    async fn entries(&self, app: &str, subject: &Subject, history: bool) -> Result<Vec<LedgerEntry>, StoreError> {
        let key = sql::subject_key(subject.as_ref());
        let doing = "reading a consent history";
        let (slot, conn) = self.pool.get().await?;
        let statement = if history { &conn.history } else { &conn.current };
        let rows = match tokio::time::timeout(QUERY_TIMEOUT, conn.client.query(statement, &[&app, &key])).await {
            Ok(rows) => rows.map_err(|e| error(&self.place, doing, &e))?,
            Err(_) => {
                self.pool.discard(slot).await;
                return Err(timed_out(&self.place, doing));
            }
        };
        rows.iter()
            .map(|r| {
                let seq: i64 = r.try_get(0).map_err(|e| error(&self.place, doing, &e))?;
                let kind: &str = r.try_get(1).map_err(|e| error(&self.place, doing, &e))?;
                let entry: &str = r.try_get(2).map_err(|e| error(&self.place, doing, &e))?;
                sql::decode(&self.place, app, &key, seq, kind, entry)
            })
            .collect()
    }
}

fn place_of(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("");
    format!("postgres://{user}@{host}:{port}/{}", config.get_dbname().unwrap_or(user))
}

/// Applies the migrations this build knows and the database lacks, in one transaction under an
/// advisory lock, so that instances starting together take turns.
async fn migrate(config: &Config, place: &str) -> Result<(), StoreError> {
    let run = async {
        let mut client = connect(config).await?;
        let tx = client.transaction().await?;
        // "privacy" in ASCII, as a number: the lock every instance migrating this database takes.
        tx.batch_execute("SELECT pg_advisory_xact_lock(31632287244838265)").await?;
        tx.batch_execute(sql::SCHEMA_TABLE).await?;
        let found: i64 =
            tx.query_one("SELECT COALESCE(MAX(version), 0)::BIGINT FROM privacy_schema", &[]).await?.try_get(0)?;
        if found > sql::newest_schema() {
            return Ok(Some(found));
        }
        for (version, description, statements) in sql::MIGRATIONS.iter().filter(|m| m.0 > found) {
            tx.batch_execute(statements).await?;
            let now = crate::clock::Clock::now(&crate::clock::SystemClock).unix_millis();
            tx.execute(
                "INSERT INTO privacy_schema (version, description, applied_at_ms) VALUES ($1, $2, $3)",
                &[version, description, &now],
            )
            .await?;
        }
        tx.commit().await?;
        Ok::<_, tokio_postgres::Error>(None)
    };
    match run.await {
        Ok(None) => Ok(()),
        Ok(Some(found)) => Err(sql::schema_too_new(place, found)),
        Err(e) => Err(error(place, "migrating the schema", &e)),
    }
}

/// A store error that names the server and says what to do.
fn error(place: &str, doing: &str, e: &tokio_postgres::Error) -> StoreError {
    let writing = doing.starts_with("appending");
    let hint: String = match e.code().map(tokio_postgres::error::SqlState::code) {
        Some("53100") => "the server's disk is full; free space on it, then retry".into(),
        Some("53200" | "53300") => "the server is out of memory or connections; retry, or raise its limits".into(),
        Some("57P01" | "57P02" | "57P03") => {
            "the server is shutting down or starting up; retry once it is back (nothing was acknowledged)".into()
        }
        Some("28P01" | "28000") => "the server refused the login; check the user and password in the URL".into(),
        Some("3D000") => "the database does not exist; create it (createdb) or fix the URL".into(),
        Some("42501") => "permission denied; grant this user CREATE, INSERT and SELECT on the ledger".into(),
        Some("25006") => "the server is read-only (a standby?); point the store at the primary".into(),
        Some(code) => format!("the server refused it (SQLSTATE {code})"),
        None if writing => "the connection was lost while writing: the entry was not acknowledged and may or may \
                            not be stored (the gate reads it back before deciding); check that the server is up"
            .into(),
        None => "cannot reach the server; check that PostgreSQL runs there and accepts connections, and that the \
                 URL (host, port, database, user) is right"
            .into(),
    };
    StoreError::with_source(
        format!("consent ledger at {place}: {doing} failed: {hint} ({e})"),
        CloneError(e.to_string()),
    )
}

/// The cause of a store error, as text (the driver's error is not `Clone`).
#[derive(Debug)]
struct CloneError(String);

impl std::fmt::Display for CloneError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CloneError {}

/// The result of a statement run on the store's runtime.
async fn joined<T>(task: tokio::task::JoinHandle<Result<T, StoreError>>) -> Result<T, StoreError> {
    task.await.unwrap_or_else(|e| {
        Err(StoreError::new(format!(
            "the PostgreSQL store's runtime is gone ({e}); the store cannot be used once the runtime it was \
             connected on has shut down"
        )))
    })
}

impl ConsentStore for PostgresStore {
    fn append<'a>(&'a self, app: &'a str, event: &'a ConsentEvent) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let row = Row::of(event)?;
            let subject = sql::subject_key(event.subject().as_ref());
            let mut payload = format!("{}\t{app}\t{subject}", self.inner.instance);
            if payload.len() > MAX_PAYLOAD {
                payload = format!("{}\t*", self.inner.instance);
            }
            let (reply, answer) = tokio::sync::oneshot::channel();
            // The writer carries it to the end: a caller that stops waiting cannot keep a stored
            // change from reaching this instance's gates (told before the caller; the others
            // through NOTIFY).
            let pending = Pending {
                app: app.to_owned(),
                subject,
                event_subject: event.subject().clone(),
                row,
                notify: event.changes_consent(),
                payload,
                reply,
            };
            let gone = || {
                StoreError::new(format!(
                    "consent ledger at {}: the store's writer is gone: the tokio runtime it was connected on has \
                     shut down; connect the store on a runtime that outlives it",
                    self.inner.place
                ))
            };
            self.inner.writes.send(pending).map_err(|_| gone())?;
            answer.await.map_err(|_| gone())?
        })
    }

    fn current<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Option<ConsentRecord>, StoreError>> {
        let (inner, app, subject) = (Arc::clone(&self.inner), app.to_owned(), subject.clone());
        let task = self.runtime.spawn(async move {
            let found = inner.entries(&app, &subject, false).await?;
            Ok(current_of(found.iter().map(|e| &e.event)))
        });
        Box::pin(joined(task))
    }

    fn history<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Vec<LedgerEntry>, StoreError>> {
        let (inner, app, subject) = (Arc::clone(&self.inner), app.to_owned(), subject.clone());
        Box::pin(joined(self.runtime.spawn(async move { inner.entries(&app, &subject, true).await })))
    }

    fn subscribe(&self, feed: ChangeFeed) -> bool {
        let mut feeds = self.inner.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        feeds.retain(|f| !f.is_closed());
        if !self.inner.live.load(Ordering::Acquire) {
            // Subscribed while the listener is down: live once it is back.
            feed.set_live(false);
        }
        feeds.push(feed);
        true
    }
}
