//! What the ledger tests share: a fresh database per test, the stores, and the guidelines.

use std::sync::atomic::{AtomicUsize, Ordering};

use privacy_runtime::tokio_postgres::{self, NoTls};
use privacy_runtime::{Guidelines, PostgresStore, SqliteStore, StoreError, Timestamp};

/// The seed's example: `chosen_location` from July 11, `werun` added July 13.
pub fn july_guidelines() -> Guidelines {
    Guidelines::builder("《示例小程序隐私保护指引》")
        .version(Timestamp::utc(2023, 7, 11, 0, 0, 0), ["chosen_location"])
        .version(Timestamp::utc(2023, 7, 13, 0, 0, 0), ["chosen_location", "werun"])
        .agree_button("agree-btn")
        .build()
        .unwrap_or_else(|e| panic!("the July guidelines build: {e}"))
}

/// The PostgreSQL server the tests use, from `DATABASE_URL`.
///
/// # Panics
/// When it is not set: tests that call this are compiled as ignored without it.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| {
        panic!("DATABASE_URL is not set: start a server with `eval \"$(bash scripts/pg-up)\"` or run bash scripts/test")
    })
}

static DATABASES: AtomicUsize = AtomicUsize::new(0);

/// A new, empty database on the `DATABASE_URL` server, so tests running at once share nothing.
/// Returns its URL.
pub async fn fresh_database() -> String {
    let url = database_url();
    let name = format!("ledger_{}_{}", std::process::id(), DATABASES.fetch_add(1, Ordering::Relaxed));
    let (client, connection) = tokio_postgres::connect(&url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot reach the PostgreSQL server at DATABASE_URL={url}: {e}"));
    let driver = tokio::spawn(connection);
    // Databases are copied from template1, which one copy at a time may read: others retry.
    let mut tries = 0;
    let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).await;
    while let Err(e) = client.batch_execute(&format!("CREATE DATABASE {name}")).await {
        tries += 1;
        assert!(tries < 200, "cannot create database {name}: {e:?}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    drop(client);
    let _ = driver.await;
    match url.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("DATABASE_URL={url} names no database"),
    }
}

/// A store on a fresh database.
pub async fn postgres_store() -> Result<PostgresStore, StoreError> {
    PostgresStore::connect(&fresh_database().await).await
}

/// A temporary directory, removed when dropped.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    /// A new, empty directory.
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "privacy-ledger-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        TempDir(dir)
    }

    /// A path inside it.
    pub fn join(&self, name: &str) -> std::path::PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A SQLite store in a fresh directory (kept alive by the returned guard).
pub async fn sqlite_store() -> Result<(SqliteStore, TempDir), StoreError> {
    let dir = TempDir::new("sqlite");
    let store = SqliteStore::open(dir.join("consent.db")).await?;
    Ok((store, dir))
}
