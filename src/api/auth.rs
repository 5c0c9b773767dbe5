//! POST /api/v2/auth/login and POST /api/v2/auth/invalidate_tokens.

use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use crate::accounts::credentials;
use crate::accounts::mfa::{FactorInput, FactorUsed};
use crate::accounts::secret::Secret;
use crate::api::caller::ApiCaller;
use crate::api::openapi::{InvalidateErrors, LoginErrors};
use crate::api::schemas::{Empty, Envelope, LoginData};
use crate::api::{ApiJson, ok};
use crate::auth::client_ip::ClientIp;
use crate::auth::login::SignIn;
use crate::auth::{login, tokens};
use crate::error::Result;
use crate::paths;
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    #[schema(value_type = String, format = Password)]
    password: Secret,
    /// A current code of one of the user's TOTP devices (needed once the user has one).
    #[schema(value_type = Option<String>, format = Password, example = "123456")]
    totp: Option<Secret>,
    /// One of the user's recovery codes, instead of `totp` (each works once).
    #[schema(value_type = Option<String>, format = Password, example = "ABCD-EFGH-JKLM-N234")]
    backup_code: Option<Secret>,
}

/// Signs in with username and password; the same throttle and rules as the web form.
#[utoipa::path(
    post,
    path = paths::api::LOGIN,
    tag = "auth",
    request_body = LoginBody,
    responses((status = 200, description = "Signed in", body = Envelope<LoginData>), LoginErrors)
)]
pub async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response> {
    let factor = FactorInput {
        totp: body.totp.as_ref().map(Secret::expose),
        backup_code: body.backup_code.as_ref().map(Secret::expose),
    };
    let signed_in =
        login::login_with_factor(&state, ip, &body.username, &body.password, factor).await?;
    let mut data = signed_in_data(&state, &signed_in);
    if let FactorUsed::RecoveryCode { left } = signed_in.factor {
        data["warning"] = json!(format!(
            "A recovery code was used; it will not work again. {left} left."
        ));
        data["recovery_codes_left"] = json!(left);
    }
    Ok(ok(data))
}

/// What a sign-in answers, whatever the proof: a login token, the user, the page to go to.
pub fn signed_in_data(state: &AppState, signed_in: &SignIn) -> serde_json::Value {
    let user = &signed_in.user;
    json!({
        "token": tokens::issue_for_sign_in(&state.signing_key, signed_in),
        "user_id": user.user_id.to_string(),
        "page": paths::home(user.require_password_change),
        "require_password_change": user.require_password_change,
    })
}

/// Ends every session and login token of the caller (API keys stay).
#[utoipa::path(
    post,
    path = paths::api::INVALIDATE_TOKENS,
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
