//! The PostgreSQL store's change feed: one listening connection, probed, reconnected.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Client, Config, NoTls};

use super::{PostgresStore, Shared};

/// How often the listening connection is probed (`SELECT 1`), and how long a probe may take;
/// two unanswered probes in a row end it. A connection that died without a word (a cut
/// network, a dropped NAT mapping) is found within about four times this, not when TCP gives up
/// hours later.
const LISTENER_PROBE: Duration = Duration::from_secs(5);

/// A listening connection of its own, named in `pg_stat_activity`, and the notifications it
/// receives; the receiver ends when the connection does.
pub(super) async fn listen(
    config: &Config,
) -> Result<(Client, mpsc::UnboundedReceiver<String>), tokio_postgres::Error> {
    let mut config = config.clone();
    config.application_name(PostgresStore::LISTENER_APPLICATION_NAME);
    let (client, mut connection) = config.connect(NoTls).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(n))) => {
                    if tx.send(n.payload().to_owned()).is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                // Closed or failed: dropping `tx` tells the listener.
                Some(Err(_)) | None => return,
            }
        }
    });
    client.batch_execute("LISTEN privacy_consent_changed").await?;
    Ok((client, rx))
}

/// Delivers notifications; on a lost connection, marks the feed down, reconnects with backoff
/// (50 ms doubling to 2 s), listens, and marks it live again, which tells every gate to forget
/// what it read first. Ends with the store.
pub(super) async fn run_listener(
    shared: Weak<Shared>,
    config: Config,
    mut client: Client,
    mut notifications: mpsc::UnboundedReceiver<String>,
) {
    loop {
        let client_for_probe = Arc::new(client);
        let mut dead = probe(Arc::clone(&client_for_probe));
        loop {
            tokio::select! {
                payload = notifications.recv() => match (payload, shared.upgrade()) {
                    (Some(payload), Some(s)) => s.dispatch(&payload),
                    (None, Some(_)) => break,
                    (_, None) => return,
                },
                _ = &mut dead => break,
            }
        }
        drop(client_for_probe);
        match shared.upgrade() {
            Some(s) => s.set_live(false),
            None => return,
        }
        let mut backoff = Duration::from_millis(50);
        (client, notifications) = loop {
            match listen(&config).await {
                Ok(l) => break l,
                Err(_) => {
                    if shared.strong_count() == 0 {
                        return;
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        };
        match shared.upgrade() {
            Some(s) => s.set_live(true),
            None => return,
        }
    }
}

/// Probes the listening connection every [`LISTENER_PROBE`], beside the delivery of
/// notifications; the receiver completes once two probes in a row went unanswered (or the
/// connection closed).
fn probe(client: Arc<Client>) -> tokio::sync::oneshot::Receiver<()> {
    let (dead, is_dead) = tokio::sync::oneshot::channel();
    let weak = Arc::downgrade(&client);
    drop(client);
    tokio::spawn(async move {
        let mut misses = 0;
        loop {
            tokio::time::sleep(LISTENER_PROBE).await;
            let Some(client) = weak.upgrade() else { return };
            match tokio::time::timeout(LISTENER_PROBE, client.simple_query("SELECT 1")).await {
                Ok(Ok(_)) => misses = 0,
                Ok(Err(_)) if client.is_closed() => misses = 2,
                _ => misses += 1,
            }
            if misses >= 2 {
                let _ = dead.send(());
                return;
            }
        }
    });
    is_dead
}
