//! A store in memory, for tests and single-process demos.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use super::{BoxFuture, ChangeFeed, ConsentEvent, ConsentRecord, ConsentStore, LedgerEntry, current_of};
use crate::error::StoreError;
use crate::subject::Subject;

type Histories = HashMap<(String, Subject), Vec<LedgerEntry>>;

/// A store in memory, for tests and single-process demos. Its history lasts as long as the
/// process.
///
/// Every gate built on one `MemoryStore` (share it as an `Arc`) sees the others' changes before
/// its next call decides: an append tells every subscribed gate before it returns.
#[derive(Default)]
pub struct MemoryStore {
    events: Mutex<Histories>,
    feeds: Mutex<Vec<ChangeFeed>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Histories) -> T) -> T {
        f(&mut self.events.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// The live subscriptions, closed ones dropped.
    fn feeds(&self) -> Vec<ChangeFeed> {
        let mut feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        feeds.retain(|f| !f.is_closed());
        feeds.clone()
    }
}

impl ConsentStore for MemoryStore {
    fn append<'a>(&'a self, app: &'a str, event: &'a ConsentEvent) -> BoxFuture<'a, Result<u64, StoreError>> {
        let seq = self.with(|m| {
            let history = m.entry((app.to_owned(), event.subject().clone())).or_default();
            let seq = history.len() as u64 + 1;
            history.push(LedgerEntry::new(app, seq, event.clone()));
            seq
        });
        // Told with no lock of the store held: a gate may read the store right away.
        if event.changes_consent() {
            for feed in self.feeds() {
                feed.changed(app, event.subject().as_ref());
            }
        }
        Box::pin(std::future::ready(Ok(seq)))
    }

    fn current<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Option<ConsentRecord>, StoreError>> {
        let r = self
            .with(|m| m.get(&(app.to_owned(), subject.clone())).and_then(|h| current_of(h.iter().map(|e| &e.event))));
        Box::pin(std::future::ready(Ok(r)))
    }

    fn history<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Vec<LedgerEntry>, StoreError>> {
        let r = self.with(|m| m.get(&(app.to_owned(), subject.clone())).cloned().unwrap_or_default());
        Box::pin(std::future::ready(Ok(r)))
    }

    fn subscribe(&self, feed: ChangeFeed) -> bool {
        let mut feeds = self.feeds.lock().unwrap_or_else(PoisonError::into_inner);
        // Gates built and dropped without a write leave nothing behind.
        feeds.retain(|f| !f.is_closed());
        feeds.push(feed);
        true
    }
}
