//! Which map for the consent snapshot? The candidates, read the way a consented call reads the
//! snapshot: 10,000 string ids (30 bytes, openid-like) in a fixed shuffled rotation, one lookup per
//! iteration, on one thread and on two.
//!
//! ```text
//! cd benches/peers && cargo bench --bench maps
//! ```
//!
//! - `sharded_rwlock_hashbrown`: 64 shards, each a `std::sync::RwLock` over a `hashbrown::HashTable`
//!   of inline keys, hashed with foldhash seeded at random;
//! - `striped_rwlock_hashbrown`: the same with each shard's read lock split in per-thread stripes;
//! - `dashmap`: `DashMap` (sharded `RwLock`s over hashbrown), same hasher;
//! - `papaya`: `papaya::HashMap`, lock-free reads under an epoch guard, same hasher (what the
//!   runtime uses);
//! - `scc_hashindex`: `scc::HashIndex`, lock-free reads, same hasher;
//! - `std_hashmap_siphash`: one `std::collections::HashMap` with its SipHash and no lock: the
//!   single-threaded floor.
#![allow(clippy::expect_used)]

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::hint::black_box;
use std::sync::{Barrier, RwLock};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use foldhash::fast::RandomState;
use hashbrown::HashTable;

const USERS: usize = 10_000;
const SHARDS: usize = 64;

fn users() -> Vec<String> {
    let mut users: Vec<String> = (0..USERS).map(|i| format!("o6_bmjrPTlm6_{i:05}_sgVt7hMZOPf")).collect();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in (1..users.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        users.swap(i, (x % (i as u64 + 1)) as usize);
    }
    users
}

/// The runtime's layout, rebuilt here: an inline key up to 30 bytes and a small value.
struct Entry {
    len: u8,
    key: [u8; 30],
    value: u16,
}

struct Sharded {
    shards: Vec<RwLock<HashTable<Entry>>>,
    hasher: RandomState,
}

impl Sharded {
    fn hash(&self, k: &str) -> u64 {
        let mut h = self.hasher.build_hasher();
        h.write_u8(1);
        h.write(k.as_bytes());
        h.finish()
    }
    fn insert(&self, k: &str, value: u16) {
        let h = self.hash(k);
        let mut key = [0; 30];
        key[..k.len()].copy_from_slice(k.as_bytes());
        let e = Entry { len: k.len() as u8, key, value };
        let mut t = self.shards[(h >> 40) as usize % SHARDS].write().expect("lock");
        t.insert_unique(h, e, |e| self.hash(std::str::from_utf8(&e.key[..usize::from(e.len)]).expect("utf-8")));
    }
    #[inline]
    fn get(&self, k: &str) -> Option<u16> {
        let h = self.hash(k);
        let t = self.shards[(h >> 40) as usize % SHARDS].read().expect("lock");
        t.find(h, |e| &e.key[..usize::from(e.len)] == k.as_bytes()).map(|e| e.value)
    }
}

/// `Sharded` with each shard's read lock split in stripes, one per thread (up to 8): a reader
/// locks its own stripe, a writer all of them, so readers on two cores write different lines.
struct Striped {
    shards: Vec<StripedShard>,
    hasher: RandomState,
}

#[repr(align(128))]
struct Stripe(RwLock<()>);

struct StripedShard {
    stripes: [Stripe; 8],
    table: std::cell::UnsafeCell<HashTable<Entry>>,
}

// SAFETY: `table` is read only under one stripe's read lock and written only under every
// stripe's write lock, so a `&mut` never coexists with another reference.
unsafe impl Sync for StripedShard {}

fn my_stripe() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! { static MINE: usize = NEXT.fetch_add(1, Ordering::Relaxed) % 8; }
    MINE.with(|m| *m)
}

impl Striped {
    fn hash(&self, k: &str) -> u64 {
        let mut h = self.hasher.build_hasher();
        h.write_u8(1);
        h.write(k.as_bytes());
        h.finish()
    }
    fn insert(&self, k: &str, value: u16) {
        let h = self.hash(k);
        let mut key = [0; 30];
        key[..k.len()].copy_from_slice(k.as_bytes());
        let shard = &self.shards[(h >> 40) as usize % SHARDS];
        let _all: Vec<_> = shard.stripes.iter().map(|s| s.0.write().expect("lock")).collect();
        // SAFETY: every stripe is write-locked.
        let t = unsafe { &mut *shard.table.get() };
        t.insert_unique(h, Entry { len: k.len() as u8, key, value }, |e| {
            self.hash(std::str::from_utf8(&e.key[..usize::from(e.len)]).expect("utf-8"))
        });
    }
    #[inline]
    fn get(&self, k: &str) -> Option<u16> {
        let h = self.hash(k);
        let shard = &self.shards[(h >> 40) as usize % SHARDS];
        let _r = shard.stripes[my_stripe()].0.read().expect("lock");
        // SAFETY: a stripe is read-locked, so no writer holds them all.
        let t = unsafe { &*shard.table.get() };
        t.find(h, |e| &e.key[..usize::from(e.len)] == k.as_bytes()).map(|e| e.value)
    }
}

/// The maps, filled with every user.
struct Maps {
    sharded: Sharded,
    striped: Striped,
    dashmap: dashmap::DashMap<Box<str>, u16, RandomState>,
    papaya: papaya::HashMap<Box<str>, u16, RandomState>,
    scc: scc::HashIndex<Box<str>, u16, RandomState>,
    std: HashMap<Box<str>, u16>,
}

fn maps(users: &[String]) -> Maps {
    let m = Maps {
        sharded: Sharded {
            shards: (0..SHARDS).map(|_| RwLock::new(HashTable::new())).collect(),
            hasher: RandomState::default(),
        },
        striped: Striped {
            shards: (0..SHARDS)
                .map(|_| StripedShard {
                    stripes: std::array::from_fn(|_| Stripe(RwLock::new(()))),
                    table: std::cell::UnsafeCell::new(HashTable::new()),
                })
                .collect(),
            hasher: RandomState::default(),
        },
        dashmap: dashmap::DashMap::with_hasher(RandomState::default()),
        papaya: papaya::HashMap::with_hasher(RandomState::default()),
        scc: scc::HashIndex::with_hasher(RandomState::default()),
        std: HashMap::new(),
    };
    for u in users {
        m.sharded.insert(u, 1);
        m.striped.insert(u, 1);
        m.dashmap.insert(u.as_str().into(), 1);
        m.papaya.pin().insert(u.as_str().into(), 1);
        m.scc.insert(u.as_str().into(), 1).expect("new key");
    }
    let mut m = m;
    m.std = users.iter().map(|u| (u.as_str().into(), 1)).collect();
    for u in users.iter().take(3) {
        assert_eq!(m.sharded.get(u), Some(1));
        assert_eq!(m.striped.get(u), Some(1));
        assert_eq!(m.dashmap.get(u.as_str()).map(|v| *v), Some(1));
        assert_eq!(m.papaya.pin().get(u.as_str()).copied(), Some(1));
        assert_eq!(m.scc.peek_with(u.as_str(), |_, v| *v), Some(1));
        assert_eq!(m.std.get(u.as_str()).copied(), Some(1));
    }
    assert_eq!(m.sharded.get("someone-else"), None);
    m
}

type Lookup = fn(&Maps, &str) -> bool;

const CANDIDATES: [(&str, Lookup); 6] = [
    ("sharded_rwlock_hashbrown", |m, u| m.sharded.get(u).is_some_and(|v| v >= 1)),
    ("striped_rwlock_hashbrown", |m, u| m.striped.get(u).is_some_and(|v| v >= 1)),
    ("dashmap", |m, u| m.dashmap.get(u).is_some_and(|v| *v >= 1)),
    ("papaya", |m, u| m.papaya.pin().get(u).is_some_and(|v| *v >= 1)),
    ("scc_hashindex", |m, u| m.scc.peek_with(u, |_, v| *v >= 1).unwrap_or(false)),
    ("std_hashmap_siphash", |m, u| m.std.get(u).is_some_and(|v| *v >= 1)),
];

/// `iters` lookups on each of `threads` threads, each walking the rotation from its own start.
fn run(maps: &Maps, users: &[String], lookup: Lookup, threads: usize, iters: u64) -> Duration {
    let barrier = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        for t in 0..threads {
            let barrier = &barrier;
            s.spawn(move || {
                let mut at = t * USERS / 2;
                barrier.wait();
                for _ in 0..iters {
                    black_box(lookup(maps, black_box(&users[at])));
                    at = if at + 1 == USERS { 0 } else { at + 1 };
                }
                barrier.wait();
            });
        }
        barrier.wait();
        let start = Instant::now();
        barrier.wait();
        start.elapsed()
    })
}

fn candidates(c: &mut Criterion) {
    let users = users();
    let maps = maps(&users);
    let mut g = c.benchmark_group("map_candidates");
    for (name, lookup) in CANDIDATES {
        g.bench_function(format!("{name}/1_thread"), |b| {
            let mut at = 0;
            b.iter(|| {
                let r = lookup(&maps, black_box(&users[at]));
                at = if at + 1 == USERS { 0 } else { at + 1 };
                black_box(r)
            })
        });
        if name != "std_hashmap_siphash" {
            g.bench_function(format!("{name}/2_threads"), |b| {
                b.iter_custom(|iters| run(&maps, &users, lookup, 2, iters))
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = candidates
}
criterion_main!(benches);
