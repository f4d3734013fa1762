//! What the gate knows of each user's consent: the scopes the agreed version declares, read on
//! every guarded call, and the per-user lock that keeps the snapshot in the order of the store.
//!
//! Sharded so that calls of different users never meet on one lock, and read through a
//! per-thread cache that an epoch invalidates, so repeated calls of one user take no lock at all.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, PoisonError};

use crate::scope::ScopeSet;
use crate::subject::{Subject, SubjectRef};
use crate::sync::{AtomicU64, Mutex, Ordering, RwLock, lock};

#[derive(Default)]
struct IdHasher(u64);
impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}
type ById<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;
/// One shard: subjects (and their covered scopes) by hash.
type Shard = RwLock<ById<Vec<(Subject, ScopeSet)>>>;

const SHARDS: usize = 64;

/// The consent snapshot of every user the gate has seen.
pub(crate) struct Snapshots {
    shards: Box<[Shard]>,
    /// Unique for the life of the process, so a cache entry never outlives its gate's identity.
    id: u64,
    /// Bumped after every write; a cached entry is valid while its epoch is current.
    epoch: AtomicU64,
}

const CACHE_SLOTS: usize = 64;

struct CacheEntry {
    gate: u64,
    hash: u64,
    epoch: u64,
    subject: Subject,
    covered: ScopeSet,
}

thread_local! {
    static SNAPSHOT_CACHE: std::cell::RefCell<Vec<Option<CacheEntry>>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Snapshots {
    pub(crate) fn new() -> Self {
        static IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Snapshots {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            id: IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            epoch: AtomicU64::new(0),
        }
    }

    /// Unique for the life of the process.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The snapshot of `subject`, from this thread's cache when it is current.
    #[inline]
    pub(crate) fn get(&self, subject: SubjectRef<'_>) -> Option<ScopeSet> {
        let h = subject.hash64();
        let epoch = self.epoch.load(Ordering::Acquire);
        let slot = (h as usize) % CACHE_SLOTS;
        let hit = SNAPSHOT_CACHE.with(|c| {
            let c = c.try_borrow().ok()?;
            let e = c.get(slot)?.as_ref()?;
            (e.gate == self.id && e.hash == h && e.epoch == epoch && e.subject == subject).then_some(e.covered)
        });
        if hit.is_some() {
            return hit;
        }
        self.load_into_cache(subject, h, epoch)
    }

    /// The cache miss: reads the shard and remembers the answer on this thread.
    #[cold]
    #[inline(never)]
    fn load_into_cache(&self, subject: SubjectRef<'_>, h: u64, epoch: u64) -> Option<ScopeSet> {
        let slot = (h as usize) % CACHE_SLOTS;
        let (owned, covered) = {
            let shard = self.shard(h).read().unwrap_or_else(PoisonError::into_inner);
            let (s, c) = shard.get(&h)?.iter().find(|(s, _)| *s == subject)?;
            (s.clone(), *c)
        };
        SNAPSHOT_CACHE.with(|c| {
            if let Ok(mut c) = c.try_borrow_mut() {
                if c.len() < CACHE_SLOTS {
                    c.resize_with(CACHE_SLOTS, || None);
                }
                c[slot] = Some(CacheEntry { gate: self.id, hash: h, epoch, subject: owned, covered });
            }
        });
        Some(covered)
    }

    #[inline]
    fn shard(&self, h: u64) -> &Shard {
        &self.shards[(h >> 58) as usize % SHARDS]
    }

    /// The write epoch: it moves with every change, under the shard's lock.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Records what `subject`'s consent covers, from a change the gate made (under the user's
    /// write lock).
    pub(crate) fn set(&self, subject: &Subject, covered: ScopeSet) {
        let h = subject.as_ref().hash64();
        let mut shard = self.shard(h).write().unwrap_or_else(PoisonError::into_inner);
        let bucket = shard.entry(h).or_default();
        match bucket.iter_mut().find(|(s, _)| s == subject) {
            Some(entry) => entry.1 = covered,
            None => bucket.push((subject.clone(), covered)),
        }
        // Moved under the lock: a fill that saw the old epoch cannot land after this change.
        self.epoch.fetch_add(1, Ordering::Release);
    }

    /// Fills in `subject`'s snapshot from a store read that started at epoch `seen`. Dropped if
    /// the user is already there or anything changed since (a change's own value wins).
    pub(crate) fn fill(&self, subject: &Subject, covered: ScopeSet, seen: u64) {
        let h = subject.as_ref().hash64();
        let mut shard = self.shard(h).write().unwrap_or_else(PoisonError::into_inner);
        if self.epoch.load(Ordering::Acquire) != seen {
            return;
        }
        let bucket = shard.entry(h).or_default();
        if !bucket.iter().any(|(s, _)| s == subject) {
            bucket.push((subject.clone(), covered));
        }
    }

    /// Sets `subject`'s snapshot to cover nothing, before a withdrawal is stored.
    pub(crate) fn withdraw(&self, subject: &Subject) {
        self.set(subject, ScopeSet::EMPTY);
    }

    /// Drops `subject`'s snapshot, so the next call reads the store.
    pub(crate) fn forget(&self, subject: &Subject) {
        let h = subject.as_ref().hash64();
        let mut shard = self.shard(h).write().unwrap_or_else(PoisonError::into_inner);
        if let Some(bucket) = shard.get_mut(&h) {
            bucket.retain(|(s, _)| s != subject);
            if bucket.is_empty() {
                shard.remove(&h);
            }
        }
        self.epoch.fetch_add(1, Ordering::Release);
    }
}

/// One async lock per user with a write in flight: store append and snapshot update happen in
/// the same order for every change of one user, so the snapshot never ends on an older state
/// than the store's. Entries are removed when their last holder leaves.
#[derive(Default)]
pub(crate) struct WriteLocks {
    locks: Mutex<HashMap<Subject, Arc<tokio::sync::Mutex<()>>>>,
}

/// Holds a user's write lock.
pub(crate) struct WriteGuard<'a> {
    locks: &'a WriteLocks,
    subject: Subject,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteLocks {
    pub(crate) async fn lock(&self, subject: &Subject) -> WriteGuard<'_> {
        let m = Arc::clone(lock(&self.locks).entry(subject.clone()).or_default());
        // Removes the entry if this future is dropped before it gets the lock.
        let mut pending = WriteGuard { locks: self, subject: subject.clone(), guard: None };
        pending.guard = Some(m.lock_owned().await);
        pending
    }

    /// Users with a write in flight.
    pub(crate) fn len(&self) -> usize {
        lock(&self.locks).len()
    }
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut locks = lock(&self.locks.locks);
        if locks.get(&self.subject).is_some_and(|m| Arc::strong_count(m) == 1) {
            locks.remove(&self.subject);
        }
    }
}
