//! Delete a user (`/panel/delete_user?id=N`) after a confirmation, through the same domain
//! function as the API.

use axum::extract::{Query, State};
use axum::response::IntoResponse;

use crate::accounts::audit::Actor;
use crate::accounts::permissions::{self, target_of};
use crate::auth::client_ip::ClientIp;
use crate::error::Error;
use crate::paths;
use crate::state::AppState;
use crate::views::user_form::delete_page;
use crate::web::users::edit::edited;
use crate::web::users::form::IdQuery;
use crate::web::{Hx, PageResult, Viewer, redirect};

pub async fn delete_user_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<IdQuery>,
) -> PageResult {
    let user = edited(&state, &viewer, query.id.as_deref()).await?;
    permissions::can_delete(&viewer.caller, &target_of(&user)).map_err(|d| viewer.fail(d))?;
    Ok(delete_page(&viewer.context(), user.user_id, &user.username, None).into_response())
}

pub async fn submit_delete_user(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    ip: ClientIp,
    Query(query): Query<IdQuery>,
) -> PageResult {
    let user = edited(&state, &viewer, query.id.as_deref()).await?;
    let actor = Actor::user(&viewer.user, ip.to_string());
    match crate::accounts::delete::delete_user(&state.db, &actor, &viewer.caller, &user).await {
        Ok(()) => Ok(redirect(hx, paths::USERS)),
        Err(err) => {
            let err = Error::from(err);
            if err.status().is_server_error() {
                return Err(viewer.fail(err));
            }
            let message = viewer.lang.t(err.message_key());
            Ok((
                err.status(),
                delete_page(
                    &viewer.context(),
                    user.user_id,
                    &user.username,
                    Some(message),
                ),
            )
                .into_response())
        }
    }
}
