//! Create a user (`/panel/users/new`) and the form fields shared with editing. Every write
//! goes through the same domain functions as the API.

use crate::web::form::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};

use crate::accounts;
use crate::accounts::audit::Actor;
use crate::accounts::grants::Grant;
use crate::accounts::password::{self, Policy};
use crate::accounts::permissions::{ROLES_CONFIG, USER_CONFIG};
use crate::accounts::secret::Secret;
use crate::accounts::users::{self, NewUser};
use crate::auth::client_ip::ClientIp;
use crate::error::Error;
use crate::i18n::Lang;
use crate::paths;
use crate::state::AppState;
use crate::views::user_form::{
    RoleChoice, RolesField, UserFormErrors, UserFormView, user_form_page,
};
use crate::web::change_password::policy_message;
use crate::web::one_time::{self, CreatedShown, LinkShown, OneTime};
use crate::web::{Hx, PageError, PageResult, Viewer};

#[derive(Clone, Deserialize, Serialize, Default)]
pub struct UserFields {
    #[serde(default)]
    pub(super) username: String,
    #[serde(default)]
    pub(super) email: String,
    #[serde(default)]
    pub(super) lang: String,
    #[serde(default)]
    pub(super) password: String,
    #[serde(default)]
    pub(super) length: String,
    #[serde(default)]
    pub(super) expires_hours: String,
    pub(super) require_password_change: Option<String>,
    pub(super) enabled: Option<String>,
    pub(super) require_mfa: Option<String>,
    pub(super) setup_link: Option<String>,
    pub(super) superuser: Option<String>,
    pub(super) user_config: Option<String>,
    #[serde(default)]
    pub(super) user_config_quota: String,
    pub(super) roles_config: Option<String>,
    #[serde(default)]
    pub(super) roles_config_quota: String,
    /// The checked role checkboxes (`role`), and every role the form offered (`role_shown`).
    #[serde(default)]
    pub(super) roles: Vec<i64>,
    #[serde(default)]
    pub(super) roles_shown: Vec<i64>,
    #[serde(default)]
    pub(super) manager: String,
    #[serde(default)]
    pub(super) intent: String,
}

impl UserFields {
    /// The fields of a submitted user form: the repeated role checkboxes apart, the rest as
    /// axum's `Form` reads it (a field given twice is refused). `None`: not a readable form.
    pub(super) fn from_form(pairs: &[(String, String)]) -> Option<UserFields> {
        let single: Vec<&(String, String)> = pairs
            .iter()
            .filter(|(key, _)| key != "role" && key != "role_shown")
            .collect();
        let encoded = serde_urlencoded::to_string(&single).ok()?;
        let mut fields: UserFields = serde_urlencoded::from_str(&encoded).ok()?;
        let ids = |name: &str| -> Vec<i64> {
            pairs
                .iter()
                .filter(|(key, _)| key == name)
                .filter_map(|(_, value)| value.parse().ok())
                .collect()
        };
        fields.roles = ids("role");
        fields.roles_shown = ids("role_shown");
        Some(fields)
    }

    /// The roles after the form: of the roles it offered, those checked; the others as
    /// `held` has them.
    pub(super) fn roles_after(&self, held: &[i64]) -> Vec<i64> {
        let mut after: Vec<i64> = held
            .iter()
            .copied()
            .filter(|id| !self.roles_shown.contains(id))
            .collect();
        after.extend(
            self.roles
                .iter()
                .copied()
                .filter(|id| self.roles_shown.contains(id)),
        );
        after
    }
}

/// A user form's fields, or the refusal of an unreadable form.
pub(super) fn read_form(
    viewer: &Viewer,
    pairs: &[(String, String)],
) -> Result<UserFields, PageError> {
    UserFields::from_form(pairs)
        .ok_or_else(|| viewer.refusal(StatusCode::BAD_REQUEST, viewer.lang.t("error.badRequest")))
}

/// The role checkboxes of a user form: the roles `viewer` may give and those `held` (which
/// any editor may take away), checked as in `checked`.
pub(super) async fn role_choices(
    state: &AppState,
    viewer: &Viewer,
    held: &[i64],
    checked: &[i64],
) -> Result<Vec<RoleChoice>, Error> {
    let mut offered = crate::accounts::roles::givable(&state.db, &viewer.caller).await?;
    for role in crate::accounts::roles::list_all(&state.db).await? {
        if held.contains(&i64::from(role.role_id))
            && !offered.iter().any(|r| r.role_id == role.role_id)
        {
            offered.push(role);
        }
    }
    offered.sort_by(|a, b| a.role_name.cmp(&b.role_name));
    Ok(offered
        .into_iter()
        .map(|role| RoleChoice {
            checked: checked.contains(&i64::from(role.role_id)),
            role_id: role.role_id,
            name: role.role_name,
            mfa_required: role.mfa_required,
        })
        .collect())
}

#[derive(Deserialize)]
pub struct IdQuery {
    pub(super) id: Option<String>,
    pub(super) saved: Option<String>,
    pub(super) sessions_ended: Option<String>,
}

/// Puts a refused write's message beside the input it is about (the domain names the
/// input: [`accounts::Error::Invalid`]'s `field`), or above the form. Gives back the status
/// to answer with, or the error when it is no refusal of the input (a server failure).
pub(super) fn place_error(
    lang: Lang,
    err: accounts::Error,
    errors: &mut UserFormErrors,
) -> Result<StatusCode, Error> {
    use accounts::Error as D;
    let text = |key: &str| Some(lang.t(key).to_string());
    let (slot, message) = match &err {
        D::UserExists => (&mut errors.username, text("userConfig.usernameTaken")),
        D::Policy(v) => (&mut errors.password, Some(policy_message(lang, *v))),
        D::Invalid { field, .. } => match *field {
            "username" => (&mut errors.username, text("userConfig.usernameInvalid")),
            "email" => (&mut errors.email, text("userConfig.emailInvalid")),
            "expires_hours" => (&mut errors.expires, text("tempPassword.invalidExpiry")),
            "manager" => (&mut errors.manager, text("userConfig.managerUnknown")),
            _ => (&mut errors.general, None),
        },
        D::UnknownRole(_) => (&mut errors.roles, text("roles.unknown")),
        D::RolesNotAssignable { .. } => (&mut errors.roles, text("roles.refuseGive")),
        _ => (&mut errors.general, None),
    };
    let placed = message.is_some();
    if placed {
        *slot = message;
    }
    let err = Error::from(err);
    let status = err.status();
    if status.is_server_error() {
        return Err(err);
    }
    if !placed {
        errors.general = Some(lang.t(err.message_key()).to_string());
    }
    Ok(status)
}

pub(super) fn grants_from(fields: &UserFields) -> Vec<Grant> {
    let grant = |name: &str, quantity: &str| Grant {
        name: name.into(),
        quantity: quantity.trim().parse().unwrap_or(-1),
    };
    let mut grants = Vec::new();
    if fields.user_config.is_some() {
        grants.push(grant(USER_CONFIG, &fields.user_config_quota));
    }
    if fields.roles_config.is_some() {
        grants.push(grant(ROLES_CONFIG, &fields.roles_config_quota));
    }
    grants
}

pub(super) fn blank_new(viewer: &Viewer, policy: &Policy) -> UserFormView {
    UserFormView {
        user_id: None,
        username: String::new(),
        email: String::new(),
        lang: viewer.user.lang.clone(),
        enabled: true,
        superuser: false,
        user_config: false,
        user_config_quota: "-1".into(),
        roles_config: false,
        roles_config_quota: "-1".into(),
        roles: None,
        manager: String::new(),
        managers: Vec::new(),
        password: String::new(),
        length: policy.generated_length(),
        min_length: policy.min_length,
        require_change: true,
        expires_hours: "-1".into(),
        admin_fields: viewer.caller.is_superuser(),
        enabled_field: false,
        require_mfa_field: false,
        require_mfa: false,
        setup_link: false,
        is_self: false,
        can_reset: false,
        can_delete: false,
        can_end_sessions: false,
        saved: false,
        sessions_ended: false,
        errors: UserFormErrors::default(),
    }
}

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
            Ok(one_time::redirect_to(hx, &id))
        }
        Err(err) => form_with_error(&viewer, err, &mut view),
    }
}

/// The form again (with what was typed and any messages beside the fields).
pub(super) fn form_again(viewer: &Viewer, status: StatusCode, view: &UserFormView) -> PageResult {
    Ok((status, user_form_page(&viewer.context(), view)).into_response())
}

/// The form again with a refusal beside its input (or the failure as a page).
pub(super) fn form_with_error(
    viewer: &Viewer,
    err: accounts::Error,
    view: &mut UserFormView,
) -> PageResult {
    let status = place_error(viewer.lang, err, &mut view.errors).map_err(|e| viewer.fail(e))?;
    form_again(viewer, status, view)
}
