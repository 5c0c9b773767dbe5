//! Edit a user (`/panel/edit_user?id=N`) and end their sessions, through the same domain
//! functions as the API.

use crate::web::form::Form;
use axum::extract::{Query, State};
use axum::response::IntoResponse;

use crate::accounts::audit::Actor;
use crate::accounts::edit::{self, UserUpdate};
use crate::accounts::permissions::roles::can_change_roles_of;
use crate::accounts::permissions::target_of;
use crate::accounts::permissions::{self, ROLES_CONFIG, USER_CONFIG};
use crate::accounts::{grants, roles, users};
use crate::auth::client_ip::ClientIp;
use crate::entities::users as user_entity;
use crate::error::Error;
use crate::paths;
use crate::state::AppState;
use crate::views::user_form::{RolesField, UserFormView, user_form_page};
use crate::web::users::form::{
    IdQuery, blank_new, form_with_error, grants_from, read_form, role_choices,
};
use crate::web::{Hx, PageError, PageResult, Viewer, redirect};

/// The user named by `?id=`, if the viewer may see them.
pub(super) async fn edited(
    state: &AppState,
    viewer: &Viewer,
    id: Option<&str>,
) -> Result<user_entity::Model, PageError> {
    let id: i32 = id
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| viewer.fail(Error::UserNotFound))?;
    let user = users::find_by_id(&state.db, id)
        .await
        .map_err(|e| viewer.fail(e))?
        .ok_or_else(|| viewer.fail(Error::UserNotFound))?;
    permissions::can_view(&viewer.caller, &target_of(&user)).map_err(|d| viewer.fail(d))?;
    Ok(user)
}

/// The ids of the user's roles.
async fn held_roles(state: &AppState, user: &user_entity::Model) -> Result<Vec<i64>, Error> {
    Ok(roles::of_user(&state.db, user.user_id)
        .await?
        .iter()
        .map(|r| i64::from(r.role_id))
        .collect())
}

/// The roles on the edit form: checkboxes for whoever may change the user's roles (the
/// roles they may give and those the user has), the names otherwise (one's own).
async fn roles_field(
    state: &AppState,
    viewer: &Viewer,
    user: &user_entity::Model,
    held: &[i64],
) -> Result<Option<RolesField>, Error> {
    if can_change_roles_of(&viewer.caller, &target_of(user)).is_ok() {
        let choices = role_choices(state, viewer, held, held).await?;
        return Ok((!choices.is_empty()).then_some(RolesField::Choose(choices)));
    }
    let names = roles::names_of_user(&state.db, user.user_id).await?;
    Ok(Some(RolesField::Show(names)))
}

async fn edit_view(
    state: &AppState,
    viewer: &Viewer,
    user: &user_entity::Model,
) -> Result<UserFormView, Error> {
    let held = grants::load(&state.db, user.user_id).await?;
    let held_roles = held_roles(state, user).await?;
    let manager = match user.manager {
        Some(id) => users::find_by_id(&state.db, id)
            .await?
            .map(|m| m.username)
            .unwrap_or_default(),
        None => String::new(),
    };
    let is_self = user.user_id == viewer.user.user_id;
    let target = target_of(user);
    let admin_fields = viewer.caller.is_superuser() && !is_self;
    let managers = if admin_fields {
        let mut names = grants::holder_names(&state.db, USER_CONFIG).await?;
        names.retain(|name| name != &user.username);
        if !manager.is_empty() && !names.contains(&manager) {
            names.push(manager.clone());
            names.sort();
        }
        names
    } else {
        Vec::new()
    };
    Ok(UserFormView {
        setup_link: false,
        user_id: Some(user.user_id),
        username: user.username.clone(),
        email: user.email.clone().unwrap_or_default(),
        lang: user.lang.clone(),
        enabled: user.enabled,
        superuser: user.superuser,
        user_config: grants::quantity(&held, USER_CONFIG).is_some(),
        user_config_quota: grants::quantity(&held, USER_CONFIG)
            .unwrap_or(-1)
            .to_string(),
        roles_config: grants::quantity(&held, ROLES_CONFIG).is_some(),
        roles_config_quota: grants::quantity(&held, ROLES_CONFIG)
            .unwrap_or(-1)
            .to_string(),
        roles: roles_field(state, viewer, user, &held_roles).await?,
        manager,
        managers,
        admin_fields,
        enabled_field: !is_self,
        require_mfa_field: !is_self,
        require_mfa: user.require_mfa,
        is_self,
        // The edit page offers the reset only to superusers (the table's lock serves managers).
        can_reset: viewer.caller.is_superuser()
            && permissions::can_reset(&viewer.caller, &target).is_ok(),
        can_delete: permissions::can_delete(&viewer.caller, &target).is_ok(),
        can_end_sessions: !is_self
            && permissions::can_end_sessions(&viewer.caller, &target).is_ok(),
        ..blank_new(viewer, &state.config.policy)
    })
}

pub async fn edit_user_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<IdQuery>,
) -> PageResult {
    let user = edited(&state, &viewer, query.id.as_deref()).await?;
    let mut view = edit_view(&state, &viewer, &user)
        .await
        .map_err(|e| viewer.fail(e))?;
    view.saved = query.saved.is_some();
    view.sessions_ended = query.sessions_ended.is_some();
    Ok(user_form_page(&viewer.context(), &view).into_response())
}

pub async fn submit_edit_user(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    ip: ClientIp,
    Query(query): Query<IdQuery>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let fields = read_form(&viewer, &pairs)?;
    let user = edited(&state, &viewer, query.id.as_deref()).await?;
    let mut view = edit_view(&state, &viewer, &user)
        .await
        .map_err(|e| viewer.fail(e))?;
    let mut update = UserUpdate {
        username: Some(fields.username.clone()),
        email: Some(Some(fields.email.clone())),
        lang: Some(fields.lang.clone()),
        ..UserUpdate::default()
    };
    if let Some(RolesField::Choose(choices)) = &mut view.roles {
        let held = held_roles(&state, &user)
            .await
            .map_err(|e| viewer.fail(e))?;
        let after = fields.roles_after(&held);
        for choice in choices.iter_mut() {
            choice.checked = after.contains(&i64::from(choice.role_id));
        }
        update.roles = Some(after);
    }
    if view.enabled_field {
        update.enabled = Some(fields.enabled.is_some());
    }
    if view.require_mfa_field {
        update.require_mfa = Some(fields.require_mfa.is_some());
    }
    if view.admin_fields {
        update.superuser = Some(fields.superuser.is_some());
        update.permissions = Some(grants_from(&fields));
        match users::manager_named(&state.db, &fields.manager).await {
            Ok(manager) => update.manager = Some(manager),
            Err(err) => return form_with_error(&viewer, err, &mut view),
        }
    }
    view.username = fields.username.trim().to_string();
    view.email = fields.email.trim().to_string();
    let actor = Actor::user(&viewer.user, ip.to_string());
    match edit::update_user(
        &state.db,
        &state.hasher,
        &state.config.policy,
        &actor,
        &viewer.caller,
        &user,
        update,
    )
    .await
    {
        Ok(updated) => Ok(redirect(
            hx,
            &format!("{}&saved=1", paths::edit(updated.user_id)),
        )),
        Err(err) => form_with_error(&viewer, err, &mut view),
    }
}

/// Ends every session and login token of the edited user (SPEC §11), then back to the page.
pub async fn end_user_sessions(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    ip: ClientIp,
    Query(query): Query<IdQuery>,
) -> PageResult {
    let user = edited(&state, &viewer, query.id.as_deref()).await?;
    let actor = Actor::user(&viewer.user, ip.to_string());
    crate::accounts::sessions::end_all(&state.db, &actor, &viewer.caller, &user)
        .await
        .map_err(|e| viewer.fail(e))?;
    Ok(redirect(
        hx,
        &format!("{}&sessions_ended=1", paths::edit(user.user_id)),
    ))
}
