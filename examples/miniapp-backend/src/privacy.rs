//! The privacy routes: the platform's privacy APIs and the answers of the page's popup, the
//! official prompt and the agree buttons, for the session's user.

use std::pin::pin;
use std::time::Duration;

use axum::Json;
use axum::extract::{Query, State};
use privacy_runtime::{
    CombinedError, ContractLocation, OpenAuthorization, PendingStage, PromptAnswer, PromptStyle, Resolution, Ticket,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::reply::{ApiError, Body};
use crate::session::Session;
use crate::{App, apis};

type Reply = Result<Json<Value>, ApiError>;

/// The longest a long-poll waits.
pub const MAX_POLL: Duration = Duration::from_secs(30);

/// `GET /api/privacy/setting`: `wx.getPrivacySetting`.
pub(crate) async fn setting(State(app): State<App>, session: Session) -> Reply {
    let s =
        app.gate.get_privacy_setting(&session.openid).await.map_err(|e| ApiError::store("getPrivacySetting", &e))?;
    Ok(Json(json!({
        "errMsg": "getPrivacySetting:ok",
        "needAuthorization": s.need_authorization,
        "privacyContractName": s.privacy_contract_name,
    })))
}

/// `GET /api/privacy/contract`: `wx.openPrivacyContract`.
pub(crate) async fn contract(State(app): State<App>, _session: Session) -> Reply {
    let c = app.gate.open_privacy_contract();
    let mut body = json!({ "errMsg": "openPrivacyContract:ok", "name": c.name });
    match c.location {
        Some(ContractLocation::Url(url)) => body["url"] = json!(url),
        Some(ContractLocation::Text(text)) => body["text"] = json!(text),
        _ => {}
    }
    Ok(Json(body))
}

fn scope_names(app: &App, open: &OpenAuthorization) -> Vec<String> {
    open.scopes.iter().map(|s| app.gate.guidelines().scope_id(s).unwrap_or("unknown").to_owned()).collect()
}

fn stage_name(stage: PendingStage) -> &'static str {
    match stage {
        PendingStage::OfficialPrompt => "official_prompt",
        _ => "listener",
    }
}

fn key_of(open: &OpenAuthorization) -> String {
    format!("{}.{}", open.ticket, stage_name(open.stage))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PendingQuery {
    /// Milliseconds to wait for a change.
    timeout: Option<u64>,
    /// What the client saw last: `TICKET.STAGE`.
    after: Option<String>,
}

/// `GET /api/privacy/pending`: the user's open authorization, as soon as it differs from what
/// the client saw (`after`), or what is open when the timeout ends.
pub(crate) async fn pending(
    State(app): State<App>,
    session: Session,
    query: Result<Query<PendingQuery>, axum::extract::rejection::QueryRejection>,
) -> Reply {
    let Query(q) = query.map_err(|e| ApiError::bad_request("pending", e.body_text()))?;
    let Some(slot) = app.board.open_poll(&session.openid) else {
        return Err(ApiError::too_many(
            "pending",
            format!(
                "{} long-polls of this user are open already; wait for one to answer",
                crate::pending::POLLS_PER_USER
            ),
        ));
    };
    let wait = Duration::from_millis(q.timeout.unwrap_or(25_000)).min(MAX_POLL);
    let until = tokio::time::Instant::now() + wait;
    loop {
        let mut woken = pin!(slot.notified());
        woken.as_mut().enable();
        let open = app.gate.pending(&session.openid);
        let changed = open.as_ref().is_some_and(|o| q.after.as_deref() != Some(key_of(o).as_str()));
        if changed || app.board.closing() || tokio::time::Instant::now() >= until {
            let pending = open.map(|o| {
                json!({
                    "ticket": o.ticket,
                    "referrer": o.referrer,
                    "stage": stage_name(o.stage),
                    "scopes": scope_names(&app, &o),
                    "exposed": o.exposed,
                })
            });
            return Ok(Json(json!({ "errMsg": "pending:ok", "pending": pending })));
        }
        let deadline = until.min(tokio::time::Instant::now() + crate::pending::RECHECK);
        let _ = tokio::time::timeout_at(deadline, woken).await;
    }
}

fn ticket(api: &str, s: &str) -> Result<Ticket, ApiError> {
    Ticket::parse(s).ok_or_else(|| {
        ApiError::bad_request(
            api,
            format!("ticket `{s}` is not a ticket: give the 32 hex digits /api/privacy/pending returned"),
        )
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Resolve {
    ticket: String,
    event: String,
    #[serde(rename = "buttonId")]
    button_id: Option<String>,
}

/// `POST /api/privacy/resolve`: the listener's `resolve(...)`.
pub(crate) async fn resolve(State(app): State<App>, session: Session, Body(r): Body<Resolve>) -> Reply {
    let api = "resolve";
    let ticket = ticket(api, &r.ticket)?;
    let resolution = match (r.event.as_str(), r.button_id) {
        ("exposureAuthorization", None) => Resolution::ExposureAuthorization,
        ("agree", Some(button_id)) => Resolution::Agree { button_id },
        ("agree", None) => {
            return Err(ApiError::bad_request(api, "agree needs the buttonId of the agree button the user tapped"));
        }
        ("disagree", None) => Resolution::Disagree,
        ("exposureAuthorization" | "disagree", Some(_)) => {
            return Err(ApiError::bad_request(api, format!("{} takes no buttonId", r.event)));
        }
        (other, _) => {
            return Err(ApiError::bad_request(
                api,
                format!("unknown event `{other}`: use exposureAuthorization, agree or disagree"),
            ));
        }
    };
    let done = app.gate.resolve(&session.openid, ticket, resolution).await;
    app.board.changed(&session.openid);
    done.map_err(|e| ApiError::resolve(api, &e))?;
    Ok(Json(json!({ "errMsg": "resolve:ok" })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TicketOnly {
    ticket: String,
}

/// `POST /api/privacy/unanswered`: the page has no listener, or its listener gave up: the
/// official prompt takes over.
pub(crate) async fn unanswered(State(app): State<App>, session: Session, Body(r): Body<TicketOnly>) -> Reply {
    let api = "unanswered";
    let ticket = ticket(api, &r.ticket)?;
    let stage = app.gate.unanswered(&session.openid, ticket).map_err(|e| ApiError::resolve(api, &e))?;
    app.board.changed(&session.openid);
    Ok(Json(json!({ "errMsg": "unanswered:ok", "stage": stage_name(stage) })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Prompt {
    ticket: String,
    answer: String,
    style: Option<String>,
}

/// `POST /api/privacy/prompt`: the user's answer to the official prompt.
pub(crate) async fn prompt(State(app): State<App>, session: Session, Body(p): Body<Prompt>) -> Reply {
    let api = "prompt";
    let ticket = ticket(api, &p.ticket)?;
    let style = match p.style.as_deref() {
        None | Some("direct") => PromptStyle::Direct,
        Some("coupled") => PromptStyle::Coupled,
        Some(other) => {
            return Err(ApiError::bad_request(api, format!("unknown style `{other}`: use direct or coupled")));
        }
    };
    let answer = match p.answer.as_str() {
        "agree" => PromptAnswer::Accept,
        "refuse" => PromptAnswer::Refuse(style),
        other => return Err(ApiError::bad_request(api, format!("unknown answer `{other}`: use agree or refuse"))),
    };
    let done = app.gate.answer_prompt(&session.openid, ticket, answer).await;
    app.board.changed(&session.openid);
    done.map_err(|e| ApiError::resolve(api, &e))?;
    Ok(Json(json!({ "errMsg": "prompt:ok" })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Tap {
    #[serde(rename = "buttonId")]
    button_id: String,
    #[serde(rename = "openType")]
    open_type: String,
    /// For a combined button: the user turned down the action's own sheet (the phone number,
    /// the profile), so the action fails and no consent is recorded either.
    #[serde(rename = "actionDenied", default)]
    action_denied: bool,
}

/// The user turned down a combined button's action.
#[derive(Debug, thiserror::Error)]
#[error("user deny")]
struct Denied;

fn agree_event(button_id: &str) -> Value {
    json!({ "type": "agreeprivacyauthorization", "detail": { "buttonId": button_id } })
}

/// `POST /api/privacy/tap`: the platform's side of a tap on `<button open-type=…>`: the
/// consent, and for a combined button its action, both or neither.
pub(crate) async fn tap(State(app): State<App>, session: Session, Body(t): Body<Tap>) -> Reply {
    let api = "tap";
    let openid = session.openid.as_str();
    let combined = match t.open_type.as_str() {
        "agreePrivacyAuthorization" => None,
        "getPhoneNumber|agreePrivacyAuthorization" => Some(("getPhoneNumber", "getphonenumber")),
        "getRealtimePhoneNumber|agreePrivacyAuthorization" => {
            Some(("getRealtimePhoneNumber", "getrealtimephonenumber"))
        }
        "getUserInfo|agreePrivacyAuthorization" => Some(("getUserInfo", "getuserinfo")),
        other => {
            return Err(ApiError::bad_request(
                api,
                format!(
                    "unknown openType `{other}`: use agreePrivacyAuthorization, or getPhoneNumber, getRealtimePhoneNumber or getUserInfo joined to it with |"
                ),
            ));
        }
    };
    if combined.is_none() && t.action_denied {
        return Err(ApiError::bad_request(
            api,
            "actionDenied is for a combined button (getPhoneNumber|agreePrivacyAuthorization, …)",
        ));
    }
    let events = match combined {
        None => {
            let done = app.gate.tap_agree_button(openid, &t.button_id).await;
            app.board.changed(&session.openid);
            done.map_err(|e| ApiError::resolve(api, &e))?;
            vec![agree_event(&t.button_id)]
        }
        Some((action, event_type)) => {
            let denied = t.action_denied;
            let result = app
                .gate
                .agree_with_action_async(openid, &t.button_id, action, async {
                    if denied { Err(Denied) } else { Ok(apis::button_action(action, openid)) }
                })
                .await;
            app.board.changed(&session.openid);
            match result {
                Ok(detail) => vec![agree_event(&t.button_id), json!({ "type": event_type, "detail": detail })],
                // Neither: the page hears of the failed action only, and nothing was recorded.
                Err(CombinedError::Action(Denied)) => {
                    vec![json!({ "type": event_type, "detail": { "errMsg": format!("{action}:fail user deny") } })]
                }
                Err(CombinedError::Button(e)) => return Err(ApiError::resolve(api, &e)),
                Err(CombinedError::Store(e)) => return Err(ApiError::store(api, &e)),
                Err(e) => return Err(ApiError::conflict(api, e)),
            }
        }
    };
    Ok(Json(json!({ "errMsg": "tap:ok", "events": events })))
}

/// `POST /api/privacy/require`: `wx.requirePrivacyAuthorize`, a call that needs every scope
/// declared, as the platform's simulated privacy API.
pub(crate) async fn require(State(app): State<App>, session: Session) -> Reply {
    app.gate.require_privacy_authorize(&session.openid).await?;
    Ok(Json(json!({ "errMsg": "requirePrivacyAuthorize:ok" })))
}

/// `POST /api/privacy/clear`: the user removed the mini program from "recently used".
pub(crate) async fn clear(State(app): State<App>, session: Session) -> Reply {
    let done = app.gate.clear(&session.openid).await;
    app.board.changed(&session.openid);
    done.map_err(|e| ApiError::store("clearPrivacyAuthorization", &e))?;
    Ok(Json(json!({ "errMsg": "clearPrivacyAuthorization:ok" })))
}

/// `GET /api/privacy/history`: the user's ledger entries, oldest first.
pub(crate) async fn history(State(app): State<App>, session: Session) -> Reply {
    let entries = app.gate.history(&session.openid).await.map_err(|e| ApiError::store("history", &e))?;
    Ok(Json(json!({ "errMsg": "history:ok", "entries": entries })))
}

/// `GET /api/privacy/receipt`: the user's consent receipt.
pub(crate) async fn receipt(State(app): State<App>, session: Session) -> Reply {
    let receipt = app.gate.consent_receipt(&session.openid).await.map_err(|e| ApiError::store("receipt", &e))?;
    Ok(Json(json!({ "errMsg": "receipt:ok", "receipt": receipt })))
}
