//! Discovery (`/.well-known/openid-configuration`, OpenID Connect Discovery 1.0) and the key
//! set (`/oauth2/jwks`). Discovery lists exactly what is supported (SPEC §16), nothing more.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::accounts::oidc::keys::KeyRing;
use crate::accounts::oidc::{Alg, OAuthError, SCOPES};
use crate::oauth::{OAuthResponse, Provider};
use crate::paths::oidc as paths;
use crate::state::AppState;

/// The claims an ID token or `userinfo` may carry.
const CLAIMS: [&str; 14] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "amr",
    "sid",
    "preferred_username",
    "name",
    "email",
    "email_verified",
    "groups",
];

pub async fn configuration(Provider(oidc): Provider) -> Response {
    let issuer = &oidc.issuer;
    let client_auth = ["client_secret_basic", "client_secret_post", "none"];
    Json(json!({
        "issuer": issuer.as_str(),
        "authorization_endpoint": issuer.url(paths::AUTHORIZE),
        "token_endpoint": issuer.url(paths::TOKEN),
        "userinfo_endpoint": issuer.url(paths::USERINFO),
        "jwks_uri": issuer.url(paths::JWKS),
        "revocation_endpoint": issuer.url(paths::REVOKE),
        "introspection_endpoint": issuer.url(paths::INTROSPECT),
        "end_session_endpoint": issuer.url(paths::LOGOUT),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": Alg::ALL.map(Alg::as_str),
        "scopes_supported": SCOPES,
        "claims_supported": CLAIMS,
        "token_endpoint_auth_methods_supported": client_auth,
        "revocation_endpoint_auth_methods_supported": client_auth,
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
    }))
    .into_response()
}

pub async fn jwks(
    State(state): State<AppState>,
    Provider(_): Provider,
) -> Result<Response, OAuthResponse> {
    let keys = KeyRing::published(&state.db)
        .await
        .map_err(OAuthError::server)?;
    Ok(Json(json!({ "keys": keys })).into_response())
}
