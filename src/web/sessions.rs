//! `/panel/sessions` (SPEC §11, §15.3): one's own sessions, the panel's and single sign-on's; ending one or all others goes through
//! `accounts::sessions` and answers 303 back to the page (a reload repeats nothing).

use crate::web::form::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use crate::accounts::audit::Actor;
use crate::accounts::sessions::{Kind, ThisBrowser};
use crate::accounts::{clock, sessions};
use crate::auth::client_ip::ClientIp;
use crate::auth::sso;
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

/// The row id of this browser's SSO session, if it sends one.
fn current_sso(headers: &HeaderMap) -> Option<String> {
    sso::token_in(headers).map(|token| sso::id_of(&token))
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Query(query): Query<ShowQuery>,
) -> PageResult {
    let lang = viewer.lang;
    let (panel, sso_id) = (current_id(&viewer), current_sso(&headers));
    let this = ThisBrowser {
        panel: &panel,
        sso: sso_id.as_deref(),
    };
    let list = sessions::list_own(&state.db, viewer.user.user_id, this)
        .await
        .map_err(|e| viewer.fail(e))?;
    let apps_label = state.config.sso.as_ref().map(|sso| {
        lang.t("sso.kindApps")
            .replace("{domain}", &sso.cookie_domain)
    });
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
            apps: (s.kind == Kind::SingleSignOn).then(|| {
                apps_label
                    .clone()
                    .unwrap_or_else(|| lang.t("sso.kindApps").replace("{domain}", "—"))
            }),
        })
        .collect();
    let notice = match query.ended.as_deref() {
        Some("one") => Some(lang.t("sessions.endedOne").to_string()),
        Some("others") => Some(lang.t("sessions.endedOthers").to_string()),
        _ => None,
    };
    let apps = crate::web::oidc::sign_ins::rows(&state, &viewer)
        .await
        .map_err(|e| viewer.fail(e))?;
    let view = SessionsView {
        rows,
        notice,
        apps,
        apps_ended: query.ended.as_deref() == Some("app"),
    };
    Ok(sessions_page(&viewer.context(), &view).into_response())
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
    headers: HeaderMap,
    Form(fields): Form<EndFields>,
) -> PageResult {
    let actor = Actor::user(&viewer.user, ip.to_string());
    let (panel, sso_id) = (current_id(&viewer), current_sso(&headers));
    let this = ThisBrowser {
        panel: &panel,
        sso: sso_id.as_deref(),
    };
    sessions::end_own(&state.db, &actor, &viewer.user, &fields.session, this)
        .await
        .map_err(|e| viewer.fail(e))?;
    Ok(Redirect::to(&format!("{}?ended=one", paths::SESSIONS)).into_response())
}

pub async fn end_others(
    State(state): State<AppState>,
    viewer: Viewer,
    ip: ClientIp,
    headers: HeaderMap,
) -> PageResult {
    let actor = Actor::user(&viewer.user, ip.to_string());
    let (panel, sso_id) = (current_id(&viewer), current_sso(&headers));
    let this = ThisBrowser {
        panel: &panel,
        sso: sso_id.as_deref(),
    };
    sessions::end_others(&state.db, &actor, &viewer.user, this)
        .await
        .map_err(|e| viewer.fail(e))?;
    Ok(Redirect::to(&format!("{}?ended=others", paths::SESSIONS)).into_response())
}
