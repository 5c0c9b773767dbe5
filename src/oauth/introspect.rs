//! `POST /oauth2/introspect` (RFC 7662), for confidential clients only (a public client gets
//! 401 `invalid_client`): whether one of the client's own tokens is active, and for whom.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::accounts::oidc::tokens::{self, Introspection};
use crate::accounts::oidc::{OAuthError, id_token::Issuer};
use crate::oauth::error::no_store;
use crate::oauth::{OAuthForm, OAuthResponse, Provider, client_auth};
use crate::state::AppState;

pub async fn introspect(
    State(state): State<AppState>,
    Provider(oidc): Provider,
    headers: HeaderMap,
    form: OAuthForm,
) -> Result<Response, OAuthResponse> {
    let client = client_auth::authenticate(&state.db, &headers, &form).await?;
    if !client.is_confidential() {
        return Err(OAuthError::invalid_client().into());
    }
    let token = form
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
    let body = match tokens::introspect(&state.db, &client, token).await? {
        Introspection::Inactive => json!({"active": false}),
        Introspection::Active {
            scope,
            client_id,
            username,
            sub,
            token_type,
            exp,
            iat,
        } => json!({
            "active": true,
            "scope": scope,
            "client_id": client_id,
            "username": username,
            "sub": sub,
            "aud": client_id,
            "iss": Issuer::as_str(&oidc.issuer),
            "token_type": token_type,
            "exp": exp,
            "iat": iat,
        }),
    };
    Ok(no_store(Json(body).into_response()))
}
