//! Login and sessions: a stand-in for `code2session`, and signed, expiring tokens that put the
//! user in scope for every handler.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::enforcement::parse_sdk_version;
use crate::reply::{ApiError, Body, api_name};
use crate::{APP_ID, App};

/// The issuer named on every session: this backend's stand-in for the platform's
/// `code2session`, which derives the openid from the login code. Not an identity provider.
pub const ISSUER: &str = "demo-code2session";

/// The base library assumed when the client does not say.
pub const DEFAULT_SDK_VERSION: &str = "3.3.4";

/// A logged-in user, as a handler sees them.
#[derive(Debug, Clone)]
pub struct Session {
    /// The user: the subject of every privacy decision.
    pub openid: String,
    /// The base library the client reported at login.
    pub sdk_version: [u32; 3],
    /// Whether the app set `__usePrivacyCheck__`.
    pub use_privacy_check: bool,
}

/// Issues and checks session tokens.
pub struct Sessions {
    /// The keyed MAC, cloned for each token.
    mac: HmacSha256,
    ttl: Duration,
}

/// Why a request has no session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionError {
    /// No `Authorization: Bearer` header.
    Missing,
    /// A token not issued by this backend (or by one sharing its key), or altered.
    Forged,
    /// A token past its expiry.
    Expired,
}

impl SessionError {
    fn message(self) -> &'static str {
        match self {
            SessionError::Missing => "session missing: send Authorization: Bearer <token> from /api/login (wx.login)",
            SessionError::Forged => {
                "session invalid: the token was not issued here or was altered; log in again (wx.login)"
            }
            SessionError::Expired => "session expired: log in again (wx.login)",
        }
    }
}

type HmacSha256 = Hmac<Sha256>;

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes.iter().flat_map(|b| [DIGITS[usize::from(b >> 4)] as char, DIGITS[usize::from(b & 15)] as char]).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The openid the platform would give the login `code`: stable per code and app.
pub fn openid_of(code: &str) -> String {
    let digest = Sha256::new()
        .chain_update(ISSUER)
        .chain_update([0])
        .chain_update(APP_ID)
        .chain_update([0])
        .chain_update(code)
        .finalize();
    let mut id = String::from("o");
    id.push_str(&hex(&digest)[..27]);
    id
}

impl Sessions {
    /// Sessions signed with `key`, or with a random key of this process when `None`.
    pub fn new(key: Option<Vec<u8>>, ttl: Duration) -> Result<Sessions, String> {
        let key = match key {
            Some(k) => k,
            None => {
                let mut k = vec![0u8; 32];
                getrandom::fill(&mut k).map_err(|e| e.to_string())?;
                k
            }
        };
        let mac = HmacSha256::new_from_slice(&key).map_err(|e| format!("session key refused: {e}"))?;
        Ok(Sessions { mac, ttl })
    }

    fn mac(&self, payload: &str) -> HmacSha256 {
        let mut mac = self.mac.clone();
        mac.update(payload.as_bytes());
        mac
    }

    /// A new token for `session`, and its lifetime in seconds.
    pub fn issue(&self, session: &Session) -> Result<(String, u64), getrandom::Error> {
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce)?;
        let expires = unix_now() + self.ttl.as_secs();
        let [a, b, c] = session.sdk_version;
        let payload = format!(
            "v1~{}~{expires}~{a}.{b}.{c}~{}~{}",
            session.openid,
            u8::from(session.use_privacy_check),
            hex(&nonce)
        );
        let tag = hex(&self.mac(&payload).finalize().into_bytes());
        Ok((format!("{payload}~{tag}"), self.ttl.as_secs()))
    }

    /// The session of a request's `Authorization: Bearer` token.
    pub fn verify(&self, headers: &HeaderMap) -> Result<Session, SessionError> {
        let value = headers.get(header::AUTHORIZATION).ok_or(SessionError::Missing)?;
        let token = value.to_str().ok().and_then(|v| v.strip_prefix("Bearer ")).ok_or(SessionError::Forged)?;
        let (payload, tag) = token.rsplit_once('~').ok_or(SessionError::Forged)?;
        let tag = unhex(tag).ok_or(SessionError::Forged)?;
        self.mac(payload).verify_slice(&tag).map_err(|_| SessionError::Forged)?;
        // Signed by us: the fields are as we wrote them.
        let fields: Vec<&str> = payload.split('~').collect();
        let [_, openid, expires, sdk, check, _] = fields[..] else { return Err(SessionError::Forged) };
        let expires: u64 = expires.parse().map_err(|_| SessionError::Forged)?;
        if unix_now() >= expires {
            return Err(SessionError::Expired);
        }
        Ok(Session {
            openid: openid.to_owned(),
            sdk_version: parse_sdk_version(sdk).ok_or(SessionError::Forged)?,
            use_privacy_check: check == "1",
        })
    }
}

/// The body of `POST /api/login`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Login {
    code: String,
    #[serde(rename = "SDKVersion")]
    sdk_version: Option<String>,
    #[serde(rename = "usePrivacyCheck")]
    use_privacy_check: Option<bool>,
}

/// `POST /api/login`: exchanges a login code for a session.
pub(crate) async fn login(State(app): State<App>, Body(login): Body<Login>) -> Result<Json<Value>, ApiError> {
    let code_ok = (1..=128).contains(&login.code.len())
        && login.code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !code_ok {
        return Err(ApiError::bad_request(
            "login",
            "invalid code: give the code wx.login returned (1–128 letters, digits, _ or -)",
        ));
    }
    let sdk = login.sdk_version.as_deref().unwrap_or(DEFAULT_SDK_VERSION);
    let sdk_version = parse_sdk_version(sdk).ok_or_else(|| {
        ApiError::bad_request(
            "login",
            format!("invalid SDKVersion `{sdk}`: give the base library version, such as 3.3.4"),
        )
    })?;
    let session = Session {
        openid: openid_of(&login.code),
        sdk_version,
        use_privacy_check: login.use_privacy_check.unwrap_or(false),
    };
    let (token, expires_in) = app
        .sessions
        .issue(&session)
        .map_err(|e| ApiError::unavailable("login", format!("no randomness for a session token ({e}); retry")))?;
    Ok(Json(json!({
        "errMsg": "login:ok",
        "token": token,
        "openid": session.openid,
        "expiresIn": expires_in,
        "issuer": ISSUER,
    })))
}

/// Puts the request's user in scope: the session for handlers, and the gate and the ambient
/// subject for every `#[privacy_scope]` function the handler calls. Requests without a valid
/// session stop here with 401.
pub(crate) async fn require_session(State(app): State<App>, mut req: Request, next: Next) -> Response {
    let session = match app.sessions.verify(req.headers()) {
        Ok(s) => s,
        Err(e) => return ApiError::unauthorized(api_name(req.uri().path()), e.message()).into_response(),
    };
    let openid = session.openid.clone();
    req.extensions_mut().insert(session);
    app.gate.scope(next.run(req)).with_subject(openid.as_str()).await
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized(api_name(parts.uri.path()), SessionError::Missing.message()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(&format!("Bearer {token}")).unwrap());
        h
    }

    #[test]
    fn tokens_round_trip_and_resist_tampering() {
        let s = Sessions::new(Some(b"k".repeat(32)), Duration::from_secs(60)).unwrap();
        let session = Session { openid: openid_of("code-1"), sdk_version: [2, 32, 3], use_privacy_check: true };
        let (token, _) = s.issue(&session).unwrap();
        let back = s.verify(&headers(&token)).unwrap();
        assert_eq!(
            (back.openid.as_str(), back.sdk_version, back.use_privacy_check),
            (session.openid.as_str(), [2, 32, 3], true)
        );

        let other = openid_of("code-2");
        let forged = token.replacen(&session.openid, &other, 1);
        assert_eq!(s.verify(&headers(&forged)).unwrap_err(), SessionError::Forged);
        let other_key = Sessions::new(Some(b"j".repeat(32)), Duration::from_secs(60)).unwrap();
        assert_eq!(other_key.verify(&headers(&token)).unwrap_err(), SessionError::Forged);
        assert_eq!(s.verify(&HeaderMap::new()).unwrap_err(), SessionError::Missing);
        assert_eq!(s.verify(&headers("v1~x")).unwrap_err(), SessionError::Forged);

        let expired = Sessions::new(Some(b"k".repeat(32)), Duration::ZERO).unwrap();
        let (t, _) = expired.issue(&session).unwrap();
        assert_eq!(expired.verify(&headers(&t)).unwrap_err(), SessionError::Expired);
    }

    #[test]
    fn one_code_one_openid() {
        assert_eq!(openid_of("abc"), openid_of("abc"));
        assert_ne!(openid_of("abc"), openid_of("abd"));
        assert_eq!(openid_of("abc").len(), 28);
    }
}
