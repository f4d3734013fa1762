//! Wakes the long-polls of `/api/privacy/pending`: a user's when something of theirs changes (an
//! authorization opens or is answered), every one when the server stops.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, futures::Notified};

/// How often a long-poll looks again without being woken: stage changes made by the gate's own
/// timers (the official prompt taking over, an expiry) are seen this late at most.
pub const RECHECK: Duration = Duration::from_millis(200);

/// The most long-polls one user may have open at once (a page has one; a few tabs, a few more).
pub const POLLS_PER_USER: u8 = 4;

/// The users with long-polls open: how many, and what wakes them.
type Polls = Arc<Mutex<HashMap<String, (u8, Arc<Notify>)>>>;

/// The wake-up board.
#[derive(Default)]
pub struct Board {
    polls: Polls,
    closing: AtomicBool,
}

/// One open long-poll of a user, counted until dropped.
pub struct PollSlot {
    polls: Polls,
    user: String,
    notify: Arc<Notify>,
}

fn lock(polls: &Polls) -> MutexGuard<'_, HashMap<String, (u8, Arc<Notify>)>> {
    polls.lock().unwrap_or_else(PoisonError::into_inner)
}

impl PollSlot {
    /// A wake-up to wait for: enable it before looking, so a change in between is not missed.
    pub fn notified(&self) -> Notified<'_> {
        self.notify.notified()
    }
}

impl Drop for PollSlot {
    fn drop(&mut self) {
        let mut polls = lock(&self.polls);
        if let Some((n, _)) = polls.get_mut(&self.user) {
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
        let mut polls = lock(&self.polls);
        let (n, notify) = polls.entry(user.to_owned()).or_insert_with(|| (0, Arc::new(Notify::new())));
        if *n >= POLLS_PER_USER {
            return None;
        }
        *n += 1;
        Some(PollSlot { polls: Arc::clone(&self.polls), user: user.to_owned(), notify: Arc::clone(notify) })
    }

    /// Something of `user`'s changed: their long-polls look again (nobody else's).
    pub fn changed(&self, user: &str) {
        if let Some((_, notify)) = lock(&self.polls).get(user) {
            notify.notify_waiters();
        }
    }

    /// The server is stopping: every long-poll answers now, and new ones at once.
    pub fn close(&self) {
        self.closing.store(true, Ordering::SeqCst);
        for (_, notify) in lock(&self.polls).values() {
            notify.notify_waiters();
        }
    }

    /// Whether the server is stopping.
    pub fn closing(&self) -> bool {
        self.closing.load(Ordering::SeqCst)
    }
}
