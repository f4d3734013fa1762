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
/// What a store owes a gate that it told `true` from `subscribe`:
///
/// - **Every change.** For every event appended for a user that changes their consent
///   ([`ConsentEvent::changes_consent`](crate::ConsentEvent::changes_consent)), through any
///   gate or any process, call [`changed`](Self::changed) once the event is durable, with the event's app and
///   `event.subject().as_ref()`: the same variant as the event (a store that keeps ids as text
///   must give back `Int` for an integer subject; `Str("42")` is another user). The gate drops
///   what it knew of that user, and its next call for the user reads the store.
/// - **In time.** Gates in the same process see a change at their next call only if `changed`
///   runs before `append` returns (as [`MemoryStore`](crate::MemoryStore) does); changes from
///   other processes arrive when the store learns of them. A gate tells its own writes from
///   others' by this timing: a change reported while the gate is writing for that user is its
///   own; one reported later ends the authorization the gate has open for the user (its calls
///   decide again), as a change made elsewhere does.
/// - **Honesty about gaps.** A store whose feed can break (a lost database connection) calls
///   [`set_live(false)`](Self::set_live) as soon as it knows: until `set_live(true)`, the gate
///   trusts what it read for its staleness bound only
///   ([`GateBuilder::staleness_bound`](crate::GateBuilder::staleness_bound)). To come back:
///   listen again, then [`resync`](Self::resync) (changes may have been missed), then
///   `set_live(true)`. A feed that says it is live is trusted without any age limit.
///
/// Any method may be called from any thread, at any time, including from inside `append`; none
/// blocks on I/O or calls back into the store. Cheap to clone; it does not keep its gate alive.
/// Once the gate is dropped every call does nothing and [`is_closed`](Self::is_closed) says the
/// store may drop the subscription.
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
