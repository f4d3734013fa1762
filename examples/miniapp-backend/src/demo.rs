//! Demo mode: a clock that starts on the seed's July 12 and can be moved forward, so the July
//! case (a scope added a day later needs consent again) plays out in a minute.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::Json;
use axum::extract::{ConnectInfo, FromRequest, Request, State};
use privacy_runtime::{Clock, Sleep, SystemClock, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::App;
use crate::reply::{ApiError, Body};

/// Where the demo clock starts: 2023-07-12T00:00:00Z.
pub const START: Timestamp = Timestamp::from_unix_millis(1_689_120_000_000);

/// The longest single move: a year.
pub const MAX_ADVANCE_SECONDS: i64 = 365 * 24 * 60 * 60;

/// The wall clock, shifted: it starts at a given time, runs at the wall clock's pace, and can be
/// moved forward (never back).
#[derive(Debug, Clone)]
pub struct DemoClock {
    offset_ms: Arc<AtomicI64>,
}

impl DemoClock {
    /// A clock reading `start` now.
    pub fn starting_at(start: Timestamp) -> DemoClock {
        DemoClock { offset_ms: Arc::new(AtomicI64::new(start.unix_millis() - SystemClock.now().unix_millis())) }
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for DemoClock {
    fn now(&self) -> Timestamp {
        shifted(&self.offset_ms)
    }

    fn sleep_until(&self, deadline: Timestamp) -> Sleep {
        // Waits in steps of at most a second, so a move of the clock ends the sleep on time.
        let offset = Arc::clone(&self.offset_ms);
        Box::pin(async move {
            while shifted(&offset) < deadline {
                let wall_deadline =
                    Timestamp::from_unix_millis(deadline.unix_millis().saturating_sub(offset.load(Ordering::SeqCst)));
                let step = SystemClock.now().plus(Duration::from_secs(1));
                SystemClock.sleep_until(wall_deadline.min(step)).await;
            }
        })
    }
}

fn shifted(offset: &AtomicI64) -> Timestamp {
    Timestamp::from_unix_millis(SystemClock.now().unix_millis().saturating_add(offset.load(Ordering::SeqCst)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Advance {
    #[serde(rename = "advanceSeconds")]
    advance_seconds: i64,
}

/// `POST /demo/clock {"advanceSeconds": N}`: only in demo mode and from loopback; 404 otherwise.
pub(crate) async fn advance(State(app): State<App>, req: Request) -> Result<Json<Value>, ApiError> {
    let from_loopback = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(peer)| peer.ip().to_canonical().is_loopback());
    let Some(clock) = app.demo.as_ref().filter(|_| from_loopback) else {
        return Err(ApiError::not_found("clock", "no route /demo/clock; the routes are listed in API.md"));
    };
    let Body(Advance { advance_seconds }) = Body::<Advance>::from_request(req, &()).await?;
    if !(0..=MAX_ADVANCE_SECONDS).contains(&advance_seconds) {
        return Err(ApiError::bad_request(
            "clock",
            format!("advanceSeconds {advance_seconds}: give 0 to {MAX_ADVANCE_SECONDS} (the clock only moves forward)"),
        ));
    }
    clock.advance(Duration::from_secs(advance_seconds.unsigned_abs()));
    Ok(Json(json!({ "errMsg": "clock:ok", "now": clock.now().to_string() })))
}
