//! Driving store futures from sync code without deadlocking an async runtime.
//!
//! A `_blocking` twin needs a store future's result on a thread that may or may not belong to
//! an async runtime:
//! - on a tokio multi-thread runtime's thread, it uses the runtime's blocking facility;
//! - on a tokio current-thread runtime's thread, blocking would stop the very runtime the store
//!   needs, so it refuses (the caller names the async form to use instead);
//! - elsewhere it runs the future here, on the runtime the gate was built on when there is one
//!   (a store built on tokio's I/O needs it), else on this thread.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// A blocking call was made on a thread where it must not block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InAsync;

/// How to block here.
pub(crate) enum Blocker<'a> {
    #[cfg(feature = "tokio")]
    InPlace(tokio::runtime::Handle),
    #[cfg(feature = "tokio")]
    Handle(&'a tokio::runtime::Handle),
    Park(std::marker::PhantomData<&'a ()>),
}

#[cfg(feature = "tokio")]
pub(crate) type RuntimeHandle = Option<tokio::runtime::Handle>;
#[cfg(not(feature = "tokio"))]
pub(crate) type RuntimeHandle = Option<std::convert::Infallible>;

/// The runtime of the thread that builds the gate, to drive its store from plain threads later:
/// a multi-thread one only, since a current-thread runtime drives I/O and timers only inside its
/// own `block_on`.
pub(crate) fn current_runtime() -> RuntimeHandle {
    #[cfg(feature = "tokio")]
    {
        tokio::runtime::Handle::try_current()
            .ok()
            .filter(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
    }
    #[cfg(not(feature = "tokio"))]
    {
        None
    }
}

/// How a blocking call may wait on this thread, or [`InAsync`] where it must not.
pub(crate) fn blocker(runtime: &RuntimeHandle) -> Result<Blocker<'_>, InAsync> {
    #[cfg(feature = "tokio")]
    {
        if let Ok(current) = tokio::runtime::Handle::try_current() {
            return match current.runtime_flavor() {
                tokio::runtime::RuntimeFlavor::MultiThread => Ok(Blocker::InPlace(current)),
                _ => Err(InAsync),
            };
        }
        if let Some(h) = runtime {
            return Ok(Blocker::Handle(h));
        }
    }
    #[cfg(not(feature = "tokio"))]
    let _ = runtime;
    Ok(Blocker::Park(std::marker::PhantomData))
}

impl Blocker<'_> {
    /// Runs `fut` to completion.
    pub(crate) fn run<F: Future>(self, fut: F) -> F::Output {
        match self {
            #[cfg(feature = "tokio")]
            Blocker::InPlace(h) => tokio::task::block_in_place(|| h.block_on(fut)),
            #[cfg(feature = "tokio")]
            Blocker::Handle(h) => h.block_on(fut),
            Blocker::Park(_) => park_on(fut),
        }
    }
}

impl Blocker<'_> {
    /// Runs a read, tried once first without blocking (an in-memory store answers at once), in
    /// the context of the runtime that drives it if it has to wait.
    pub(crate) fn run_read<F: Future + Unpin>(self, mut fut: F) -> F::Output {
        #[cfg(feature = "tokio")]
        let entered = match &self {
            Blocker::Handle(h) => Some(h.enter()),
            _ => None,
        };
        let ready = now_or_never(&mut fut);
        #[cfg(feature = "tokio")]
        drop(entered);
        match ready {
            Some(v) => v,
            None => self.run(fut),
        }
    }
}

/// Polls `fut` once without waiting: its output if it was ready (an in-memory store always is).
pub(crate) fn now_or_never<F: Future + Unpin>(fut: &mut F) -> Option<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    match std::pin::Pin::new(fut).poll(&mut cx) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

/// Runs a future to completion on this thread, parking between polls.
fn park_on<F: Future>(fut: F) -> F::Output {
    struct ThreadWaker(std::thread::Thread);
    impl std::task::Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn park_on_drives_a_future_that_wakes_later() {
        let (tx, rx) = std::sync::mpsc::channel::<Waker>();
        let mut fired = false;
        let fut = std::future::poll_fn(move |cx| {
            if fired {
                Poll::Ready(7)
            } else {
                fired = true;
                let _ = tx.send(cx.waker().clone());
                Poll::Pending
            }
        });
        let h = std::thread::spawn(move || {
            if let Ok(w) = rx.recv() {
                w.wake();
            }
        });
        assert_eq!(park_on(fut), 7);
        h.join().unwrap();
    }

    #[test]
    fn a_current_thread_runtime_refuses_to_block() {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let handle: RuntimeHandle = None;
        rt.block_on(async { assert!(matches!(blocker(&handle), Err(InAsync))) });
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
        let v = rt.block_on(async { blocker(&handle).map(|b| b.run(async { 5 })) });
        assert_eq!(v, Ok(5));
    }
}
