//! Stores and dates the integration tests share.
#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use privacy_runtime::*;

/// The seed's July example: version 1 is published on the 11th, the consent given on the 12th,
/// the new version on the 13th.
pub fn july_11() -> Timestamp {
    Timestamp::utc(2023, 7, 11, 0, 0, 0)
}

/// July 12, 2023, midnight UTC.
pub fn july_12() -> Timestamp {
    Timestamp::utc(2023, 7, 12, 0, 0, 0)
}

/// July 13, 2023, midnight UTC.
pub fn july_13() -> Timestamp {
    Timestamp::utc(2023, 7, 13, 0, 0, 0)
}

/// July 14, 2023, midnight UTC.
pub fn july_14() -> Timestamp {
    Timestamp::utc(2023, 7, 14, 0, 0, 0)
}

/// A store whose every operation needs tokio: a timer and an async lock.
#[derive(Default)]
pub struct TokioStore {
    inner: MemoryStore,
    lock: tokio::sync::Mutex<()>,
}

impl TokioStore {
    async fn enter(&self) -> tokio::sync::MutexGuard<'_, ()> {
        tokio::time::sleep(Duration::from_millis(1)).await;
        self.lock.lock().await
    }
}

impl ConsentStore for TokioStore {
    fn append<'a>(&'a self, app: &'a str, event: &'a ConsentEvent) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let _g = self.enter().await;
            self.inner.append(app, event).await
        })
    }
    fn current<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Option<ConsentRecord>, StoreError>> {
        Box::pin(async move {
            let _g = self.enter().await;
            self.inner.current(app, subject).await
        })
    }
    fn history<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Vec<LedgerEntry>, StoreError>> {
        Box::pin(async move {
            let _g = self.enter().await;
            self.inner.history(app, subject).await
        })
    }
    fn subscribe(&self, feed: ChangeFeed) -> bool {
        self.inner.subscribe(feed)
    }
}

/// A store whose writes wait until the test lets them through.
pub struct GatedStore {
    pub inner: MemoryStore,
    pub open: tokio::sync::Semaphore,
    /// Whether it reports changes (`subscribe`'s answer).
    pub feed: bool,
}

impl GatedStore {
    pub fn closed() -> Self {
        GatedStore { inner: MemoryStore::new(), open: tokio::sync::Semaphore::new(0), feed: true }
    }

    /// Closed, and without a change feed: gates on it rely on the staleness bound.
    pub fn closed_without_feed() -> Self {
        GatedStore { feed: false, ..Self::closed() }
    }
}

impl ConsentStore for GatedStore {
    fn append<'a>(&'a self, app: &'a str, event: &'a ConsentEvent) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let _permit = self.open.acquire().await.map_err(|e| StoreError::with_source("closed", e))?;
            self.inner.append(app, event).await
        })
    }
    fn current<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Option<ConsentRecord>, StoreError>> {
        self.inner.current(app, subject)
    }
    fn history<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Vec<LedgerEntry>, StoreError>> {
        self.inner.history(app, subject)
    }
    fn subscribe(&self, feed: ChangeFeed) -> bool {
        self.feed && self.inner.subscribe(feed)
    }
}

/// A store over a shared [`MemoryStore`] whose change feed the test controls: it keeps the feeds
/// it is given and reports changes only while `deliver` is set. `publishes` is what `subscribe`
/// answers.
pub struct FeedStore {
    pub inner: std::sync::Arc<MemoryStore>,
    pub feeds: std::sync::Mutex<Vec<ChangeFeed>>,
    pub deliver: std::sync::atomic::AtomicBool,
    pub publishes: bool,
}

impl FeedStore {
    pub fn over(inner: std::sync::Arc<MemoryStore>, publishes: bool) -> Self {
        FeedStore {
            inner,
            feeds: std::sync::Mutex::new(Vec::new()),
            deliver: std::sync::atomic::AtomicBool::new(true),
            publishes,
        }
    }

    /// The feed of the gate built last.
    pub fn feed(&self) -> ChangeFeed {
        self.feeds.lock().unwrap().last().cloned().unwrap()
    }
}

impl ConsentStore for FeedStore {
    fn append<'a>(&'a self, app: &'a str, event: &'a ConsentEvent) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let seq = self.inner.append(app, event).await?;
            if self.publishes && self.deliver.load(std::sync::atomic::Ordering::SeqCst) {
                for f in self.feeds.lock().unwrap().iter() {
                    f.changed(app, event.subject().as_ref());
                }
            }
            Ok(seq)
        })
    }
    fn current<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Option<ConsentRecord>, StoreError>> {
        self.inner.current(app, subject)
    }
    fn history<'a>(
        &'a self,
        app: &'a str,
        subject: &'a Subject,
    ) -> BoxFuture<'a, Result<Vec<LedgerEntry>, StoreError>> {
        self.inner.history(app, subject)
    }
    fn subscribe(&self, feed: ChangeFeed) -> bool {
        self.feeds.lock().unwrap().push(feed);
        self.publishes
    }
}
