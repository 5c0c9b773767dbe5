//! /api/v2/users: list, create, show, update, delete.

use axum::extract::{Path, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::accounts::clock;
use crate::accounts::grants::{self, Grant};
use crate::accounts::permissions;
use crate::accounts::secret::Secret;
use crate::accounts::update::{self, UserUpdate, target_of};
use crate::accounts::users::{self, NewUser};
use crate::api::json::{check_length, nullable};
use crate::api::{ApiJson, created, ok};
use crate::auth::api::{ApiCaller, Via};
use crate::auth::tokens;
use crate::entities::users as user_entity;
use crate::error::{Error, Result};
use crate::state::AppState;

/// A user as the API shows it: never the hash or the stamp.
#[derive(Serialize)]
pub struct UserRow {
    pub user_id: i32,
    pub username: String,
    pub email: Option<String>,
    pub enabled: bool,
    pub superuser: bool,
    pub manager: Option<i32>,
    pub lang: String,
    pub created: String,
    pub last_login: Option<String>,
    pub require_password_change: bool,
    pub password_expires: Option<String>,
}

impl From<&user_entity::Model> for UserRow {
    fn from(u: &user_entity::Model) -> Self {
        UserRow {
            user_id: u.user_id,
            username: u.username.clone(),
            email: u.email.clone(),
            enabled: u.enabled,
            superuser: u.superuser,
            manager: u.manager,
            lang: u.lang.clone(),
            created: clock::rfc3339(u.created),
            last_login: u.last_login.map(clock::rfc3339),
            require_password_change: u.require_password_change,
            password_expires: u.password_expires.map(clock::rfc3339),
        }
    }
}

/// Crafty's permission shape: `{"name":"USER_CONFIG","quantity":-1,"enabled":true}`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionEntry {
    pub name: String,
    #[serde(default = "no_cap")]
    pub quantity: i32,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn no_cap() -> i32 {
    -1
}

fn yes() -> bool {
    true
}

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

pub async fn list(State(state): State<AppState>, caller: ApiCaller) -> Result<Response> {
    let rows: Vec<UserRow> = users::list_visible(&state.db, &caller.rules())
        .await?
        .iter()
        .map(UserRow::from)
        .collect();
    Ok(ok(rows))
}

pub async fn show(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response> {
    let user = resolve(&state, &caller, &id).await?;
    permissions::can_view(&caller.rules(), &target_of(&user))?;
    let grants = grants::load(&state.db, user.user_id).await?;
    let mut row =
        serde_json::to_value(UserRow::from(&user)).map_err(|e| Error::Internal(e.into()))?;
    row["permissions"] =
        serde_json::to_value(entries_of(&grants)).map_err(|e| Error::Internal(e.into()))?;
    Ok(ok(row))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    username: String,
    password: Option<Secret>,
    email: Option<String>,
    enabled: Option<bool>,
    superuser: Option<bool>,
    manager: Option<i32>,
    lang: Option<String>,
    permissions: Option<Vec<PermissionEntry>>,
    require_password_change: Option<bool>,
    expires_hours: Option<i64>,
}

/// Creates a user; a non-superuser creator becomes the manager. Without a password one is
/// generated and returned once.
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response> {
    if let Some(password) = &body.password {
        check_length("password", password.expose(), 8, 128)?;
    }
    let rules = caller.rules();
    let grants = grants_of(body.permissions.as_deref().unwrap_or(&[]));
    let superuser = body.superuser.unwrap_or(false);
    let managed = users::count_managed(&state.db, caller.user.user_id).await?;
    permissions::can_create(&rules, managed, superuser, !grants.is_empty())?;
    let manager = if rules.is_superuser() {
        body.manager
    } else {
        Some(caller.user.user_id)
    };
    if let Some(manager_id) = manager
        && users::find_by_id(&state.db, manager_id).await?.is_none()
    {
        return Err(Error::InvalidJsonSchema(
            "manager: not an existing user".into(),
        ));
    }
    let new = NewUser {
        username: body.username,
        password: body.password,
        email: body.email,
        superuser,
        manager,
        lang: body.lang.unwrap_or_else(|| "en".into()),
        require_password_change: body.require_password_change.unwrap_or(false),
        expires_hours: body.expires_hours.unwrap_or(-1),
        enabled: body.enabled.unwrap_or(true),
        permissions: grants,
    };
    let (user, generated) = users::create(
        &state.db,
        &state.hasher,
        &state.config.policy,
        &caller.actor(),
        new,
    )
    .await?;
    let mut data = json!({ "user_id": user.user_id.to_string() });
    if let Some(password) = generated {
        data["password"] = json!(password.expose());
    }
    Ok(created(data))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    username: Option<String>,
    password: Option<Secret>,
    current_password: Option<Secret>,
    #[serde(default, deserialize_with = "nullable")]
    email: Option<Option<String>>,
    lang: Option<String>,
    enabled: Option<bool>,
    superuser: Option<bool>,
    #[serde(default, deserialize_with = "nullable")]
    manager: Option<Option<i32>>,
    permissions: Option<Vec<PermissionEntry>>,
}

/// Edits a user through the shared `update_user` path. Changing one's own password answers
/// with a fresh login token, since the change ends every other.
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
    let update = UserUpdate {
        username: body.username,
        email: body.email,
        lang: body.lang,
        enabled: body.enabled,
        superuser: body.superuser,
        manager: body.manager,
        permissions: body.permissions.as_deref().map(grants_of),
        password: body.password,
        current_password: body.current_password,
    };
    if caller.held_by_gate() && (update.password.is_none() || !update.touches_only_password()) {
        // While a change is pending, @me may only be patched to set the password.
        return Err(Error::PasswordChangeRequired);
    }
    let changes_own_password = update.password.is_some() && target.user_id == caller.user.user_id;
    let updated = update::update_user(
        &state.db,
        &state.hasher,
        &state.config.policy,
        &caller.actor(),
        &caller.rules(),
        &target,
        update,
    )
    .await?;
    let mut data =
        serde_json::to_value(UserRow::from(&updated)).map_err(|e| Error::Internal(e.into()))?;
    if changes_own_password && !matches!(caller.via, Via::ApiKey(_)) {
        data["token"] = json!(tokens::issue(&state.signing_key, &updated));
    }
    Ok(ok(data))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response> {
    let target = resolve(&state, &caller, &id).await?;
    update::delete_user(&state.db, &caller.actor(), &caller.rules(), &target).await?;
    Ok(ok(json!({})))
}
