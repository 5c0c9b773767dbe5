//! The CSRF guard of the web routes: every unsafe request carries the session's token (or a
//! visitor's signed double-submit token), as the `csrf_token` form field or the
//! `X-CSRF-Token` header htmx sends. The tokens themselves are `auth::csrf`.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;
use tower_sessions::Session;

use crate::auth::csrf;
use crate::error::Error;
use crate::i18n::Lang;
use crate::state::AppState;

/// Middleware: refuses unsafe requests without the expected token (403, handler not run).
pub async fn guard(
    State(state): State<AppState>,
    session: Session,
    request: Request,
    next: Next,
) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) {
        return next.run(request).await;
    }
    let stored = csrf::session_token(&session).await.unwrap_or_default();
    let expected = csrf::expected_token(stored, &state.signing_key, request.headers());
    let header_ok = request
        .headers()
        .get(csrf::HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|given| csrf::verify(&expected, given));
    if header_ok {
        return next.run(request).await;
    }
    let lang = super::request_lang(request.headers());
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return rejected(lang);
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, csrf::MAX_FORM_BYTES).await else {
        return Error::PayloadTooLarge.into_response_html(lang);
    };
    if !csrf::form_field(&bytes).is_some_and(|given| csrf::verify(&expected, &given)) {
        return rejected(lang);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn rejected(lang: Lang) -> Response {
    Error::CsrfRejected.into_response_html(lang)
}
