//! The backend's routes, in process: the seed's flows over HTTP, the enforcement policies, the
//! demo clock, and bad input (a 4xx with an errMsg, nothing recorded).

#![allow(clippy::unwrap_used)] // a test fails by panicking

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use miniapp_backend::{Backend, Config};
use serde_json::{Value, json};
use tower::ServiceExt;

struct Server {
    router: Router,
    _dir: TempDir,
}

/// A directory removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).unwrap();
        let p = std::env::temp_dir().join(format!("miniapp-test-{}", u64::from_le_bytes(bytes)));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn server(args: &[&str]) -> Server {
    let dir = TempDir::new();
    let db = dir.0.join("ledger.db");
    // Long enough that no stage times out while a test answers, however loaded the machine;
    // the tests of what happens when nobody answers pass `--wait-seconds 1`.
    let mut all = vec!["--port", "0", "--wait-seconds", "30", "--db", db.to_str().unwrap()];
    all.extend_from_slice(args);
    let config = Config::from_args(all).unwrap();
    let backend = Backend::start(&config).await.unwrap();
    Server { router: backend.router(), _dir: dir }
}

const LOOPBACK: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40000);

impl Server {
    async fn send(&self, req: Request<Body>, peer: SocketAddr) -> (StatusCode, Value) {
        let mut req = req;
        req.extensions_mut().insert(ConnectInfo(peer));
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let value =
            serde_json::from_slice(&bytes).unwrap_or_else(|_| json!({ "raw": String::from_utf8_lossy(&bytes) }));
        (status, value)
    }

    async fn raw(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> (StatusCode, Value) {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(body) => b.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_owned())),
            None => b.body(Body::empty()),
        };
        self.send(req.unwrap(), LOOPBACK).await
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.raw("GET", path, Some(token), None).await
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.raw("POST", path, Some(token), Some(&body.to_string())).await
    }

    async fn login_with(&self, body: Value) -> String {
        let (status, v) = self.raw("POST", "/api/login", None, Some(&body.to_string())).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        v["token"].as_str().unwrap().to_owned()
    }

    async fn login(&self, code: &str) -> String {
        self.login_with(json!({ "code": code })).await
    }

    async fn tap(&self, token: &str, button: &str, open_type: &str) -> (StatusCode, Value) {
        self.post("/api/privacy/tap", token, json!({ "buttonId": button, "openType": open_type })).await
    }

    async fn history_len(&self, token: &str) -> usize {
        let (s, v) = self.get("/api/privacy/history", token).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["entries"].as_array().unwrap().len()
    }

    /// The open authorization, once one is (the long-poll's answer).
    async fn pending(&self, token: &str) -> Value {
        let (s, v) = self.get("/api/privacy/pending?timeout=5000", token).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert!(!v["pending"].is_null(), "no authorization opened: {v}");
        v["pending"].clone()
    }

    async fn advance(&self, seconds: i64) {
        let (s, v) =
            self.raw("POST", "/demo/clock", None, Some(&json!({ "advanceSeconds": seconds }).to_string())).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_july_case_over_http() {
    let s = server(&[]).await;
    let t = s.login("july-user").await;
    let (st, v) = s.get("/api/privacy/setting", &t).await;
    assert_eq!((st, &v["needAuthorization"]), (StatusCode::OK, &json!(true)));
    assert_eq!(v["privacyContractName"], "《示例小程序隐私保护指引》");

    // July 12: WeRun is not declared yet.
    let (st, v) = s.post("/api/wx/getWeRunData", &t, json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(
        v,
        json!({ "errMsg": "getWeRunData:fail api scope is not declared in the privacy agreement", "errno": 112 })
    );

    // The popup's agree button: everything declared now is covered.
    let (st, v) = s.tap(&t, "agree-btn", "agreePrivacyAuthorization").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["events"], json!([{ "type": "agreeprivacyauthorization", "detail": { "buttonId": "agree-btn" } }]));
    let (st, v) = s.post("/api/wx/getLocation", &t, json!({})).await;
    assert_eq!((st, v["errMsg"].as_str()), (StatusCode::OK, Some("getLocation:ok")));
    assert!(v["latitude"].is_number() && v["horizontalAccuracy"].is_number());
    let (_, v) = s.get("/api/privacy/setting", &t).await;
    assert_eq!(v["needAuthorization"], json!(false));

    // A day later the version adding WeRun is in effect: it asks again, with its own referrer.
    s.advance(86_400).await;
    let (_, v) = s.get("/api/privacy/setting", &t).await;
    assert_eq!(v["needAuthorization"], json!(true));
    let call = {
        let s2 = s.router.clone();
        let t = t.clone();
        tokio::spawn(async move {
            let srv = Server { router: s2, _dir: TempDir::new() };
            srv.post("/api/wx/getWeRunData", &t, json!({})).await
        })
    };
    let p = s.pending(&t).await;
    assert_eq!((p["referrer"].as_str(), p["stage"].as_str()), (Some("getWeRunData"), Some("listener")));
    assert_eq!(p["scopes"], json!(["werun"]));
    let ticket = p["ticket"].as_str().unwrap().to_owned();
    s.tap(&t, "agree-btn", "agreePrivacyAuthorization").await;
    let (st, v) = s
        .post("/api/privacy/resolve", &t, json!({ "ticket": ticket, "event": "agree", "buttonId": "agree-btn" }))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = call.await.unwrap();
    assert_eq!((st, v["errMsg"].as_str()), (StatusCode::OK, Some("getWeRunData:ok")), "{v}");
    // Chooselocation was covered all along; the chosen location keeps working.
    let (st, _) = s.post("/api/wx/chooseLocation", &t, json!({})).await;
    assert_eq!(st, StatusCode::OK);

    let kinds: Vec<String> = {
        let (_, v) = s.get("/api/privacy/history", &t).await;
        v["entries"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(kinds, ["agreed", "agreed", "agree_resolved"]);
    let (st, v) = s.get("/api/privacy/receipt", &t).await;
    assert_eq!((st, v["receipt"]["state"].as_str()), (StatusCode::OK, Some("given")), "{v}");
}

/// Starts a guarded call in the background and returns it with its authorization.
async fn open_call(s: &Server, t: &str, api: &str) -> (tokio::task::JoinHandle<(StatusCode, Value)>, Value) {
    let router = s.router.clone();
    let (t2, api2) = (t.to_owned(), api.to_owned());
    let call = tokio::spawn(async move {
        let srv = Server { router, _dir: TempDir::new() };
        srv.post(&format!("/api/wx/{api2}"), &t2, json!({})).await
    });
    let p = s.pending(t).await;
    assert_eq!(p["referrer"].as_str(), Some(api));
    (call, p)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disagree_and_the_official_prompt() {
    let s = server(&[]).await;
    let t = s.login("refusing-user").await;

    // The page's popup: disagree fails the call with 104.
    let (call, p) = open_call(&s, &t, "getUserProfile").await;
    let (st, _) = s.post("/api/privacy/resolve", &t, json!({ "ticket": p["ticket"], "event": "disagree" })).await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = call.await.unwrap();
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(v, json!({ "errMsg": "getUserProfile:fail privacy permission is not authorized", "errno": 104 }));

    // No listener on the page: the official prompt takes over; refusing it fails with 104 and
    // holds back a new prompt.
    let (call, p) = open_call(&s, &t, "getLocation").await;
    let (st, v) = s.post("/api/privacy/prompt", &t, json!({ "ticket": p["ticket"], "answer": "refuse" })).await;
    assert_eq!(st, StatusCode::CONFLICT, "the listener still holds it: {v}");
    let (st, v) = s.post("/api/privacy/unanswered", &t, json!({ "ticket": p["ticket"] })).await;
    assert_eq!((st, v["stage"].as_str()), (StatusCode::OK, Some("official_prompt")), "{v}");
    let (st, _) = s.post("/api/privacy/prompt", &t, json!({ "ticket": p["ticket"], "answer": "refuse" })).await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = call.await.unwrap();
    assert_eq!((st, &v["errno"]), (StatusCode::FORBIDDEN, &json!(104)), "{v}");
    let (st, v) = s.post("/api/wx/getLocation", &t, json!({})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(v["errMsg"], "getLocation:fail privacy permission is not authorized in gap");

    // Ten seconds later the prompt may show again; accepting it lets the call run.
    s.advance(11).await;
    let (call, p) = open_call(&s, &t, "getLocation").await;
    s.post("/api/privacy/unanswered", &t, json!({ "ticket": p["ticket"] })).await;
    let (st, v) = s.post("/api/privacy/prompt", &t, json!({ "ticket": p["ticket"], "answer": "agree" })).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = call.await.unwrap();
    assert_eq!((st, v["errMsg"].as_str()), (StatusCode::OK, Some("getLocation:ok")), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_answers_then_the_call_returns_its_ticket() {
    let s = server(&["--wait-seconds", "1"]).await;
    let t = s.login("silent-user").await;
    // --wait-seconds 1: a second for the listener, a second for the official prompt, then 202.
    let (st, v) = s.post("/api/wx/getClipboardData", &t, json!({})).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{v}");
    assert_eq!(v["stage"], "official_prompt");
    let ticket = v["ticket"].as_str().unwrap();
    assert_eq!(ticket.len(), 32);
    let p = s.pending(&t).await;
    assert_eq!(p["ticket"].as_str(), Some(ticket), "the same authorization is still open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn combined_buttons_give_consent_and_the_action_both() {
    let s = server(&[]).await;
    for (button, open_type, event) in [
        ("agree-btn1", "getPhoneNumber|agreePrivacyAuthorization", "getphonenumber"),
        ("agree-btn2", "getRealtimePhoneNumber|agreePrivacyAuthorization", "getrealtimephonenumber"),
        ("agree-btn3", "getUserInfo|agreePrivacyAuthorization", "getuserinfo"),
    ] {
        let t = s.login(&format!("combined-{button}")).await;
        let (st, v) = s.tap(&t, button, open_type).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let events = v["events"].as_array().unwrap();
        assert_eq!(events[0], json!({ "type": "agreeprivacyauthorization", "detail": { "buttonId": button } }));
        assert_eq!(events[1]["type"], event);
        assert!(events[1]["detail"]["errMsg"].as_str().unwrap().ends_with(":ok"));
        let (st, _) = s.post("/api/wx/chooseAddress", &t, json!({})).await;
        assert_eq!(st, StatusCode::OK, "{button}'s consent covers the declared scopes");
        let (_, h) = s.get("/api/privacy/history", &t).await;
        assert_eq!(h["entries"][0]["source"]["action"].as_str().map(str::to_lowercase), Some(event.to_owned()), "{h}");
    }

    // The user turns down the phone-number sheet: the action fails, and no consent is recorded.
    let t = s.login("combined-denied").await;
    let body = json!({ "buttonId": "agree-btn1", "openType": "getPhoneNumber|agreePrivacyAuthorization", "actionDenied": true });
    let (st, v) = s.post("/api/privacy/tap", &t, body).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        v["events"],
        json!([{ "type": "getphonenumber", "detail": { "errMsg": "getPhoneNumber:fail user deny" } }])
    );
    assert_eq!(s.history_len(&t).await, 0, "neither: no consent without the action");
    let (_, v) = s.get("/api/privacy/setting", &t).await;
    assert_eq!(v["needAuthorization"], json!(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nickname_degrades_to_text_without_asking() {
    let s = server(&[]).await;
    let t = s.login("nick-user").await;
    let (st, v) = s.post("/api/wx/nicknameInput", &t, json!({})).await;
    assert_eq!((st, v), (StatusCode::OK, json!({ "errMsg": "nicknameInput:ok", "type": "text" })));
    let (_, v) = s.get("/api/privacy/pending?timeout=0", &t).await;
    assert!(v["pending"].is_null(), "no event was raised: {v}");
    s.tap(&t, "agree-btn", "agreePrivacyAuthorization").await;
    let (_, v) = s.post("/api/wx/nicknameInput", &t, json!({})).await;
    assert_eq!(v["type"], "nickname");
    assert!(v["nickName"].as_str().unwrap().starts_with("微信用户"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clear_and_require_privacy_authorize() {
    let s = server(&[]).await;
    let t = s.login("clearing-user").await;
    s.tap(&t, "agree-btn", "agreePrivacyAuthorization").await;
    let (st, v) = s.post("/api/privacy/require", &t, json!({})).await;
    assert_eq!((st, v["errMsg"].as_str()), (StatusCode::OK, Some("requirePrivacyAuthorize:ok")));
    let (st, _) = s.post("/api/privacy/clear", &t, json!({})).await;
    assert_eq!(st, StatusCode::OK);
    let (_, v) = s.get("/api/privacy/setting", &t).await;
    assert_eq!(v["needAuthorization"], json!(true));
    let router = s.router.clone();
    let t2 = t.clone();
    let call = tokio::spawn(async move {
        Server { router, _dir: TempDir::new() }.post("/api/privacy/require", &t2, json!({})).await
    });
    let p = s.pending(&t).await;
    assert_eq!(p["referrer"], "requirePrivacyAuthorize");
    s.post("/api/privacy/resolve", &t, json!({ "ticket": p["ticket"], "event": "disagree" })).await;
    let (st, v) = call.await.unwrap();
    assert_eq!((st, &v["errno"]), (StatusCode::FORBIDDEN, &json!(104)), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_policy_skips_old_clients_and_unflagged_apps_before_the_date() {
    let s = server(&["--enforcement", "platform", "--wait-seconds", "1"]).await;
    // Below 2.32.3 the platform does not intercept: the call runs without consent.
    let old = s.login_with(json!({ "code": "old-client", "SDKVersion": "2.32.2", "usePrivacyCheck": true })).await;
    let (st, v) = s.post("/api/wx/getLocation", &old, json!({})).await;
    assert_eq!((st, v["errMsg"].as_str()), (StatusCode::OK, Some("getLocation:ok")));
    // 2.32.3 without __usePrivacyCheck__, on July 12 (before 2023-10-17): not intercepted.
    let unflagged = s.login_with(json!({ "code": "unflagged", "SDKVersion": "2.32.3" })).await;
    let (st, _) = s.post("/api/wx/getLocation", &unflagged, json!({})).await;
    assert_eq!(st, StatusCode::OK);
    // With the flag: checked (a second for the listener, a second for the prompt, then 202).
    let flagged = s.login_with(json!({ "code": "flagged", "SDKVersion": "2.32.3", "usePrivacyCheck": true })).await;
    let (st, v) = s.post("/api/wx/getLocation", &flagged, json!({})).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{v}");
    // From 2023-10-17 every client from 2.32.3 is checked.
    s.advance(100 * 86_400).await;
    let (st, v) = s.post("/api/wx/getLocation", &unflagged, json!({})).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{v}");
    let (st, _) = s.post("/api/wx/getLocation", &old, json!({})).await;
    assert_eq!(st, StatusCode::OK, "old base libraries are never intercepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_policy_checks_every_client() {
    let s = server(&["--wait-seconds", "1"]).await;
    let old = s.login_with(json!({ "code": "old-client", "SDKVersion": "1.9.0" })).await;
    let (st, v) = s.post("/api/wx/getWeRunData", &old, json!({})).await;
    assert_eq!((st, &v["errno"]), (StatusCode::FORBIDDEN, &json!(112)));
    let (st, _) = s.post("/api/wx/getLocation", &old, json!({})).await;
    assert_eq!(st, StatusCode::ACCEPTED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_clock_only_in_demo_mode_and_from_loopback() {
    let demo = server(&[]).await;
    let remote: SocketAddr = "10.1.2.3:5555".parse().unwrap();
    let req = || {
        Request::post("/demo/clock")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"advanceSeconds":60}"#))
            .unwrap()
    };
    assert_eq!(demo.send(req(), remote).await.0, StatusCode::NOT_FOUND);
    let (st, v) = demo.send(req(), LOOPBACK).await;
    assert_eq!((st, v["now"].as_str().map(|n| n.starts_with("2023-07-12T00:01"))), (StatusCode::OK, Some(true)), "{v}");
    for bad in
        [r#"{"advanceSeconds":-5}"#, r#"{"advanceSeconds":"x"}"#, r#"{"advance":5}"#, "{", r#"{"advanceSeconds":1e99}"#]
    {
        let (st, v) = demo.raw("POST", "/demo/clock", None, Some(bad)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}: {v}");
        assert!(v["errMsg"].as_str().unwrap().starts_with("clock:fail "), "{v}");
    }
    // Loopback written as an IPv4-mapped IPv6 address (a dual-stack listener) is loopback too.
    let mapped: SocketAddr = "[::ffff:127.0.0.1]:5555".parse().unwrap();
    assert_eq!(demo.send(req(), mapped).await.0, StatusCode::OK);

    let production = server(&["--production", "--demo-login"]).await;
    assert_eq!(production.send(req(), LOOPBACK).await.0, StatusCode::NOT_FOUND);
    let (st, v) = production.raw("GET", "/demo/clock", None, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "no trace of the route in production: {v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_4xx_with_an_errmsg_and_records_nothing() {
    let s = server(&[]).await;
    let t = s.login("careful-user").await;
    let other = s.login("other-user").await;
    // Another user's authorization, to try its ticket.
    let (other_call, p) = open_call(&s, &other, "getLocation").await;
    let others_ticket = p["ticket"].as_str().unwrap().to_owned();

    let unknown = "0123456789abcdef0123456789abcdef";
    // (method, path, token, body, the status wanted)
    type Case<'a> = (&'a str, &'a str, Option<String>, Option<String>, StatusCode);
    let cases: Vec<Case> = vec![
        ("POST", "/api/privacy/resolve", Some(t.clone()), Some("{not json".into()), StatusCode::BAD_REQUEST),
        ("POST", "/api/privacy/resolve", Some(t.clone()), Some(r#"{"ticket":5}"#.into()), StatusCode::BAD_REQUEST),
        (
            "POST",
            "/api/privacy/resolve",
            Some(t.clone()),
            Some(json!({"ticket": unknown, "event": "accept"}).to_string()),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/api/privacy/resolve",
            Some(t.clone()),
            Some(json!({"ticket": unknown, "event": "agree"}).to_string()),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/api/privacy/resolve",
            Some(t.clone()),
            Some(json!({"ticket": "zz", "event": "disagree"}).to_string()),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/api/privacy/resolve",
            Some(t.clone()),
            Some(json!({"ticket": unknown, "event": "disagree"}).to_string()),
            StatusCode::NOT_FOUND,
        ),
        (
            "POST",
            "/api/privacy/resolve",
            Some(t.clone()),
            Some(json!({"ticket": others_ticket, "event": "disagree"}).to_string()),
            StatusCode::NOT_FOUND,
        ),
        (
            "POST",
            "/api/privacy/prompt",
            Some(t.clone()),
            Some(json!({"ticket": others_ticket, "answer": "agree"}).to_string()),
            StatusCode::NOT_FOUND,
        ),
        (
            "POST",
            "/api/privacy/unanswered",
            Some(t.clone()),
            Some(json!({"ticket": others_ticket}).to_string()),
            StatusCode::NOT_FOUND,
        ),
        (
            "POST",
            "/api/privacy/tap",
            Some(t.clone()),
            Some(json!({"buttonId": "agree-button", "openType": "agreePrivacyAuthorization"}).to_string()),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/api/privacy/tap",
            Some(t.clone()),
            Some(json!({"buttonId": "agree-btn", "openType": "getLocation|agreePrivacyAuthorization"}).to_string()),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            "/api/privacy/tap",
            Some(t.clone()),
            Some(format!(r#"{{"buttonId":"{}","openType":"agreePrivacyAuthorization"}}"#, "x".repeat(20_000))),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        ("POST", "/api/privacy/clear", None, None, StatusCode::UNAUTHORIZED),
        ("POST", "/api/wx/getLocation", Some(format!("{t}0")), None, StatusCode::UNAUTHORIZED),
        (
            "POST",
            "/api/wx/getLocation",
            Some("v1~o123~99999999999~3.3.4~0~00~00".into()),
            None,
            StatusCode::UNAUTHORIZED,
        ),
        ("POST", "/api/wx/readContacts", Some(t.clone()), None, StatusCode::NOT_FOUND),
        ("POST", "/api/wx/%FF", Some(t.clone()), None, StatusCode::BAD_REQUEST),
        (
            "POST",
            "/api/privacy/tap",
            Some(t.clone()),
            Some(
                json!({"buttonId": "agree-btn", "openType": "agreePrivacyAuthorization", "actionDenied": true})
                    .to_string(),
            ),
            StatusCode::BAD_REQUEST,
        ),
        ("GET", "/api/privacy/pending?timeout=abc", Some(t.clone()), None, StatusCode::BAD_REQUEST),
        ("POST", "/api/login", None, Some(json!({"code": "bad code!"}).to_string()), StatusCode::BAD_REQUEST),
        (
            "POST",
            "/api/login",
            None,
            Some(json!({"code": "ok", "SDKVersion": "two"}).to_string()),
            StatusCode::BAD_REQUEST,
        ),
        ("GET", "/api/nowhere", None, None, StatusCode::NOT_FOUND),
    ];
    for (method, path, token, body, want) in cases {
        let (st, v) = s.raw(method, path, token.as_deref(), body.as_deref()).await;
        assert_eq!(st, want, "{method} {path} {body:?}: {v}");
        let msg = v["errMsg"].as_str().unwrap_or_else(|| panic!("{method} {path}: no errMsg in {v}"));
        assert!(msg.contains(":fail "), "{msg}");
    }
    // A body without the JSON content type.
    let req = Request::post("/api/privacy/resolve")
        .header(header::AUTHORIZATION, format!("Bearer {t}"))
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(s.send(req, LOOPBACK).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // A client cannot hold more than four long-polls open.
    let polls: Vec<_> = (0..4)
        .map(|_| {
            let (router, t) = (s.router.clone(), t.clone());
            tokio::spawn(async move {
                Server { router, _dir: TempDir::new() }.get("/api/privacy/pending?timeout=3000", &t).await
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (st, v) = s.get("/api/privacy/pending?timeout=10", &t).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "{v}");
    for p in polls {
        assert_eq!(p.await.unwrap().0, StatusCode::OK);
    }
    assert_eq!(s.get("/api/privacy/pending?timeout=10", &t).await.0, StatusCode::OK, "slots are given back");

    assert_eq!(s.history_len(&t).await, 0, "nothing was recorded for the bad requests");
    // The other user's authorization was not touched by them.
    let p = s.pending(&other).await;
    assert_eq!(p["ticket"].as_str(), Some(others_ticket.as_str()));
    assert_eq!(p["stage"], "listener");
    assert_eq!(s.history_len(&other).await, 0);
    s.post("/api/privacy/resolve", &other, json!({ "ticket": others_ticket, "event": "disagree" })).await;
    assert_eq!(other_call.await.unwrap().0, StatusCode::FORBIDDEN);

    // An expired ticket: the authorization's five minutes pass on the demo clock.
    let (call, p) = open_call(&s, &t, "getLocation").await;
    s.advance(301).await;
    let (st, v) = s.post("/api/privacy/resolve", &t, json!({ "ticket": p["ticket"], "event": "disagree" })).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert!(v["errMsg"].as_str().unwrap().starts_with("resolve:fail "), "{v}");
    let (st, v) = call.await.unwrap();
    assert!(matches!(st, StatusCode::FORBIDDEN | StatusCode::ACCEPTED), "the call did not run: {st} {v}");

    assert_eq!(s.history_len(&t).await, 0, "an expiry records nothing");
}
