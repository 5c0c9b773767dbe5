//! The JSON API under `/api/v2`, compatible with Crafty Controller 4's user API.

mod auth;
mod json;
mod keys;
mod reset;
mod users;

use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde::Serialize;
use serde_json::json;
use tower_http::limit::RequestBodyLimitLayer;

use crate::auth::api::{INVALIDATE_TOKENS_ROUTE, USER_ROUTE, authenticate};
use crate::error::Error;
use crate::server::MAX_BODY_BYTES;
use crate::state::AppState;

pub use json::ApiJson;

/// `200 {"status":"ok","data":…}`
pub fn ok(data: impl Serialize) -> Response {
    (
        StatusCode::OK,
        axum::Json(json!({"status": "ok", "data": data})),
    )
        .into_response()
}

/// `201 {"status":"ok","data":…}`
pub fn created(data: impl Serialize) -> Response {
    (
        StatusCode::CREATED,
        axum::Json(json!({"status": "ok", "data": data})),
    )
        .into_response()
}

/// The API router. Every response, including those axum produces itself (404, 405, 413),
/// carries the JSON envelope.
pub fn router(state: AppState) -> Router<AppState> {
    let authenticated = Router::new()
        .route(INVALIDATE_TOKENS_ROUTE, post(auth::invalidate_tokens))
        .route("/api/v2/users", get(users::list).post(users::create))
        .route(
            USER_ROUTE,
            get(users::show).patch(users::update).delete(users::delete),
        )
        .route(
            "/api/v2/users/{id}/reset-password",
            post(reset::reset_password),
        )
        .route("/api/v2/users/{id}/key", get(keys::list).post(keys::create))
        .route(
            "/api/v2/users/{id}/key/{key_id}",
            axum::routing::delete(keys::delete),
        )
        .route_layer(middleware::from_fn_with_state(state, authenticate));
    Router::new()
        .route("/api/v2/auth/login", post(auth::login))
        .merge(authenticated)
        .route("/api/v2", any(not_found))
        .route("/api/v2/", any(not_found))
        .route("/api/v2/{*rest}", any(not_found))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(middleware::from_fn(envelope))
}

async fn not_found() -> Error {
    Error::NotFound
}

/// Turns any non-JSON error response (from axum or tower) into the envelope.
async fn envelope(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let error = match status {
        StatusCode::NOT_FOUND => Error::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => Error::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge,
        StatusCode::UNAUTHORIZED => Error::Unauthenticated,
        StatusCode::FORBIDDEN => Error::AccessDenied,
        StatusCode::TOO_MANY_REQUESTS => Error::TooManyAttempts {
            retry_after_seconds: 60,
        },
        s if s.is_server_error() => Error::Internal(anyhow::anyhow!("{s} from a lower layer")),
        _ => Error::InvalidJson,
    };
    let mut converted = error.into_response();
    if let Some(allow) = response.headers().get(header::ALLOW) {
        converted.headers_mut().insert(header::ALLOW, allow.clone());
    }
    converted
}
