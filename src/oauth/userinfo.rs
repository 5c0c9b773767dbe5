//! `GET|POST /oauth2/userinfo` (OIDC Core §5.3): the claims of the token's scopes, for an
//! access token sent as `Authorization: Bearer` (never in the query string). A token that is
//! unknown, expired, revoked, or whose grant no longer stands gets 401 `invalid_token`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

use crate::accounts::oidc::{OAuthError, Scopes, code, id_token, tokens};
use crate::oauth::error::no_store;
use crate::oauth::{OAuthResponse, Provider};
use crate::state::AppState;

pub async fn userinfo(
    State(state): State<AppState>,
    Provider(_): Provider,
    headers: HeaderMap,
) -> Result<Response, OAuthResponse> {
    let refused = |why: &str| OAuthResponse::bearer(OAuthError::new(code::INVALID_TOKEN, why));
    let token = bearer_token(&headers).ok_or_else(|| refused("an access token is required"))?;
    let bearer = tokens::bearer(&state.db, token)
        .await?
        .ok_or_else(|| refused("the access token is invalid, expired or revoked"))?;
    let claims =
        id_token::user_claims(&state.db, &bearer.user, &Scopes::parse(&bearer.token.scope)).await?;
    Ok(no_store(Json(claims).into_response()))
}

/// The token of `Authorization: Bearer <token>`.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
