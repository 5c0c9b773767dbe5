//! POST and DELETE /api/v2/users/{id}/reset-link: a single-use link instead of a temporary
//! password (SPEC §10).

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use crate::accounts::clock;
use crate::accounts::reset_links::{self, DEFAULT_EXPIRES_HOURS, LinkOptions};
use crate::api::caller::ApiCaller;
use crate::api::openapi::{ResetLinkErrors, RevokeLinkErrors};
use crate::api::schemas::{Empty, Envelope, ResetLinkData, UserId};
use crate::api::users::resolve;
use crate::api::{ApiJson, ok};
use crate::error::Result;
use crate::paths;
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetLinkBody {
    /// Hours until the link stops working: 1 to 72.
    #[schema(default = 24, minimum = 1, maximum = 72)]
    expires_hours: Option<i64>,
    /// Also delete the user's API keys when the link is used.
    #[schema(default = false)]
    revoke_api_keys: Option<bool>,
    /// Also remove the user's second factors when the link is used.
    #[schema(default = false)]
    reset_mfa: Option<bool>,
}

/// Makes a single-use link with which the user sets a password of their own; the same
/// permission rules as a password reset. Any older link of the user stops working; nothing
/// else changes until the link is used. The URL is shown this once.
#[utoipa::path(
    post,
    path = paths::api::RESET_LINK,
    tag = "users",
    params(UserId),
    request_body = ResetLinkBody,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "Link made", body = Envelope<ResetLinkData>), ResetLinkErrors)
)]
pub async fn create_reset_link(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ResetLinkBody>,
) -> Result<Response> {
    let options = LinkOptions::checked(
        body.expires_hours.unwrap_or(DEFAULT_EXPIRES_HOURS),
        body.revoke_api_keys.unwrap_or(false),
        body.reset_mfa.unwrap_or(false),
    )?;
    let target = resolve(&state, &caller, &id).await?;
    let link = reset_links::create(
        &state.db,
        &caller.actor(),
        &caller.rules(),
        &target,
        options,
    )
    .await?;
    Ok(ok(json!({
        "url": state.config.link_url(link.token.expose()),
        "expires": clock::rfc3339(link.expires),
    })))
}

/// Revokes the user's live reset link (if there is none, nothing changes).
#[utoipa::path(
    delete,
    path = paths::api::RESET_LINK,
    tag = "users",
    params(UserId),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "No live link any more", body = Envelope<Empty>), RevokeLinkErrors)
)]
pub async fn revoke_reset_link(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response> {
    let target = resolve(&state, &caller, &id).await?;
    reset_links::revoke(&state.db, &caller.actor(), &caller.rules(), &target).await?;
    Ok(ok(json!({})))
}
