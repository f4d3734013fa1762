//! The consent a combined button is giving while its action runs: the action's own privacy calls
//! run as if the user had agreed, and nothing is recorded unless the action succeeds.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::scope::ScopeSet;
use crate::subject::Subject;

thread_local! {
    static PROVISIONAL: RefCell<Vec<(u64, Subject, ScopeSet)>> = const { RefCell::new(Vec::new()) };
}

/// Sets a provisional consent on this thread until dropped.
struct Pushed;

impl Pushed {
    fn push(gate: u64, subject: &Subject, covers: ScopeSet) -> Self {
        PROVISIONAL.with(|p| p.borrow_mut().push((gate, subject.clone(), covers)));
        Pushed
    }
}

impl Drop for Pushed {
    fn drop(&mut self) {
        PROVISIONAL.with(|p| p.borrow_mut().pop());
    }
}

/// Runs `f` with the provisional consent set.
pub(crate) fn with<R>(gate: u64, subject: &Subject, covers: ScopeSet, f: impl FnOnce() -> R) -> R {
    let _p = Pushed::push(gate, subject, covers);
    f()
}

/// `true` when a provisional consent of `gate` for `subject` covers `required` on this thread.
pub(crate) fn covers(gate: u64, subject: &Subject, required: ScopeSet) -> bool {
    PROVISIONAL.with(|p| {
        p.try_borrow().is_ok_and(|p| p.iter().any(|(g, s, c)| *g == gate && s == subject && required.is_subset(*c)))
    })
}

/// A future that has the provisional consent set while it is polled.
pub(crate) struct Provisional<F> {
    fut: Pin<Box<F>>,
    gate: u64,
    subject: Subject,
    covers: ScopeSet,
}

impl<F> Provisional<F> {
    pub(crate) fn new(gate: u64, subject: Subject, covers: ScopeSet, fut: F) -> Self {
        Provisional { fut: Box::pin(fut), gate, subject, covers }
    }
}

impl<F: Future> Future for Provisional<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let _p = Pushed::push(this.gate, &this.subject, this.covers);
        this.fut.as_mut().poll(cx)
    }
}
