//! Failures as the client sees them: the platform's `{errMsg, errno}` with an HTTP status that
//! fits (the table is in API.md), and a JSON body extractor whose rejections take that shape.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use privacy_runtime::{PrivacyError, PrivacyErrorKind, ResolveError, StoreError};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// A failed request: its status and the platform-shaped body.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: Value,
}

/// The API name a path stands for in errMsg: the platform API a privacy route serves
/// (`/api/privacy/setting` → `getPrivacySetting`), else the path's last segment
/// (`/api/wx/getLocation` → `getLocation`).
pub(crate) fn api_name(path: &str) -> &str {
    let last = path.rsplit('/').find(|s| !s.is_empty()).unwrap_or("request");
    if !path.starts_with("/api/privacy/") {
        return last;
    }
    match last {
        "setting" => "getPrivacySetting",
        "contract" => "openPrivacyContract",
        "require" => "requirePrivacyAuthorize",
        "clear" => "clearPrivacyAuthorization",
        other => other,
    }
}

impl ApiError {
    fn with(status: StatusCode, api: &str, reason: impl std::fmt::Display) -> ApiError {
        ApiError { status, body: json!({ "errMsg": format!("{api}:fail {reason}") }) }
    }

    /// 400: the request was malformed.
    pub fn bad_request(api: &str, reason: impl std::fmt::Display) -> ApiError {
        ApiError::with(StatusCode::BAD_REQUEST, api, reason)
    }

    /// 401: no valid session.
    pub fn unauthorized(api: &str, reason: impl std::fmt::Display) -> ApiError {
        ApiError::with(StatusCode::UNAUTHORIZED, api, reason)
    }

    /// 404: no such route, or no such ticket for this user.
    pub fn not_found(api: &str, reason: impl std::fmt::Display) -> ApiError {
        ApiError::with(StatusCode::NOT_FOUND, api, reason)
    }

    /// 409: the request came too late or in the wrong order (a settled ticket, a cleared consent).
    pub fn conflict(api: &str, reason: impl std::fmt::Display) -> ApiError {
        ApiError::with(StatusCode::CONFLICT, api, reason)
    }

    /// 429: the user has too many requests of this kind open.
    pub fn too_many(api: &str, reason: impl std::fmt::Display) -> ApiError {
        ApiError::with(StatusCode::TOO_MANY_REQUESTS, api, reason)
    }

    /// 503: something the request needs did not answer; nothing ran.
    pub fn unavailable(api: &str, reason: impl std::fmt::Display) -> ApiError {
        ApiError::with(StatusCode::SERVICE_UNAVAILABLE, api, reason)
    }

    /// The store did not answer.
    pub fn store(api: &str, e: &StoreError) -> ApiError {
        ApiError::unavailable(api, format!("privacy consent store unavailable ({e}); retry when the store is back"))
    }

    /// A resolve, a tap or a prompt answer that was not taken.
    pub fn resolve(api: &str, e: &ResolveError) -> ApiError {
        let status = match e {
            ResolveError::UnregisteredButton { .. } => StatusCode::BAD_REQUEST,
            ResolveError::UnknownTicket { .. } | ResolveError::Expired { .. } => StatusCode::NOT_FOUND,
            ResolveError::Store(s) => return ApiError::store(api, s),
            _ => StatusCode::CONFLICT,
        };
        ApiError::with(status, api, e)
    }
}

impl From<PrivacyError> for ApiError {
    fn from(e: PrivacyError) -> ApiError {
        let status = match e.kind() {
            PrivacyErrorKind::Pending { .. } => StatusCode::ACCEPTED,
            PrivacyErrorKind::StoreUnavailable { .. } | PrivacyErrorKind::TicketUnavailable { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            PrivacyErrorKind::NotDeclared
            | PrivacyErrorKind::Banned
            | PrivacyErrorKind::NotAuthorized { .. }
            | PrivacyErrorKind::RefusalHold { .. }
            | PrivacyErrorKind::Unanswered => StatusCode::FORBIDDEN,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let body = serde_json::to_value(&e).unwrap_or_else(|_| json!({ "errMsg": e.to_string() }));
        ApiError { status, body }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// A JSON request body; a body that is not valid JSON of the expected shape is a 400 (413 when
/// too large, 415 without the JSON content type) with an errMsg saying what is wrong.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let api = api_name(req.uri().path()).to_owned();
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(rejection) => Err(json_rejection(&api, &rejection)),
        }
    }
}

fn json_rejection(api: &str, rejection: &JsonRejection) -> ApiError {
    let status = match rejection.status() {
        StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
        s => s,
    };
    let reason = match status {
        StatusCode::PAYLOAD_TOO_LARGE => format!("request body too large: at most {} bytes", crate::MAX_BODY),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "send the body as JSON with Content-Type: application/json".to_owned(),
        _ => rejection.body_text(),
    };
    ApiError::with(status, api, reason)
}

/// 404 for a route that does not exist.
pub(crate) async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(api_name(uri.path()), format!("no route {}; the routes are listed in API.md", uri.path()))
}

/// 405 for a route called with the wrong method.
pub(crate) async fn method_not_allowed(uri: Uri) -> ApiError {
    ApiError::with(StatusCode::METHOD_NOT_ALLOWED, api_name(uri.path()), "method not allowed; see API.md")
}
