//! Which gate and which user a guarded call uses when its arguments do not say: the global
//! gate, a gate set for a scope of code, and the ambient subject.
//!
//! Sync code sets them for the duration of a closure (thread-local); async code wraps a future
//! so they are set while it is polled (task-local, on any executor).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use crate::gate::Gate;
use crate::subject::{AsSubject, Subject, SubjectRef};

static GLOBAL: OnceLock<Gate> = OnceLock::new();
/// How many scoped gates are set on any thread. While none is, guarded calls go straight to the
/// global gate without touching thread-local state.
static SCOPED_GATES: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static GATE: RefCell<Option<Gate>> = const { RefCell::new(None) };
    static SUBJECT: RefCell<Option<Subject>> = const { RefCell::new(None) };
}

/// A global gate is already installed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("a global privacy gate is already installed; install it once at startup, or use with_gate for a scope of code")]
pub struct GateAlreadyInstalled;

impl Gate {
    /// Installs this gate for every thread and task that has no scoped gate of its own.
    pub fn install_global(self) -> Result<(), GateAlreadyInstalled> {
        GLOBAL.set(self).map_err(|_| GateAlreadyInstalled)
    }

    /// Runs `fut` with this gate as the current one while it is polled.
    pub fn scope<F: Future>(&self, fut: F) -> Scoped<F> {
        Scoped { fut: Box::pin(fut), gate: Some(self.clone()), subject: None }
    }
}

/// Calls `f` with the current gate: the one set for this scope of code, else the global one.
/// `f` runs while this thread's gate slot is borrowed: it must run no user code (clone the gate
/// out for that).
#[inline]
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Gate>) -> R) -> R {
    if SCOPED_GATES.load(Ordering::Acquire) == 0 {
        return f(GLOBAL.get());
    }
    GATE.with(|g| match g.try_borrow() {
        Ok(g) => match g.as_ref() {
            Some(gate) => f(Some(gate)),
            None => f(GLOBAL.get()),
        },
        Err(_) => f(GLOBAL.get()),
    })
}

/// The global gate, when no scoped gate is set on any thread (so none can apply here).
#[inline]
pub(crate) fn global_only() -> Option<&'static Gate> {
    if SCOPED_GATES.load(Ordering::Acquire) == 0 { GLOBAL.get() } else { None }
}

/// The gate a guarded call would use here, if any.
pub fn current_gate() -> Option<Gate> {
    with_current(|g| g.cloned())
}

/// Calls `f` with the ambient subject, if one is set. Like [`with_current`], `f` must run no
/// user code.
#[inline]
pub(crate) fn with_ambient<R>(f: impl FnOnce(Option<SubjectRef<'_>>) -> R) -> R {
    SUBJECT.with(|s| match s.try_borrow() {
        Ok(s) => f(s.as_ref().map(Subject::as_ref)),
        Err(_) => f(None),
    })
}

/// The ambient subject, if one is set.
pub fn current_subject() -> Option<Subject> {
    with_ambient(|s| s.map(SubjectRef::to_owned))
}

/// Puts a value into a thread-local and puts the old one back when dropped.
struct Swap<T: 'static> {
    key: &'static std::thread::LocalKey<RefCell<T>>,
    saved: T,
}

impl<T> Swap<T> {
    fn new(key: &'static std::thread::LocalKey<RefCell<T>>, mut value: T) -> Self {
        key.with(|cell| std::mem::swap(&mut *cell.borrow_mut(), &mut value));
        Swap { key, saved: value }
    }
}

impl<T> Drop for Swap<T> {
    fn drop(&mut self) {
        let key = self.key;
        key.with(|cell| std::mem::swap(&mut *cell.borrow_mut(), &mut self.saved));
    }
}

/// A scoped gate on this thread, counted in [`SCOPED_GATES`] while it is set.
struct ScopedGate(#[allow(dead_code)] Swap<Option<Gate>>);

impl ScopedGate {
    fn set(gate: Gate) -> Self {
        SCOPED_GATES.fetch_add(1, Ordering::AcqRel);
        ScopedGate(Swap::new(&GATE, Some(gate)))
    }
}

impl Drop for ScopedGate {
    fn drop(&mut self) {
        SCOPED_GATES.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Runs `f` with `gate` as the current gate on this thread (tests can run side by side with
/// different gates).
pub fn with_gate<R>(gate: &Gate, f: impl FnOnce() -> R) -> R {
    let _scoped = ScopedGate::set(gate.clone());
    f()
}

/// Runs `f` with `subject` as the ambient subject on this thread, for guarded functions that
/// have no `#[subject]` parameter.
pub fn with_subject<R>(subject: impl AsSubject, f: impl FnOnce() -> R) -> R {
    let _swap = Swap::new(&SUBJECT, Some(subject.as_subject().to_owned()));
    f()
}

/// Wraps `fut` so `subject` is the ambient subject while it is polled (a task-local subject,
/// for request middleware).
pub fn subject_scope<F: Future>(subject: impl AsSubject, fut: F) -> Scoped<F> {
    Scoped { fut: Box::pin(fut), gate: None, subject: Some(subject.as_subject().to_owned()) }
}

/// A future that sets a gate or an ambient subject while it is polled.
#[must_use = "futures do nothing unless polled"]
pub struct Scoped<F> {
    fut: Pin<Box<F>>,
    gate: Option<Gate>,
    subject: Option<Subject>,
}

impl<F> Scoped<F> {
    /// Also sets `subject` as the ambient subject.
    pub fn with_subject(mut self, subject: impl AsSubject) -> Self {
        self.subject = Some(subject.as_subject().to_owned());
        self
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let _gate = this.gate.clone().map(ScopedGate::set);
        let _subject = this.subject.clone().map(|s| Swap::new(&SUBJECT, Some(s)));
        this.fut.as_mut().poll(cx)
    }
}
