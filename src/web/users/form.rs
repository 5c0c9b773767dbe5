//! The user form's fields and what creating and editing share: reading the form, the role
//! choices, placing a refusal beside its field, the form shown again.

use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};

use crate::accounts;
use crate::accounts::grants::Grant;
use crate::accounts::password::Policy;
use crate::accounts::permissions::{ROLES_CONFIG, USER_CONFIG};
use crate::error::Error;
use crate::i18n::Lang;
use crate::state::AppState;
use crate::views::user_form::{RoleChoice, UserFormErrors, UserFormView, user_form_page};
use crate::web::change_password::policy_message;
use crate::web::{PageError, PageResult, Viewer};

/// What a user form holds, as typed (kept for the form shown again, and as a draft).
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
