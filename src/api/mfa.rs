//! Two-factor routes of a user (Crafty's): /api/v2/users/{id}/totp — start an enrolment,
//! list devices; …/totp/{totp_id}/verify — finish it; DELETE …/totp/{totp_id};
//! …/totp/recovery/renew. Thin: every rule is in `accounts::mfa` and `permissions`.

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::accounts::clock;
use crate::accounts::mfa;
use crate::accounts::permissions;
use crate::accounts::permissions::target_of;
use crate::accounts::secret::Secret;
use crate::api::caller::{ApiCaller, Via};
use crate::api::openapi::{
    EnrolErrors, ListFactorsErrors, RemoveFactorErrors, RenewCodesErrors, VerifyEnrolmentErrors,
};
use crate::api::schemas::{
    BackupCodes, Envelope, FactorRow, StartedEnrolment, TokenOnly, UserId, UserTotpId,
};
use crate::api::users::resolve;
use crate::api::{ApiJson, ok};
use crate::auth::{throttle, tokens};
use crate::entities::users as user_entity;
use crate::error::{Error, Result};
use crate::paths;
use crate::state::AppState;

/// A TOTP code as Crafty's schemas have it: a 6-digit string, or an integer (leading zeros
/// restored). Deserialization never echoes the value.
#[derive(Deserialize)]
#[serde(untagged)]
pub enum CodeInput {
    Text(Secret),
    Number(u32),
}

impl CodeInput {
    fn text(&self) -> Secret {
        match self {
            CodeInput::Text(code) => code.clone(),
            CodeInput::Number(n) if *n < 1_000_000 => Secret::new(format!("{n:06}")),
            // Seven digits or more can never be a code.
            CodeInput::Number(_) => Secret::new(String::new()),
        }
    }
}

/// The answer of a change of one's own factors: `data` plus, for a caller signed in by login
/// token or session, a fresh login token (the change rotated the stamp and ended every
/// other). `passed_code`: the request itself carried a valid code (its `mfa` claim).
pub(crate) fn with_fresh_token(
    state: &AppState,
    caller: &ApiCaller,
    changed: &user_entity::Model,
    passed_code: bool,
    mut data: Value,
) -> Value {
    if changed.user_id == caller.user.user_id && !matches!(caller.via, Via::ApiKey(_)) {
        data["token"] = json!(tokens::issue_with_mfa(
            &state.signing_key,
            changed,
            caller.mfa || passed_code
        ));
    }
    data
}

fn codes_json(codes: &[Secret]) -> Value {
    json!(codes.iter().map(Secret::expose).collect::<Vec<_>>())
}

/// Starts adding a TOTP device to one's own account. The secret is in this answer and never
/// again; finish with `POST …/totp/{id}/verify` within 10 minutes.
#[utoipa::path(
    post,
    path = paths::api::TOTP,
    tag = "mfa",
    operation_id = "start_totp",
    params(UserId),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "Started", body = Envelope<StartedEnrolment>), EnrolErrors)
)]
pub async fn start(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response> {
    let user = resolve(&state, &caller, &id).await?;
    let enrolment = mfa::start_enrolment(&state.db, &state.mfa, &caller.rules(), &user).await?;
    Ok(ok(json!({"otp": {
        "id": enrolment.id.to_string(),
        "totp_secret": enrolment.secret_base32.expose(),
        "otpauth_uri": enrolment.otpauth_uri.expose(),
        "username": enrolment.username,
        "iat": clock::rfc3339(enrolment.issued),
    }})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    /// The device's name (1 to 64 characters; default "Authenticator").
    #[schema(max_length = 64, example = "Phone")]
    name: Option<String>,
    /// The code the new device shows now: six digits, as a string or an integer.
    #[schema(value_type = crate::api::schemas::TotpCode)]
    totp: CodeInput,
}

/// Finishes one's own enrolment with a code from the new device. The first device also
/// brings ten recovery codes, shown in this answer only.
#[utoipa::path(
    post,
    path = paths::api::TOTP_VERIFY,
    tag = "mfa",
    operation_id = "verify_totp",
    params(UserTotpId),
    request_body = VerifyBody,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "Enrolled", body = Envelope<BackupCodes>), VerifyEnrolmentErrors)
)]
pub async fn verify(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, totp_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<VerifyBody>,
) -> Result<Response> {
    let user = resolve(&state, &caller, &id).await?;
    let name = mfa::device_name(body.name.as_deref())?;
    let enrolment_id: i32 = totp_id.parse().map_err(|_| Error::NotFound)?;
    let code = body.totp.text();
    // Not counted by the throttle: whoever verifies holds the secret already (a wrong code
    // here is a typo, not a guess at someone's factor).
    let enrolled = mfa::verify_enrolment(
        &state.db,
        &state.mfa,
        &caller.actor(),
        &caller.rules(),
        &user,
        mfa::EnrolmentAnswer {
            enrolment_id,
            name: &name,
            code: code.expose(),
        },
    )
    .await?;
    let data = json!({
        "backup_codes": codes_json(&enrolled.recovery_codes),
        "id": enrolled.device.id.to_string(),
    });
    Ok(ok(with_fresh_token(
        &state,
        &caller,
        &enrolled.user,
        true,
        data,
    )))
}

/// A user's TOTP devices (name and dates; never a secret): oneself, a superuser, or the
/// manager holding `USER_CONFIG`.
#[utoipa::path(
    get,
    path = paths::api::TOTP,
    tag = "mfa",
    operation_id = "list_totp",
    params(UserId),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "The devices", body = Envelope<Vec<FactorRow>>), ListFactorsErrors)
)]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response> {
    let user = resolve(&state, &caller, &id).await?;
    let devices = mfa::list_devices(&state.db, &caller.rules(), &user).await?;
    let rows: Vec<Value> = devices
        .iter()
        .map(|d| {
            json!({
                "id": d.id.to_string(),
                "name": d.name,
                "created": clock::rfc3339(d.created),
                "last_used": d.last_used.map(clock::rfc3339),
            })
        })
        .collect();
    Ok(ok(rows))
}

/// Removes a TOTP device: its owner, or whoever may reset the user (a lost phone). The owner
/// cannot remove the last one while a second factor is required.
#[utoipa::path(
    delete,
    path = paths::api::TOTP_DEVICE,
    tag = "mfa",
    operation_id = "delete_totp",
    params(UserTotpId),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "Removed", body = Envelope<TokenOnly>), RemoveFactorErrors)
)]
pub async fn remove(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, totp_id)): Path<(String, String)>,
) -> Result<Response> {
    let target = resolve(&state, &caller, &id).await?;
    let device_id: i32 = totp_id.parse().map_err(|_| Error::NotFound)?;
    let updated = mfa::remove_device(
        &state.db,
        &state.mfa,
        &caller.actor(),
        &caller.rules(),
        &target,
        device_id,
    )
    .await?;
    Ok(ok(with_fresh_token(
        &state,
        &caller,
        &updated,
        false,
        json!({}),
    )))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenewBody {
    /// A current code of one of one's devices.
    #[schema(value_type = crate::api::schemas::TotpCode)]
    totp: CodeInput,
}

/// Replaces one's own recovery codes with ten new ones (the old ones stop working); needs a
/// current TOTP code.
#[utoipa::path(
    post,
    path = paths::api::RECOVERY_RENEW,
    tag = "mfa",
    operation_id = "renew_recovery_codes",
    params(UserId),
    request_body = RenewBody,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "Renewed", body = Envelope<BackupCodes>), RenewCodesErrors)
)]
pub async fn renew(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RenewBody>,
) -> Result<Response> {
    let user = resolve(&state, &caller, &id).await?;
    let code = body.totp.text();
    let (actor, rules) = (caller.actor(), caller.rules());
    // Refused callers, and users without a device (nothing to guess), are answered before
    // the throttle counts anything in the user's bucket.
    permissions::can_enrol(&rules, &target_of(&user))?;
    if !mfa::has_factor(&state.db, user.user_id).await? {
        return Err(Error::WrongMfaCode);
    }
    let (codes, updated) = throttle::counting_code(
        &state.db,
        &state.config.throttle,
        &state.signing_key,
        &user.username,
        mfa::renew_recovery_codes(&state.db, &state.mfa, &actor, &rules, &user, code.expose()),
    )
    .await?;
    let data = json!({"backup_codes": codes_json(&codes)});
    Ok(ok(with_fresh_token(&state, &caller, &updated, true, data)))
}
