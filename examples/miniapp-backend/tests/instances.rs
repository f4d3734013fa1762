//! Two instances of the backend on one PostgreSQL, behind one client: one consent.
//!
//! Needs `DATABASE_URL`; without it the test is compiled as ignored and says why (`bash
//! scripts/test` starts a throwaway server).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails by panicking

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use miniapp_backend::{Backend, Config};
use serde_json::{Value, json};
use tower::ServiceExt;

async fn instance() -> Router {
    let mut config = Config::from_args(["--wait-seconds", "30"]).unwrap();
    assert!(config.database_url.is_some(), "DATABASE_URL is set at build time but not at run time");
    // Instances behind one client share the session key, as they would share SESSION_SECRET.
    config.session_key = Some(b"two-instances-share-this-session-key".to_vec());
    Backend::start(&config).await.unwrap().router()
}

async fn call(router: &Router, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
    let mut b = Request::post(path);
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = match body {
        Some(v) => b.header(header::CONTENT_TYPE, "application/json").body(Body::from(v.to_string())),
        None => b.body(Body::empty()),
    }
    .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// The user's open authorization on `router`, once a call has opened it (at most 20 s).
async fn open_authorization(router: &Router, token: &str) -> Value {
    for _ in 0..4 {
        let req =
            Request::get("/api/privacy/pending?timeout=5000").header(header::AUTHORIZATION, format!("Bearer {token}"));
        let res = router.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
        let v: Value = serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
        if !v["pending"].is_null() {
            return v["pending"].clone();
        }
    }
    panic!("no authorization opened within 20 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(no_database, ignore = "needs PostgreSQL: DATABASE_URL is not set (bash scripts/test starts one)")]
async fn two_instances_one_consent() {
    let (a, b) = (instance().await, instance().await);
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).unwrap();
    let code = format!("two-instances-{}", u64::from_le_bytes(nonce));
    let (st, v) = call(&a, "/api/login", None, Some(json!({ "code": code }))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let token = v["token"].as_str().unwrap().to_owned();
    let t = Some(token.as_str());

    // A call on B waits for the user (its authorization is open on B); the agree button is
    // tapped on A; B's call runs.
    let waiting = {
        let (b, token) = (b.clone(), token.clone());
        tokio::spawn(async move { call(&b, "/api/wx/getLocation", Some(&token), Some(json!({}))).await })
    };
    let open_on_b = open_authorization(&b, &token).await;
    assert_eq!(open_on_b["referrer"], "getLocation");
    let (st, v) = call(
        &a,
        "/api/privacy/tap",
        t,
        Some(json!({ "buttonId": "agree-btn", "openType": "agreePrivacyAuthorization" })),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) =
        tokio::time::timeout(Duration::from_secs(20), waiting).await.expect("B's call was not released").unwrap();
    assert_eq!((st, v["errMsg"].as_str()), (StatusCode::OK, Some("getLocation:ok")), "{v}");

    // Cleared on B: A asks again, and the user refuses there.
    let (st, _) = call(&b, "/api/privacy/clear", t, None).await;
    assert_eq!(st, StatusCode::OK);
    let asking = {
        let (a, token) = (a.clone(), token.clone());
        tokio::spawn(async move { call(&a, "/api/wx/getLocation", Some(&token), Some(json!({}))).await })
    };
    let open_on_a = open_authorization(&a, &token).await;
    assert_eq!(open_on_a["referrer"], "getLocation");
    let ticket = open_on_a["ticket"].as_str().unwrap().to_owned();
    let (st, _) = call(&a, "/api/privacy/resolve", t, Some(json!({ "ticket": ticket, "event": "disagree" }))).await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = asking.await.unwrap();
    assert_eq!((st, &v["errno"]), (StatusCode::FORBIDDEN, &json!(104)), "{v}");

    // Both instances read the one ledger.
    for router in [&a, &b] {
        let req = Request::get("/api/privacy/history").header(header::AUTHORIZATION, format!("Bearer {token}"));
        let res = router.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
        let v: Value = serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
        let kinds: Vec<&str> = v["entries"].as_array().unwrap().iter().filter_map(|e| e["event"].as_str()).collect();
        assert_eq!(kinds, ["agreed", "cleared", "refused"], "{v}");
    }
}
