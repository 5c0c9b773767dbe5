//! The reset-password dialog: GET shows it (a fragment for htmx, a page without), POST either
//! generates a password into the form or performs the reset through the domain and redirects
//! to its one-time result (`web::one_time`), so a reload never resets twice.

use crate::web::form::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::accounts::clock;
use crate::accounts::credentials::{
    InvalidReset, ResetOptions, ResetPassword, ResetRequest, reset_password,
};
use crate::accounts::password::{self, Policy};
use crate::accounts::permissions;
use crate::accounts::permissions::target_of;
use crate::accounts::permissions::{Caller, Denied};
use crate::accounts::secret::Secret;
use crate::accounts::users;
use crate::auth::client_ip::ClientIp;
use crate::entities::users as user_entity;
use crate::error::Error;
use crate::paths;
use crate::state::AppState;
use crate::views::components::message_dialog;
use crate::views::reset::{ResetErrors, ResetFormView, reset_dialog, reset_page};
use crate::web::change_password::policy_message;
use crate::web::one_time::{self, OneTime, ResetDraft, ResetShown};
use crate::web::page_or_fragment;
use crate::web::{Hx, PageResult, Viewer, generated};

/// Why `caller` may not reset `target`, in words a person understands.
pub fn refusal_key(caller: &Caller, target: &user_entity::Model, denied: Denied) -> &'static str {
    match denied {
        Denied::SelfReset => "error.refuseSelfReset",
        Denied::AccessDenied if target.superuser && !caller.is_superuser() => {
            "error.refuseResetSuperuser"
        }
        Denied::AccessDenied if caller.has_user_config() => "error.refuseResetNotManaged",
        Denied::AccessDenied => "error.refuseResetNoPermission",
    }
}

/// The target, if the viewer may reset them; otherwise the refusal as a message (in the
/// dialog for htmx, as a page without).
pub(super) async fn target(
    state: &AppState,
    viewer: &Viewer,
    hx: Hx,
    id: &str,
) -> Result<user_entity::Model, Response> {
    let refuse = |err: Error, key: Option<&'static str>| {
        if hx.0 && !err.status().is_server_error() {
            let message = viewer.lang.t(key.unwrap_or(err.message_key()));
            let title = viewer.lang.t(crate::views::error::title_key(err.status()));
            (err.status(), message_dialog(viewer.lang, title, message)).into_response()
        } else {
            match key {
                Some(key) => viewer.refuse(err.status(), viewer.lang.t(key)),
                None => viewer.error(err),
            }
        }
    };
    let id: i32 = id.parse().map_err(|_| refuse(Error::UserNotFound, None))?;
    let target = users::find_by_id(&state.db, id)
        .await
        .map_err(|e| refuse(e.into(), None))?
        .ok_or_else(|| refuse(Error::UserNotFound, None))?;
    permissions::can_reset(&viewer.caller, &target_of(&target)).map_err(|denied| {
        let key = refusal_key(&viewer.caller, &target, denied);
        refuse(denied.into(), Some(key))
    })?;
    Ok(target)
}

fn blank(target: &user_entity::Model, policy: &Policy) -> ResetFormView {
    ResetFormView {
        target_id: target.user_id,
        target_name: target.username.clone(),
        password: String::new(),
        length: policy.generated_length(),
        min_length: policy.min_length,
        expires_hours: "-1".into(),
        require_change: true,
        revoke_keys: false,
        reset_mfa: false,
        errors: ResetErrors::default(),
    }
}

fn form_response(viewer: &Viewer, hx: Hx, status: StatusCode, view: &ResetFormView) -> Response {
    let markup = page_or_fragment(
        hx,
        || reset_dialog(viewer.lang, &viewer.csrf, view),
        || reset_page(&viewer.context(), view),
    );
    (status, markup).into_response()
}

#[derive(Deserialize)]
pub struct DraftQuery {
    draft: Option<String>,
}

pub async fn reset_password_dialog(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    Path(id): Path<String>,
    Query(query): Query<DraftQuery>,
) -> PageResult {
    let target = target(&state, &viewer, hx, &id).await?;
    let mut view = blank(&target, &state.config.policy);
    if let Some(draft) = &query.draft
        && let Some(OneTime::ResetDraft(draft)) = one_time::take(&state, &viewer, draft)
            .await
            .map_err(|e| viewer.fail(e))?
        && draft.target_id == target.user_id
    {
        view.password = draft.password;
        view.length = draft.length;
        view.expires_hours = draft.expires_hours;
        view.require_change = draft.require_change;
        view.revoke_keys = draft.revoke_keys;
        view.reset_mfa = draft.reset_mfa;
    }
    Ok(form_response(&viewer, hx, StatusCode::OK, &view))
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
    reset_mfa: Option<String>,
    #[serde(default)]
    intent: String,
}

pub async fn submit_reset_password(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    ip: ClientIp,
    Path(id): Path<String>,
    Form(fields): Form<ResetFields>,
) -> PageResult {
    let target = target(&state, &viewer, hx, &id).await?;
    let lang = viewer.lang;
    let mut view = ResetFormView {
        password: fields.password.trim().to_string(),
        length: fields
            .length
            .trim()
            .parse()
            .unwrap_or(state.config.policy.generated_length()),
        expires_hours: fields.expires_hours.trim().to_string(),
        require_change: fields.require_password_change.is_some(),
        revoke_keys: fields.revoke_api_keys.is_some(),
        reset_mfa: fields.reset_mfa.is_some(),
        ..blank(&target, &state.config.policy)
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
            ResetOptions::checked(Some(length), hours, view.require_change, view.revoke_keys)
        }) {
        Ok(options) => ResetOptions {
            reset_mfa: view.reset_mfa,
            ..options
        },
        Err(InvalidReset::Length) => {
            view.errors.length = Some(lang.t("tempPassword.invalidLength").to_string());
            return Ok(form_response(&viewer, hx, StatusCode::BAD_REQUEST, &view));
        }
        Err(InvalidReset::ExpiresHours) => {
            view.errors.expires = Some(lang.t("tempPassword.invalidExpiry").to_string());
            return Ok(form_response(&viewer, hx, StatusCode::BAD_REQUEST, &view));
        }
    };
    let form_key = generated::reset_form(target.user_id);
    if fields.intent == "generate" {
        match password::generate(view.length, &state.config.policy) {
            Ok(password) => {
                view.password = password.expose().to_string();
                generated::remember(&state, &viewer, &form_key, &view.password)
                    .await
                    .map_err(|e| viewer.fail(e))?;
            }
            Err(violation) => {
                view.errors.length = Some(policy_message(lang, violation));
                return Ok(form_response(&viewer, hx, StatusCode::BAD_REQUEST, &view));
            }
        }
        if hx.0 {
            return Ok(form_response(&viewer, hx, StatusCode::OK, &view));
        }
        // Without JavaScript: Post/Redirect/Get to the form, which shows the draft once.
        let draft = ResetDraft {
            target_id: target.user_id,
            password: view.password.clone(),
            length: view.length,
            expires_hours: view.expires_hours.clone(),
            require_change: view.require_change,
            revoke_keys: view.revoke_keys,
            reset_mfa: view.reset_mfa,
        };
        let id = one_time::put(&state, &viewer, OneTime::ResetDraft(draft))
            .await
            .map_err(|e| viewer.fail(e))?;
        return Ok(one_time::see_other(
            hx,
            &format!("{}?draft={id}", paths::reset(target.user_id)),
        ));
    }
    let chosen = if view.password.is_empty() {
        ResetPassword::Generate
    } else {
        let password = Secret::new(view.password.clone());
        let earlier = generated::was_generated(&state, &viewer, &form_key, &view.password)
            .await
            .map_err(|e| viewer.fail(e))?;
        if earlier {
            ResetPassword::GeneratedEarlier(password)
        } else {
            ResetPassword::Chosen(password)
        }
    };
    let actor = crate::accounts::audit::Actor::user(&viewer.user, ip.to_string());
    let outcome = reset_password(
        &state.db,
        &state.hasher,
        &state.config.policy,
        &actor,
        &viewer.caller,
        &target,
        ResetRequest {
            password: chosen,
            options,
        },
    )
    .await;
    match outcome {
        Ok(outcome) => {
            let shown = ResetShown {
                target_id: target.user_id,
                target_name: target.username.clone(),
                // Shown once, whether the server or the administrator chose it.
                password: match &outcome.generated {
                    Some(generated) => generated.expose().to_string(),
                    None => view.password.clone(),
                },
                expires: outcome
                    .user
                    .password_expires
                    .map(|at| format!("{} UTC", clock::display(at))),
                require_change: outcome.user.require_password_change,
            };
            let id = one_time::put(&state, &viewer, OneTime::Reset(shown))
                .await
                .map_err(|e| viewer.fail(e))?;
            Ok(one_time::redirect_to(hx, &id, one_time::Back::Users))
        }
        Err(crate::accounts::Error::Policy(violation)) => {
            view.errors.password = Some(policy_message(lang, violation));
            Ok(form_response(&viewer, hx, StatusCode::BAD_REQUEST, &view))
        }
        Err(err) => {
            let err = Error::from(err);
            if err.status().is_server_error() {
                return Err(viewer.fail(err));
            }
            view.errors.general = Some(lang.t(err.message_key()).to_string());
            Ok(form_response(&viewer, hx, err.status(), &view))
        }
    }
}
