//! POST /api/v2/auth/login and POST /api/v2/auth/invalidate_tokens.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use crate::accounts::credentials;
use crate::accounts::secret::Secret;
use crate::api::openapi::{InvalidateErrors, LoginErrors};
use crate::api::schemas::{Empty, Envelope, LoginData};
use crate::api::{ApiJson, ok};
use crate::auth::api::{ApiCaller, INVALIDATE_TOKENS_ROUTE};
use crate::auth::client_ip::ClientIp;
use crate::auth::{login, tokens};
use crate::error::Result;
use crate::state::AppState;
use crate::web::paths;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    #[schema(value_type = String, format = Password)]
    password: Secret,
}

/// Signs in with username and password; the same throttle and rules as the web form.
#[utoipa::path(
    post,
    path = "/api/v2/auth/login",
    tag = "auth",
    request_body = LoginBody,
    responses((status = 200, description = "Signed in", body = Envelope<LoginData>), LoginErrors)
)]
pub async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response> {
    let user = login::login(&state, ip, &body.username, &body.password).await?;
    let page = if user.require_password_change {
        paths::CHANGE_PASSWORD
    } else {
        paths::DASHBOARD
    };
    Ok(ok(json!({
        "token": tokens::issue(&state.signing_key, &user),
        "user_id": user.user_id.to_string(),
        "page": page,
        "require_password_change": user.require_password_change,
    })))
}

/// Ends every session and login token of the caller (API keys stay).
#[utoipa::path(
    post,
    path = INVALIDATE_TOKENS_ROUTE,
    tag = "auth",
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "Done", body = Envelope<Empty>), InvalidateErrors)
)]
pub async fn invalidate_tokens(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Response> {
    credentials::invalidate_tokens(&state.db, &caller.actor(), &caller.rules(), &caller.user)
        .await?;
    Ok(ok(json!({})))
}
