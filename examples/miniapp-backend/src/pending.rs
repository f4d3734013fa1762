//! Wakes the long-polls of `/api/privacy/pending` when an authorization opens or is answered.

use std::time::Duration;

use tokio::sync::{Notify, futures::Notified};

/// How often a long-poll looks again without being woken: stage changes made by the gate's own
/// timers (the official prompt taking over, an expiry) are seen this late at most.
pub const RECHECK: Duration = Duration::from_millis(200);

/// The wake-up board.
#[derive(Default)]
pub struct Board {
    notify: Notify,
}

impl Board {
    /// Something changed for some user: every long-poll looks again.
    pub fn changed(&self) {
        self.notify.notify_waiters();
    }

    /// A wake-up to wait for: enable it before looking, so a change in between is not missed.
    pub fn notified(&self) -> Notified<'_> {
        self.notify.notified()
    }
}
