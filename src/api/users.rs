//! /api/v2/users: list, create, show, update, delete.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::accounts::clock;
use crate::accounts::edit::{self, UserUpdate};
use crate::accounts::grants::{self, Grant};
use crate::accounts::permissions;
use crate::accounts::permissions::target_of;
use crate::accounts::preferences::Preferences;
use crate::accounts::reset_links;
use crate::accounts::secret::Secret;
use crate::accounts::users::{self, NewUser};
use crate::api::caller::{ApiCaller, Via};
use crate::api::json::{check_length, nullable};
use crate::api::openapi::{
    CreateUserErrors, DeleteUserErrors, ListUsersErrors, ShowUserErrors, UpdateUserErrors,
};
use crate::api::schemas::{
    CreatedUser, Empty, Envelope, IdsOnly, UpdatedUser, UserDetail, UserId, UserList,
};
pub use crate::api::schemas::{PermissionEntry, UserRow};
use crate::api::{ApiJson, created, ok};
use crate::auth::{throttle, tokens};
use crate::entities::users as user_entity;
use crate::error::{Error, Result};
use crate::paths;
use crate::state::AppState;

/// The grants a list of entries stands for (entries with `enabled: false` grant nothing).
pub fn grants_of(entries: &[PermissionEntry]) -> Vec<Grant> {
    entries
        .iter()
        .filter(|e| e.enabled)
        .map(|e| Grant {
            name: e.name.clone(),
            quantity: e.quantity,
        })
        .collect()
}

fn entries_of(grants: &[Grant]) -> Vec<PermissionEntry> {
    grants
        .iter()
        .map(|g| PermissionEntry {
            name: g.name.clone(),
            quantity: g.quantity,
            enabled: true,
        })
        .collect()
}

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
    let rows: Vec<UserRow> = visible
        .iter()
        .map(|u| UserRow::new(u, statuses.get(&u.user_id).copied().unwrap_or_default()))
        .collect();
    Ok(ok(rows))
}

/// `?ids=true` as Crafty reads it: the last `ids` parameter, and only the exact text `true`.
fn ids_only(query: Option<&str>) -> bool {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.unwrap_or("")).unwrap_or_default();
    pairs
        .iter()
        .rev()
        .find(|(name, _)| name == "ids")
        .is_some_and(|(_, value)| value == "true")
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
    let mut row =
        serde_json::to_value(UserRow::new(&user, status)).map_err(|e| Error::Internal(e.into()))?;
    row["permissions"] =
        serde_json::to_value(entries_of(&grants)).map_err(|e| Error::Internal(e.into()))?;
    Ok(ok(row))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// 3 to 20 characters of a-z, 0-9 and _ (stored in lowercase).
    #[schema(pattern = "^[A-Za-z0-9_]{3,20}$")]
    username: String,
    /// Without it (and without `setup_link`) the server generates one and answers with it, once.
    #[schema(value_type = Option<String>, format = Password, min_length = 8, max_length = 128)]
    password: Option<Secret>,
    /// Answer with a single-use set-up link instead of a password (not with `password`): the
    /// account has no usable password until the user sets one through the link (SPEC §10).
    #[schema(default = false)]
    setup_link: Option<bool>,
    /// Hours until the set-up link stops working: 1 to 72 (only with `setup_link`).
    #[schema(default = 24, minimum = 1, maximum = 72)]
    setup_link_expires_hours: Option<i64>,
    email: Option<String>,
    #[schema(default = true)]
    enabled: Option<bool>,
    /// Superusers only.
    #[schema(default = false)]
    superuser: Option<bool>,
    /// Superusers only; a non-superuser creator becomes the manager.
    manager: Option<i32>,
    /// `en` or `de` (also `en_EN`, `de_DE`).
    #[schema(default = "en", pattern = "^([Ee][Nn]|[Dd][Ee])([_-][A-Za-z]{2})?$")]
    lang: Option<String>,
    /// Superusers only.
    permissions: Option<Vec<PermissionEntry>>,
    /// Force a change at the first login.
    #[schema(default = false)]
    require_password_change: Option<bool>,
    /// Hours until the password expires: -1 = never, or 1 to 8760; 0 is refused.
    #[schema(default = -1, minimum = -1, maximum = 8760)]
    expires_hours: Option<i64>,
    /// The user must set up a second factor before anything else (SPEC §9).
    #[schema(default = false)]
    require_mfa: Option<bool>,
    /// Crafty's preference, stored and returned as given.
    #[schema(default = "default", max_length = 255)]
    theme: Option<String>,
    /// Crafty's preference, stored and returned as given.
    #[schema(default = true)]
    hints: Option<bool>,
    /// Crafty's preference, stored and returned as given.
    #[schema(max_length = 255)]
    server_order: Option<String>,
    /// Crafty's preference, stored and returned as given.
    #[schema(max_length = 255)]
    dashboard_columns: Option<String>,
    /// Accepted only as `[]`: passgate has no roles.
    #[schema(max_items = 0)]
    roles: Option<Vec<i64>>,
}

/// Crafty's preferences of a user body; `roles` other than none are refused.
fn crafty_preferences(
    theme: Option<String>,
    hints: Option<bool>,
    server_order: Option<String>,
    dashboard_columns: Option<String>,
    roles: Option<Vec<i64>>,
) -> Result<Preferences> {
    if roles.is_some_and(|roles| !roles.is_empty()) {
        return Err(Error::InvalidJsonSchema(
            "roles: passgate has no roles; only [] is accepted".into(),
        ));
    }
    Ok(Preferences {
        theme,
        hints,
        server_order,
        dashboard_columns,
    })
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
        body.roles,
    )?;
    let new = NewUser {
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    /// 3 to 20 characters of a-z, 0-9 and _ (stored in lowercase).
    #[schema(pattern = "^[A-Za-z0-9_]{3,20}$")]
    username: Option<String>,
    /// The new password; ends the user's sessions and login tokens and clears
    /// `require_password_change` and `password_expires`.
    #[schema(value_type = Option<String>, format = Password, min_length = 8, max_length = 128)]
    password: Option<Secret>,
    /// Required to change one's own password, except during a forced change.
    #[schema(value_type = Option<String>, format = Password)]
    current_password: Option<Secret>,
    /// `null` or `""` removes the address.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    email: Option<Option<String>>,
    /// `en` or `de` (also `en_EN`, `de_DE`).
    #[schema(pattern = "^([Ee][Nn]|[Dd][Ee])([_-][A-Za-z]{2})?$")]
    lang: Option<String>,
    /// Nobody disables themselves.
    enabled: Option<bool>,
    /// Superusers only.
    superuser: Option<bool>,
    /// Superusers only; `null` removes the manager.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    manager: Option<Option<i32>>,
    /// Superusers only; replaces the user's permissions.
    permissions: Option<Vec<PermissionEntry>>,
    /// The user must have a second factor (held at enrolment until they have one). Whoever
    /// may edit the user sets it; on oneself only a superuser clears it.
    require_mfa: Option<bool>,
    /// Turns password sign-in off (`true`: only with a passkey registered; oneself only) or
    /// on again (oneself, or whoever may reset the user).
    disable_password_auth: Option<bool>,
    /// Crafty's preference, stored and returned as given.
    #[schema(max_length = 255)]
    theme: Option<String>,
    /// Crafty's preference, stored and returned as given.
    hints: Option<bool>,
    /// Crafty's preference, stored and returned as given.
    #[schema(max_length = 255)]
    server_order: Option<String>,
    /// Crafty's preference, stored and returned as given.
    #[schema(max_length = 255)]
    dashboard_columns: Option<String>,
    /// Accepted only as `[]`: passgate has no roles.
    #[schema(max_items = 0)]
    roles: Option<Vec<i64>>,
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
        body.roles,
    )?;
    let update = UserUpdate {
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
    let mut data = serde_json::to_value(UserRow::new(&updated, status))
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
