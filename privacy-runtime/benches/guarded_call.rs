//! The cost of the consent check on a consented call, against the same call unguarded and a std
//! `HashMap` probe, for one user and for 10,000 users in rotation, with consent being recorded
//! for other users meanwhile, and on one thread against two.
//!
//! ```text
//! cargo bench -p privacy-runtime --bench guarded_call
//! python3 .ci/bench-report        # rewrites BENCHMARKS.md
//! ```
#![allow(clippy::expect_used)]

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use privacy_runtime::{Gate, Guidelines, PrivacyError, Scope, ScopeSet, Timestamp, privacy_scope, with_gate};

const LOCATION: ScopeSet = ScopeSet::EMPTY.with(Scope::LOCATION);
const USERS: usize = 10_000;

fn gate() -> Gate {
    let guidelines = Guidelines::builder("《基准测试隐私保护指引》")
        .version(Timestamp::utc(2023, 7, 11, 0, 0, 0), ["location"])
        .agree_button("agree-btn")
        .build()
        .expect("valid guidelines");
    Gate::builder("bench", guidelines).build()
}

/// 10,000 openid-like ids, in a fixed shuffled order (so memory is not walked in sequence).
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

/// The next user of a rotation.
struct Rotation<'a> {
    users: &'a [String],
    at: usize,
}

impl<'a> Rotation<'a> {
    fn new(users: &'a [String], start: usize) -> Self {
        Rotation { users, at: start % users.len() }
    }
    #[inline]
    fn next_user(&mut self) -> &'a str {
        let u = &self.users[self.at];
        self.at += 1;
        if self.at == self.users.len() {
            self.at = 0;
        }
        u
    }
}

/// The work of the guarded function: small, so the check's cost is visible.
#[inline(never)]
fn locate(seed: u64) -> (u64, u64) {
    (seed.wrapping_mul(31), seed ^ 0x5bd1_e995)
}

#[inline(never)]
fn plain(user: &str, seed: u64) -> Result<(u64, u64), PrivacyError> {
    black_box(user);
    Ok(locate(seed))
}

#[inline(never)]
fn by_hand(gate: &Gate, user: &str, seed: u64) -> Result<(u64, u64), PrivacyError> {
    gate.check_blocking("getLocation", LOCATION, user)?;
    Ok(locate(seed))
}

#[inline(never)]
#[privacy_scope("location", api = "getLocation")]
fn annotated(#[subject] user: &str, seed: u64) -> Result<(u64, u64), PrivacyError> {
    Ok(locate(seed))
}

/// The same, for an app whose users are integer ids.
#[inline(never)]
#[privacy_scope("location", api = "getLocation")]
fn annotated_int(#[subject] user: u64, seed: u64) -> Result<(u64, u64), PrivacyError> {
    Ok(locate(seed))
}

/// The integer ids of the users, in the rotation's order.
fn int_ids(users: &[String]) -> Vec<u64> {
    users.iter().map(|u| u[13..18].parse().expect("numbered id")).collect()
}

/// The gate, installed globally as in production, with every user (by string id and by integer
/// id) consented and read once.
fn setup(users: &[String]) -> Gate {
    let gate = gate();
    for (u, i) in users.iter().zip(int_ids(users)) {
        gate.tap_agree_button_blocking(u.as_str(), "agree-btn").expect("consent stored");
        gate.tap_agree_button_blocking(i, "agree-btn").expect("consent stored");
    }
    let _ = gate.clone().install_global();
    for (u, i) in users.iter().zip(int_ids(users)) {
        assert!(annotated(u, 7).is_ok(), "{u} has consented");
        assert!(annotated_int(i, 7).is_ok(), "{i} has consented");
    }
    assert!(annotated("someone-else", 7).is_err(), "an unknown user is refused");
    gate
}

fn single_user(c: &mut Criterion, gate: &Gate, users: &[String]) {
    let one = users[0].as_str();
    let mut g = c.benchmark_group("consented_call");
    g.bench_function("plain", |b| b.iter(|| plain(black_box(one), black_box(7))));
    g.bench_function("gate_by_hand", |b| b.iter(|| by_hand(gate, black_box(one), black_box(7))));
    g.bench_function("annotated", |b| b.iter(|| annotated(black_box(one), black_box(7))));
    with_gate(gate, || {
        g.bench_function("annotated_scoped_gate", |b| b.iter(|| annotated(black_box(one), black_box(7))));
    });
    g.finish();
}

fn rotation(c: &mut Criterion, gate: &Gate, users: &[String]) {
    let by_index: HashMap<u64, u32> = (0..USERS as u64).map(|i| (i, 1)).collect();
    let by_id: HashMap<String, u32> = users.iter().map(|u| (u.clone(), 1)).collect();
    let order = int_ids(users);
    let mut g = c.benchmark_group("rotation_10k");
    g.bench_function("plain", |b| {
        let mut r = Rotation::new(users, 0);
        b.iter(|| plain(black_box(r.next_user()), black_box(7)))
    });
    g.bench_function("hashmap_u64_siphash", |b| {
        let mut i = 0;
        b.iter(|| {
            let k = order[i];
            i = if i + 1 == order.len() { 0 } else { i + 1 };
            black_box(by_index.get(&black_box(k)).is_some_and(|v| *v >= 1))
        })
    });
    g.bench_function("hashmap_str_siphash", |b| {
        let mut r = Rotation::new(users, 0);
        b.iter(|| black_box(by_id.get(black_box(r.next_user())).is_some_and(|v| *v >= 1)))
    });
    g.bench_function("gate_by_hand", |b| {
        let mut r = Rotation::new(users, 0);
        b.iter(|| by_hand(gate, black_box(r.next_user()), black_box(7)))
    });
    g.bench_function("annotated", |b| {
        let mut r = Rotation::new(users, 0);
        b.iter(|| annotated(black_box(r.next_user()), black_box(7)))
    });
    g.bench_function("annotated_int_ids", |b| {
        let mut i = 0;
        b.iter(|| {
            let k = order[i];
            i = if i + 1 == order.len() { 0 } else { i + 1 };
            annotated_int(black_box(k), black_box(7))
        })
    });
    g.finish();
}

/// Records agreements of users outside the rotation at `per_second` until stopped; the number
/// recorded and the time taken go to `target/criterion/rotation_10k_writes/writer.json`.
struct Writer {
    stop: Arc<AtomicBool>,
    done: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<Duration>>,
}

impl Writer {
    fn start(gate: &Gate, per_second: u64) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicU64::new(0));
        let (gate, s, d) = (gate.clone(), Arc::clone(&stop), Arc::clone(&done));
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            let mut n = 0u64;
            while !s.load(Ordering::Relaxed) {
                gate.tap_agree_button_blocking(format!("writer-{n}").as_str(), "agree-btn").expect("stored");
                n += 1;
                d.store(n, Ordering::Relaxed);
                let due = start + Duration::from_micros(n * 1_000_000 / per_second);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            start.elapsed()
        });
        Writer { stop, done, thread: Some(thread) }
    }

    /// Stops the writer: agreements recorded and the time taken.
    fn stop(mut self) -> (u64, Duration) {
        self.stop.store(true, Ordering::Relaxed);
        let elapsed = self.thread.take().map(|t| t.join().expect("writer ran")).unwrap_or_default();
        (self.done.load(Ordering::Relaxed), elapsed)
    }
}

fn rotation_with_writes(c: &mut Criterion, gate: &Gate, users: &[String]) {
    let mut g = c.benchmark_group("rotation_10k_writes");
    g.bench_function("quiet", |b| {
        let mut r = Rotation::new(users, 0);
        b.iter(|| annotated(black_box(r.next_user()), black_box(7)))
    });
    let writer = Writer::start(gate, 1_000);
    g.bench_function("agrees_1000_per_s", |b| {
        let mut r = Rotation::new(users, 0);
        b.iter(|| annotated(black_box(r.next_user()), black_box(7)))
    });
    let (agrees, elapsed) = writer.stop();
    g.finish();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion/rotation_10k_writes");
    let report = format!(r#"{{"agrees": {agrees}, "seconds": {:.3}}}"#, elapsed.as_secs_f64());
    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join("writer.json"), report)) {
        eprintln!("could not write the writer's rate to {}: {e}", dir.display());
    }
}

/// Runs `iters` annotated calls on each of `threads` threads and returns the wall time. With
/// `users`, each thread walks the rotation from its own starting point; without, each calls for
/// one user (its own, or the same for all with `same_user`).
fn run_threads(threads: usize, iters: u64, users: Option<&[String]>, same_user: bool) -> Duration {
    let barrier = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        for t in 0..threads {
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                match users {
                    Some(users) => {
                        let mut r = Rotation::new(users, t * USERS / 2);
                        for i in 0..iters {
                            let _ = black_box(annotated(black_box(r.next_user()), i));
                        }
                    }
                    None => {
                        let user = if same_user { "user-0" } else { ["user-0", "user-1"][t % 2] };
                        for i in 0..iters {
                            let _ = black_box(annotated(black_box(user), i));
                        }
                    }
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

fn threads(c: &mut Criterion, gate: &Gate, users: &[String]) {
    for u in ["user-0", "user-1"] {
        gate.tap_agree_button_blocking(u, "agree-btn").expect("consent stored");
    }
    // Each iteration is one call per thread: time per iteration falling short of doubling means
    // the threads ran in parallel. Throughput ratio = 2 × t(1 thread) / t(2 threads).
    let mut g = c.benchmark_group("threads");
    g.bench_function("1_thread", |b| b.iter_custom(|iters| run_threads(1, iters, None, false)));
    g.bench_function("2_threads_distinct_users", |b| b.iter_custom(|iters| run_threads(2, iters, None, false)));
    g.bench_function("2_threads_same_user", |b| b.iter_custom(|iters| run_threads(2, iters, None, true)));
    g.finish();
    let mut g = c.benchmark_group("rotation_threads");
    g.bench_function("1_thread", |b| b.iter_custom(|iters| run_threads(1, iters, Some(users), false)));
    g.bench_function("2_threads", |b| b.iter_custom(|iters| run_threads(2, iters, Some(users), false)));
    g.finish();
}

fn all(c: &mut Criterion) {
    let users = users();
    let gate = setup(&users);
    single_user(c, &gate, &users);
    rotation(c, &gate, &users);
    threads(c, &gate, &users);
    // Last: the writer adds users to the gate.
    rotation_with_writes(c, &gate, &users);
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = all
}
criterion_main!(benches);
