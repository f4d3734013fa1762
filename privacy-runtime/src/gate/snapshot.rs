//! What the gate knows of each user's consent: the scopes the agreed version declares, read on
//! every guarded call, and the per-user lock that keeps the snapshot in the order of the store.
//!
//! - **Only consented users are kept.** A user with no consent, or an unknown id, adds nothing;
//!   a call for them reads the store. The number of users kept is bounded
//!   ([`GateBuilder::snapshot_capacity`](super::GateBuilder::snapshot_capacity)); past it, a
//!   shard drops an eighth of its users, who are read from the store again on their next call.
//! - **Compact.** A user is one 24-byte slot in a hash table (the id's bytes on the heap, the
//!   index of the covered scope set, the time it was read), hashed with a key drawn from the OS
//!   at random per gate, so a client that picks its own ids cannot aim them at one bucket.
//! - **Sharded**, so calls of different users rarely meet on one lock, and read through a small
//!   per-thread cache validated by the shard's epoch: a change invalidates the cached users of
//!   one shard in 64, never everyone's.
//! - **Coherent with the store.** A change made through this gate is applied under the user's
//!   write lock; a change made elsewhere arrives through the store's change feed and drops the
//!   user's entry. Without a live feed, an entry is trusted for the staleness bound only.

use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, PoisonError};

use hashbrown::HashTable;

use crate::clock::Timestamp;
use crate::scope::ScopeSet;
use crate::subject::{Subject, SubjectRef};
use crate::sync::{AtomicBool, AtomicU64, Mutex, Ordering, RwLock, lock};

const SHARDS: usize = 64;
/// The index of "covers nothing: a withdrawal is being stored" in [`Snapshots::sets`].
const WITHDRAWN: u16 = 0;

/// One user: the id, the index of the scopes the consent covers, and when it was read (whole
/// seconds since the gate started, on the gate's clock). 40 bytes.
struct Entry {
    key: Key,
    covered: u16,
    read_at: u32,
}

/// The longest string id kept in the entry itself (an openid is 28 bytes): a lookup then reads
/// one place in memory, not two.
const SHORT: usize = 30;

/// A user's id as the snapshot keeps it.
enum Key {
    Int([u8; 16]),
    Short { len: u8, bytes: [u8; SHORT] },
    Long(Box<str>),
}

impl Key {
    fn of(subject: SubjectRef<'_>) -> Key {
        match subject {
            SubjectRef::Int(i) => Key::Int(i.to_le_bytes()),
            SubjectRef::Str(s) => match u8::try_from(s.len()) {
                Ok(len) if s.len() <= SHORT => {
                    let mut bytes = [0; SHORT];
                    bytes[..s.len()].copy_from_slice(s.as_bytes());
                    Key::Short { len, bytes }
                }
                _ => Key::Long(s.into()),
            },
        }
    }

    /// `true` when this is `subject`'s key.
    #[inline]
    fn is(&self, subject: SubjectRef<'_>) -> bool {
        match (self, subject) {
            (Key::Int(b), SubjectRef::Int(i)) => *b == i.to_le_bytes(),
            (Key::Short { len, bytes }, SubjectRef::Str(s)) => bytes.get(..usize::from(*len)) == Some(s.as_bytes()),
            (Key::Long(b), SubjectRef::Str(s)) => **b == *s,
            _ => false,
        }
    }

    /// The subject this key holds.
    fn subject(&self) -> SubjectRef<'_> {
        match self {
            Key::Int(b) => SubjectRef::Int(i128::from_le_bytes(*b)),
            // Copied from a `&str`, so always UTF-8.
            Key::Short { len, bytes } => SubjectRef::Str(
                std::str::from_utf8(bytes.get(..usize::from(*len)).unwrap_or_default()).unwrap_or_default(),
            ),
            Key::Long(s) => SubjectRef::Str(s),
        }
    }
}

/// One shard: its users, and an epoch moved (under the write lock) by every change to them.
#[repr(align(128))]
struct Shard {
    epoch: AtomicU64,
    table: RwLock<HashTable<Entry>>,
}

/// The consent snapshot of the consented users a gate has seen.
pub(crate) struct Snapshots {
    shards: Box<[Shard]>,
    hasher: foldhash::fast::SeedableRandomState,
    /// Unique for the life of the process, so a per-thread cache entry never outlives its gate.
    id: u64,
    /// Users kept before a shard evicts some.
    capacity: usize,
    /// Users kept now (moved under the shards' write locks).
    users: std::sync::atomic::AtomicUsize,
    /// The scope sets an entry can cover: `sets[0]` is nothing, then one per version.
    sets: Box<[ScopeSet]>,
    /// `true` while the store's change feed is live; otherwise entries age out.
    feed_live: AtomicBool,
    /// How long (whole seconds) an entry is trusted while the feed is not live.
    max_age: u32,
    /// Time zero of `read_at`.
    start: Timestamp,
}

/// Where a store read began, so that its answer lands only if nothing changed meanwhile.
#[derive(Clone, Copy)]
pub(crate) struct ReadStart {
    epoch: u64,
    at: u32,
}

/// A per-thread copy of one entry. Ids longer than the inline buffer are not copied.
#[derive(Clone, Copy)]
struct Cached {
    gate: u64,
    epoch: u64,
    read_at: u32,
    covered: u16,
    shard: u8,
    len: u8,
    key: [u8; KEY_INLINE],
}

const KEY_INLINE: usize = 48;
const CACHE_SLOTS: usize = 16;
const EMPTY_SLOT: Cached = Cached { gate: 0, epoch: 0, read_at: 0, covered: 0, shard: 0, len: 0, key: [0; KEY_INLINE] };

thread_local! {
    static CACHE: std::cell::RefCell<[Cached; CACHE_SLOTS]> = const { std::cell::RefCell::new([EMPTY_SLOT; CACHE_SLOTS]) };
}

/// The per-thread cache slot of `subject`: a quick unkeyed mix of the id. Ids that share a slot
/// only take turns in it; the shared table, which a client could aim at, uses the keyed hash.
#[inline]
fn slot_of(subject: SubjectRef<'_>) -> usize {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mix = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(K);
    let h = match subject {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        SubjectRef::Int(i) => mix(mix(1, i as u64), (i >> 64) as u64),
        SubjectRef::Str(s) => {
            let mut chunks = s.as_bytes().chunks_exact(8);
            let mut h = mix(2, s.len() as u64);
            for c in &mut chunks {
                let mut w = [0u8; 8];
                w.copy_from_slice(c);
                h = mix(h, u64::from_le_bytes(w));
            }
            mix(h, chunks.remainder().iter().fold(0u64, |w, b| (w << 8) | u64::from(*b)))
        }
    };
    (h >> 58) as usize % CACHE_SLOTS
}

/// `true` when a per-thread copy's `key` (a tag, 0 for an integer and 1 for a string, then the
/// id) holds `subject`.
#[inline]
fn matches(key: &[u8], subject: SubjectRef<'_>) -> bool {
    match (key.split_first(), subject) {
        (Some((0, rest)), SubjectRef::Int(i)) => rest == i.to_le_bytes(),
        (Some((1, rest)), SubjectRef::Str(s)) => rest == s.as_bytes(),
        _ => false,
    }
}

impl Snapshots {
    /// A snapshot that can cover `sets` (besides nothing), keeps about `capacity` users, and
    /// trusts an entry for `max_age` while no change feed is live.
    pub(crate) fn new(
        sets: impl IntoIterator<Item = ScopeSet>,
        capacity: usize,
        max_age: std::time::Duration,
        start: Timestamp,
    ) -> Self {
        static IDS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let mut seed = [0u8; 8];
        // Without the OS's randomness the per-process seed (from address-space layout) remains.
        let seed = getrandom::fill(&mut seed).map_or(0, |()| u64::from_le_bytes(seed));
        let max_age = u32::try_from(max_age.as_secs() + u64::from(max_age.subsec_nanos() > 0)).unwrap_or(u32::MAX);
        Snapshots {
            shards: (0..SHARDS).map(|_| Shard { epoch: AtomicU64::new(0), table: RwLock::default() }).collect(),
            hasher: foldhash::fast::SeedableRandomState::with_seed(seed, foldhash::SharedSeed::global_random()),
            id: IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            capacity: capacity.max(1),
            users: std::sync::atomic::AtomicUsize::new(0),
            sets: std::iter::once(ScopeSet::EMPTY).chain(sets).collect(),
            feed_live: AtomicBool::new(false),
            max_age,
            start,
        }
    }

    /// Unique for the life of the process.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    #[inline]
    fn hash(&self, subject: SubjectRef<'_>) -> u64 {
        let mut h = self.hasher.build_hasher();
        match subject {
            SubjectRef::Int(i) => {
                h.write_u8(0);
                h.write_u128(i.cast_unsigned());
            }
            SubjectRef::Str(s) => {
                h.write_u8(1);
                h.write(s.as_bytes());
            }
        }
        h.finish()
    }

    #[inline]
    fn shard_index(&self, h: u64) -> usize {
        // Bits the table itself uses least: it takes the low bits for the bucket and the top
        // seven for the tag.
        (h >> 40) as usize % SHARDS
    }

    #[inline]
    fn shard(&self, h: u64) -> &Shard {
        &self.shards[self.shard_index(h)]
    }

    /// Seconds since the gate started, on its clock.
    fn seconds(&self, now: Timestamp) -> u32 {
        u32::try_from(now.since(self.start).as_secs()).unwrap_or(u32::MAX)
    }

    /// `true` when an entry read at `read_at` may still be trusted.
    #[inline]
    fn fresh(&self, read_at: u32, now: impl Fn() -> Timestamp + Copy) -> bool {
        self.feed_live.load(Ordering::Acquire) || self.seconds(now()).saturating_sub(read_at) < self.max_age
    }

    /// The scopes `subject`'s consent covers, when the snapshot knows them; `None` when the store
    /// must be read (the user is not kept, or was read too long ago).
    #[inline]
    pub(crate) fn get(&self, subject: SubjectRef<'_>, now: impl Fn() -> Timestamp + Copy) -> Option<ScopeSet> {
        let slot = slot_of(subject);
        let hit = CACHE.with(|c| {
            let c = c.try_borrow().ok()?;
            let e = &c[slot];
            let current = |e: &Cached| {
                self.shards.get(usize::from(e.shard)).is_some_and(|s| s.epoch.load(Ordering::Acquire) == e.epoch)
            };
            (e.gate == self.id && matches(&e.key[..usize::from(e.len)], subject) && current(e))
                .then_some((e.covered, e.read_at))
        });
        match hit {
            Some((covered, read_at)) if self.fresh(read_at, now) => self.sets.get(usize::from(covered)).copied(),
            _ => self.get_shared(slot, subject, now),
        }
    }

    /// The shard's copy, remembered on this thread.
    #[inline(never)]
    fn get_shared(&self, slot: usize, subject: SubjectRef<'_>, now: impl Fn() -> Timestamp + Copy) -> Option<ScopeSet> {
        let h = self.hash(subject);
        let index = self.shard_index(h);
        let shard = &self.shards[index];
        // Read before the table: a change after this point invalidates the copy made below.
        let epoch = shard.epoch.load(Ordering::Acquire);
        let (covered, read_at) = {
            let table = shard.table.read().unwrap_or_else(PoisonError::into_inner);
            let e = table.find(h, |e| e.key.is(subject))?;
            (e.covered, e.read_at)
        };
        let key_len = match subject {
            SubjectRef::Int(_) => 17,
            SubjectRef::Str(s) => s.len() + 1,
        };
        if let (Ok(len), Ok(shard)) = (u8::try_from(key_len), u8::try_from(index))
            && key_len <= KEY_INLINE
        {
            CACHE.with(|c| {
                if let Ok(mut c) = c.try_borrow_mut() {
                    let e = &mut c[slot];
                    *e = Cached { gate: self.id, epoch, read_at, covered, shard, len, key: e.key };
                    match subject {
                        SubjectRef::Int(i) => {
                            e.key[0] = 0;
                            e.key[1..17].copy_from_slice(&i.to_le_bytes());
                        }
                        SubjectRef::Str(s) => {
                            e.key[0] = 1;
                            e.key[1..key_len].copy_from_slice(s.as_bytes());
                        }
                    }
                }
            });
        }
        if !self.fresh(read_at, now) {
            return None;
        }
        self.sets.get(usize::from(covered)).copied()
    }

    /// Marks the start of a store read of `subject`, for [`fill`](Self::fill).
    pub(crate) fn begin_read(&self, subject: SubjectRef<'_>, now: Timestamp) -> ReadStart {
        let epoch = self.shard(self.hash(subject)).epoch.load(Ordering::Acquire);
        ReadStart { epoch, at: self.seconds(now) }
    }

    /// Keeps what a store read that began at `start` found. Dropped if anything changed in the
    /// user's shard since (a change's own value wins), and never over a withdrawal being stored.
    pub(crate) fn fill(&self, subject: &Subject, covered: ScopeSet, start: ReadStart) {
        let s = subject.as_ref();
        let h = self.hash(s);
        let shard = self.shard(h);
        let mut table = shard.table.write().unwrap_or_else(PoisonError::into_inner);
        if shard.epoch.load(Ordering::Acquire) != start.epoch {
            return;
        }
        let index = self.index_of(covered).filter(|&i| i != WITHDRAWN);
        match (table.find_mut(h, |e| e.key.is(s)), index) {
            (Some(e), _) if e.covered == WITHDRAWN => {}
            (Some(e), Some(i)) if e.covered == i => e.read_at = e.read_at.max(start.at),
            (Some(_), _) => {
                self.remove(&mut table, h, s);
                if let Some(i) = index {
                    self.insert(&mut table, h, s, i, start.at);
                }
                shard.epoch.fetch_add(1, Ordering::Release);
            }
            (None, Some(i)) => self.insert(&mut table, h, s, i, start.at),
            (None, None) => {}
        }
    }

    /// Records what `subject`'s consent covers after a change the gate stored (under the user's
    /// write lock).
    pub(crate) fn set(&self, subject: &Subject, covered: ScopeSet, now: Timestamp) {
        let index = self.index_of(covered).filter(|&i| i != WITHDRAWN);
        self.replace(subject, index, now);
    }

    /// Sets `subject`'s snapshot to cover nothing, before a withdrawal is stored. The entry stays
    /// until [`forget`](Self::forget), and no store read can replace it.
    pub(crate) fn withdraw(&self, subject: &Subject, now: Timestamp) {
        self.replace(subject, Some(WITHDRAWN), now);
    }

    /// Drops `subject`'s snapshot, so the next call reads the store.
    pub(crate) fn forget(&self, subject: SubjectRef<'_>) {
        let h = self.hash(subject);
        let shard = self.shard(h);
        let mut table = shard.table.write().unwrap_or_else(PoisonError::into_inner);
        self.remove(&mut table, h, subject);
        shard.epoch.fetch_add(1, Ordering::Release);
    }

    /// Drops every snapshot: the store may have changed in ways the gate was not told of.
    pub(crate) fn forget_all(&self) {
        for shard in &self.shards {
            let mut table = shard.table.write().unwrap_or_else(PoisonError::into_inner);
            // Withdrawals being stored keep their entry: their own write ends them.
            self.counted(&mut table, |t| t.retain(|e| e.covered == WITHDRAWN));
            shard.epoch.fetch_add(1, Ordering::Release);
        }
    }

    /// Whether the store's change feed is live.
    pub(crate) fn set_feed_live(&self, live: bool) {
        self.feed_live.store(live, Ordering::Release);
    }

    pub(crate) fn feed_live(&self) -> bool {
        self.feed_live.load(Ordering::Acquire)
    }

    /// Users kept, withdrawals being stored included.
    pub(crate) fn len(&self) -> usize {
        self.users.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs `f` on a shard's table, and keeps the count of users in step with it.
    fn counted<T>(&self, table: &mut HashTable<Entry>, f: impl FnOnce(&mut HashTable<Entry>) -> T) -> T {
        let before = table.len();
        let out = f(table);
        let after = table.len();
        if after > before {
            self.users.fetch_add(after - before, std::sync::atomic::Ordering::Relaxed);
        } else {
            self.users.fetch_sub(before - after, std::sync::atomic::Ordering::Relaxed);
        }
        out
    }

    fn replace(&self, subject: &Subject, index: Option<u16>, now: Timestamp) {
        let s = subject.as_ref();
        let h = self.hash(s);
        let shard = self.shard(h);
        let mut table = shard.table.write().unwrap_or_else(PoisonError::into_inner);
        match (table.find_mut(h, |e| e.key.is(s)), index) {
            (Some(e), Some(i)) => {
                e.covered = i;
                e.read_at = self.seconds(now);
            }
            (Some(_), None) => self.remove(&mut table, h, s),
            (None, Some(i)) => self.insert(&mut table, h, s, i, self.seconds(now)),
            (None, None) => {}
        }
        // Moved under the lock: a read that began before this change cannot land after it.
        shard.epoch.fetch_add(1, Ordering::Release);
    }

    fn index_of(&self, covered: ScopeSet) -> Option<u16> {
        self.sets.iter().position(|s| *s == covered).and_then(|i| u16::try_from(i).ok())
    }

    fn remove(&self, table: &mut HashTable<Entry>, h: u64, subject: SubjectRef<'_>) {
        self.counted(table, |t| {
            if let Ok(e) = t.find_entry(h, |e| e.key.is(subject)) {
                e.remove();
            }
        });
    }

    fn insert(&self, table: &mut HashTable<Entry>, h: u64, subject: SubjectRef<'_>, covered: u16, read_at: u32) {
        if self.len() >= self.capacity {
            self.counted(table, evict);
        }
        self.counted(table, |t| {
            t.insert_unique(h, Entry { key: Key::of(subject), covered, read_at }, |e| self.hash(e.key.subject()));
        });
    }
}

/// Drops an eighth of a shard (at least one user) when the snapshot is full, spread over the
/// table: entries sit in the order of a keyed hash, so the users dropped are a random sample.
/// Withdrawals being stored are kept.
fn evict(table: &mut HashTable<Entry>) {
    let stride = if table.len() >= 8 { 8 } else { 1 };
    let mut seen = 0usize;
    table.retain(|e| {
        if e.covered == WITHDRAWN {
            return true;
        }
        seen += 1;
        !seen.is_multiple_of(stride)
    });
}

/// One async lock per user with a write in flight: store append and snapshot update happen in
/// the same order for every change of one user, so the snapshot never ends on an older state
/// than the store's. Entries are removed when their last holder leaves.
#[derive(Default)]
pub(crate) struct WriteLocks {
    locks: Mutex<std::collections::HashMap<Subject, Arc<tokio::sync::Mutex<()>>>>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const A: ScopeSet = ScopeSet::EMPTY.with(crate::scope::Scope::LOCATION);

    fn snapshots(capacity: usize) -> Snapshots {
        Snapshots::new([A], capacity, Duration::from_secs(1), Timestamp::EPOCH)
    }

    #[test]
    fn ids_of_both_kinds_never_meet() {
        let s = snapshots(100);
        s.set(&Subject::from(7u64), A, Timestamp::EPOCH);
        assert_eq!(s.get(SubjectRef::Int(7), || Timestamp::EPOCH), Some(A));
        assert_eq!(s.get(SubjectRef::Str("7"), || Timestamp::EPOCH), None);
        let long = "x".repeat(SHORT + 1);
        for (a, b) in [("a", "a\0"), ("", "\0"), (long.as_str(), &long[1..])] {
            assert!(Key::of(SubjectRef::Str(a)).is(SubjectRef::Str(a)));
            assert!(!Key::of(SubjectRef::Str(a)).is(SubjectRef::Str(b)));
            assert_eq!(Key::of(SubjectRef::Str(a)).subject(), SubjectRef::Str(a));
        }
        assert_eq!(Key::of(SubjectRef::Int(-3)).subject(), SubjectRef::Int(-3));
        assert_eq!(std::mem::size_of::<Entry>(), 40);
    }

    #[test]
    fn two_gates_hash_with_different_keys() {
        let (a, b) = (snapshots(1), snapshots(1));
        let differ = (0..8).any(|i| a.hash(SubjectRef::Int(i)) != b.hash(SubjectRef::Int(i)));
        assert!(differ, "each gate draws its own hash key");
    }

    #[test]
    fn a_full_snapshot_evicts_and_never_exceeds_its_capacity() {
        let s = snapshots(SHARDS * 4);
        for i in 0..10_000u64 {
            s.set(&Subject::from(i), A, Timestamp::EPOCH);
        }
        let kept: usize = s.shards.iter().map(|s| s.table.read().unwrap().len()).sum();
        assert_eq!(kept, s.len(), "the count follows the tables");
        assert!(s.len() <= SHARDS * 4, "kept {} users", s.len());
        assert!(s.len() >= SHARDS * 2, "kept {} users", s.len());
    }

    #[test]
    fn no_consent_adds_nothing() {
        let s = snapshots(100);
        for i in 0..1000u64 {
            let subject = Subject::from(i);
            let start = s.begin_read(subject.as_ref(), Timestamp::EPOCH);
            s.fill(&subject, ScopeSet::EMPTY, start);
        }
        assert_eq!(s.len(), 0);
    }
}
