//! Crafty 4's routes beside passgate's own (SPEC §12): the API index, a user's public
//! attributes, picture and permissions, and API keys the way Crafty makes and fetches them.

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::accounts::permissions::target_of;
use crate::accounts::permissions::{self, KeyScope, ROLES_CONFIG, USER_CONFIG};
use crate::accounts::{api_keys, grants, roles, users as accounts_users};
use crate::api::caller::ApiCaller;
use crate::api::openapi::{CraftyKeyErrors, IndexErrors, ShowKeyErrors, ShowUserErrors};
use crate::api::schemas::{
    ApiIndex, CraftyCreatedKey, CraftyPermissions, Envelope, PublicUser, RoleRow, UserId, UserKeyId,
};
use crate::api::users::resolve;
use crate::api::{ApiJson, ok};
use crate::entities::users as user_entity;
use crate::error::{Error, Result};
use crate::paths;
use crate::state::AppState;

/// Crafty's crafty permissions, in the order of its mask (`EnumPermissionsCrafty`).
const CRAFTY_MASK: [&str; 3] = ["SERVER_CREATION", USER_CONFIG, ROLES_CONFIG];
/// Crafty's server-permission mask has eight places; passgate has no servers.
const SERVER_MASK_LENGTH: usize = 8;

/// The crafty-permission mask of a set of permission names: `010` for `USER_CONFIG`.
pub fn crafty_mask<'a>(names: impl IntoIterator<Item = &'a str> + Clone) -> String {
    CRAFTY_MASK
        .iter()
        .map(|place| {
            if names.clone().into_iter().any(|n| n == *place) {
                '1'
            } else {
                '0'
            }
        })
        .collect()
}

/// The server mask passgate shows: no server permissions.
pub fn server_mask() -> String {
    "0".repeat(SERVER_MASK_LENGTH)
}

/// The permissions passgate knows in a Crafty mask. `SERVER_CREATION` is Crafty's and
/// grants nothing here, so its place is accepted and ignored.
fn permissions_in_mask(mask: &str) -> Vec<String> {
    CRAFTY_MASK
        .iter()
        .zip(mask.chars())
        .filter(|(name, bit)| *bit == '1' && permissions::KNOWN_PERMISSIONS.contains(name))
        .map(|(name, _)| name.to_string())
        .collect()
}

fn check_mask(field: &str, mask: &str, length: usize) -> Result<()> {
    if mask.len() == length && mask.chars().all(|c| c == '0' || c == '1') {
        Ok(())
    } else {
        Err(Error::InvalidJsonSchema(format!(
            "{field}: {length} characters, each 0 or 1"
        )))
    }
}

/// The API index (public, as in Crafty): the version.
#[utoipa::path(
    get,
    path = paths::api::ROOT,
    tag = "meta",
    operation_id = "api_index",
    responses((status = 200, description = "passgate's version", body = Envelope<ApiIndex>), IndexErrors)
)]
pub async fn index() -> Response {
    ok(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "message": "passgate: Crafty Controller 4's user API. \
                    The OpenAPI document is at /api/v2/openapi.json",
    }))
}

/// A user that the caller may see (oneself, a superuser, the manager).
async fn visible(state: &AppState, caller: &ApiCaller, id: &str) -> Result<user_entity::Model> {
    let user = resolve(state, caller, id).await?;
    permissions::can_view(&caller.rules(), &target_of(&user))?;
    Ok(user)
}

/// Crafty's public attributes of a user. Unlike Crafty, only for users the caller may see.
#[utoipa::path(
    get,
    path = paths::api::USER_PUBLIC,
    tag = "users",
    operation_id = "show_public_user",
    params(UserId),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "The user's public attributes", body = Envelope<PublicUser>), ShowUserErrors)
)]
pub async fn public_user(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response> {
    let user = visible(&state, &caller, &id).await?;
    let roles: Vec<RoleRow> = roles::of_user(&state.db, user.user_id)
        .await?
        .iter()
        .map(RoleRow::new)
        .collect();
    Ok(ok(json!({
        "user_id": user.user_id,
        "created": crate::accounts::clock::rfc3339(user.created),
        "username": user.username,
        "enabled": user.enabled,
        "superuser": user.superuser,
        "lang": user.lang,
        "roles": roles,
    })))
}

/// The user's picture: always `null`, passgate serves no pictures.
#[utoipa::path(
    get,
    path = paths::api::USER_PICTURE,
    tag = "users",
    operation_id = "show_user_picture",
    params(UserId),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`data` is null", body = Envelope<Option<String>>), ShowUserErrors)
)]
pub async fn picture(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response> {
    visible(&state, &caller, &id).await?;
    Ok(ok(serde_json::Value::Null))
}

/// The user's permissions in Crafty's shape (mask, counters, limits).
#[utoipa::path(
    get,
    path = paths::api::USER_PERMISSIONS,
    tag = "users",
    operation_id = "show_user_permissions",
    params(UserId),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "The permissions", body = Envelope<CraftyPermissions>), ShowUserErrors)
)]
pub async fn user_permissions(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response> {
    let user = visible(&state, &caller, &id).await?;
    let held = grants::load(&state.db, user.user_id).await?;
    let managed = accounts_users::count_managed(&state.db, user.user_id).await?;
    let managed_roles = roles::count_managed(&state.db, user.user_id).await?;
    let limit = grants::quantity(&held, USER_CONFIG).unwrap_or(0);
    let roles_limit = grants::quantity(&held, ROLES_CONFIG).unwrap_or(0);
    Ok(ok(json!({
        "permissions": crafty_mask(held.iter().map(|g| g.name.as_str())),
        "counters": {"SERVER_CREATION": 0, "USER_CONFIG": managed, "ROLES_CONFIG": managed_roles},
        "limits": {"SERVER_CREATION": 0, "USER_CONFIG": limit, "ROLES_CONFIG": roles_limit},
    })))
}

/// Crafty's body for a new API key.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CraftyKeyBody {
    /// 1 to 64 characters (after trimming).
    #[schema(min_length = 1, max_length = 64)]
    name: String,
    /// Crafty's server permissions: accepted and ignored (passgate has no servers).
    #[schema(pattern = "^[01]{8}$", default = "00000000")]
    server_permissions_mask: Option<String>,
    /// `SERVER_CREATION`, `USER_CONFIG`, `ROLES_CONFIG`, one character each: the key gets
    /// `USER_CONFIG` for a 1 in the middle and `ROLES_CONFIG` for a 1 at the end (its owner
    /// must hold them); the first place names a Crafty permission passgate does not have
    /// and grants nothing.
    #[schema(pattern = "^[01]{3}$", default = "000")]
    crafty_permissions_mask: Option<String>,
    /// Every right of the owner, superuser rights included.
    #[serde(default)]
    full_access: bool,
}

/// Creates a key as Crafty does (`PATCH`, masks), through the same domain path as
/// `POST /users/{id}/key`. Answers the id and, unlike Crafty, the token: its secret is
/// never available again.
#[utoipa::path(
    patch,
    path = paths::api::KEYS,
    tag = "keys",
    operation_id = "create_key_crafty",
    params(UserId),
    request_body = CraftyKeyBody,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "Created", body = Envelope<CraftyCreatedKey>), CraftyKeyErrors)
)]
pub async fn create_key(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CraftyKeyBody>,
) -> Result<Response> {
    if let Some(mask) = &body.server_permissions_mask {
        check_mask("server_permissions_mask", mask, SERVER_MASK_LENGTH)?;
    }
    let crafty = body.crafty_permissions_mask.as_deref().unwrap_or("000");
    check_mask("crafty_permissions_mask", crafty, CRAFTY_MASK.len())?;
    let owner = resolve(&state, &caller, &id).await?;
    let scope = KeyScope {
        full_access: body.full_access,
        permissions: permissions_in_mask(crafty),
    };
    let (key, token) = api_keys::create(
        &state.db,
        &caller.actor(),
        &caller.rules(),
        &owner,
        &body.name,
        scope,
    )
    .await?;
    Ok(ok(json!({"id": key.key_id, "token": token.expose()})))
}

/// Crafty hands out a key's token again here; passgate keeps only a hash of it, so this
/// answers 410 `KEY_NOT_RETRIEVABLE` for an existing key (create a new key instead).
#[utoipa::path(
    get,
    path = paths::api::KEY,
    tag = "keys",
    operation_id = "show_key",
    params(UserKeyId),
    security(("bearer" = []), ("session" = [])),
    responses(ShowKeyErrors)
)]
pub async fn show_key(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, key_id)): Path<(String, String)>,
) -> Result<Response> {
    let owner = resolve(&state, &caller, &id).await?;
    permissions::can_manage_keys(&caller.rules(), &target_of(&owner))?;
    let key_id: i32 = key_id.parse().map_err(|_| Error::NotFound)?;
    api_keys::find(&state.db, owner.user_id, key_id)
        .await?
        .ok_or(Error::NotFound)?;
    Err(Error::KeyNotRetrievable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crafty_mask_places_are_server_creation_user_config_roles_config() {
        assert_eq!(permissions_in_mask("010"), ["USER_CONFIG"]);
        assert_eq!(permissions_in_mask("111"), ["USER_CONFIG", "ROLES_CONFIG"]);
        assert_eq!(permissions_in_mask("101"), ["ROLES_CONFIG"]);
        assert!(permissions_in_mask("100").is_empty());
        assert!(permissions_in_mask("000").is_empty());
        assert_eq!(crafty_mask(["USER_CONFIG"]), "010");
        assert_eq!(crafty_mask(["ROLES_CONFIG", "USER_CONFIG"]), "011");
        assert_eq!(crafty_mask([]), "000");
    }

    #[test]
    fn masks_of_the_wrong_length_or_alphabet_are_refused_naming_the_field() {
        assert!(check_mask("crafty_permissions_mask", "010", 3).is_ok());
        for bad in ["", "01", "0100", "0a0", "01 ", "０10"] {
            let err = check_mask("crafty_permissions_mask", bad, 3).unwrap_err();
            assert!(
                err.to_string().starts_with("crafty_permissions_mask:"),
                "{bad}"
            );
        }
    }
}
