//! The locks and atomics the runtime's shared state is built from: std's, or shuttle's when the
//! interleaving tests explore schedules (the internal `__shuttle` feature).

#[cfg(feature = "__shuttle")]
pub(crate) use shuttle::sync::{
    Mutex, MutexGuard, RwLock,
    atomic::{AtomicBool, AtomicU64, Ordering},
};
#[cfg(not(feature = "__shuttle"))]
pub(crate) use std::sync::{
    Mutex, MutexGuard, RwLock,
    atomic::{AtomicBool, AtomicU64, Ordering},
};

use std::sync::PoisonError;

/// Locks `m`. A panic elsewhere never leaves the runtime's state half-written (every critical
/// section is a few assignments), so a poisoned lock is used as it is.
#[inline]
pub(crate) fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
