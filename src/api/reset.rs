//! POST /api/v2/users/{id}/reset-password: set a temporary password (SPEC §4).

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use crate::accounts::clock;
use crate::accounts::credentials::{
    InvalidReset, ResetOptions, ResetRequest, reset_password as reset,
};
use crate::accounts::password::{MAX_LENGTH, MIN_LENGTH_FLOOR};
use crate::accounts::secret::Secret;
use crate::api::caller::ApiCaller;
use crate::api::json::check_length;
use crate::api::openapi::ResetErrors;
use crate::api::schemas::{Envelope, ResetData, UserId};
use crate::api::users::resolve;
use crate::api::{ApiJson, ok};
use crate::error::{Error, Result};
use crate::paths;
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    /// The temporary password; when absent the server generates one.
    #[schema(value_type = Option<String>, format = Password, min_length = 8, max_length = 128)]
    password: Option<Secret>,
    /// Length of a generated password (default 16, or the configured minimum password
    /// length if that is longer; at least that minimum).
    #[schema(default = 16, minimum = 8, maximum = 128)]
    length: Option<i64>,
    /// Hours until the temporary password expires: -1 = never, or 1 to 8760; 0 is refused.
    #[schema(default = -1, minimum = -1, maximum = 8760)]
    expires_hours: Option<i64>,
    /// Force a change at the next login.
    #[schema(default = true)]
    require_password_change: Option<bool>,
    /// Also delete the target's API keys (when compromise is suspected).
    #[schema(default = false)]
    revoke_api_keys: Option<bool>,
    /// Also remove the target's two-factor devices and recovery codes (a lost phone).
    #[schema(default = false)]
    reset_mfa: Option<bool>,
}

/// Validates the body as the schema of SPEC §4 says, before anything else happens.
pub fn options_of(body: &ResetBody) -> Result<ResetOptions> {
    if let Some(password) = &body.password {
        check_length("password", password.expose(), MIN_LENGTH_FLOOR, MAX_LENGTH)?;
    }
    ResetOptions::checked(
        body.length,
        body.expires_hours.unwrap_or(-1),
        body.require_password_change.unwrap_or(true),
        body.revoke_api_keys.unwrap_or(false),
    )
    .map(|options| ResetOptions {
        reset_mfa: body.reset_mfa.unwrap_or(false),
        ..options
    })
    .map_err(|invalid| {
        Error::InvalidJsonSchema(match invalid {
            InvalidReset::Length => "length: a whole number from 8 to 128".into(),
            InvalidReset::ExpiresHours => "expires_hours: -1 (never) or 1 to 8760".into(),
        })
    })
}

/// Sets a temporary password: a superuser for anyone else, a `USER_CONFIG` holder for the
/// non-superusers they manage; never oneself. Ends the target's sessions and login tokens.
#[utoipa::path(
    post,
    path = paths::api::RESET_PASSWORD,
    tag = "users",
    params(UserId),
    request_body = ResetBody,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "Reset", body = Envelope<ResetData>), ResetErrors)
)]
pub async fn reset_password(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ResetBody>,
) -> Result<Response> {
    let options = options_of(&body)?;
    let target = resolve(&state, &caller, &id).await?;
    let outcome = reset(
        &state.db,
        &state.hasher,
        &state.config.policy,
        &caller.actor(),
        &caller.rules(),
        &target,
        ResetRequest {
            password: body.password.into(),
            options,
        },
    )
    .await?;
    let mut data = json!({
        "user_id": outcome.user.user_id.to_string(),
        "require_password_change": outcome.user.require_password_change,
        "password_expires": outcome.user.password_expires.map(clock::rfc3339),
    });
    if let Some(password) = outcome.generated {
        data["password"] = json!(password.expose());
    }
    Ok(ok(data))
}
