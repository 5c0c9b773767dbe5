//! API keys of a user: GET/POST /api/v2/users/{id}/key, DELETE …/key/{key_id}.

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use crate::accounts::api_keys;
use crate::accounts::clock;
use crate::accounts::permissions::{self, KeyScope};
use crate::accounts::update::target_of;
use crate::api::users::{PermissionEntry, resolve};
use crate::api::{ApiJson, created, ok};
use crate::auth::api::ApiCaller;
use crate::error::{Error, Result};
use crate::state::AppState;

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
                "name": key.name,
                "full_access": key.full_access,
                "permissions": scope.permissions.iter()
                    .map(|name| json!({"name": name, "quantity": -1, "enabled": true}))
                    .collect::<Vec<_>>(),
                "created": clock::rfc3339(key.created),
                "last_used": key.last_used.map(clock::rfc3339),
            })
        })
        .collect();
    Ok(ok(keys))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyBody {
    name: String,
    #[serde(default)]
    permissions: Vec<PermissionEntry>,
    #[serde(default)]
    full_access: bool,
}

/// Creates a key; the token is in this answer and never again.
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
