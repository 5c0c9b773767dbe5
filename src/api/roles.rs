//! `/api/v2/roles` as Crafty 4.10.3 has it (SPEC §14): list (`?ids=true`), create, read,
//! change, delete, a role's users and servers. Every route needs `ROLES_CONFIG` or superuser
//! rights (403 `ACCESS_DENIED` otherwise); an unknown role is 404 `ROLE_NOT_FOUND` (Crafty
//! means this but answers 500).

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::accounts::roles::{self, NewRole, RoleChange};
use crate::api::caller::ApiCaller;
use crate::api::json::nullable;
use crate::api::openapi::{
    ChangeRoleErrors, CreateRoleErrors, DeleteRoleErrors, ListRolesErrors, ShowRoleErrors,
};
use crate::api::schemas::{CreatedRole, Envelope, IdsOnly, RoleList, RoleRow};
use crate::api::{ApiJson, ids_only, ok};
use crate::error::{Error, Result};
use crate::paths;
use crate::state::AppState;

/// `{id}` of a role.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RoleId {
    /// A numeric role id; anything else names no role (404 `ROLE_NOT_FOUND`).
    #[param(pattern = "^[0-9]+$", example = "3")]
    #[allow(dead_code)]
    id: String,
}

/// A role id from the path; anything that is not one names no role.
fn role_id(id: &str) -> Result<i32> {
    id.parse().map_err(|_| Error::RoleNotFound)
}

/// One of Crafty's server entries of a role. passgate has no servers: entries are checked as
/// Crafty checks them and then dropped, as Crafty drops server ids it does not know.
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ServerEntry {
    server_id: String,
    /// Crafty's eight server-permission places.
    #[schema(pattern = "^[01]{8}$", example = "00000000")]
    permissions: String,
}

fn check_servers(servers: Option<&[ServerEntry]>) -> Result<()> {
    for entry in servers.unwrap_or_default() {
        let ok =
            entry.permissions.len() == 8 && entry.permissions.chars().all(|c| c == '0' || c == '1');
        if !ok {
            return Err(Error::InvalidJsonSchema(
                "servers: permissions are 8 characters, each 0 or 1".into(),
            ));
        }
    }
    Ok(())
}

/// Crafty's `manager`: `null` or `0` mean none.
fn manager_of(manager: Option<Option<i32>>) -> Option<Option<i32>> {
    manager.map(|m| m.filter(|id| *id != 0))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoleBody {
    /// 1 to 64 characters, none of `,` `[` `]`; stored trimmed and lower-cased, and unique
    /// in any case (400 `ROLE_NAME_ALREADY_EXISTS`).
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^,\[\]]*$",
        example = "finance"
    )]
    name: String,
    /// Crafty's server permissions of the role: accepted and dropped (passgate has no servers).
    #[serde(default)]
    servers: Option<Vec<ServerEntry>>,
    /// Superusers only: the user who manages the role (`null` or `0`: nobody). Anyone else
    /// manages the role they create.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    manager: Option<Option<i32>>,
    /// Every member must have a second factor.
    #[schema(default = false)]
    mfa_required: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRoleBody {
    /// 1 to 64 characters, none of `,` `[` `]`; stored trimmed and lower-cased, and unique
    /// in any case (400 `ROLE_NAME_ALREADY_EXISTS`).
    #[schema(min_length = 1, max_length = 64, pattern = r"^[^,\[\]]*$")]
    name: Option<String>,
    /// Crafty's server permissions of the role: accepted and dropped (passgate has no servers).
    servers: Option<Vec<ServerEntry>>,
    /// Superusers only: another manager (`null` or `0`: nobody).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    manager: Option<Option<i32>>,
    /// Every member must have a second factor; reaches signed-in members at their next
    /// request.
    mfa_required: Option<bool>,
}

/// Every role, or with `?ids=true` (as in Crafty) only their ids.
#[utoipa::path(
    get,
    path = paths::api::ROLES,
    tag = "roles",
    operation_id = "list_roles",
    params(IdsOnly),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "The roles, or their ids", body = Envelope<RoleList>), ListRolesErrors)
)]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    let all = roles::list_for(&state.db, &caller.rules()).await?;
    if ids_only(query.as_deref()) {
        return Ok(ok(all.iter().map(|r| r.role_id).collect::<Vec<_>>()));
    }
    Ok(ok(all.iter().map(RoleRow::new).collect::<Vec<_>>()))
}

/// Creates a role: a superuser (with any manager), or a `ROLES_CONFIG` holder within their
/// quantity, who becomes its manager. Answers 200 with the id, as Crafty does.
#[utoipa::path(
    post,
    path = paths::api::ROLES,
    tag = "roles",
    operation_id = "create_role",
    request_body = CreateRoleBody,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "Created", body = Envelope<CreatedRole>), CreateRoleErrors)
)]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(body): ApiJson<CreateRoleBody>,
) -> Result<Response> {
    check_servers(body.servers.as_deref())?;
    let role = roles::create(
        &state.db,
        &caller.actor(),
        &caller.rules(),
        NewRole {
            name: body.name,
            manager: manager_of(body.manager),
            mfa_required: body.mfa_required.unwrap_or(false),
        },
    )
    .await?;
    Ok(ok(serde_json::json!({ "role_id": role.role_id })))
}

/// One role.
#[utoipa::path(
    get,
    path = paths::api::ROLE,
    tag = "roles",
    operation_id = "show_role",
    params(RoleId),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "The role", body = Envelope<RoleRow>), ShowRoleErrors)
)]
pub async fn show(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response> {
    let role = roles::get_for(&state.db, &caller.rules(), role_id(&id)?).await?;
    Ok(ok(RoleRow::new(&role)))
}

/// Changes a role (any of its fields; at least one): whoever manages it; another manager
/// only a superuser. Answers the role as stored now.
#[utoipa::path(
    patch,
    path = paths::api::ROLE,
    tag = "roles",
    operation_id = "change_role",
    params(RoleId),
    request_body = ChangeRoleBody,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "Changed", body = Envelope<RoleRow>), ChangeRoleErrors)
)]
pub async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ChangeRoleBody>,
) -> Result<Response> {
    let id = role_id(&id)?;
    check_servers(body.servers.as_deref())?;
    let change = RoleChange {
        name: body.name,
        manager: manager_of(body.manager),
        mfa_required: body.mfa_required,
    };
    if change.is_empty() && body.servers.is_none() {
        return Err(Error::InvalidJsonSchema(
            "the body must set at least one of name, manager, mfa_required, servers".into(),
        ));
    }
    let role = roles::update(&state.db, &caller.actor(), &caller.rules(), id, change).await?;
    Ok(ok(RoleRow::new(&role)))
}

/// Deletes a role (its members lose it): whoever manages it. Answers the role's id.
#[utoipa::path(
    delete,
    path = paths::api::ROLE,
    tag = "roles",
    operation_id = "delete_role",
    params(RoleId),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "Deleted: the role's id", body = Envelope<i32>), DeleteRoleErrors)
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response> {
    let role = roles::delete(&state.db, &caller.actor(), &caller.rules(), role_id(&id)?).await?;
    Ok(ok(role.role_id))
}

/// The ids of the role's members: all of them for a superuser; for anyone else, those among
/// the users they may see (themselves and the users they manage).
#[utoipa::path(
    get,
    path = paths::api::ROLE_USERS,
    tag = "roles",
    operation_id = "list_role_users",
    params(RoleId),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "The members' user ids", body = Envelope<Vec<i32>>), ShowRoleErrors)
)]
pub async fn users(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response> {
    let members = roles::members_for(&state.db, &caller.rules(), role_id(&id)?).await?;
    Ok(ok(members))
}

/// The role's servers: always `[]` (passgate has no servers; also with `?ids=true`).
#[utoipa::path(
    get,
    path = paths::api::ROLE_SERVERS,
    tag = "roles",
    operation_id = "list_role_servers",
    params(RoleId, IdsOnly),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "Always empty", body = Envelope<Vec<i32>>), ShowRoleErrors)
)]
pub async fn servers(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response> {
    roles::get_for(&state.db, &caller.rules(), role_id(&id)?).await?;
    Ok(ok(Vec::<i32>::new()))
}
