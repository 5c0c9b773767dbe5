//! POST /api/v2/users/{id}/reset-password: set a temporary password (SPEC §4).

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use crate::accounts::clock;
use crate::accounts::credentials::{ResetOptions, reset_password as reset};
use crate::accounts::password::{GENERATED_DEFAULT_LENGTH, MAX_LENGTH, MIN_LENGTH_FLOOR};
use crate::accounts::permissions;
use crate::accounts::secret::Secret;
use crate::accounts::update::target_of;
use crate::api::json::check_length;
use crate::api::users::resolve;
use crate::api::{ApiJson, ok};
use crate::auth::api::ApiCaller;
use crate::error::{Error, Result};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    password: Option<Secret>,
    length: Option<i64>,
    expires_hours: Option<i64>,
    require_password_change: Option<bool>,
    revoke_api_keys: Option<bool>,
}

/// Validates the body as the schema of SPEC §4 says, before anything else happens.
pub fn options_of(body: &ResetBody) -> Result<ResetOptions> {
    if let Some(password) = &body.password {
        check_length("password", password.expose(), MIN_LENGTH_FLOOR, MAX_LENGTH)?;
    }
    let length = body.length.unwrap_or(GENERATED_DEFAULT_LENGTH as i64);
    if !(MIN_LENGTH_FLOOR as i64..=MAX_LENGTH as i64).contains(&length) {
        return Err(Error::InvalidJsonSchema(
            "length: a whole number from 8 to 128".into(),
        ));
    }
    let expires_hours = body.expires_hours.unwrap_or(-1);
    if !(expires_hours == -1 || (1..=8760).contains(&expires_hours)) {
        return Err(Error::InvalidJsonSchema(
            "expires_hours: -1 (never) or 1 to 8760".into(),
        ));
    }
    Ok(ResetOptions {
        length: length as usize,
        expires_hours,
        require_password_change: body.require_password_change.unwrap_or(true),
        revoke_api_keys: body.revoke_api_keys.unwrap_or(false),
    })
}

pub async fn reset_password(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ResetBody>,
) -> Result<Response> {
    let options = options_of(&body)?;
    let target = resolve(&state, &caller, &id).await?;
    permissions::can_reset(&caller.rules(), &target_of(&target))?;
    let outcome = reset(
        &state.db,
        &state.hasher,
        &state.config.policy,
        &caller.actor(),
        &target,
        body.password,
        options,
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
