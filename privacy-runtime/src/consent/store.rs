//! The store contract: where consent events are appended and read back.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::{ChangeFeed, ConsentEvent, ConsentRecord, LedgerEntry};
use crate::error::StoreError;
use crate::subject::Subject;

/// A boxed, sendable future, the return type of the store's methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where consent is kept.
///
/// Methods return futures, so durable and networked stores fit behind the trait, and those
/// futures may need the executor they were created on: a store built on sqlx or
/// tokio-postgres awaits tokio's I/O and timers. The gate awaits them in its `async` methods;
/// its `_blocking` twins use the tokio runtime they run on (or the one the gate was built on),
/// and refuse, naming the async form, where they would have to block a current-thread runtime.
///
/// A store appends and never forgets: [`current`](ConsentStore::current) is derived from the
/// history ([`current_of`](crate::current_of) does it for a store that keeps events in order).
///
/// A gate keeps a snapshot of what it read. So that a change made through another gate or
/// another process reaches it, a store reports changes through [`subscribe`](Self::subscribe);
/// a store that cannot has each snapshot trusted for the gate's staleness bound only.
///
/// `Arc<S>` is a store when `S` is, so a test can keep a handle on the store it installed.
pub trait ConsentStore: Send + Sync + 'static {
    /// Appends `event` to the history of `app`. Returns only once the event is durable, with its
    /// sequence number in the subject's history: 1 for their first event, then one more for
    /// each, with no gaps, however many writers append at once. An error means the event may or
    /// may not be stored (a commit whose answer was lost); it is never acknowledged.
    fn append<'a>(&'a self, app: &'a str, event: &'a ConsentEvent) -> BoxFuture<'a, Result<u64, StoreError>>;

    /// The consent in force for `subject`: the latest agreement not followed by a clear or by its
    /// own expiry ([`current_of`](crate::current_of)).
    fn current<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Option<ConsentRecord>, StoreError>>;

    /// Every entry of `subject`, in sequence order.
    fn history<'a>(&'a self, app: &'a str, subject: &'a Subject)
    -> BoxFuture<'a, Result<Vec<LedgerEntry>, StoreError>>;

    /// Subscribes a gate to this store's changes. Returns `true` when the store will call
    /// [`ChangeFeed::changed`] for every event appended from now on (by anyone, once it is
    /// durable), and `false` (the default) when it cannot: the gate then re-reads a user whose
    /// snapshot is older than its staleness bound
    /// ([`GateBuilder::staleness_bound`](crate::GateBuilder::staleness_bound)).
    ///
    /// Called once, when the gate is built. Keep the feed; drop it when
    /// [`ChangeFeed::is_closed`].
    fn subscribe(&self, feed: ChangeFeed) -> bool {
        let _ = feed;
        false
    }
}

impl<S: ConsentStore + ?Sized> ConsentStore for Arc<S> {
    fn append<'a>(&'a self, app: &'a str, event: &'a ConsentEvent) -> BoxFuture<'a, Result<u64, StoreError>> {
        (**self).append(app, event)
    }

    fn current<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Option<ConsentRecord>, StoreError>> {
        (**self).current(app, subject)
    }

    fn history<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Vec<LedgerEntry>, StoreError>> {
        (**self).history(app, subject)
    }

    fn subscribe(&self, feed: ChangeFeed) -> bool {
        (**self).subscribe(feed)
    }
}
