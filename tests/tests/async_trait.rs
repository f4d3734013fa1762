//! `#[privacy_scope]` on the methods of an `#[async_trait]` impl, where async-trait expands first
//! and the attribute sees a method returning `Pin<Box<dyn Future>>` with an `async move` body,
//! and on a native `async fn` in a trait impl, where it sees the `async fn`. Both check consent
//! before the body runs, asynchronously, and refuse with the platform's errors.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use privacy_runtime::*;

static BODY_RUNS: AtomicUsize = AtomicUsize::new(0);

#[async_trait]
trait Locations {
    async fn locate(&self, user: &str) -> Result<(f64, f64), PrivacyError>;
    async fn steps(&self, user: String, day: u32) -> Result<u32, PrivacyError>;
}

struct Boxed;

#[async_trait]
impl Locations for Boxed {
    #[privacy_scope("chosen_location", api = "chooseLocation")]
    async fn locate(&self, #[subject] user: &str) -> Result<(f64, f64), PrivacyError> {
        BODY_RUNS.fetch_add(1, Ordering::SeqCst);
        Ok((39.9, 116.4))
    }

    #[privacy_scope("werun", api = "getWeRunData")]
    async fn steps(&self, #[subject] user: String, day: u32) -> Result<u32, PrivacyError> {
        BODY_RUNS.fetch_add(1, Ordering::SeqCst);
        Ok(1000 * day)
    }
}

trait NativeLocations {
    async fn locate(&self, user: &str) -> Result<(f64, f64), PrivacyError>;
}

struct Native;

impl NativeLocations for Native {
    #[privacy_scope("chosen_location", api = "chooseLocation.native")]
    async fn locate(&self, #[subject] user: &str) -> Result<(f64, f64), PrivacyError> {
        BODY_RUNS.fetch_add(1, Ordering::SeqCst);
        Ok((31.2, 121.5))
    }
}

fn gate() -> Gate {
    let g = Guidelines::builder("《示例小程序隐私保护指引》")
        .version(Timestamp::utc(2023, 7, 11, 0, 0, 0), ["chosen_location", "werun"])
        .agree_button("agree-btn")
        .build()
        .unwrap();
    let clock = ManualClock::new(Timestamp::utc(2023, 7, 12, 0, 0, 0));
    Gate::builder("wx-async-trait", g).clock(clock).build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_trait_methods_are_checked_before_their_body() {
    let gate = gate();
    let referrers = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = referrers.clone();
    gate.on_need_privacy_authorization(move |r: Resolver, event: NeedAuthorization| {
        seen.lock().unwrap().push(event.referrer);
        tokio::spawn(async move { r.disagree().await.unwrap() });
    });
    let before = BODY_RUNS.load(Ordering::SeqCst);
    let refused = gate.scope(async { Boxed.locate("u1").await }).await.unwrap_err();
    assert_eq!(refused.errno(), Some(104));
    assert_eq!(refused.to_string(), "chooseLocation:fail privacy permission is not authorized");
    let refused = gate.scope(async { Native.locate("u1").await }).await.unwrap_err();
    assert_eq!(refused.errno(), Some(104));
    assert_eq!(BODY_RUNS.load(Ordering::SeqCst), before, "refused calls never ran their body");
    assert_eq!(*referrers.lock().unwrap(), ["chooseLocation", "chooseLocation.native"]);

    gate.tap_agree_button("u1", "agree-btn").await.unwrap();
    assert_eq!(gate.scope(async { Boxed.locate("u1").await }).await, Ok((39.9, 116.4)));
    assert_eq!(gate.scope(async { Boxed.steps("u1".to_owned(), 3).await }).await, Ok(3000));
    assert_eq!(gate.scope(async { Native.locate("u1").await }).await, Ok((31.2, 121.5)));
    assert_eq!(BODY_RUNS.load(Ordering::SeqCst), before + 3);

    // The boxed-future methods are registered as asynchronous APIs.
    let apis = apis();
    for api in ["chooseLocation", "getWeRunData", "chooseLocation.native"] {
        assert!(apis.iter().any(|s| s.api() == api && s.is_async()), "{api} registered as async");
    }
}
