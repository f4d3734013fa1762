//! The guarded business APIs: each a `#[privacy_scope]` function over a plain body, called as
//! the enforcement policy says.
//!
//! The data are made up, derived from the openid so that each user sees their own.

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use privacy_runtime::privacy_scope;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::App;
use crate::reply::ApiError;
use crate::session::Session;

type Reply = Result<Json<Value>, ApiError>;

/// A number in `0..n` derived from the openid and a salt.
fn pick(openid: &str, salt: &str, n: u64) -> u64 {
    let d = Sha256::new().chain_update(salt).chain_update(openid).finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_le_bytes(b) % n
}

/// The bodies: what each API returns once it may run.
pub mod body {
    use super::*;

    /// `wx.getLocation`.
    pub fn get_location(openid: &str) -> Value {
        let jitter = pick(openid, "location", 10_000) as f64 / 1e6;
        json!({
            "errMsg": "getLocation:ok",
            "latitude": 39.9042 + jitter,
            "longitude": 116.4074 - jitter,
            "speed": -1,
            "accuracy": 65,
            "altitude": 0,
            "verticalAccuracy": 0,
            "horizontalAccuracy": 65,
        })
    }

    /// `wx.chooseLocation`.
    pub fn choose_location(_openid: &str) -> Value {
        json!({
            "errMsg": "chooseLocation:ok",
            "name": "中关村广场",
            "address": "北京市海淀区中关村大街",
            "latitude": 39.9834,
            "longitude": 116.3162,
        })
    }

    /// The user's profile (`wx.getUserProfile`, and the user-info button's `getuserinfo`).
    pub fn user_info(openid: &str, api: &str) -> Value {
        let user = json!({
            "nickName": format!("微信用户{:04}", pick(openid, "nick", 10_000)),
            "avatarUrl": "https://example.com/avatar/default.png",
            "gender": 0,
            "country": "",
            "province": "",
            "city": "",
            "language": "zh_CN",
        });
        json!({
            "errMsg": format!("{api}:ok"),
            "rawData": user.to_string(),
            "userInfo": user,
            "signature": format!("{:016x}{:016x}", pick(openid, "sig", u64::MAX), pick(openid, "sig2", u64::MAX)),
            "encryptedData": "ZGVtbw==",
            "iv": "ZGVtbw==",
            "cloudID": "",
        })
    }

    /// `wx.getWeRunData`.
    pub fn get_we_run_data(_openid: &str) -> Value {
        json!({ "errMsg": "getWeRunData:ok", "encryptedData": "ZGVtbw==", "iv": "ZGVtbw==", "cloudID": "" })
    }

    /// `wx.getClipboardData`.
    pub fn get_clipboard_data(openid: &str) -> Value {
        json!({ "errMsg": "getClipboardData:ok", "data": format!("order-{:06}", pick(openid, "clip", 1_000_000)) })
    }

    /// A phone number code (`getPhoneNumber`, and the phone buttons' events).
    pub fn phone_code(openid: &str, api: &str) -> Value {
        let code = format!("{:016x}{:016x}", pick(openid, api, u64::MAX), pick(openid, "code", u64::MAX));
        json!({ "errMsg": format!("{api}:ok"), "code": code })
    }

    /// `<input type="nickname">` with the WeChat nickname offered.
    pub fn nickname(openid: &str) -> Value {
        json!({
            "errMsg": "nicknameInput:ok",
            "type": "nickname",
            "nickName": format!("微信用户{:04}", pick(openid, "nick", 10_000)),
        })
    }

    /// `wx.chooseAddress`.
    pub fn choose_address(_openid: &str) -> Value {
        json!({
            "errMsg": "chooseAddress:ok",
            "userName": "张三",
            "postalCode": "100080",
            "provinceName": "北京市",
            "cityName": "北京市",
            "countyName": "海淀区",
            "streetName": "中关村街道",
            "detailInfo": "中关村大街1号",
            "detailInfoNew": "中关村大街1号",
            "nationalCode": "110108",
            "telNumber": "13800000000",
        })
    }
}

/// The action of a combined button, once the user tapped it.
pub(crate) fn button_action(action: &str, openid: &str) -> Value {
    match action {
        "getUserInfo" => body::user_info(openid, action),
        _ => body::phone_code(openid, action),
    }
}

#[privacy_scope("location", api = "getLocation")]
async fn get_location(openid: &str) -> Result<Value, ApiError> {
    Ok(body::get_location(openid))
}

#[privacy_scope("chosen_location", api = "chooseLocation")]
async fn choose_location(openid: &str) -> Result<Value, ApiError> {
    Ok(body::choose_location(openid))
}

#[privacy_scope("user_info", api = "getUserProfile")]
async fn get_user_profile(openid: &str) -> Result<Value, ApiError> {
    Ok(body::user_info(openid, "getUserProfile"))
}

#[privacy_scope("werun", api = "getWeRunData")]
async fn get_we_run_data(openid: &str) -> Result<Value, ApiError> {
    Ok(body::get_we_run_data(openid))
}

#[privacy_scope("clipboard", api = "getClipboardData")]
async fn get_clipboard_data(openid: &str) -> Result<Value, ApiError> {
    Ok(body::get_clipboard_data(openid))
}

#[privacy_scope("phone_number", api = "getPhoneNumber")]
async fn get_phone_number(openid: &str) -> Result<Value, ApiError> {
    Ok(body::phone_code(openid, "getPhoneNumber"))
}

#[privacy_scope("address", api = "chooseAddress")]
async fn choose_address(openid: &str) -> Result<Value, ApiError> {
    Ok(body::choose_address(openid))
}

/// `<input type="nickname">` focused: the WeChat nickname is offered with consent; without it
/// the input is a plain text field, and nobody is asked.
#[privacy_scope("user_info", api = "nicknameInput", degrade = nickname_as_text)]
async fn nickname_input(openid: &str) -> Result<Value, ApiError> {
    Ok(body::nickname(openid))
}

async fn nickname_as_text(_openid: &str) -> Result<Value, ApiError> {
    Ok(json!({ "errMsg": "nicknameInput:ok", "type": "text" }))
}

/// `POST /api/wx/{api}`: a guarded API, checked unless the enforcement policy exempts the client.
pub(crate) async fn call(State(app): State<App>, session: Session, api: Result<Path<String>, PathRejection>) -> Reply {
    let Path(api) = api.map_err(bad_path)?;
    let checked = app.enforcement.intercepts(session.sdk_version, session.use_privacy_check, || app.gate.now());
    dispatch(&session.openid, &api, checked).await
}

/// `POST /api/unguarded/{api}` (`--unguarded-twin`, for the load test): the same extractors,
/// dispatch and bodies as `/api/wx/{api}`, without the check.
pub(crate) async fn unguarded(
    State(_app): State<App>,
    session: Session,
    api: Result<Path<String>, PathRejection>,
) -> Reply {
    let Path(api) = api.map_err(bad_path)?;
    dispatch(&session.openid, &api, false).await
}

fn bad_path(e: PathRejection) -> ApiError {
    ApiError::bad_request("request", format!("bad API name in the path: {}", e.body_text()))
}

async fn dispatch(openid: &str, api: &str, checked: bool) -> Reply {
    macro_rules! run {
        ($guarded:ident, $plain:expr) => {
            if checked { $guarded(openid).await? } else { $plain }
        };
    }
    let value = match api {
        "getLocation" => run!(get_location, body::get_location(openid)),
        "chooseLocation" => run!(choose_location, body::choose_location(openid)),
        "getUserProfile" => run!(get_user_profile, body::user_info(openid, "getUserProfile")),
        "getWeRunData" => run!(get_we_run_data, body::get_we_run_data(openid)),
        "getClipboardData" => run!(get_clipboard_data, body::get_clipboard_data(openid)),
        "getPhoneNumber" => run!(get_phone_number, body::phone_code(openid, "getPhoneNumber")),
        "chooseAddress" => run!(choose_address, body::choose_address(openid)),
        "nicknameInput" => run!(nickname_input, body::nickname(openid)),
        other => {
            return Err(ApiError::not_found(other, format!("no guarded API `{other}`; the APIs are listed in API.md")));
        }
    };
    Ok(Json(value))
}
