//! The OpenID Connect provider's protocol endpoints (SPEC §16), a surface of their own beside
//! `web` and `api`: discovery, the key set, token, userinfo, revocation (RFC 7009) and
//! introspection (RFC 7662). Their errors are RFC 6749's JSON (`error`,
//! `error_description`), not the API's envelope. Nobody signs in here with a cookie: clients
//! authenticate with their secret, bearers with their token, so no CSRF applies, and any
//! origin may call them (CORS `*`, no credentials). The browser pages of the protocol
//! (authorize, logout) are `web::oidc`. With `PASSGATE_PUBLIC_URL` unset every path is 404.

mod client_auth;
mod discovery;
mod error;
mod form_post;
mod introspect;
mod revoke;
mod token;
mod userinfo;

use axum::Router;
use axum::body::to_bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::accounts::oidc::{OAuthError, Oidc};
use crate::config::MAX_BODY_BYTES;
use crate::paths::oidc as paths;
use crate::state::AppState;

pub use error::OAuthResponse;

/// The protocol endpoints.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(paths::DISCOVERY, get(discovery::configuration))
        .route(paths::JWKS, get(discovery::jwks))
        .route(paths::AUTHORIZE, post(form_post::as_get))
        .route(paths::LOGOUT, post(form_post::as_get))
        .route(paths::TOKEN, post(token::token))
        .route(
            paths::USERINFO,
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route(paths::REVOKE, post(revoke::revoke))
        .route(paths::INTROSPECT, post(introspect::introspect))
        .layer(middleware::from_fn(cors))
}

/// The provider, or 404 when OpenID Connect is off.
pub struct Provider(pub Oidc);

impl FromRequestParts<AppState> for Provider {
    type Rejection = Response;

    async fn from_request_parts(_: &mut Parts, state: &AppState) -> Result<Self, Response> {
        state
            .oidc
            .clone()
            .map(Provider)
            .ok_or_else(|| StatusCode::NOT_FOUND.into_response())
    }
}

/// A form body (`application/x-www-form-urlencoded`) whose parameters each appear at most
/// once (RFC 6749 §3.2); anything else is `invalid_request`.
pub struct OAuthForm(Vec<(String, String)>);

impl OAuthForm {
    /// The value of `name`, if sent and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

impl<S: Send + Sync> FromRequest<S> for OAuthForm {
    type Rejection = OAuthResponse;

    async fn from_request(request: Request, _: &S) -> Result<Self, OAuthResponse> {
        let is_form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                ct.split(';').next().map(str::trim) == Some("application/x-www-form-urlencoded")
            });
        if !is_form {
            return Err(OAuthError::invalid_request(
                "the body must be application/x-www-form-urlencoded",
            )
            .into());
        }
        let bytes = to_bytes(request.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| OAuthError::invalid_request("the body is too large"))?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| OAuthError::invalid_request("the body is not a readable form"))?;
        for (i, (name, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(seen, _)| seen == name) {
                return Err(OAuthError::invalid_request(format!(
                    "the parameter {} is repeated",
                    name.chars().take(40).collect::<String>()
                ))
                .into());
            }
        }
        Ok(OAuthForm(pairs))
    }
}

/// Any origin may call these endpoints (a browser app is a public client); no cookie is read
/// here, so `*` gives nothing away. A preflight is answered at once.
async fn cors(request: Request, next: Next) -> Response {
    let preflight = request.method() == Method::OPTIONS;
    let mut response = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    if preflight {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Authorization, Content-Type"),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
    }
    response
}
