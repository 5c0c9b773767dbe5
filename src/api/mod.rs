//! The JSON API under `/api/v2`, compatible with Crafty Controller 4's user API.

mod apps;
mod auth;
pub(crate) mod caller;
mod crafty;
mod json;
mod keys;
mod mfa;
mod openapi;
mod passkeys;
mod reset;
mod reset_links;
mod roles;
mod schemas;
mod sessions;
mod users;

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Extension, Router};
use serde::Serialize;
use serde_json::json;
use tower_http::limit::RequestBodyLimitLayer;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::caller::authenticate;
use crate::config::MAX_BODY_BYTES;
use crate::error::Error;
use crate::paths;
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

/// `?ids=true` as Crafty reads it: the last `ids` parameter, and only the exact text `true`.
pub(crate) fn ids_only(query: Option<&str>) -> bool {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.unwrap_or("")).unwrap_or_default();
    pairs
        .iter()
        .rev()
        .find(|(name, _)| name == "ids")
        .is_some_and(|(_, value)| value == "true")
}

/// `201 {"status":"ok","data":…}`
pub fn created(data: impl Serialize) -> Response {
    (
        StatusCode::CREATED,
        axum::Json(json!({"status": "ok", "data": data})),
    )
        .into_response()
}

/// The API router. Every route also answers with one trailing slash, taken off before
/// routing (see `server::app`). Every response, including those axum produces itself (404, 405, 413),
/// carries the JSON envelope. Each handler is registered at the path and method of its
/// `#[utoipa::path]`, which also puts it in the OpenAPI document.
pub fn router(state: AppState) -> Router<AppState> {
    let authenticated = OpenApiRouter::new()
        .routes(routes!(auth::invalidate_tokens))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::show, users::update, users::delete))
        .routes(routes!(reset::reset_password))
        .routes(routes!(
            reset_links::create_reset_link,
            reset_links::revoke_reset_link
        ))
        .routes(routes!(sessions::end_sessions))
        .routes(routes!(mfa::start, mfa::list))
        .routes(routes!(mfa::verify))
        .routes(routes!(mfa::remove))
        .routes(routes!(mfa::renew))
        .routes(routes!(passkeys::list, passkeys::start))
        .routes(routes!(passkeys::verify))
        .routes(routes!(passkeys::remove))
        .routes(routes!(crafty::public_user))
        .routes(routes!(crafty::picture))
        .routes(routes!(crafty::user_permissions))
        .routes(routes!(keys::list, keys::create, crafty::create_key))
        .routes(routes!(crafty::show_key, keys::delete))
        .routes(routes!(apps::list, apps::create))
        .routes(routes!(apps::show, apps::update, apps::delete))
        .routes(routes!(apps::new_secret))
        .routes(routes!(roles::list, roles::create))
        .routes(routes!(roles::show, roles::update, roles::delete))
        .routes(routes!(roles::users))
        .routes(routes!(roles::servers))
        .route_layer(middleware::from_fn_with_state(state, authenticate));
    let (api, document) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(crafty::index))
        .routes(routes!(auth::login))
        .routes(routes!(passkeys::login_options))
        .routes(routes!(passkeys::login_verify))
        .routes(routes!(openapi::serve))
        .merge(authenticated)
        .split_for_parts();
    api.layer(Extension(openapi::Document::new(document)))
        .route(paths::api::ANY, any(not_found))
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
