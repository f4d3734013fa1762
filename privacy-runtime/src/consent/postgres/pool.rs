//! The PostgreSQL store's connections: a few, each carrying many statements at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio_postgres::{Client, Config, NoTls, Statement};

use super::{APPEND, CONNECT_TIMEOUT, CURRENT, HISTORY, QUERY_TIMEOUT, RECONNECT_BACKOFF, error, timed_out};
use crate::error::StoreError;

/// A connection and its prepared statements.
#[derive(Clone)]
pub(super) struct Conn {
    pub(super) client: Arc<Client>,
    pub(super) append: Statement,
    pub(super) current: Statement,
    pub(super) history: Statement,
}

/// A few connections, each shared by many statements at once; a closed one is replaced when
/// next picked.
pub(super) struct Pool {
    config: Config,
    place: String,
    slots: Vec<tokio::sync::Mutex<Slot>>,
    next: AtomicUsize,
}

#[derive(Default)]
struct Slot {
    conn: Option<Conn>,
    /// The last failed connection attempt: when, and what it said.
    failed: Option<(std::time::Instant, StoreError)>,
}

impl Pool {
    pub(super) fn new(config: Config, size: usize, place: String) -> Pool {
        Pool {
            config,
            place,
            slots: (0..size).map(|_| tokio::sync::Mutex::new(Slot::default())).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// A live connection: the next slot's, or a new one. After a failed attempt, the slot answers
    /// with that failure for [`RECONNECT_BACKOFF`] rather than have every caller wait on a
    /// connection attempt of its own.
    pub(super) async fn get(&self) -> Result<(usize, Conn), StoreError> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let mut slot = self.slots[i].lock().await;
        if let Some(c) = slot.conn.as_ref().filter(|c| !c.client.is_closed()) {
            return Ok((i, c.clone()));
        }
        slot.conn = None;
        if let Some((at, e)) = &slot.failed
            && at.elapsed() < RECONNECT_BACKOFF
        {
            return Err(e.clone());
        }
        let prepared = async {
            let client = Arc::new(connect(&self.config).await?);
            Ok::<_, tokio_postgres::Error>(Conn {
                append: client.prepare(APPEND).await?,
                current: client.prepare(CURRENT).await?,
                history: client.prepare(HISTORY).await?,
                client,
            })
        };
        let conn = match tokio::time::timeout(CONNECT_TIMEOUT + QUERY_TIMEOUT, prepared).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return Err(self.failed(&mut slot, error(&self.place, "connecting", &e))),
            Err(_) => return Err(self.failed(&mut slot, timed_out(&self.place, "connecting"))),
        };
        slot.failed = None;
        slot.conn = Some(conn.clone());
        Ok((i, conn))
    }

    fn failed(&self, slot: &mut Slot, e: StoreError) -> StoreError {
        slot.failed = Some((std::time::Instant::now(), e.clone()));
        e
    }

    /// Drops slot `i`'s connection, whose state is unknown (a statement timed out on it).
    pub(super) async fn discard(&self, i: usize) {
        self.slots[i].lock().await.conn = None;
    }
}

/// A connection, driven on its own task until it closes.
pub(super) async fn connect(config: &Config) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        // Ends when the connection closes; the client then reports `is_closed`.
        let _ = connection.await;
    });
    Ok(client)
}
