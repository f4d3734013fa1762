//! What a gate keeps in memory per consented user, from the allocator's own count: 1,000,000
//! consented users read into a gate's snapshot; then 100,000 unknown ids whose consent is read
//! (`getPrivacySetting`), which the snapshot must not keep; then 10,000 unknown ids calling a
//! guarded API, each of which opens an authorization that lives until it expires.
//!
//! ```text
//! cargo bench -p privacy-runtime --bench snapshot_memory
//! ```
//!
//! Writes `target/criterion/snapshot_memory/report.json` for `.ci/bench-report`.
#![allow(clippy::expect_used, clippy::print_stdout)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use privacy_runtime::{Gate, Guidelines, MemoryStore, Scope, ScopeSet, Timestamp, WaitPolicy};

/// Counts the bytes allocated and not yet freed.
struct Live;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the count is a side effect.
unsafe impl GlobalAlloc for Live {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Live = Live;

const USERS: usize = 1_000_000;
const UNKNOWN: usize = 100_000;
const CALLERS: usize = 10_000;
const LOCATION: ScopeSet = ScopeSet::EMPTY.with(Scope::LOCATION);

fn id(i: usize) -> String {
    format!("o6_bmjrPTlm6_{i:07}_sgVt7hMZO")
}

/// The live bytes. Memory the snapshot's map has retired but not yet freed (tables it outgrew,
/// freed once no reader can see them) is counted too: the figure errs high.
fn live() -> usize {
    LIVE.load(Ordering::SeqCst)
}

fn main() {
    // `cargo bench` passes `--bench`; a filter that names another benchmark skips this one.
    if std::env::args().skip(1).any(|a| !a.starts_with('-') && !"snapshot_memory".contains(a.as_str())) {
        return;
    }
    let guidelines = Guidelines::builder("《基准测试隐私保护指引》")
        .version(Timestamp::utc(2023, 7, 11, 0, 0, 0), ["location"])
        .agree_button("agree-btn")
        .build()
        .expect("valid guidelines");
    let store = Arc::new(MemoryStore::new());
    let started = Instant::now();
    {
        let writer = Gate::builder("bench", guidelines.clone()).store(Arc::clone(&store)).build();
        for i in 0..USERS {
            writer.tap_agree_button_blocking(id(i).as_str(), "agree-btn").expect("stored");
            if (i + 1) % 250_000 == 0 {
                eprintln!("  {} of {USERS} agreements stored ({:.0?})", i + 1, started.elapsed());
            }
        }
    }
    let id_bytes = id(0).len();
    let gate = Gate::builder("bench", guidelines)
        .store(Arc::clone(&store))
        .wait_policy(WaitPolicy::ReturnPending)
        .snapshot_capacity(USERS)
        .build();
    let live0 = live();
    for i in 0..USERS {
        gate.check_blocking("getLocation", LOCATION, id(i).as_str()).expect("consented");
    }
    let live1 = live();
    assert_eq!(gate.stats().users_in_snapshot, USERS, "every consented user is kept");
    for i in 0..UNKNOWN {
        let setting = gate.get_privacy_setting_blocking(format!("stranger-{i}").as_str()).expect("read");
        assert!(setting.need_authorization);
    }
    let live2 = live();
    assert_eq!(gate.stats().users_in_snapshot, USERS, "unknown ids are not kept");
    for i in 0..CALLERS {
        let refused = gate.check_blocking("getLocation", LOCATION, format!("caller-{i}").as_str());
        assert!(refused.is_err(), "an unknown caller is refused");
    }
    let live3 = live();
    assert_eq!(gate.stats().users_in_snapshot, USERS, "unknown callers are not kept");
    assert_eq!(gate.stats().open_tickets, CALLERS, "each unknown caller has an open authorization");

    let per_user = (live1 - live0) as f64 / USERS as f64;
    let unknown_total = live2 as i64 - live1 as i64;
    let per_caller = (live3 as f64 - live2 as f64) / CALLERS as f64;
    let report = format!(
        r#"{{"users": {USERS}, "id_bytes": {id_bytes}, "bytes_per_user": {per_user:.1}, "beyond_id": {:.1}, "unknown_ids": {UNKNOWN}, "unknown_bytes": {unknown_total}, "callers": {CALLERS}, "bytes_per_open_authorization": {per_caller:.0}}}"#,
        per_user - id_bytes as f64
    );
    println!(
        "snapshot of {USERS} consented users: {per_user:.1} bytes a user ({:.1} beyond the {id_bytes}-byte id); \
         {UNKNOWN} unknown ids read: {unknown_total} bytes kept; an unknown caller's open authorization: {per_caller:.0} bytes until it expires",
        per_user - id_bytes as f64
    );
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion/snapshot_memory");
    if let Err(e) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join("report.json"), report)) {
        eprintln!("could not write {}: {e}", dir.display());
    }
}
