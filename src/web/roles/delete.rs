//! Deleting a role (`/panel/roles/{id}/delete`): a confirmation page (with and without
//! JavaScript), then `accounts::roles::delete`.

use axum::extract::{Path, State};
use axum::response::IntoResponse;

use crate::accounts::audit::Actor;
use crate::accounts::roles;
use crate::auth::client_ip::ClientIp;
use crate::paths;
use crate::state::AppState;
use crate::views::roles::delete_role_page;
use crate::web::roles::{may_change, role_of};
use crate::web::{Hx, PageResult, Viewer, redirect};

pub async fn delete_role_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    let role = role_of(&state, &viewer, &id).await?;
    may_change(&viewer, &role)?;
    let members = roles::member_ids(&state.db, role.role_id)
        .await
        .map_err(|e| viewer.fail(e))?
        .len() as u64;
    Ok(delete_role_page(
        &viewer.context(),
        role.role_id,
        &role.role_name,
        members,
        role.mfa_required,
    )
    .into_response())
}

pub async fn submit_delete_role(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    ip: ClientIp,
    Path(id): Path<String>,
) -> PageResult {
    let role = role_of(&state, &viewer, &id).await?;
    may_change(&viewer, &role)?;
    let actor = Actor::user(&viewer.user, ip.to_string());
    roles::delete(&state.db, &actor, &viewer.caller, role.role_id)
        .await
        .map_err(|e| viewer.fail(e))?;
    Ok(redirect(hx, &format!("{}?deleted=1", paths::ROLES)))
}
