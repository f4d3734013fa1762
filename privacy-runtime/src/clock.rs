//! Time: timestamps, the clock trait, the system clock and a manual clock for tests.
//!
//! The runtime reads time only through a [`Clock`], so tests move time by hand and never sleep.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A point in time: milliseconds since the Unix epoch, UTC.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp(0);

    /// A timestamp from milliseconds since the Unix epoch.
    pub const fn from_unix_millis(ms: i64) -> Timestamp {
        Timestamp(ms)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn unix_millis(self) -> i64 {
        self.0
    }

    /// A UTC calendar time, for times written in code.
    ///
    /// ```
    /// use privacy_runtime::Timestamp;
    /// let t = Timestamp::utc(2023, 7, 12, 9, 30, 0);
    /// assert_eq!(t.to_string(), "2023-07-12T09:30:00Z");
    /// ```
    ///
    /// # Panics
    ///
    /// If a field is out of range (month 13, February 30, year 300000000): like a literal that
    /// does not fit its type, that is a mistake in the code. Input from people goes through
    /// [`Timestamp::try_utc`] or [`Timestamp::parse`], which return an error instead.
    #[track_caller]
    pub fn utc(year: i64, month: u32, day: u32, hour: u32, min: u32, sec: u32) -> Timestamp {
        match Timestamp::try_utc(year, month, day, hour, min, sec) {
            Ok(t) => t,
            Err(e) => panic!("{e}"),
        }
    }

    /// A UTC calendar time, or an error naming it if a field is out of range.
    pub fn try_utc(
        year: i64,
        month: u32,
        day: u32,
        hour: u32,
        min: u32,
        sec: u32,
    ) -> Result<Timestamp, TimestampError> {
        privacy_spec::time::civil_millis(year, month, day, hour, min, sec)
            .map(Timestamp)
            .ok_or_else(|| TimestampError(format!("{year:04}-{month:02}-{day:02}T{hour:02}:{min:02}:{sec:02}Z")))
    }

    /// Parses RFC 3339 (`2023-07-11T08:00:00Z`, `2023-07-11T16:00:00+08:00`, fractional seconds
    /// allowed) or a bare date (`2023-07-11`, midnight UTC).
    ///
    /// `unix-ms:<n>`, which [`Display`](fmt::Display) writes for a time outside the calendar
    /// (after the year 9999), reads back too, so every timestamp survives a round trip.
    pub fn parse(s: &str) -> Result<Timestamp, TimestampError> {
        let s = s.trim();
        if let Some(ms) = s.strip_prefix("unix-ms:") {
            return ms.parse().map(Timestamp).map_err(|_| TimestampError(s.to_owned()));
        }
        privacy_spec::time::parse_millis(s).map(Timestamp).ok_or_else(|| TimestampError(s.to_owned()))
    }

    /// This time plus `d`, saturating.
    #[must_use]
    pub fn plus(self, d: Duration) -> Timestamp {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_add(ms))
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0))
    }
}

/// A timestamp that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a time; write RFC 3339 such as `2023-07-11T08:00:00Z` or a date such as `2023-07-11`")]
pub struct TimestampError(String);

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        privacy_spec::time::write_millis(f, self.0)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A boxed future that a clock returns from [`Clock::sleep_until`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Where the runtime reads the time.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
    /// A future that completes once [`now`](Clock::now) has reached `deadline`.
    fn sleep_until(&self, deadline: Timestamp) -> Sleep;
}

/// The wall clock. Its sleeps are served by one shared timer thread, so they work under any
/// executor.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let ms = match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
        };
        Timestamp(ms)
    }

    fn sleep_until(&self, deadline: Timestamp) -> Sleep {
        let wait = deadline.since(self.now());
        Box::pin(TimerSleep { at: Instant::now() + wait, slot: None })
    }
}

/// The waker a sleep last left with the timer thread; updated in place on every poll, so a sleep
/// polled many times keeps one entry.
type WakerSlot = Arc<Mutex<Option<Waker>>>;

struct TimerSleep {
    at: Instant,
    slot: Option<WakerSlot>,
}

impl Future for TimerSleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.at {
            return Poll::Ready(());
        }
        match &self.slot {
            Some(slot) => *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(cx.waker().clone()),
            None => {
                let slot: WakerSlot = Arc::new(Mutex::new(Some(cx.waker().clone())));
                timer().add(self.at, Arc::clone(&slot));
                self.slot = Some(slot);
            }
        }
        Poll::Pending
    }
}

impl Drop for TimerSleep {
    fn drop(&mut self) {
        // The timer thread drops the entry at its deadline; the waker goes now.
        if let Some(slot) = &self.slot {
            slot.lock().unwrap_or_else(PoisonError::into_inner).take();
        }
    }
}

struct Timer {
    queue: Mutex<BinaryHeap<Reverse<TimerEntry>>>,
    changed: Condvar,
}

struct TimerEntry(Instant, WakerSlot);
impl PartialEq for TimerEntry {
    fn eq(&self, o: &Self) -> bool {
        self.0 == o.0
    }
}
impl Eq for TimerEntry {}
impl PartialOrd for TimerEntry {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for TimerEntry {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.cmp(&o.0)
    }
}

fn timer() -> &'static Timer {
    static TIMER: OnceLock<&'static Timer> = OnceLock::new();
    TIMER.get_or_init(|| {
        let t: &'static Timer =
            Box::leak(Box::new(Timer { queue: Mutex::new(BinaryHeap::new()), changed: Condvar::new() }));
        // If the thread cannot be spawned, sleeps never end and waiting calls stay pending:
        // the safe direction for a consent gate.
        let _ = std::thread::Builder::new().name("privacy-timer".into()).spawn(move || t.run());
        t
    })
}

impl Timer {
    fn add(&self, at: Instant, slot: WakerSlot) {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner).push(Reverse(TimerEntry(at, slot)));
        self.changed.notify_one();
    }

    fn run(&self) {
        let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let now = Instant::now();
            while q.peek().is_some_and(|Reverse(e)| e.0 <= now) {
                if let Some(Reverse(e)) = q.pop()
                    && let Some(w) = e.1.lock().unwrap_or_else(PoisonError::into_inner).take()
                {
                    w.wake();
                }
            }
            q = match q.peek() {
                Some(Reverse(e)) => {
                    let wait = e.0 - now;
                    self.changed.wait_timeout(q, wait).unwrap_or_else(PoisonError::into_inner).0
                }
                None => self.changed.wait(q).unwrap_or_else(PoisonError::into_inner),
            };
        }
    }
}

/// A clock that moves only when told to (the `test-util` feature). Sleeps end when [`advance`](ManualClock::advance) or
/// [`set`](ManualClock::set) reaches their deadline.
///
/// ```
/// use privacy_runtime::{Clock, ManualClock, Timestamp};
/// use std::time::Duration;
/// let clock = ManualClock::new(Timestamp::utc(2023, 7, 12, 0, 0, 0));
/// clock.advance(Duration::from_secs(10));
/// assert_eq!(clock.now(), Timestamp::utc(2023, 7, 12, 0, 0, 10));
/// ```
#[cfg(feature = "test-util")]
#[derive(Clone)]
pub struct ManualClock {
    inner: Arc<Mutex<ManualState>>,
}

#[cfg(feature = "test-util")]
struct ManualState {
    now: Timestamp,
    sleepers: Vec<Waker>,
}

#[cfg(feature = "test-util")]
impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Timestamp) -> Self {
        ManualClock { inner: Arc::new(Mutex::new(ManualState { now: start, sleepers: Vec::new() })) }
    }

    /// Moves the clock forward by `d` and wakes the sleeps that are due.
    pub fn advance(&self, d: Duration) {
        let now = self.now().plus(d);
        self.set(now);
    }

    /// Sets the clock to `t` (which may be earlier) and wakes the sleeps that are due.
    pub fn set(&self, t: Timestamp) {
        let wakers = {
            let mut s = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
            s.now = t;
            std::mem::take(&mut s.sleepers)
        };
        wakers.into_iter().for_each(Waker::wake);
    }
}

#[cfg(feature = "test-util")]
impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManualClock").field(&self.now()).finish()
    }
}

#[cfg(feature = "test-util")]
impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).now
    }

    fn sleep_until(&self, deadline: Timestamp) -> Sleep {
        let inner = Arc::clone(&self.inner);
        Box::pin(std::future::poll_fn(move |cx| {
            let mut s = inner.lock().unwrap_or_else(PoisonError::into_inner);
            if s.now >= deadline {
                Poll::Ready(())
            } else {
                if !s.sleepers.iter().any(|w| w.will_wake(cx.waker())) {
                    s.sleepers.push(cx.waker().clone());
                }
                Poll::Pending
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trip() {
        let t = Timestamp::utc(2023, 7, 11, 8, 0, 0);
        assert_eq!(t.to_string(), "2023-07-11T08:00:00Z");
        assert_eq!(Timestamp::parse("2023-07-11T08:00:00Z"), Ok(t));
        assert_eq!(Timestamp::parse("2023-07-11T16:00:00+08:00"), Ok(t));
        assert_eq!(Timestamp::parse("2023-07-11"), Ok(Timestamp::utc(2023, 7, 11, 0, 0, 0)));
        assert_eq!(Timestamp::parse("2024-02-29T00:00:00.25Z").map(|t| t.unix_millis() % 1000), Ok(250));
        assert_eq!(Timestamp::utc(1970, 1, 1, 0, 0, 0), Timestamp::EPOCH);
    }

    #[test]
    fn bad_times_are_rejected() {
        for s in ["2023-13-01", "2023-02-30", "2023-07-11T25:00:00Z", "yesterday", "2023-07-11T08:00"] {
            assert!(Timestamp::parse(s).is_err(), "{s}");
        }
        assert!(Timestamp::try_utc(2023, 2, 29, 0, 0, 0).is_err());
        assert!(Timestamp::try_utc(300_000_000, 1, 1, 0, 0, 0).is_err());
        let far = Timestamp::from_unix_millis(i64::MAX);
        assert_eq!(far.to_string(), format!("unix-ms:{}", i64::MAX));
        assert_eq!(Timestamp::parse(&far.to_string()), Ok(far));
        assert_eq!(
            Timestamp::parse(&Timestamp::from_unix_millis(i64::MIN).to_string()).map(Timestamp::unix_millis),
            Ok(i64::MIN)
        );
    }

    #[cfg(feature = "test-util")]
    #[test]
    fn manual_sleep_ends_on_advance() {
        let clock = ManualClock::new(Timestamp::EPOCH);
        let mut sleep = clock.sleep_until(Timestamp::from_unix_millis(1000));
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        clock.advance(Duration::from_millis(999));
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        clock.advance(Duration::from_millis(1));
        assert!(sleep.as_mut().poll(&mut cx).is_ready());
    }
}
