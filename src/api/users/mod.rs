//! /api/v2/users: list, create, show, update, delete.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde_json::json;

use crate::accounts::clock;
use crate::accounts::edit::{self, UserUpdate};
use crate::accounts::grants::{self};
use crate::accounts::permissions;
use crate::accounts::permissions::target_of;
use crate::accounts::users::{self, NewUser};
use crate::accounts::{reset_links, roles};
use crate::api::caller::{ApiCaller, Via};
use crate::api::json::check_length;
use crate::api::openapi::{
    CreateUserErrors, DeleteUserErrors, ListUsersErrors, ShowUserErrors, UpdateUserErrors,
};
use crate::api::schemas::{
    CreatedUser, Empty, Envelope, IdsOnly, RoleRow, UpdatedUser, UserDetail, UserFields, UserId,
    UserList,
};
pub use crate::api::schemas::{PermissionEntry, UserRow};
use crate::api::{ApiJson, created, ids_only, ok};
use crate::auth::{throttle, tokens};
use crate::entities::users as user_entity;
use crate::error::{Error, Result};
use crate::paths;
use crate::state::AppState;

mod bodies;

pub use bodies::grants_of;
use bodies::{CreateBody, UpdateBody, crafty_preferences, entries_of};

/// `@me` or a numeric id; anything else names no user.
pub async fn resolve(state: &AppState, caller: &ApiCaller, id: &str) -> Result<user_entity::Model> {
    if id == "@me" {
        return Ok(caller.user.clone());
    }
    let id: i32 = id.parse().map_err(|_| Error::UserNotFound)?;
    users::find_by_id(&state.db, id)
        .await?
        .ok_or(Error::UserNotFound)
}

/// The users the caller may see: a superuser all, a `USER_CONFIG` holder themselves and
/// the users they manage, anyone else themselves.
#[utoipa::path(
    get,
    path = paths::api::USERS,
    tag = "users",
    operation_id = "list_users",
    params(IdsOnly),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "The users, or their ids", body = Envelope<UserList>), ListUsersErrors)
)]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    RawQuery(query): RawQuery,
) -> Result<Response> {
    let visible = users::list_visible(&state.db, &caller.rules()).await?;
    if ids_only(query.as_deref()) {
        return Ok(ok(visible.iter().map(|u| u.user_id).collect::<Vec<_>>()));
    }
    let ids: Vec<i32> = visible.iter().map(|u| u.user_id).collect();
    let statuses = users::row_statuses(&state.db, &ids).await?;
    let user_roles = roles::of_users(&state.db, &ids).await?;
    let rows: Vec<UserRow> = visible
        .iter()
        .map(|u| {
            UserRow::new(
                u,
                statuses.get(&u.user_id).copied().unwrap_or_default(),
                user_roles.get(&u.user_id).map_or(&[], Vec::as_slice),
            )
        })
        .collect();
    Ok(ok(rows))
}

/// One user with their permissions: oneself, a superuser, or the manager holding
/// `USER_CONFIG`.
#[utoipa::path(
    get,
    path = paths::api::USER,
    tag = "users",
    operation_id = "show_user",
    params(UserId),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "The user", body = Envelope<UserDetail>), ShowUserErrors)
)]
pub async fn show(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response> {
    let user = resolve(&state, &caller, &id).await?;
    permissions::can_view(&caller.rules(), &target_of(&user))?;
    let grants = if user.user_id == caller.user.user_id {
        caller.grants.clone()
    } else {
        grants::load(&state.db, user.user_id).await?
    };
    // Oneself: read with the sign-in's own statement (an `@me` costs one statement).
    let status = match caller.status {
        Some(status) if user.user_id == caller.user.user_id => status,
        _ => users::row_status(&state.db, user.user_id).await?,
    };
    // A user read with the sign-in who holds no role: nothing more to read.
    let roles: Vec<RoleRow> = if status.has_roles == Some(false) {
        Vec::new()
    } else {
        roles::of_user(&state.db, user.user_id)
            .await?
            .iter()
            .map(RoleRow::new)
            .collect()
    };
    let mut row = serde_json::to_value(UserFields::new(&user, status))
        .map_err(|e| Error::Internal(e.into()))?;
    row["roles"] = serde_json::to_value(roles).map_err(|e| Error::Internal(e.into()))?;
    row["permissions"] =
        serde_json::to_value(entries_of(&grants)).map_err(|e| Error::Internal(e.into()))?;
    Ok(ok(row))
}

/// Creates a user; a non-superuser creator becomes the manager. Without a password one is
/// generated and returned once.
#[utoipa::path(
    post,
    path = paths::api::USERS,
    tag = "users",
    operation_id = "create_user",
    request_body = CreateBody,
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, description = "Created", body = Envelope<CreatedUser>), CreateUserErrors)
)]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response> {
    if let Some(password) = &body.password {
        check_length("password", password.expose(), 8, 128)?;
    }
    let preferences = crafty_preferences(
        body.theme,
        body.hints,
        body.server_order,
        body.dashboard_columns,
    );
    let new = NewUser {
        roles: body.roles.unwrap_or_default(),
        require_mfa: body.require_mfa.unwrap_or(false),
        username: body.username,
        password: body.password,
        email: body.email,
        superuser: body.superuser.unwrap_or(false),
        manager: body.manager,
        lang: body.lang.unwrap_or_else(|| "en".into()),
        require_password_change: body.require_password_change.unwrap_or(false),
        expires_hours: body.expires_hours.unwrap_or(-1),
        enabled: body.enabled.unwrap_or(true),
        permissions: grants_of(body.permissions.as_deref().unwrap_or(&[])),
        preferences,
        setup_link: body.setup_link.unwrap_or(false).then(|| {
            body.setup_link_expires_hours
                .unwrap_or(reset_links::DEFAULT_EXPIRES_HOURS)
        }),
    };
    if body.setup_link_expires_hours.is_some() && body.setup_link != Some(true) {
        return Err(Error::InvalidJsonSchema(
            "setup_link_expires_hours: only with \"setup_link\": true".into(),
        ));
    }
    let made = users::create(
        &state.db,
        &state.hasher,
        &state.config.policy,
        &caller.actor(),
        &caller.rules(),
        new,
    )
    .await?;
    let mut data = json!({ "user_id": made.user.user_id.to_string() });
    if let Some(password) = made.generated {
        data["password"] = json!(password.expose());
    }
    if let Some(link) = made.setup_link {
        data["url"] = json!(state.config.link_url(link.token.expose()));
        data["expires"] = json!(clock::rfc3339(link.expires));
    }
    Ok(created(data))
}

/// Edits a user through the shared `update_user` path. Changing one's own password answers
/// with a fresh login token, since the change ends every other.
#[utoipa::path(
    patch,
    path = paths::api::USER,
    tag = "users",
    operation_id = "update_user",
    params(UserId),
    request_body = UpdateBody,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "Updated", body = Envelope<UpdatedUser>), UpdateUserErrors)
)]
pub async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<Response> {
    let target = resolve(&state, &caller, &id).await?;
    if let Some(password) = &body.password {
        check_length("password", password.expose(), 8, 128)?;
    }
    let preferences = crafty_preferences(
        body.theme,
        body.hints,
        body.server_order,
        body.dashboard_columns,
    );
    let update = UserUpdate {
        roles: body.roles,
        username: body.username,
        email: body.email,
        lang: body.lang,
        enabled: body.enabled,
        superuser: body.superuser,
        manager: body.manager,
        permissions: body.permissions.as_deref().map(grants_of),
        require_mfa: body.require_mfa,
        disable_password_auth: body.disable_password_auth,
        password: body.password,
        current_password: body.current_password,
        preferences,
    };
    if caller.held_by_gate() && (update.password.is_none() || !update.touches_only_password()) {
        // While a change is pending, @me may only be patched to set the password.
        return Err(Error::PasswordChangeRequired);
    }
    let changes_own_password = update.password.is_some() && target.user_id == caller.user.user_id;
    let guesses_current = changes_own_password && update.current_password.is_some();
    let (actor, rules) = (caller.actor(), caller.rules());
    let change = edit::update_user(
        &state.db,
        &state.hasher,
        &state.config.policy,
        &actor,
        &rules,
        &target,
        update,
    );
    let updated = if guesses_current {
        throttle::counting_current_password(
            &state.db,
            &state.config.throttle,
            &state.signing_key,
            &target.username,
            change,
        )
        .await?
    } else {
        change.await?
    };
    let status = users::row_status(&state.db, updated.user_id).await?;
    let roles = roles::of_users(&state.db, &[updated.user_id]).await?;
    let roles = roles.get(&updated.user_id).map_or(&[][..], Vec::as_slice);
    let mut data = serde_json::to_value(UserRow::new(&updated, status, roles))
        .map_err(|e| Error::Internal(e.into()))?;
    if changes_own_password && !matches!(caller.via, Via::ApiKey(_)) {
        // The fresh token keeps what the caller's sign-in proved (its `mfa` claim).
        data["token"] = json!(tokens::issue_with_mfa(
            &state.signing_key,
            &updated,
            caller.mfa
        ));
    }
    Ok(ok(data))
}

/// Deletes a user: never oneself, never the last enabled superuser.
#[utoipa::path(
    delete,
    path = paths::api::USER,
    tag = "users",
    operation_id = "delete_user",
    params(UserId),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "Deleted", body = Envelope<Empty>), DeleteUserErrors)
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response> {
    let target = resolve(&state, &caller, &id).await?;
    crate::accounts::delete::delete_user(&state.db, &caller.actor(), &caller.rules(), &target)
        .await?;
    Ok(ok(json!({})))
}
