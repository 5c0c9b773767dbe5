//! The reset-password dialog: GET shows it (a fragment for htmx, a page without), POST either
//! generates a password into the form or performs the reset through the domain.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::accounts::clock;
use crate::accounts::credentials::{InvalidReset, ResetOptions, reset_password};
use crate::accounts::password::{self, GENERATED_DEFAULT_LENGTH};
use crate::accounts::permissions;
use crate::accounts::secret::Secret;
use crate::accounts::update::target_of;
use crate::accounts::users;
use crate::auth::client_ip::ClientIp;
use crate::entities::users as user_entity;
use crate::error::Error;
use crate::state::AppState;
use crate::views::components::message_dialog;
use crate::views::reset::{
    ResetErrors, ResetFormView, ResetResultView, reset_dialog, reset_page, reset_result_dialog,
    reset_result_page,
};
use crate::web::change_password::policy_message;
use crate::web::{Hx, Viewer};

/// The target, if the viewer may reset them; otherwise the refusal as a message (in the
/// dialog for htmx, as a page without).
async fn target(
    state: &AppState,
    viewer: &Viewer,
    hx: Hx,
    id: &str,
) -> Result<user_entity::Model, Response> {
    let refuse = |err: Error| {
        if hx.0 && !err.status().is_server_error() {
            let message = viewer.lang.t(err.message_key());
            (err.status(), message_dialog(viewer.lang, message)).into_response()
        } else {
            viewer.error(err)
        }
    };
    let id: i32 = id.parse().map_err(|_| refuse(Error::UserNotFound))?;
    let target = users::find_by_id(&state.db, id)
        .await
        .map_err(refuse)?
        .ok_or_else(|| refuse(Error::UserNotFound))?;
    permissions::can_reset(&viewer.caller, &target_of(&target)).map_err(|d| refuse(d.into()))?;
    Ok(target)
}

fn blank(target: &user_entity::Model) -> ResetFormView {
    ResetFormView {
        target_id: target.user_id,
        target_name: target.username.clone(),
        password: String::new(),
        length: GENERATED_DEFAULT_LENGTH,
        expires_hours: "-1".into(),
        require_change: true,
        revoke_keys: false,
        errors: ResetErrors::default(),
    }
}

fn form_response(viewer: &Viewer, hx: Hx, status: StatusCode, view: &ResetFormView) -> Response {
    let markup = if hx.0 {
        reset_dialog(viewer.lang, &viewer.csrf, view)
    } else {
        reset_page(&viewer.context(), view)
    };
    (status, markup).into_response()
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    Path(id): Path<String>,
) -> Response {
    match target(&state, &viewer, hx, &id).await {
        Ok(target) => form_response(&viewer, hx, StatusCode::OK, &blank(&target)),
        Err(refusal) => refusal,
    }
}

#[derive(Deserialize)]
pub struct ResetFields {
    #[serde(default)]
    password: String,
    #[serde(default)]
    length: String,
    #[serde(default)]
    expires_hours: String,
    require_password_change: Option<String>,
    revoke_api_keys: Option<String>,
    #[serde(default)]
    intent: String,
}

pub async fn submit(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    ip: ClientIp,
    Path(id): Path<String>,
    Form(fields): Form<ResetFields>,
) -> Response {
    let target = match target(&state, &viewer, hx, &id).await {
        Ok(target) => target,
        Err(refusal) => return refusal,
    };
    let lang = viewer.lang;
    let mut view = ResetFormView {
        password: fields.password.trim().to_string(),
        length: fields
            .length
            .trim()
            .parse()
            .unwrap_or(GENERATED_DEFAULT_LENGTH),
        expires_hours: fields.expires_hours.trim().to_string(),
        require_change: fields.require_password_change.is_some(),
        revoke_keys: fields.revoke_api_keys.is_some(),
        ..blank(&target)
    };
    let length = fields.length.trim().parse::<i64>().unwrap_or(-1);
    let expires = if view.expires_hours.is_empty() {
        Ok(-1)
    } else {
        view.expires_hours.parse::<i64>()
    };
    let options = match expires
        .map_err(|_| InvalidReset::ExpiresHours)
        .and_then(|hours| {
            ResetOptions::checked(length, hours, view.require_change, view.revoke_keys)
        }) {
        Ok(options) => options,
        Err(InvalidReset::Length) => {
            view.errors.length = Some(lang.t("tempPassword.invalidLength").to_string());
            return form_response(&viewer, hx, StatusCode::BAD_REQUEST, &view);
        }
        Err(InvalidReset::ExpiresHours) => {
            view.errors.expires = Some(lang.t("tempPassword.invalidExpiry").to_string());
            return form_response(&viewer, hx, StatusCode::BAD_REQUEST, &view);
        }
    };
    if fields.intent == "generate" {
        match password::generate(options.length, &state.config.policy) {
            Ok(generated) => view.password = generated.expose().to_string(),
            Err(violation) => view.errors.length = Some(policy_message(lang, violation)),
        }
        return form_response(&viewer, hx, StatusCode::OK, &view);
    }
    let chosen = (!view.password.is_empty()).then(|| Secret::new(view.password.clone()));
    let actor = crate::accounts::audit::Actor::user(&viewer.user, ip.to_string());
    let outcome = reset_password(
        &state.db,
        &state.hasher,
        &state.config.policy,
        &actor,
        &target,
        chosen,
        options,
    )
    .await;
    match outcome {
        Ok(outcome) => {
            let result = ResetResultView {
                target_name: target.username.clone(),
                // Shown once, whether the server or the administrator chose it.
                password: Some(match &outcome.generated {
                    Some(generated) => generated.expose().to_string(),
                    None => view.password.clone(),
                }),
                expires: outcome
                    .user
                    .password_expires
                    .map(|at| format!("{} UTC", clock::display(at))),
                require_change: outcome.user.require_password_change,
            };
            if hx.0 {
                reset_result_dialog(lang, &result).into_response()
            } else {
                reset_result_page(&viewer.context(), &result).into_response()
            }
        }
        Err(Error::PasswordPolicy(violation)) => {
            view.errors.password = Some(policy_message(lang, violation));
            form_response(&viewer, hx, StatusCode::BAD_REQUEST, &view)
        }
        Err(err) if !err.status().is_server_error() => {
            view.errors.general = Some(lang.t(err.message_key()).to_string());
            form_response(&viewer, hx, err.status(), &view)
        }
        Err(err) => viewer.error(err),
    }
}
