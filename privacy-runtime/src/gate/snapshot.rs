//! What the gate knows of each user's consent: the scopes the agreed version declares, read on
//! every guarded call, and the per-user lock that keeps the snapshot in the order of the store.
//!
//! - **Only consented users are kept.** A user with no consent, or an unknown id, adds nothing;
//!   a call for them reads the store. The number of users kept is bounded
//!   ([`GateBuilder::snapshot_capacity`](super::GateBuilder::snapshot_capacity)); past it, an
//!   eighth of the users are dropped at random, and read from the store again on their next call.
//! - **Reads write nothing shared.** The users live in a `papaya::HashMap`, whose lookups take
//!   no lock, so calls on different cores never pass a cache line back and forth (a read lock,
//!   even one of 64, does: measured in `benches/peers/benches/maps.rs`). Its hash is keyed with a
//!   random seed per gate, so a client that picks its own ids cannot aim them at one bucket. An
//!   id up to 30 bytes is kept inline.
//! - **Writers take turns per shard.** Every change to a user happens under one of 64 mutexes
//!   and moves that shard's epoch. A store read started before the change cannot land after it,
//!   and a small per-thread cache of recently called users, validated by the epoch, answers a
//!   repeated call without touching the map: a change invalidates one shard in 64, never
//!   everyone's.
//! - **Coherent with the store.** A change made through this gate is applied under the user's
//!   write lock; a change made elsewhere arrives through the store's change feed and drops the
//!   user's entry. Without a live feed, an entry is trusted for the staleness bound only.

use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::Arc;

use crate::clock::Timestamp;
use crate::scope::ScopeSet;
use crate::subject::{Subject, SubjectRef};
use crate::sync::{AtomicU64, Mutex, Ordering, lock};

const SHARDS: usize = 64;
const FEED_UNTOLD: u64 = 0;
const FEED_LIVE: u64 = 1;
const FEED_DOWN: u64 = 2;
/// The index of "covers nothing: a withdrawal is being stored" in [`Snapshots::sets`].
const WITHDRAWN: u16 = 0;

/// What the snapshot knows of one user: the index of the scopes the consent covers, when it
/// was read, and when the consent stops covering them ([`NEVER`] unless it has a maximum age or
/// a version requiring fresh consent is due), in whole seconds since the gate started, on the
/// gate's clock.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Known {
    covered: u16,
    read_at: u32,
    until: u32,
}

/// The `until` of a consent that does not end.
const NEVER: u32 = u32::MAX;

/// The longest string id kept in the entry itself (an openid is 28 bytes): a lookup then reads
/// one place in memory, not two.
const SHORT: usize = 30;

/// A user's id as the snapshot keeps it.
#[derive(Clone)]
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

/// Feeds a subject to a hasher: the same for a [`Key`] and the [`Probe`] that looks it up.
#[inline]
fn hash_subject(subject: SubjectRef<'_>, state: &mut impl Hasher) {
    match subject {
        SubjectRef::Int(i) => {
            state.write_u8(0);
            state.write_u128(i.cast_unsigned());
        }
        SubjectRef::Str(s) => {
            state.write_u8(1);
            state.write(s.as_bytes());
        }
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_subject(self.subject(), state);
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.is(other.subject())
    }
}
impl Eq for Key {}

/// A lookup by a borrowed id, without building a [`Key`].
struct Probe<'a>(SubjectRef<'a>);

impl Hash for Probe<'_> {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_subject(self.0, state);
    }
}

impl papaya::Equivalent<Key> for Probe<'_> {
    #[inline]
    fn equivalent(&self, key: &Key) -> bool {
        key.is(self.0)
    }
}

/// The writers' side of one shard: the mutex every change to its users takes, and the epoch it
/// moves.
#[repr(align(128))]
struct Shard {
    epoch: AtomicU64,
    writer: Mutex<()>,
}

type Map = papaya::HashMap<Key, Known, foldhash::fast::SeedableRandomState>;

/// The consent snapshot of the consented users a gate has seen.
pub(crate) struct Snapshots {
    map: Map,
    /// The map's hasher, for choosing whom to evict.
    hasher: foldhash::fast::SeedableRandomState,
    shards: Box<[Shard]>,
    /// Unique for the life of the process, so a per-thread cache entry never outlives its gate.
    id: u64,
    /// Users kept before some are dropped.
    capacity: usize,
    /// Moves at every eviction, so successive evictions drop different users.
    evictions: std::sync::atomic::AtomicU64,
    /// Set while an eviction runs: writers that find the snapshot full meanwhile leave it to
    /// that one, rather than each drop another eighth.
    evicting: std::sync::atomic::AtomicBool,
    /// The scope sets an entry can cover: `sets[0]` is nothing, then one per version.
    sets: Box<[ScopeSet]>,
    /// The store's change feed: [`FEED_UNTOLD`] until the store or the gate's build says,
    /// then [`FEED_LIVE`] or [`FEED_DOWN`]. Entries age out unless it is live.
    feed: AtomicU64,
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
    known: Known,
    shard: u8,
    len: u8,
    key: [u8; KEY_INLINE],
}

const KEY_INLINE: usize = 48;
const CACHE_SLOTS: usize = 16;
const EMPTY_SLOT: Cached = Cached {
    gate: 0,
    epoch: 0,
    known: Known { covered: 0, read_at: 0, until: NEVER },
    shard: 0,
    len: 0,
    key: [0; KEY_INLINE],
};

thread_local! {
    static CACHE: std::cell::RefCell<[Cached; CACHE_SLOTS]> = const { std::cell::RefCell::new([EMPTY_SLOT; CACHE_SLOTS]) };
}

/// An unkeyed mix of the whole id, for its shard. Ids that share a shard only share its writers'
/// mutex and epoch; the map, which a client could aim at, uses the keyed hash.
#[inline]
fn mix_of(subject: SubjectRef<'_>) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mix = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(K);
    match subject {
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
    }
}

#[inline]
fn shard_of(mix: u64) -> usize {
    (mix >> 58) as usize % SHARDS
}

/// `true` when a per-thread copy's `key` (a tag, 0 for an integer and 1 for a string, then the
/// id) holds `subject`.
#[inline]
fn matches(key: &[u8], subject: SubjectRef<'_>) -> bool {
    match (key.split_first(), subject) {
        (Some((0, rest)), SubjectRef::Int(i)) => rest == i.to_le_bytes(),
        (Some((1, rest)), SubjectRef::Str(s)) => same_bytes(rest, s.as_bytes()),
        _ => false,
    }
}

/// `a == b` for the short slices of the per-thread cache, compared a word at a time in line (a
/// call to `memcmp` costs more than the comparison).
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return a == b;
    }
    let mut diff = 0u64;
    let mut i = 0;
    while i + 8 <= n {
        diff |= word(a, i) ^ word(b, i);
        i += 8;
    }
    // The last (possibly overlapping) word covers the tail.
    diff |= word(a, n - 8) ^ word(b, n - 8);
    diff == 0
}

/// The 8 bytes of `b` from `at`, or 0 past its end.
#[inline]
fn word(b: &[u8], at: usize) -> u64 {
    b.get(at..).and_then(<[u8]>::first_chunk::<8>).map_or(0, |w| u64::from_ne_bytes(*w))
}

/// The per-thread cache slot of `subject`, from its length and its first and last words: cheap,
/// and enough to spread the users one thread calls at a time. The map and the shards use the
/// full hashes.
#[inline]
fn slot_of(subject: SubjectRef<'_>) -> usize {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let h = match subject {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        SubjectRef::Int(i) => (i as u64 ^ (i >> 64) as u64).wrapping_mul(K),
        SubjectRef::Str(s) => {
            let b = s.as_bytes();
            let (first, last) = if b.len() >= 8 {
                (word(b, 0), word(b, b.len() - 8))
            } else {
                (b.iter().fold(0u64, |w, x| (w << 8) | u64::from(*x)), 0)
            };
            ((first.wrapping_mul(K) ^ last).wrapping_add(b.len() as u64)).wrapping_mul(K)
        }
    };
    (h >> 60) as usize % CACHE_SLOTS
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
        let max_age =
            u32::try_from(max_age.as_secs().saturating_add(u64::from(max_age.subsec_nanos() > 0))).unwrap_or(u32::MAX);
        let hasher = foldhash::fast::SeedableRandomState::with_seed(seed, foldhash::SharedSeed::global_random());
        Snapshots {
            // A resize is finished by the write that starts it: with incremental resizing, reads
            // during a resize search two tables (measured 40% slower in rotation until later
            // writes happened to finish it). Writes are consent changes, rare beside reads.
            map: papaya::HashMap::builder().hasher(hasher.clone()).resize_mode(papaya::ResizeMode::Blocking).build(),
            hasher,
            shards: (0..SHARDS).map(|_| Shard { epoch: AtomicU64::new(0), writer: Mutex::new(()) }).collect(),
            id: IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            capacity: capacity.max(1),
            evictions: std::sync::atomic::AtomicU64::new(0),
            evicting: std::sync::atomic::AtomicBool::new(false),
            sets: std::iter::once(ScopeSet::EMPTY).chain(sets).collect(),
            feed: AtomicU64::new(FEED_UNTOLD),
            max_age,
            start,
        }
    }

    /// Unique for the life of the process.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Seconds since the gate started, on its clock; `u32::MAX` (too far to tell) for a time
    /// before the start.
    fn seconds(&self, now: Timestamp) -> u32 {
        if now < self.start {
            return u32::MAX;
        }
        u32::try_from(now.since(self.start).as_secs()).unwrap_or(u32::MAX)
    }

    /// `true` when what was read at `read_at` may still be trusted: the feed is live, or it was
    /// read less than the bound ago. A time that went backwards (a read "in the future", or a
    /// clock before the gate's start) proves nothing, and the store is read again.
    #[inline]
    fn fresh(&self, read_at: u32, now: impl Fn() -> Timestamp + Copy) -> bool {
        if self.feed_live() {
            return true;
        }
        let now = self.seconds(now());
        now != u32::MAX && read_at != u32::MAX && now >= read_at && now - read_at < self.max_age
    }

    /// `true` while a consent that ends at `until` still covers what it did. Reads the clock only
    /// for a consent that ends.
    #[inline]
    fn current(&self, until: u32, now: impl Fn() -> Timestamp + Copy) -> bool {
        until == NEVER || self.seconds(now()) < until
    }

    /// `until` for a consent that ends at `t`, rounded down: an entry is dropped up to a second
    /// early, and the store read that follows decides on the exact time.
    fn until(&self, t: Option<Timestamp>) -> u32 {
        match t {
            None => NEVER,
            Some(t) if t <= self.start => 0,
            Some(t) => u32::try_from(t.since(self.start).as_secs()).map_or(NEVER - 1, |s| s.min(NEVER - 1)),
        }
    }

    /// What an entry tells a call: a withdrawal being stored covers nothing, however old; any
    /// other entry, what it covers while it is fresh.
    #[inline]
    fn answer(&self, known: Known, now: impl Fn() -> Timestamp + Copy) -> Option<ScopeSet> {
        if known.covered == WITHDRAWN {
            return Some(ScopeSet::EMPTY);
        }
        if !self.fresh(known.read_at, now) || !self.current(known.until, now) {
            return None;
        }
        self.covers(known)
    }

    fn covers(&self, known: Known) -> Option<ScopeSet> {
        self.sets.get(usize::from(known.covered)).copied()
    }

    /// The scopes `subject`'s consent covers, when the snapshot knows them; `None` when the store
    /// must be read (the user is not kept, or was read too long ago).
    // Forced in line only where it pays: a debug build inlines nothing, so it does not grow
    // every guarded function (which is what a rebuild compiles).
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn get(&self, subject: SubjectRef<'_>, now: impl Fn() -> Timestamp + Copy) -> Option<ScopeSet> {
        let slot = slot_of(subject);
        let hit = CACHE.with(|c| {
            let c = c.try_borrow().ok()?;
            let e = &c[slot];
            let current = |e: &Cached| {
                self.shards.get(usize::from(e.shard)).is_some_and(|s| s.epoch.load(Ordering::Acquire) == e.epoch)
            };
            (e.gate == self.id && matches(&e.key[..usize::from(e.len)], subject) && current(e)).then_some(e.known)
        });
        match hit {
            // Checked once: in the clock-bound mode `fresh` reads the clock.
            Some(known) if known.covered == WITHDRAWN => Some(ScopeSet::EMPTY),
            Some(known) if self.fresh(known.read_at, now) && self.current(known.until, now) => self.covers(known),
            _ => self.get_shared(slot, subject, now),
        }
    }

    /// The map's copy, remembered on this thread.
    #[inline(never)]
    fn get_shared(&self, slot: usize, subject: SubjectRef<'_>, now: impl Fn() -> Timestamp + Copy) -> Option<ScopeSet> {
        let shard = shard_of(mix_of(subject));
        // Read before the map: a change after this point invalidates the copy made below.
        let epoch = self.shards[shard].epoch.load(Ordering::Acquire);
        let known = self.map.pin().get(&Probe(subject)).copied()?;
        let key_len = match subject {
            SubjectRef::Int(_) => 17,
            SubjectRef::Str(s) => s.len() + 1,
        };
        if let (Ok(len), Ok(shard)) = (u8::try_from(key_len), u8::try_from(shard))
            && key_len <= KEY_INLINE
        {
            CACHE.with(|c| {
                if let Ok(mut c) = c.try_borrow_mut() {
                    let e = &mut c[slot];
                    *e = Cached { gate: self.id, epoch, known, shard, len, key: e.key };
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
        self.answer(known, now)
    }

    /// Marks the start of a store read of `subject`, for [`fill`](Self::fill).
    pub(crate) fn begin_read(&self, subject: SubjectRef<'_>, now: Timestamp) -> ReadStart {
        let epoch = self.shards[shard_of(mix_of(subject))].epoch.load(Ordering::Acquire);
        ReadStart { epoch, at: self.seconds(now) }
    }

    /// Runs a change to `subject` under its shard's writer mutex. `f` returns `true` when it
    /// changed what a reader could have copied: the shard's epoch then moves, still under the
    /// mutex, so no read that began before the change can land after it.
    fn write(&self, subject: SubjectRef<'_>, f: impl FnOnce(&Shard) -> bool) {
        let shard = &self.shards[shard_of(mix_of(subject))];
        let _writer = lock(&shard.writer);
        if f(shard) {
            shard.epoch.fetch_add(1, Ordering::Release);
        }
    }

    /// Keeps what a store read that began at `start` found. Dropped if anything changed in the
    /// user's shard since (a change's own value wins), and never over a withdrawal being stored.
    pub(crate) fn fill(&self, subject: &Subject, covered: ScopeSet, until: Option<Timestamp>, start: ReadStart) {
        let s = subject.as_ref();
        let index = self.index_of(covered).filter(|&i| i != WITHDRAWN);
        let until = self.until(until);
        let mut evict = false;
        self.write(s, |shard| {
            if shard.epoch.load(Ordering::Acquire) != start.epoch {
                return false;
            }
            let old = self.map.pin().get(&Probe(s)).copied();
            match (old, index) {
                (Some(k), _) if k.covered == WITHDRAWN => false,
                (Some(k), Some(i)) if k.covered == i && k.until == until => {
                    // Only the time moves: a copy elsewhere still says the same. (Set even when
                    // earlier: a clock that went back leaves entries that would otherwise stay
                    // stale until it catches up.)
                    if start.at != k.read_at {
                        self.put(s, Known { covered: i, read_at: start.at, until });
                    }
                    false
                }
                (Some(_), None) => self.remove(s),
                (Some(_), Some(i)) => {
                    self.put(s, Known { covered: i, read_at: start.at, until });
                    true
                }
                (None, Some(i)) => {
                    evict = self.put(s, Known { covered: i, read_at: start.at, until });
                    false
                }
                (None, None) => false,
            }
        });
        if evict {
            self.evict();
        }
    }

    /// Records what `subject`'s consent covers after a change the gate stored (under the user's
    /// write lock).
    pub(crate) fn set(&self, subject: &Subject, covered: ScopeSet, until: Option<Timestamp>, now: Timestamp) {
        let index = self.index_of(covered).filter(|&i| i != WITHDRAWN);
        self.replace(subject.as_ref(), index, self.until(until), now);
    }

    /// Sets `subject`'s snapshot to cover nothing, before a withdrawal is stored. The entry stays
    /// until [`forget`](Self::forget), and no store read can replace it.
    pub(crate) fn withdraw(&self, subject: &Subject, now: Timestamp) {
        self.replace(subject.as_ref(), Some(WITHDRAWN), NEVER, now);
    }

    /// Drops `subject`'s snapshot, so the next call reads the store.
    pub(crate) fn forget(&self, subject: SubjectRef<'_>) {
        self.write(subject, |_| {
            self.remove(subject);
            true
        });
    }

    /// Drops every snapshot: the store may have changed in ways the gate was not told of.
    pub(crate) fn forget_all(&self) {
        let _writers: Vec<_> = self.shards.iter().map(|s| lock(&s.writer)).collect();
        // Withdrawals being stored keep their entry: their own write ends them.
        self.retain(|_, k| k.covered == WITHDRAWN);
        for shard in &self.shards {
            shard.epoch.fetch_add(1, Ordering::Release);
        }
    }

    /// The store says whether its change feed is live.
    pub(crate) fn set_feed_live(&self, live: bool) {
        self.feed.store(if live { FEED_LIVE } else { FEED_DOWN }, Ordering::Release);
    }

    /// What `subscribe` answered, unless the store already said otherwise meanwhile (a feed that
    /// went down while subscribing stays down).
    pub(crate) fn subscribed(&self, live: bool) {
        let state = if live { FEED_LIVE } else { FEED_DOWN };
        let _ = self.feed.compare_exchange(FEED_UNTOLD, state, Ordering::AcqRel, Ordering::Acquire);
    }

    #[inline]
    pub(crate) fn feed_live(&self) -> bool {
        self.feed.load(Ordering::Acquire) == FEED_LIVE
    }

    /// Users kept, withdrawals being stored included (the map keeps the count, per core).
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Removes `s`'s entry (under its shard's writer mutex). `true` if there was one.
    fn remove(&self, s: SubjectRef<'_>) -> bool {
        self.map.pin().remove(&Probe(s)).is_some()
    }

    /// Keeps the entries `keep` says to.
    fn retain(&self, keep: impl FnMut(&Key, &Known) -> bool) {
        self.map.pin().retain(keep);
    }

    fn replace(&self, s: SubjectRef<'_>, index: Option<u16>, until: u32, now: Timestamp) {
        let mut evict = false;
        self.write(s, |_| {
            match index {
                Some(i) => evict = self.put(s, Known { covered: i, read_at: self.seconds(now), until }),
                None => {
                    self.remove(s);
                }
            }
            true
        });
        if evict {
            self.evict();
        }
    }

    /// Sets `s`'s entry (under its shard's writer mutex). Returns `true` when a new user made the
    /// snapshot full.
    fn put(&self, s: SubjectRef<'_>, known: Known) -> bool {
        match self.map.pin().insert(Key::of(s), known) {
            Some(_) => false,
            None => self.map.len() > self.capacity,
        }
    }

    fn index_of(&self, covered: ScopeSet) -> Option<u16> {
        self.sets.iter().position(|s| *s == covered).and_then(|i| u16::try_from(i).ok())
    }

    /// Drops about an eighth of the users, at random: those whose keyed hash falls in this
    /// round's eighth. Withdrawals being stored are kept. Called with no writer mutex held; a
    /// user dropped here is read from the store again, so it needs no epoch.
    #[cold]
    fn evict(&self) {
        use std::sync::atomic::Ordering::{AcqRel, Relaxed, Release};
        /// Clears the flag however the round ends.
        struct Done<'a>(&'a std::sync::atomic::AtomicBool);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.store(false, Release);
            }
        }
        if self.evicting.swap(true, AcqRel) {
            return;
        }
        let _done = Done(&self.evicting);
        let round = self.evictions.fetch_add(1, Relaxed);
        self.retain(|key, k| k.covered == WITHDRAWN || (self.hasher.hash_one(key) >> 29) % 8 != round % 8);
    }
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

    /// `true` while a write of `subject`'s consent holds or waits for the lock.
    pub(crate) fn is_held(&self, subject: &Subject) -> bool {
        lock(&self.locks).contains_key(subject)
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
        s.set(&Subject::from(7u64), A, None, Timestamp::EPOCH);
        assert_eq!(s.get(SubjectRef::Int(7), || Timestamp::EPOCH), Some(A));
        assert_eq!(s.get(SubjectRef::Str("7"), || Timestamp::EPOCH), None);
        let long = "x".repeat(SHORT + 1);
        for (a, b) in [("a", "a\0"), ("", "\0"), (long.as_str(), &long[1..])] {
            assert!(Key::of(SubjectRef::Str(a)).is(SubjectRef::Str(a)));
            assert!(!Key::of(SubjectRef::Str(a)).is(SubjectRef::Str(b)));
            assert_eq!(Key::of(SubjectRef::Str(a)).subject(), SubjectRef::Str(a));
        }
        assert_eq!(Key::of(SubjectRef::Int(-3)).subject(), SubjectRef::Int(-3));
        assert_eq!(std::mem::size_of::<Key>(), 32);
    }

    #[test]
    fn two_gates_hash_with_different_keys() {
        let (a, b) = (snapshots(1), snapshots(1));
        let hash = |s: &Snapshots, i| s.hasher.hash_one(Probe(SubjectRef::Int(i)));
        let differ = (0..8).any(|i| hash(&a, i) != hash(&b, i));
        assert!(differ, "each gate draws its own hash key");
    }

    #[test]
    fn a_full_snapshot_evicts_and_never_exceeds_its_capacity() {
        let s = snapshots(SHARDS * 4);
        for i in 0..10_000u64 {
            s.set(&Subject::from(i), A, None, Timestamp::EPOCH);
        }
        assert!(s.len() <= SHARDS * 4, "kept {} users", s.len());
        assert!(s.len() >= SHARDS * 3, "kept {} users", s.len());
        let kept =
            (0..10_000u64).filter(|i| s.get(SubjectRef::Int((*i).into()), || Timestamp::EPOCH).is_some()).count();
        assert_eq!(kept, s.len(), "every user kept answers");
    }

    #[test]
    fn no_consent_adds_nothing() {
        let s = snapshots(100);
        for i in 0..1000u64 {
            let subject = Subject::from(i);
            let start = s.begin_read(subject.as_ref(), Timestamp::EPOCH);
            s.fill(&subject, ScopeSet::EMPTY, None, start);
        }
        assert_eq!(s.len(), 0);
    }
}
