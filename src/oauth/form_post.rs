//! The authorization and end-session endpoints also take their parameters as a form post
//! (OIDC Core §3.1.2.1, RP-Initiated Logout §2). A cross-site post carries no `SameSite=Lax`
//! cookie, so the browser's session would not be seen: the post is answered with 303 to the
//! same endpoint with the parameters as its query, and the pages of `web::oidc` (GET) take it
//! from there. Nothing changes here.

use axum::body::to_bytes;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::config::MAX_BODY_BYTES;
use crate::oauth::Provider;

pub async fn as_get(Provider(_): Provider, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.split(';').next().map(str::trim) == Some("application/x-www-form-urlencoded")
        });
    if !is_form {
        return StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response();
    }
    let Ok(bytes) = to_bytes(request.into_body(), MAX_BODY_BYTES).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    // Re-encoded, so only well-formed pairs reach the query.
    let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let Ok(query) = serde_urlencoded::to_string(&pairs) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    Redirect::to(&format!("{path}?{query}")).into_response()
}
