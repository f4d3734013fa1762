//! The change feed: how a store tells the gates reading it that a user's consent changed.

use std::fmt;
use std::sync::Weak;

use crate::subject::SubjectRef;

/// What a gate does with the news a store brings.
pub(crate) trait ChangeSink: Send + Sync {
    /// `subject`'s consent in `app` changed.
    fn changed(&self, app: &str, subject: SubjectRef<'_>);
    /// Anything may have changed.
    fn resync(&self);
    /// The feed is (or is no longer) delivering every change.
    fn set_live(&self, live: bool);
}

/// A gate's subscription to a store's changes, handed to
/// [`ConsentStore::subscribe`](crate::ConsentStore::subscribe).
///
/// A store calls [`changed`](Self::changed) for every event appended for a user, through any
/// gate or any process, once the event is durable. The gate then drops what it knew of that
/// user, and its next call for the user reads the store.
///
/// A networked store whose feed can break (a lost connection to the database) calls
/// [`set_live(false)`](Self::set_live) as soon as it knows: until it calls `set_live(true)`, the
/// gate trusts what it read for its staleness bound only
/// ([`GateBuilder::staleness_bound`](crate::GateBuilder::staleness_bound)). Changes may have
/// been missed meanwhile, so on reconnecting it calls [`resync`](Self::resync) before
/// `set_live(true)`.
///
/// Cheap to clone; it does not keep its gate alive. Once the gate is dropped every call does
/// nothing and [`is_closed`](Self::is_closed) says the store may drop the subscription.
#[derive(Clone)]
pub struct ChangeFeed {
    sink: Weak<dyn ChangeSink>,
}

impl ChangeFeed {
    pub(crate) fn new(sink: Weak<dyn ChangeSink>) -> Self {
        ChangeFeed { sink }
    }

    /// `subject`'s consent in `app` changed. Ignored by the gates of other apps.
    pub fn changed(&self, app: &str, subject: SubjectRef<'_>) {
        if let Some(sink) = self.sink.upgrade() {
            sink.changed(app, subject);
        }
    }

    /// Any consent may have changed (the feed had a gap): the gate forgets every user.
    pub fn resync(&self) {
        if let Some(sink) = self.sink.upgrade() {
            sink.resync();
        }
    }

    /// Whether the feed delivers every change from now on. A store that returned `true` from
    /// [`subscribe`](crate::ConsentStore::subscribe) starts live.
    pub fn set_live(&self, live: bool) {
        if let Some(sink) = self.sink.upgrade() {
            sink.set_live(live);
        }
    }

    /// `true` once the gate is gone.
    pub fn is_closed(&self) -> bool {
        self.sink.strong_count() == 0
    }
}

impl fmt::Debug for ChangeFeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChangeFeed").field("closed", &self.is_closed()).finish()
    }
}
