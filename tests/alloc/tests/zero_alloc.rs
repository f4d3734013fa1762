//! A consented guarded call makes no heap allocation: counted by a global allocator that tallies
//! the allocations of the thread under test, for each shape of function, built-in and custom
//! scopes, one user over and over and 10,000 users in rotation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use privacy_alloc_tests::{locate, locate_caller, purchases, suggest};
use privacy_runtime::{Gate, Scope, ScopeSet, with_gate, with_subject};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to the system allocator unchanged; the count is a side effect.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made on this thread by `f`.
fn allocations_of(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// Polls a future that is ready at once (a consented call never waits) without an executor.
fn ready<F: Future>(f: F) -> F::Output {
    match pin!(f).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("a consented call waited"),
    }
}

const USERS: usize = 10_000;

/// One consented call for a user.
type Call<'a> = dyn Fn(&str, u64) + 'a;

fn users() -> Vec<String> {
    (0..USERS).map(|i| format!("o6_bmjrPTlm6_{i:05}_sgVt7hMZOPf")).collect()
}

/// One test, so no other test of this binary runs while the count is taken.
#[test]
fn consented_calls_do_not_allocate() {
    let guidelines = privacy_runtime::guidelines!();
    let purchase = guidelines.scope("purchase_history").unwrap();
    let both = ScopeSet::EMPTY.with(Scope::LOCATION).with(purchase);
    let gate = Gate::builder("alloc-test", guidelines).build();
    let users = users();
    for u in &users {
        gate.tap_agree_button_blocking(u.as_str(), "agree-btn").unwrap();
    }
    gate.clone().install_global().unwrap();
    let one = users[0].as_str();

    // Warm: the first call of a thread sets up its thread-locals; a site with custom scopes
    // resolves them once.
    assert_eq!(locate(one, 1).unwrap(), 31);
    assert!(purchases(one, 1).is_ok());
    assert!(ready(suggest(one, 1)).is_ok());
    with_subject(one, || assert!(locate_caller(1).is_ok()));
    with_gate(&gate, || assert!(locate(one, 1).is_ok()));

    let cases: [(&str, &Call); 5] = [
        ("built-in scope", &|u, i| assert!(locate(u, i).is_ok())),
        ("custom scope", &|u, i| assert!(purchases(u, i).is_ok())),
        ("async, both scopes", &|u, i| assert!(ready(suggest(u, i)).is_ok())),
        ("Gate::check_blocking", &|u, _| assert!(gate.check_blocking("suggestNearby", both, u).is_ok())),
        ("scoped gate", &|u, i| with_gate(&gate, || assert!(locate(u, i).is_ok()))),
    ];
    for (name, call) in cases {
        let same_user = allocations_of(|| (0..1_000).for_each(|i| call(one, i)));
        assert_eq!(same_user, 0, "{name}: one user over and over allocated {same_user} times");
        // First pass of the rotation fills the per-thread cache's slots; the count covers two.
        let rotation = allocations_of(|| {
            for i in 0..2 * USERS {
                call(&users[(i * 7919) % USERS], i as u64);
            }
        });
        assert_eq!(rotation, 0, "{name}: {USERS} users in rotation allocated {rotation} times");
    }
    // The ambient subject, set once per request by a web layer (that copy is not counted).
    with_subject(one, || {
        let n = allocations_of(|| (0..1_000).for_each(|i| assert!(locate_caller(i).is_ok())));
        assert_eq!(n, 0, "ambient subject: allocated {n} times");
    });
    // The counter counts: a refused call builds its error (an owned message) on the heap.
    let refused = allocations_of(|| assert!(locate("someone-who-never-agreed", 1).is_err()));
    assert!(refused > 0, "the counting allocator saw nothing");
}
