//! The role pages (`/panel/roles`, SPEC §14): the list here; a new role and a role's page in
//! `edit`, its members in `members`, deleting it in `delete`. Every write goes through
//! `accounts::roles`, as the API's and the CLI's do.

pub(super) mod delete;
pub(super) mod edit;
pub(super) mod members;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;

use crate::accounts::permissions::roles::{can_change_role, can_read_roles, role_target};
use crate::accounts::{roles, users};
use crate::entities::roles as role_entity;
use crate::error::Error;
use crate::state::AppState;
use crate::views::roles::{RoleRowView, RolesView, roles_page};
use crate::web::{PageError, PageResult, Viewer};

#[derive(Deserialize)]
pub struct ListQuery {
    deleted: Option<String>,
}

/// `GET /panel/roles`: every role, its members, manager and whether it requires a second
/// factor.
pub async fn list_roles(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<ListQuery>,
) -> PageResult {
    may_read(&viewer)?;
    let all = roles::list_for(&state.db, &viewer.caller)
        .await
        .map_err(|e| viewer.fail(e))?;
    let counts = roles::member_counts(&state.db)
        .await
        .map_err(|e| viewer.fail(e))?;
    let managers = users::names_of(&state.db, all.iter().filter_map(|r| r.manager))
        .await
        .map_err(|e| viewer.fail(e))?;
    let rows = all
        .iter()
        .map(|role| RoleRowView {
            role_id: role.role_id,
            name: role.role_name.clone(),
            members: counts.get(&role.role_id).copied().unwrap_or(0),
            manager: role.manager.and_then(|m| managers.get(&m).cloned()),
            mfa_required: role.mfa_required,
            can_change: can_change_role(&viewer.caller, &role_target(role)).is_ok(),
        })
        .collect();
    let view = RolesView {
        rows,
        can_create: may_create(&viewer),
        deleted: query.deleted.is_some(),
    };
    Ok(roles_page(&viewer.context(), &view).into_response())
}

/// Whoever may not read roles is told why, inside the layout.
pub(super) fn may_read(viewer: &Viewer) -> Result<(), PageError> {
    can_read_roles(&viewer.caller)
        .map_err(|_| viewer.refusal(StatusCode::FORBIDDEN, viewer.lang.t("roles.refuseRead")))
}

/// Who is offered *New role* (the domain decides about the quantity).
pub(super) fn may_create(viewer: &Viewer) -> bool {
    viewer.caller.is_superuser() || viewer.caller.has_roles_config()
}

/// The role a path names, for a viewer who may read roles.
pub(super) async fn role_of(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
) -> Result<role_entity::Model, PageError> {
    may_read(viewer)?;
    let id: i32 = id.parse().map_err(|_| viewer.fail(Error::RoleNotFound))?;
    roles::get_for(&state.db, &viewer.caller, id)
        .await
        .map_err(|e| viewer.fail(e))
}

/// Whoever does not manage the role is told why.
pub(super) fn may_change(viewer: &Viewer, role: &role_entity::Model) -> Result<(), PageError> {
    can_change_role(&viewer.caller, &role_target(role))
        .map_err(|_| viewer.refusal(StatusCode::FORBIDDEN, viewer.lang.t("roles.refuseChange")))
}
