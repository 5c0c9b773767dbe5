//! API keys of a user: GET/POST /api/v2/users/{id}/key, DELETE …/key/{key_id} (Crafty's
//! PATCH and GET of one key are in `crafty`).

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use crate::accounts::api_keys;
use crate::accounts::clock;
use crate::accounts::permissions::target_of;
use crate::accounts::permissions::{self, KeyScope};
use crate::api::caller::ApiCaller;
use crate::api::crafty::{crafty_mask, server_mask};
use crate::api::openapi::{CreateKeyErrors, DeleteKeyErrors, ListKeysErrors};
use crate::api::schemas::{CreatedKey, Empty, Envelope, KeyRow, UserId, UserKeyId};
use crate::api::users::{PermissionEntry, resolve};
use crate::api::{ApiJson, created, ok};
use crate::error::{Error, Result};
use crate::paths;
use crate::state::AppState;

/// The user's API keys (never their secrets): oneself or a superuser.
#[utoipa::path(
    get,
    path = paths::api::KEYS,
    tag = "keys",
    operation_id = "list_keys",
    params(UserId),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "The keys", body = Envelope<Vec<KeyRow>>), ListKeysErrors)
)]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response> {
    let owner = resolve(&state, &caller, &id).await?;
    permissions::can_manage_keys(&caller.rules(), &target_of(&owner))?;
    let keys: Vec<_> = api_keys::list(&state.db, owner.user_id)
        .await?
        .iter()
        .map(|key| {
            let scope = api_keys::scope_of(key);
            json!({
                "key_id": key.key_id.to_string(),
                "id": key.key_id,
                "name": key.name,
                "full_access": key.full_access,
                "permissions": scope.permissions.iter()
                    .map(|name| json!({"name": name, "quantity": -1, "enabled": true}))
                    .collect::<Vec<_>>(),
                "crafty_permissions": crafty_mask(scope.permissions.iter().map(String::as_str)),
                "server_permissions": server_mask(),
                "created": clock::rfc3339(key.created),
                "last_used": key.last_used.map(clock::rfc3339),
            })
        })
        .collect();
    Ok(ok(keys))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyBody {
    /// 1 to 64 characters (after trimming).
    #[schema(min_length = 1, max_length = 64)]
    name: String,
    /// Permissions of the owner the key may use (entries with `enabled: false` are left out).
    #[serde(default)]
    permissions: Vec<PermissionEntry>,
    /// Every right of the owner, superuser rights included.
    #[serde(default)]
    full_access: bool,
}

/// Creates a key; the token is in this answer and never again. Oneself or a superuser; a
/// key never gets more than its owner, or than the key that creates it.
#[utoipa::path(
    post,
    path = paths::api::KEYS,
    tag = "keys",
    operation_id = "create_key",
    params(UserId),
    request_body = KeyBody,
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, description = "Created", body = Envelope<CreatedKey>), CreateKeyErrors)
)]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<KeyBody>,
) -> Result<Response> {
    let owner = resolve(&state, &caller, &id).await?;
    let scope = KeyScope {
        full_access: body.full_access,
        permissions: body
            .permissions
            .iter()
            .filter(|p| p.enabled)
            .map(|p| p.name.clone())
            .collect(),
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
    Ok(created(
        json!({"key_id": key.key_id.to_string(), "token": token.expose()}),
    ))
}

/// Deletes (revokes) one of the user's keys: oneself or a superuser.
#[utoipa::path(
    delete,
    path = paths::api::KEY,
    tag = "keys",
    operation_id = "delete_key",
    params(UserKeyId),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "Deleted", body = Envelope<Empty>), DeleteKeyErrors)
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, key_id)): Path<(String, String)>,
) -> Result<Response> {
    let owner = resolve(&state, &caller, &id).await?;
    let key_id: i32 = key_id.parse().map_err(|_| Error::NotFound)?;
    api_keys::delete(&state.db, &caller.actor(), &caller.rules(), &owner, key_id).await?;
    Ok(ok(json!({})))
}
