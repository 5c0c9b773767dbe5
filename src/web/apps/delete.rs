//! Deleting an application, after a confirmation page.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};

use crate::accounts::apps;
use crate::accounts::audit::Actor;
use crate::auth::client_ip::ClientIp;
use crate::paths;
use crate::state::AppState;
use crate::views::apps::delete_app_page;
use crate::web::apps::{app_id, load};
use crate::web::{PageResult, Viewer};

/// `GET /panel/apps/{id}/delete`: the confirmation.
pub async fn delete_app_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    let app = load(&state, &viewer, &id).await?;
    Ok(delete_app_page(&viewer.context(), app.app_id, &app.name).into_response())
}

/// `POST /panel/apps/{id}/delete`. A second submission finds nothing: 404.
pub async fn submit_delete_app(
    State(state): State<AppState>,
    viewer: Viewer,
    ip: ClientIp,
    Path(id): Path<String>,
) -> PageResult {
    let id = app_id(&viewer, &id)?;
    let actor = Actor::user(&viewer.user, ip.to_string());
    apps::delete(&state.db, &state.apps, &actor, &viewer.caller, id)
        .await
        .map_err(|e| viewer.fail(e))?;
    Ok(Redirect::to(&format!("{}?done=deleted", paths::APPS)).into_response())
}
