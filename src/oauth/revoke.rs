//! `POST /oauth2/revoke` (RFC 7009): the client revokes one of its tokens — an access token
//! alone, a refresh token with everything issued under the same grant. The answer is 200
//! whether or not there was anything to revoke.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::accounts::audit::Actor;
use crate::accounts::oidc::{OAuthError, tokens};
use crate::auth::client_ip::ClientIp;
use crate::oauth::error::no_store;
use crate::oauth::{OAuthForm, OAuthResponse, Provider, client_auth};
use crate::state::AppState;

pub async fn revoke(
    State(state): State<AppState>,
    Provider(_): Provider,
    ip: ClientIp,
    headers: HeaderMap,
    form: OAuthForm,
) -> Result<Response, OAuthResponse> {
    let client = client_auth::authenticate(&state.db, &headers, &form).await?;
    let token = form
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
    // `token_type_hint` only speeds up a search; both kinds are looked up anyway.
    let actor = Actor::client(&client.client_id, ip.to_string());
    tokens::revoke(&state.db, &actor, &client, token).await?;
    Ok(no_store(StatusCode::OK.into_response()))
}
