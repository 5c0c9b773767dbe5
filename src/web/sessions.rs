//! `/panel/sessions` (SPEC §11): one's own sessions; ending one or all others goes through
//! `accounts::sessions` and answers 303 back to the page (a reload repeats nothing).

use crate::web::form::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use crate::accounts::audit::Actor;
use crate::accounts::{clock, sessions};
use crate::auth::client_ip::ClientIp;
use crate::paths;
use crate::state::AppState;
use crate::views::sessions::{SessionRow, SessionsView, sessions_page};
use crate::web::{PageResult, Viewer};

#[derive(Deserialize)]
pub struct ShowQuery {
    ended: Option<String>,
}

fn current_id(viewer: &Viewer) -> String {
    viewer
        .session
        .id()
        .map(|id| id.to_string())
        .unwrap_or_default()
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<ShowQuery>,
) -> PageResult {
    let lang = viewer.lang;
    let list = sessions::list_own(&state.db, viewer.user.user_id, &current_id(&viewer))
        .await
        .map_err(|e| viewer.fail(e))?;
    let when =
        |at: Option<time::PrimitiveDateTime>| at.map(clock::display).unwrap_or_else(|| "—".into());
    let rows = list
        .into_iter()
        .map(|s| SessionRow {
            handle: s.handle,
            browser: s
                .browser
                .unwrap_or_else(|| lang.t("sessions.unknownBrowser").into()),
            signed_in: when(s.signed_in_at),
            last_seen: when(s.last_seen),
            address: s.address.unwrap_or_else(|| "—".into()),
            current: s.current,
        })
        .collect();
    let notice = match query.ended.as_deref() {
        Some("one") => Some(lang.t("sessions.endedOne").to_string()),
        Some("others") => Some(lang.t("sessions.endedOthers").to_string()),
        _ => None,
    };
    Ok(sessions_page(&viewer.context(), &SessionsView { rows, notice }).into_response())
}

#[derive(Deserialize)]
pub struct EndFields {
    #[serde(default)]
    session: String,
}

pub async fn end_one(
    State(state): State<AppState>,
    viewer: Viewer,
    ip: ClientIp,
    Form(fields): Form<EndFields>,
) -> PageResult {
    let actor = Actor::user(&viewer.user, ip.to_string());
    let current = current_id(&viewer);
    sessions::end_own(&state.db, &actor, &viewer.user, &fields.session, &current)
        .await
        .map_err(|e| viewer.fail(e))?;
    Ok(Redirect::to(&format!("{}?ended=one", paths::SESSIONS)).into_response())
}

pub async fn end_others(State(state): State<AppState>, viewer: Viewer, ip: ClientIp) -> PageResult {
    let actor = Actor::user(&viewer.user, ip.to_string());
    let current = current_id(&viewer);
    sessions::end_others(&state.db, &actor, &viewer.user, &current)
        .await
        .map_err(|e| viewer.fail(e))?;
    Ok(Redirect::to(&format!("{}?ended=others", paths::SESSIONS)).into_response())
}
