//! Wakes the long-polls of `/api/privacy/pending` when an authorization opens or is answered.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, futures::Notified};

/// How often a long-poll looks again without being woken: stage changes made by the gate's own
/// timers (the official prompt taking over, an expiry) are seen this late at most.
pub const RECHECK: Duration = Duration::from_millis(200);

/// The most long-polls one user may have open at once (a page has one; a few tabs, a few more).
pub const POLLS_PER_USER: u8 = 4;

/// The wake-up board.
#[derive(Default)]
pub struct Board {
    notify: Notify,
    closing: AtomicBool,
    /// Long-polls open, by user.
    polls: Arc<Mutex<HashMap<String, u8>>>,
}

/// One open long-poll, counted until dropped.
pub struct PollSlot {
    polls: Arc<Mutex<HashMap<String, u8>>>,
    user: String,
}

impl Drop for PollSlot {
    fn drop(&mut self) {
        let mut polls = self.polls.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = polls.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                polls.remove(&self.user);
            }
        }
    }
}

impl Board {
    /// A slot for one more long-poll of `user`, unless they have [`POLLS_PER_USER`] open.
    pub fn open_poll(&self, user: &str) -> Option<PollSlot> {
        let mut polls = self.polls.lock().unwrap_or_else(PoisonError::into_inner);
        let n = polls.entry(user.to_owned()).or_insert(0);
        if *n >= POLLS_PER_USER {
            return None;
        }
        *n += 1;
        Some(PollSlot { polls: Arc::clone(&self.polls), user: user.to_owned() })
    }

    /// Something changed for some user: every long-poll looks again.
    pub fn changed(&self) {
        self.notify.notify_waiters();
    }

    /// The server is stopping: every long-poll answers now, and new ones at once.
    pub fn close(&self) {
        self.closing.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Whether the server is stopping.
    pub fn closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }

    /// A wake-up to wait for: enable it before looking, so a change in between is not missed.
    pub fn notified(&self) -> Notified<'_> {
        self.notify.notified()
    }
}
