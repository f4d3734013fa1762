//! The consent ledger in an SQLite file: the embedded store of a single process.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode};

use super::sql::{self, Row};
use super::{BoxFuture, ChangeFeed, ConsentEvent, ConsentRecord, ConsentStore, LedgerEntry, current_of};
use crate::error::StoreError;
use crate::subject::Subject;

/// The consent ledger in an SQLite file, for a backend that runs as one process.
///
/// - **Durable before acknowledged.** The file is in WAL mode with `synchronous = FULL`: an
///   [`append`](ConsentStore::append) returns only once its entry is on disk, and a crash or a
///   power cut never loses an acknowledged entry.
/// - **Append-only.** One row per entry in `privacy_consent_ledger`, never updated or deleted;
///   sequence numbers are gap-free. The schema is created, and migrated, when the store opens.
/// - **One process.** The store takes an advisory lock on `<file>-owner.lock` for as long as it
///   is open, so that its change feed sees every write: a second process opening the same file
///   is refused. Backends that share consent across processes use
///   [`PostgresStore`](crate::PostgresStore).
/// - **Fails closed.** Every error names the file and says what to do: a full disk, a file
///   locked by someone else, a damaged file. A gate refuses the calls it cannot decide.
///
/// The hot path never reads the file: a consented call is answered from the gate's snapshot.
///
/// ```
/// # tokio::runtime::Runtime::new()?.block_on(async {
/// use privacy_runtime::{Gate, Guidelines, SqliteStore, Timestamp};
/// let dir = std::env::temp_dir().join(format!("privacy-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let store = SqliteStore::open(dir.join("consent.db")).await?;
/// let guidelines = Guidelines::builder("《示例小程序隐私保护指引》")
///     .version(Timestamp::utc(2023, 7, 11, 0, 0, 0), ["chosen_location"])
///     .agree_button("agree-btn")
///     .build()?;
/// let gate = Gate::builder("wx1234", guidelines).store(store).build();
/// gate.tap_agree_button("openid-1", "agree-btn").await?;
/// assert_eq!(gate.history("openid-1").await?[0].seq, 1);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).map_err(|e| e.to_string())?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SqliteStore {
    shared: Arc<Shared>,
    /// The runtime whose blocking threads run SQLite: the one the store was opened on, so that
    /// its futures may be polled from anywhere.
    runtime: tokio::runtime::Handle,
}

struct Shared {
    path: PathBuf,
    place: String,
    /// The one connection that writes: appends are numbered in the order they take it.
    writer: Mutex<Writer>,
    /// Connections that read, reused.
    readers: Mutex<Vec<Connection>>,
    feeds: Mutex<Vec<ChangeFeed>>,
    /// Held while the store is open; the kernel lets go when the process ends, however it ends.
    _owner: std::fs::File,
}

/// The writing connection, and the next sequence number of users it wrote for lately: it is
/// the file's only writer (the owner lock, and this mutex), so a number it handed out cannot
/// have been taken by anyone else, and an append is one `INSERT … VALUES`, as cheap as a raw one.
struct Writer {
    conn: Connection,
    next: std::collections::HashMap<(String, String), i64>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.shared.path).finish_non_exhaustive()
    }
}

const APPEND: &str = "INSERT INTO privacy_consent_ledger
    (app, subject, seq, at_ms, kind, version_published_ms, version_sha256, scopes, button_id, prompt_style, action, referrer, entry)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

const NEXT_SEQ: &str = "SELECT COALESCE(MAX(seq), 0) + 1 FROM privacy_consent_ledger WHERE app = ?1 AND subject = ?2";

/// Users whose next sequence number the writer remembers; past this, it forgets them all and
/// reads the numbers again.
const REMEMBERED: usize = 65_536;

/// The latest agreement or clear, and the expiries after it: what `current_of` needs.
const CURRENT: &str = "SELECT seq, kind, entry FROM privacy_consent_ledger
    WHERE app = ?1 AND subject = ?2 AND kind IN ('agreed', 'cleared', 'expired')
      AND seq >= COALESCE((SELECT MAX(seq) FROM privacy_consent_ledger
                           WHERE app = ?1 AND subject = ?2 AND kind IN ('agreed', 'cleared')), 0)
    ORDER BY seq";

const HISTORY: &str =
    "SELECT seq, kind, entry FROM privacy_consent_ledger WHERE app = ?1 AND subject = ?2 ORDER BY seq";

/// How long a statement waits for a lock another connection holds before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Reader connections kept for reuse.
const READERS: usize = 4;

impl SqliteStore {
    /// Opens the ledger in the file at `path`, creating it (not its directory) if needed, and
    /// brings its schema up to date. Needs a tokio runtime.
    pub async fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_owned();
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| StoreError::new("SqliteStore::open needs a tokio runtime: call it from within one"))?;
        let shared = blocking(&runtime, move || Shared::open(path)).await??;
        Ok(SqliteStore { shared: Arc::new(shared), runtime })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// Runs `f` on a connection that reads the ledger, for SQL of your own (the connection is
    /// `query_only`: a write through it fails).
    pub async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let shared = Arc::clone(&self.shared);
        blocking(&self.runtime, move || shared.with_reader("reading it", f)).await?
    }
}

impl Shared {
    fn open(path: PathBuf) -> Result<Shared, StoreError> {
        let place = path.display().to_string();
        let owner = take_ownership(&path, &place)?;
        let writer = connect(&path, &place)?;
        migrate(&writer, &place)?;
        Ok(Shared {
            path,
            place,
            writer: Mutex::new(Writer { conn: writer, next: std::collections::HashMap::new() }),
            readers: Mutex::new(Vec::new()),
            feeds: Mutex::new(Vec::new()),
            _owner: owner,
        })
    }

    fn with_reader<T>(&self, doing: &str, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let kept = self.readers.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let conn = match kept {
            Some(c) => c,
            None => {
                let c = connect(&self.path, &self.place)?;
                c.pragma_update(None, "query_only", true).map_err(|e| error(&self.place, doing, e))?;
                c
            }
        };
        let result = f(&conn).map_err(|e| error(&self.place, doing, e));
        let mut readers = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if readers.len() < READERS {
            readers.push(conn);
        }
        result
    }

    fn append(&self, app: &str, event: &ConsentEvent) -> Result<u64, StoreError> {
        let row = Row::of(event)?;
        let subject = sql::subject_key(event.subject().as_ref());
        let doing = "appending a consent entry";
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (app.to_owned(), subject);
        let seq = match writer.next.get(&key) {
            Some(&seq) => seq,
            None => writer
                .conn
                .prepare_cached(NEXT_SEQ)
                .and_then(|mut st| st.query_row(rusqlite::params![app, key.1], |r| r.get::<_, i64>(0)))
                .map_err(|e| error(&self.place, doing, e))?,
        };
        let inserted = writer.conn.prepare_cached(APPEND).and_then(|mut st| {
            st.execute(rusqlite::params![
                app,
                key.1,
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
        });
        if let Err(e) = inserted {
            // Whatever the file holds now, the next append reads it.
            writer.next.remove(&key);
            return Err(error(&self.place, doing, e));
        }
        if writer.next.len() >= REMEMBERED {
            writer.next.clear();
        }
        writer.next.insert(key, seq + 1);
        u64::try_from(seq).map_err(|_| StoreError::new("a negative sequence number"))
    }

    fn entries(&self, app: &str, subject: &Subject, query: &'static str) -> Result<Vec<LedgerEntry>, StoreError> {
        let key = sql::subject_key(subject.as_ref());
        let rows = self.with_reader("reading a consent history", |c| {
            let mut st = c.prepare_cached(query)?;
            let rows = st.query_map(rusqlite::params![app, key], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })?;
        rows.into_iter().map(|(seq, kind, entry)| sql::decode(&self.place, app, &key, seq, &kind, &entry)).collect()
    }

    fn feeds(&self) -> Vec<ChangeFeed> {
        let mut feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        feeds.retain(|f| !f.is_closed());
        feeds.clone()
    }
}

/// Runs blocking SQLite work on tokio's blocking threads.
async fn blocking<T: Send + 'static>(
    runtime: &tokio::runtime::Handle,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, StoreError> {
    runtime.spawn_blocking(f).await.map_err(|e| {
        StoreError::new(format!(
            "the SQLite store's work could not run ({e}): the tokio runtime it was opened on has shut down, or the \
             task panicked; open the store on a runtime that outlives it"
        ))
    })
}

/// A connection with what the store's guarantees rest on: WAL, `synchronous = FULL`, a busy
/// timeout.
fn connect(path: &Path, place: &str) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(|e| error(place, "opening it", e))?;
    let setup = || -> rusqlite::Result<String> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        Ok(mode)
    };
    let mode = setup().map_err(|e| error(place, "opening it", e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::new(format!(
            "consent ledger {place}: its journal mode stayed {mode}, not WAL (is it on a file system without shared \
             memory, or open read-only?); put it on a local disk"
        )));
    }
    Ok(conn)
}

/// Locks `<path>-owner.lock`, so that one process at a time writes the file.
fn take_ownership(path: &Path, place: &str) -> Result<std::fs::File, StoreError> {
    let mut lock_path = path.as_os_str().to_owned();
    lock_path.push("-owner.lock");
    let lock_path = PathBuf::from(lock_path);
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(|e| {
        StoreError::with_source(
            format!(
                "consent ledger {place}: cannot create its lock file {}; check that the directory exists and this \
                 process may write to it",
                lock_path.display()
            ),
            e,
        )
    })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::new(format!(
            "consent ledger {place} is already open (another process, or another SqliteStore in this one, holds \
             {}); an SQLite ledger has one owner: share that store (it is cheap to wrap in an Arc), stop the \
             other process, or share consent between processes with PostgresStore",
            lock_path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(StoreError::with_source(format!("consent ledger {place}: cannot lock {}", lock_path.display()), e))
        }
    }
}

/// Applies the migrations this build knows and the file lacks, in one transaction.
fn migrate(conn: &Connection, place: &str) -> Result<(), StoreError> {
    let run = || -> rusqlite::Result<Option<i64>> {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let inner = || -> rusqlite::Result<Option<i64>> {
            conn.execute_batch(sql::SCHEMA_TABLE)?;
            let found: i64 =
                conn.query_row("SELECT COALESCE(MAX(version), 0) FROM privacy_schema", [], |r| r.get(0))?;
            if found > sql::newest_schema() {
                return Ok(Some(found));
            }
            for (version, description, statements) in sql::MIGRATIONS.iter().filter(|m| m.0 > found) {
                conn.execute_batch(statements)?;
                conn.execute(
                    "INSERT INTO privacy_schema (version, description, applied_at_ms) VALUES (?1, ?2, ?3)",
                    rusqlite::params![
                        version,
                        description,
                        crate::clock::Clock::now(&crate::clock::SystemClock).unix_millis()
                    ],
                )?;
            }
            Ok(None)
        };
        match inner() {
            Ok(None) => conn.execute_batch("COMMIT").map(|()| None),
            other => {
                let _ = conn.execute_batch("ROLLBACK");
                other
            }
        }
    };
    match run() {
        Ok(None) => Ok(()),
        Ok(Some(found)) => Err(sql::schema_too_new(place, found)),
        Err(e) => Err(error(place, "migrating its schema", e)),
    }
}

/// A store error that names the file and says what to do.
fn error(place: &str, doing: &str, e: rusqlite::Error) -> StoreError {
    let hint = match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            "the database is locked by another connection or process; retry once it is done, or stop what holds it"
        }
        Some(ErrorCode::DiskFull) => "the disk is full; free space on the disk that holds it, then retry",
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            "the file is damaged or is not an SQLite database; it was left as it is: restore it from a backup, or \
             point the store at another file"
        }
        Some(ErrorCode::SystemIoFailure) => "a disk I/O error; check the disk and the file's permissions",
        Some(ErrorCode::CannotOpen) => {
            "the file cannot be opened; check that its directory exists and this process may write there"
        }
        Some(ErrorCode::ReadOnly) => "the file is read-only; give this process write access to it and its directory",
        Some(ErrorCode::PermissionDenied) => "permission denied; give this process access to the file",
        _ => "the database refused it",
    };
    StoreError::with_source(format!("consent ledger {place}: {doing} failed: {hint} ({e})"), e)
}

impl ConsentStore for SqliteStore {
    fn append<'a>(&'a self, app: &'a str, event: &'a ConsentEvent) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let (shared, owned_app, owned) = (Arc::clone(&self.shared), app.to_owned(), event.clone());
            // The gates are told on the blocking thread, right after the commit: a caller that
            // stops waiting cannot keep a stored change from reaching them.
            blocking(&self.runtime, move || {
                let seq = shared.append(&owned_app, &owned)?;
                if owned.changes_consent() {
                    for feed in shared.feeds() {
                        feed.changed(&owned_app, owned.subject().as_ref());
                    }
                }
                Ok(seq)
            })
            .await?
        })
    }

    fn current<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Option<ConsentRecord>, StoreError>> {
        Box::pin(async move {
            let (shared, app, subject) = (Arc::clone(&self.shared), app.to_owned(), subject.clone());
            let found = blocking(&self.runtime, move || shared.entries(&app, &subject, CURRENT)).await??;
            Ok(current_of(found.iter().map(|e| &e.event)))
        })
    }

    fn history<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Vec<LedgerEntry>, StoreError>> {
        Box::pin(async move {
            let (shared, app, subject) = (Arc::clone(&self.shared), app.to_owned(), subject.clone());
            blocking(&self.runtime, move || shared.entries(&app, &subject, HISTORY)).await?
        })
    }

    fn subscribe(&self, feed: ChangeFeed) -> bool {
        let mut feeds = self.shared.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        feeds.retain(|f| !f.is_closed());
        feeds.push(feed);
        // This process is the only writer (the owner lock), and it tells every gate.
        true
    }
}
