//! Behaviour through the attribute: consented calls run the body once, refused calls never run
//! it and return the platform error in the user's error type, `degrade` calls the fallback, and
//! the ambient subject works inside and outside its scope.

use std::sync::atomic::{AtomicUsize, Ordering};

use privacy_runtime::*;

static BODY_RUNS: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug, PartialEq)]
enum AppError {
    Privacy(PrivacyError),
}

impl From<PrivacyError> for AppError {
    fn from(e: PrivacyError) -> Self {
        AppError::Privacy(e)
    }
}

#[privacy_scope("chosen_location", api = "chooseLocation")]
fn choose_location(#[subject] user: &str) -> Result<(f64, f64), AppError> {
    BODY_RUNS.fetch_add(1, Ordering::SeqCst);
    let _ = user;
    Ok((39.9, 116.4))
}

#[privacy_scope("werun", api = "getWeRunData")]
fn we_run(#[subject] user: u64) -> Result<u32, AppError> {
    let _ = user;
    Ok(10_000)
}

#[privacy_scope("user_info", api = "input.nickname", degrade = nickname_as_text)]
fn nickname(#[subject] user: &str, typed: String) -> Result<String, AppError> {
    let _ = user;
    Ok(format!("nickname:{typed}"))
}

fn nickname_as_text(user: &str, typed: String) -> Result<String, AppError> {
    let _ = user;
    Ok(format!("text:{typed}"))
}

#[privacy_scope("chosen_location")]
fn ambient_location() -> Result<&'static str, PrivacyError> {
    Ok("here")
}

#[privacy_scope("chosen_location")]
async fn ambient_location_async() -> Result<&'static str, PrivacyError> {
    Ok("here, async")
}

fn gate() -> (Gate, ManualClock) {
    let g = Guidelines::builder("《示例小程序隐私保护指引》")
        .version(Timestamp::utc(2023, 7, 11, 0, 0, 0), ["chosen_location", "user_info"])
        .agree_button("agree-btn")
        .build()
        .unwrap();
    let clock = ManualClock::new(Timestamp::utc(2023, 7, 12, 0, 0, 0));
    (Gate::builder("wx-demo", g).clock(clock.clone()).build(), clock)
}

#[test]
fn consented_call_runs_the_body_once_and_refused_never() {
    let (gate, _clock) = gate();
    gate.on_need_privacy_authorization(|r: Resolver, _| r.disagree_blocking().unwrap());
    with_gate(&gate, || {
        let before = BODY_RUNS.load(Ordering::SeqCst);
        let err = choose_location("u1").unwrap_err();
        let AppError::Privacy(e) = err;
        assert_eq!(e.errno(), Some(104));
        assert_eq!(e.to_string(), "chooseLocation:fail privacy permission is not authorized");
        assert_eq!(BODY_RUNS.load(Ordering::SeqCst), before, "refused: body never ran");

        gate.tap_agree_button_blocking("u1", "agree-btn").unwrap();
        assert_eq!(choose_location("u1"), Ok((39.9, 116.4)));
        assert_eq!(BODY_RUNS.load(Ordering::SeqCst), before + 1, "consented: body ran once");
    });
}

#[test]
fn undeclared_scope_is_112_through_the_macro() {
    let (gate, _clock) = gate();
    with_gate(&gate, || {
        let AppError::Privacy(e) = we_run(7).unwrap_err();
        assert_eq!(e.errno(), Some(112));
        assert_eq!(e.api(), "getWeRunData");
    });
}

#[test]
fn degrade_calls_the_fallback_without_an_event() {
    let (gate, _clock) = gate();
    let events = std::sync::Arc::new(AtomicUsize::new(0));
    let e2 = events.clone();
    gate.on_need_privacy_authorization(move |r: Resolver, _| {
        e2.fetch_add(1, Ordering::SeqCst);
        let _ = r.defer();
    });
    with_gate(&gate, || {
        assert_eq!(nickname("u1", "阿明".into()), Ok("text:阿明".to_owned()));
        assert_eq!(events.load(Ordering::SeqCst), 0);
        gate.tap_agree_button_blocking("u1", "agree-btn").unwrap();
        assert_eq!(nickname("u1", "阿明".into()), Ok("nickname:阿明".to_owned()));
    });
}

#[test]
fn ambient_subject_inside_and_outside_its_scope() {
    let (gate, _clock) = gate();
    gate.tap_agree_button_blocking("u9", "agree-btn").unwrap();
    with_gate(&gate, || {
        let err = ambient_location().unwrap_err();
        assert_eq!(*err.kind(), PrivacyErrorKind::NoSubject);
        assert!(err.to_string().starts_with("ambient_location:fail privacy subject missing"));
        assert_eq!(with_subject("u9", ambient_location), Ok("here"));
        assert_eq!(ambient_location().unwrap_err().kind(), &PrivacyErrorKind::NoSubject, "scope ended");
    });
}

#[test]
fn ambient_subject_follows_the_task() {
    let (gate, _clock) = gate();
    gate.tap_agree_button_blocking("u9", "agree-btn").unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    rt.block_on(async {
        let inside = gate.scope(subject_scope("u9", ambient_location_async()));
        assert_eq!(tokio::spawn(inside).await.unwrap(), Ok("here, async"));
        let outside = gate.scope(ambient_location_async());
        assert_eq!(tokio::spawn(outside).await.unwrap().unwrap_err().kind(), &PrivacyErrorKind::NoSubject);
    });
}

#[test]
fn no_gate_fails_closed() {
    let err = std::thread::spawn(|| choose_location("u1")).join().unwrap().unwrap_err();
    let AppError::Privacy(e) = err;
    assert_eq!(e.kind(), &PrivacyErrorKind::NoGate);
}

#[test]
fn registry_lists_annotated_functions() {
    let apis = apis();
    let find = |name: &str| apis.iter().find(|s| s.api() == name).copied();
    let site = find("chooseLocation").expect("chooseLocation registered");
    assert_eq!(site.scope_ids(), ["chosen_location"]);
    assert_eq!(site.module_path(), "guarded");
    assert!(site.file().ends_with("guarded.rs"));
    assert!(!site.is_async());
    assert!(find("ambient_location_async").is_some_and(|s| s.is_async()));
    assert!(find("input.nickname").is_some());

    let (gate, _clock) = gate();
    let report = undeclared_scopes(gate.guidelines(), &apis);
    let ids: Vec<_> = report.iter().map(|u| u.scope.as_str()).collect();
    assert!(ids.contains(&"werun"), "{ids:?}");
    let werun = report.iter().find(|u| u.scope == "werun").unwrap();
    assert!(werun.apis.iter().any(|s| s.api() == "getWeRunData"));
    assert!(werun.to_string().contains("calls will fail with errno 112"));
}

mod renamed {
    //! Stacked attributes under another name (a re-export facade): the lower one must check the
    //! `#[subject]` user, not fall back to the ambient one, which would let one user's consent
    //! stand for another's.
    use super::*;
    use privacy_runtime::privacy_scope as guard;

    #[guard("location")]
    #[guard("werun")]
    pub fn steps_near(#[subject] user: &str) -> Result<&'static str, PrivacyError> {
        let _ = user;
        Ok("body ran")
    }

    #[test]
    fn the_lower_attribute_checks_the_subject_parameter() {
        let g = Guidelines::builder("《示例小程序隐私保护指引》")
            .version(Timestamp::utc(2023, 7, 11, 0, 0, 0), ["location"])
            .version(Timestamp::utc(2023, 7, 13, 0, 0, 0), ["location", "werun"])
            .agree_button("agree-btn")
            .build()
            .unwrap();
        let clock = ManualClock::new(Timestamp::utc(2023, 7, 12, 0, 0, 0));
        let gate = Gate::builder("wx-renamed", g).clock(clock.clone()).build();
        gate.on_need_privacy_authorization(|r: Resolver, _| r.disagree_blocking().unwrap());
        // The victim agreed while only location was declared; alice agreed to both.
        gate.tap_agree_button_blocking("victim", "agree-btn").unwrap();
        clock.advance(std::time::Duration::from_secs(3 * 86_400));
        gate.tap_agree_button_blocking("alice", "agree-btn").unwrap();
        with_gate(&gate, || {
            let as_alice = with_subject("alice", || steps_near("victim"));
            assert_eq!(as_alice.map_err(|e| e.errno()), Err(Some(104)), "werun is checked for the victim");
            assert_eq!(steps_near("alice"), Ok("body ran"), "no ambient subject needed");
            assert_eq!(apis().iter().filter(|s| s.api() == "steps_near").count(), 2);
        });
    }
}
