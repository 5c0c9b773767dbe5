//! `POST /oauth2/token` (RFC 6749 §3.2): `authorization_code` (with PKCE) and
//! `refresh_token`.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::accounts::audit::Actor;
use crate::accounts::oidc::{OAuthError, code, tokens};
use crate::auth::client_ip::ClientIp;
use crate::oauth::error::no_store;
use crate::oauth::{OAuthForm, OAuthResponse, Provider, client_auth};
use crate::state::AppState;

pub async fn token(
    State(state): State<AppState>,
    Provider(oidc): Provider,
    ip: ClientIp,
    headers: HeaderMap,
    form: OAuthForm,
) -> Result<Response, OAuthResponse> {
    let client = client_auth::authenticate(&state.db, &headers, &form).await?;
    let actor = Actor::client(&client.client_id, ip.to_string());
    let issued = match form.get("grant_type") {
        Some("authorization_code") => {
            let code = form
                .get("code")
                .ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
            tokens::exchange_code(
                &state.db,
                &oidc,
                &actor,
                &client,
                code,
                form.get("redirect_uri"),
                form.get("code_verifier"),
            )
            .await?
        }
        Some("refresh_token") => {
            let refresh_token = form
                .get("refresh_token")
                .ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
            tokens::refresh(
                &state.db,
                &oidc,
                &actor,
                &client,
                refresh_token,
                form.get("scope"),
            )
            .await?
        }
        Some(_) => {
            return Err(OAuthError::new(
                code::UNSUPPORTED_GRANT_TYPE,
                "grant_type must be authorization_code or refresh_token",
            )
            .into());
        }
        None => return Err(OAuthError::invalid_request("grant_type is missing").into()),
    };
    let mut body = json!({
        "access_token": issued.access_token.expose(),
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "id_token": issued.id_token,
        "scope": issued.scope,
    });
    if let Some(refresh) = &issued.refresh_token {
        body["refresh_token"] = json!(refresh.expose());
    }
    Ok(no_store(Json(body).into_response()))
}
