//! The consent a button is giving between its press and its write: a combined button's action
//! runs as if the user had agreed, and nothing is recorded unless the action succeeds.
//!
//! A clear of the user between the press and the write withdraws it: the action's provisional
//! consent ends at once, and the agreement is not recorded.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use crate::scope::ScopeSet;
use crate::subject::Subject;
use crate::sync::{Mutex, lock};

/// `true` once the user's consent was cleared while the action ran.
type Withdrawn = Arc<AtomicBool>;

thread_local! {
    static PROVISIONAL: RefCell<Vec<(u64, Subject, ScopeSet, Withdrawn)>> = const { RefCell::new(Vec::new()) };
}

/// The combined-button actions running now, by user, so a clear can withdraw them.
#[derive(Default)]
pub(crate) struct Actions {
    running: Mutex<HashMap<Subject, Vec<Withdrawn>>>,
}

/// One running action; unregisters when dropped.
pub(crate) struct Action<'a> {
    actions: &'a Actions,
    subject: Subject,
    withdrawn: Withdrawn,
}

impl Actions {
    pub(crate) fn start(&self, subject: &Subject) -> Action<'_> {
        let withdrawn = Withdrawn::default();
        lock(&self.running).entry(subject.clone()).or_default().push(Arc::clone(&withdrawn));
        Action { actions: self, subject: subject.clone(), withdrawn }
    }

    /// The user's consent was cleared: every action of theirs running now loses its consent.
    pub(crate) fn withdraw(&self, subject: &Subject) {
        if let Some(flags) = lock(&self.running).get(subject) {
            flags.iter().for_each(|f| f.store(true, Ordering::SeqCst));
        }
    }
}

impl Action<'_> {
    /// The user who pressed the button.
    pub(crate) fn subject(&self) -> &Subject {
        &self.subject
    }

    /// `true` if the user's consent was cleared since the button was pressed.
    pub(crate) fn withdrawn(&self) -> bool {
        self.withdrawn.load(Ordering::SeqCst)
    }
}

impl Drop for Action<'_> {
    fn drop(&mut self) {
        let mut running = lock(&self.actions.running);
        if let Some(flags) = running.get_mut(&self.subject) {
            flags.retain(|f| !Arc::ptr_eq(f, &self.withdrawn));
            if flags.is_empty() {
                running.remove(&self.subject);
            }
        }
    }
}

/// Sets a provisional consent on this thread until dropped.
struct Pushed;

impl Pushed {
    fn push(gate: u64, subject: &Subject, covers: ScopeSet, withdrawn: &Withdrawn) -> Self {
        PROVISIONAL.with(|p| p.borrow_mut().push((gate, subject.clone(), covers, Arc::clone(withdrawn))));
        Pushed
    }
}

impl Drop for Pushed {
    fn drop(&mut self) {
        PROVISIONAL.with(|p| p.borrow_mut().pop());
    }
}

/// Runs `f` with the provisional consent of `action` set.
pub(crate) fn with<R>(gate: u64, action: &Action<'_>, covers: ScopeSet, f: impl FnOnce() -> R) -> R {
    let _p = Pushed::push(gate, &action.subject, covers, &action.withdrawn);
    f()
}

/// `true` when a provisional consent of `gate` for `subject` covers `required` on this thread.
pub(crate) fn covers(gate: u64, subject: &Subject, required: ScopeSet) -> bool {
    PROVISIONAL.with(|p| {
        p.try_borrow().is_ok_and(|p| {
            p.iter()
                .any(|(g, s, c, w)| *g == gate && s == subject && required.is_subset(*c) && !w.load(Ordering::SeqCst))
        })
    })
}

/// A future that has the provisional consent set while it is polled.
pub(crate) struct Provisional<F> {
    fut: Pin<Box<F>>,
    gate: u64,
    subject: Subject,
    covers: ScopeSet,
    withdrawn: Withdrawn,
}

impl<F> Provisional<F> {
    pub(crate) fn new(gate: u64, action: &Action<'_>, covers: ScopeSet, fut: F) -> Self {
        let (subject, withdrawn) = (action.subject.clone(), Arc::clone(&action.withdrawn));
        Provisional { fut: Box::pin(fut), gate, subject, covers, withdrawn }
    }
}

impl<F: Future> Future for Provisional<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let _p = Pushed::push(this.gate, &this.subject, this.covers, &this.withdrawn);
        this.fut.as_mut().poll(cx)
    }
}
