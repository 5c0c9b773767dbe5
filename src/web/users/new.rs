//! Create a user (`/panel/users/new`); the form fields shared with editing are in `form.rs`. Every write
//! goes through the same domain functions as the API.

use crate::web::form::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use crate::accounts::audit::Actor;
use crate::accounts::password::{self};
use crate::accounts::permissions::USER_CONFIG;
use crate::accounts::secret::Secret;
use crate::accounts::users::{self, NewUser};
use crate::auth::client_ip::ClientIp;
use crate::error::Error;
use crate::paths;
use crate::state::AppState;
use crate::views::user_form::{RolesField, UserFormView};
use crate::web::change_password::policy_message;
use crate::web::one_time::{self, CreatedShown, LinkShown, OneTime};
use crate::web::users::form::{
    UserFields, blank_new, form_again, form_with_error, grants_from, read_form, role_choices,
};
use crate::web::{Hx, PageError, PageResult, Viewer};

/// Who sees the new-user form: a superuser or a `USER_CONFIG` holder (the domain decides what
/// they may create).
fn may_create(viewer: &Viewer) -> Result<(), PageError> {
    if viewer.caller.is_superuser() || viewer.caller.has_user_config() {
        Ok(())
    } else {
        Err(viewer.refusal(StatusCode::FORBIDDEN, viewer.lang.t("error.refuseCreate")))
    }
}

/// The new-user form, with the eligible managers for a superuser to choose from and the
/// roles the viewer may give (`checked` as submitted).
async fn new_view(
    state: &AppState,
    viewer: &Viewer,
    checked: &[i64],
) -> Result<UserFormView, Error> {
    let mut view = blank_new(viewer, &state.config.policy);
    if view.admin_fields {
        view.managers = crate::accounts::grants::holder_names(&state.db, USER_CONFIG).await?;
    }
    let choices = role_choices(state, viewer, &[], checked).await?;
    view.roles = (!choices.is_empty()).then_some(RolesField::Choose(choices));
    Ok(view)
}

/// The form filled from submitted (or drafted) fields.
fn view_from(fields: &UserFields, blank: UserFormView) -> UserFormView {
    UserFormView {
        username: fields.username.trim().to_string(),
        email: fields.email.trim().to_string(),
        lang: fields.lang.clone(),
        superuser: fields.superuser.is_some(),
        user_config: fields.user_config.is_some(),
        user_config_quota: fields.user_config_quota.clone(),
        roles_config: fields.roles_config.is_some(),
        roles_config_quota: fields.roles_config_quota.clone(),
        manager: fields.manager.trim().to_string(),
        password: fields.password.trim().to_string(),
        length: fields.length.parse().unwrap_or(blank.length),
        require_change: fields.require_password_change.is_some(),
        expires_hours: fields.expires_hours.trim().to_string(),
        setup_link: fields.setup_link.is_some(),
        ..blank
    }
}

#[derive(Deserialize)]
pub struct DraftQuery {
    draft: Option<String>,
}

pub async fn new_user_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<DraftQuery>,
) -> PageResult {
    may_create(&viewer)?;
    let draft = match &query.draft {
        Some(draft) => match one_time::take(&state, &viewer, draft)
            .await
            .map_err(|e| viewer.fail(e))?
        {
            Some(OneTime::UserDraft(fields)) => Some(fields),
            _ => None,
        },
        None => None,
    };
    let checked = draft.as_ref().map(|d| d.roles.clone()).unwrap_or_default();
    let mut view = new_view(&state, &viewer, &checked)
        .await
        .map_err(|e| viewer.fail(e))?;
    if let Some(fields) = &draft {
        view = view_from(fields, view);
    }
    form_again(&viewer, StatusCode::OK, &view)
}

pub async fn submit_new_user(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    ip: ClientIp,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    may_create(&viewer)?;
    let fields = read_form(&viewer, &pairs)?;
    let lang = viewer.lang;
    let blank = new_view(&state, &viewer, &fields.roles)
        .await
        .map_err(|e| viewer.fail(e))?;
    let mut view = view_from(&fields, blank);
    if fields.intent == "generate" {
        match password::generate(view.length, &state.config.policy) {
            Ok(generated) => {
                // Post/Redirect/Get: the form shows the draft once.
                let mut draft = fields.clone();
                draft.password = generated.expose().to_string();
                draft.intent = String::new();
                let id = one_time::put(&state, &viewer, OneTime::UserDraft(Box::new(draft)))
                    .await
                    .map_err(|e| viewer.fail(e))?;
                return Ok(one_time::see_other(
                    hx,
                    &format!("{}?draft={id}", paths::NEW_USER),
                ));
            }
            Err(v) => view.errors.password = Some(policy_message(lang, v)),
        }
        return form_again(&viewer, StatusCode::BAD_REQUEST, &view);
    }
    if view.setup_link && !view.password.is_empty() {
        view.errors.password = Some(lang.t("userConfig.setupLinkNoPassword").to_string());
        return form_again(&viewer, StatusCode::BAD_REQUEST, &view);
    }
    let admin = viewer.caller.is_superuser();
    let (superuser, permissions, manager) = if admin {
        let manager = match users::manager_named(&state.db, &fields.manager).await {
            Ok(m) => m,
            Err(err) => return form_with_error(&viewer, err, &mut view),
        };
        (view.superuser, grants_from(&fields), manager)
    } else {
        (false, Vec::new(), Some(viewer.user.user_id))
    };
    let expires_hours = if view.expires_hours.is_empty() {
        Ok(-1)
    } else {
        view.expires_hours.parse::<i64>()
    };
    let Ok(expires_hours) = expires_hours else {
        view.errors.expires = Some(lang.t("tempPassword.invalidExpiry").to_string());
        return form_again(&viewer, StatusCode::BAD_REQUEST, &view);
    };
    let outcome = async {
        let new = NewUser {
            require_mfa: false,
            username: view.username.clone(),
            password: (!view.password.is_empty()).then(|| Secret::new(view.password.clone())),
            email: Some(view.email.clone()).filter(|e| !e.is_empty()),
            superuser,
            manager,
            lang: Some(view.lang.clone())
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| viewer.user.lang.clone()),
            // A set-up link's user chooses their password: nothing to change or expire.
            require_password_change: view.require_change && !view.setup_link,
            expires_hours: if view.setup_link { -1 } else { expires_hours },
            enabled: true,
            permissions,
            preferences: Default::default(),
            setup_link: view
                .setup_link
                .then_some(crate::accounts::reset_links::DEFAULT_EXPIRES_HOURS),
            roles: fields.roles_after(&[]),
        };
        let actor = Actor::user(&viewer.user, ip.to_string());
        users::create(
            &state.db,
            &state.hasher,
            &state.config.policy,
            &actor,
            &viewer.caller,
            new,
        )
        .await
    }
    .await;
    match outcome {
        Ok(users::Created {
            user,
            generated,
            setup_link,
        }) => {
            // Shown once, whether the server generated it or the form carried it.
            let password = match &generated {
                Some(generated) => Some(generated.expose().to_string()),
                None if setup_link.is_some() => None,
                None => Some(view.password.clone()).filter(|p| !p.is_empty()),
            };
            let link = setup_link.map(|link| LinkShown {
                target_id: user.user_id,
                target_name: user.username.clone(),
                url: state.config.link_url(link.token.expose()),
                expires: format!("{} UTC", crate::accounts::clock::display(link.expires)),
            });
            let created = CreatedShown {
                user_id: user.user_id,
                username: user.username.clone(),
                password,
                link,
                require_change: user.require_password_change,
            };
            let id = one_time::put(&state, &viewer, OneTime::Created(created))
                .await
                .map_err(|e| viewer.fail(e))?;
            Ok(one_time::redirect_to(hx, &id, one_time::Back::Users))
        }
        Err(err) => form_with_error(&viewer, err, &mut view),
    }
}
