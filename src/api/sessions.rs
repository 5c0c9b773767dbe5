//! DELETE /api/v2/users/{id}/sessions: ends every session and login token of a user
//! (SPEC §11).

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::json;

use crate::accounts::sessions;
use crate::api::caller::ApiCaller;
use crate::api::ok;
use crate::api::openapi::EndSessionsErrors;
use crate::api::schemas::{Empty, Envelope, UserId};
use crate::api::users::resolve;
use crate::error::Result;
use crate::paths;
use crate::state::AppState;

/// Ends every web session and login token of the user (their stamp rotates; API keys stay):
/// oneself, a superuser, or the user's manager. With `@me` the caller's own session or token
/// ends too.
#[utoipa::path(
    delete,
    path = paths::api::SESSIONS,
    tag = "users",
    params(UserId),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "Every session and login token ended", body = Envelope<Empty>), EndSessionsErrors)
)]
pub async fn end_sessions(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response> {
    let target = resolve(&state, &caller, &id).await?;
    sessions::end_all(&state.db, &caller.actor(), &caller.rules(), &target).await?;
    Ok(ok(json!({})))
}
