//! How a protocol error is answered: RFC 6749 §5.2's JSON body with 400, or 401 for a client
//! that failed to authenticate (with `WWW-Authenticate: Basic` when it tried the header), and
//! RFC 6750 §3's 401 with `WWW-Authenticate: Bearer` for a bad access token.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::accounts::oidc::{OAuthError, code};

/// A protocol error on its way out.
#[derive(Debug)]
pub struct OAuthResponse {
    error: OAuthError,
    /// The client tried `Authorization: Basic`.
    basic: bool,
    /// A bearer token was refused (`userinfo`).
    bearer: bool,
}

impl OAuthResponse {
    /// The failure of a client that sent its credentials in the `Authorization` header.
    pub fn after_basic(error: OAuthError, basic: bool) -> Self {
        OAuthResponse {
            error,
            basic,
            bearer: false,
        }
    }

    /// A refused bearer token (RFC 6750): 401 with the challenge, or 400 for a malformed
    /// request.
    pub fn bearer(error: OAuthError) -> Self {
        OAuthResponse {
            error,
            basic: false,
            bearer: true,
        }
    }
}

impl From<OAuthError> for OAuthResponse {
    fn from(error: OAuthError) -> Self {
        OAuthResponse {
            error,
            basic: false,
            bearer: false,
        }
    }
}

impl IntoResponse for OAuthResponse {
    fn into_response(self) -> Response {
        let OAuthError { code, description } = self.error;
        let status = match code {
            code::INVALID_CLIENT | code::INVALID_TOKEN => StatusCode::UNAUTHORIZED,
            code::SERVER_ERROR => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        let mut response = (
            status,
            Json(json!({"error": code, "error_description": description})),
        )
            .into_response();
        let challenge = if self.bearer {
            // The description is ours (no quote or backslash in it).
            Some(format!(
                "Bearer realm=\"passgate\", error=\"{code}\", error_description=\"{description}\""
            ))
        } else if code == code::INVALID_CLIENT && self.basic {
            Some("Basic realm=\"passgate\"".to_string())
        } else {
            None
        };
        if let Some(value) = challenge.and_then(|v| HeaderValue::from_str(&v).ok()) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        no_store(response)
    }
}

/// RFC 6749 §5.1: token answers are never cached.
pub fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
