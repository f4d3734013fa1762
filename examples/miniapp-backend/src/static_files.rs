//! The page emulating a mini program's privacy popup, and the `wx` adapter it runs on.

use axum::http::header;
use axum::response::IntoResponse;

/// `GET /`: the popup page.
pub(crate) async fn index() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], include_str!("../static/index.html"))
}

/// `GET /wx-privacy.js`: the client adapter, the same file node's tests require.
pub(crate) async fn client() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("../client/wx-privacy.js"))
}
