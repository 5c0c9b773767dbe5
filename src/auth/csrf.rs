//! CSRF protection: a per-session token that every unsafe web request must carry, as the
//! `csrf_token` form field or the `X-CSRF-Token` header (which htmx sends).

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use rand::RngExt;
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use crate::error::{Error, Result};
use crate::i18n::Lang;

pub const CSRF_KEY: &str = "csrf";
pub const FIELD: &str = "csrf_token";
pub const HEADER: &str = "x-csrf-token";
/// Largest form body read while looking for the token (the whole app refuses larger ones).
pub const MAX_FORM_BYTES: usize = 64 * 1024;

fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The session's token, created on first use.
pub async fn token(session: &Session) -> Result<String> {
    let existing = session
        .get::<String>(CSRF_KEY)
        .await
        .map_err(crate::auth::session::session_error)?;
    match existing {
        Some(token) => Ok(token),
        None => rotate(session).await,
    }
}

/// Replaces the token (at login, so a token seen before authentication is worthless after).
pub async fn rotate(session: &Session) -> Result<String> {
    let token = new_token();
    session
        .insert(CSRF_KEY, &token)
        .await
        .map_err(crate::auth::session::session_error)?;
    Ok(token)
}

fn matches(expected: &str, given: &str) -> bool {
    !expected.is_empty() && expected.as_bytes().ct_eq(given.as_bytes()).into()
}

fn form_field(body: &[u8]) -> Option<String> {
    form_urlencoded_pairs(body)
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v)
}

fn form_urlencoded_pairs(body: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .unwrap_or_default()
        .into_iter()
}

/// Middleware: refuses unsafe requests without the session's token (403, handler not run).
pub async fn guard(session: Session, request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) {
        return next.run(request).await;
    }
    let expected = match session.get::<String>(CSRF_KEY).await {
        Ok(token) => token.unwrap_or_default(),
        Err(_) => String::new(),
    };
    let header_ok = request
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|given| matches(&expected, given));
    if header_ok {
        return next.run(request).await;
    }
    let lang = crate::web::request_lang(request.headers());
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return rejected(lang);
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
        return Error::PayloadTooLarge.into_response_html(lang);
    };
    if !form_field(&bytes).is_some_and(|given| matches(&expected, &given)) {
        return rejected(lang);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn rejected(lang: Lang) -> Response {
    Error::CsrfRejected.into_response_html(lang)
}
