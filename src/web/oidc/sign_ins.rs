//! The apps a user signed in to (SPEC §16), on `/panel/sessions`: each live grant with the
//! app's name, and ending one (its tokens revoked, audited; 303 back to the page).

use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use crate::accounts::audit::Actor;
use crate::accounts::oidc::grants;
use crate::accounts::{apps, clock};
use crate::auth::client_ip::ClientIp;
use crate::auth::sign_in_id;
use crate::paths;
use crate::state::AppState;
use crate::views::oidc::AppSignInRow;
use crate::web::form::Form;
use crate::web::{PageResult, Viewer};

/// The viewer's live app sign-ins, most recently used first.
pub async fn rows(state: &AppState, viewer: &Viewer) -> crate::error::Result<Vec<AppSignInRow>> {
    let sid = sign_in_id::get(&viewer.session).await?;
    let live = grants::list_live(&state.db, viewer.user.user_id, sid.as_deref()).await?;
    let mut rows = Vec::with_capacity(live.len());
    for grant in live {
        let app = apps::for_sign_in(&state.db, grant.app_id)
            .await?
            .map_or_else(|| format!("#{}", grant.app_id), |app| app.name);
        rows.push(AppSignInRow {
            grant_id: grant.grant_id,
            app,
            signed_in: clock::display(grant.signed_in_at),
            last_used: grant
                .last_used
                .map(clock::display)
                .unwrap_or_else(|| "—".into()),
            this_browser: grant.this_browser,
        });
    }
    Ok(rows)
}

#[derive(Deserialize)]
pub struct EndFields {
    #[serde(default)]
    grant: String,
}

/// Ends one of the viewer's app sign-ins; a grant of someone else, or one already ended,
/// changes nothing.
pub async fn end(
    State(state): State<AppState>,
    viewer: Viewer,
    ip: ClientIp,
    Form(fields): Form<EndFields>,
) -> PageResult {
    let actor = Actor::user(&viewer.user, ip.to_string());
    if let Ok(grant_id) = fields.grant.trim().parse::<i32>() {
        grants::end_own(&state.db, &actor, &viewer.user, grant_id)
            .await
            .map_err(|e| viewer.fail(e))?;
    }
    Ok(Redirect::to(&format!("{}?ended=app", paths::SESSIONS)).into_response())
}
