//! The cost of the consent check on a consented call, against the same call unguarded, and how
#![allow(clippy::expect_used)]
//! consented calls scale from one thread to two.
//!
//! ```text
//! cargo bench -p privacy-runtime --bench guarded_call
//! python3 .ci/bench-report > BENCHMARKS.md
//! ```

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use privacy_runtime::{Gate, Guidelines, PrivacyError, Scope, ScopeSet, Timestamp, privacy_scope, with_gate};

const LOCATION: ScopeSet = ScopeSet::EMPTY.with(Scope::LOCATION);

fn gate() -> Gate {
    let guidelines = Guidelines::builder("《基准测试隐私保护指引》")
        .version(Timestamp::utc(2023, 7, 11, 0, 0, 0), ["location"])
        .agree_button("agree-btn")
        .build()
        .expect("valid guidelines");
    let gate = Gate::builder("bench", guidelines).build();
    for user in ["user-0", "user-1"] {
        gate.tap_agree_button_blocking(user, "agree-btn").expect("consent stored");
    }
    gate
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

fn single_call(c: &mut Criterion) {
    let gate = gate();
    let mut g = c.benchmark_group("consented_call");
    g.bench_function("plain", |b| b.iter(|| plain(black_box("user-0"), black_box(7))));
    g.bench_function("gate_by_hand", |b| b.iter(|| by_hand(&gate, black_box("user-0"), black_box(7))));
    // Production installs one global gate; the scoped override is measured separately.
    let _ = gate.clone().install_global();
    assert!(annotated("user-0", 7).is_ok(), "the benchmark user has consented");
    g.bench_function("annotated", |b| b.iter(|| annotated(black_box("user-0"), black_box(7))));
    with_gate(&gate, || {
        g.bench_function("annotated_scoped_gate", |b| b.iter(|| annotated(black_box("user-0"), black_box(7))));
    });
    g.finish();
}

/// Runs `iters` annotated calls on each of `threads` threads and returns the wall time.
fn run_threads(threads: usize, iters: u64, same_user: bool) -> Duration {
    let barrier = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        for t in 0..threads {
            let barrier = &barrier;
            let user = if same_user { "user-0" } else { ["user-0", "user-1"][t % 2] };
            s.spawn(move || {
                barrier.wait();
                for i in 0..iters {
                    let _ = black_box(annotated(black_box(user), i));
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

fn threads(c: &mut Criterion) {
    let mut g = c.benchmark_group("threads");
    // Each iteration is one call per thread: time per iteration falling short of doubling means
    // the threads ran in parallel. Throughput ratio = 2 × t(1 thread) / t(2 threads).
    g.bench_function("1_thread", |b| b.iter_custom(|iters| run_threads(1, iters, false)));
    g.bench_function("2_threads_distinct_users", |b| b.iter_custom(|iters| run_threads(2, iters, false)));
    g.bench_function("2_threads_same_user", |b| b.iter_custom(|iters| run_threads(2, iters, true)));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = single_call, threads
}
criterion_main!(benches);
