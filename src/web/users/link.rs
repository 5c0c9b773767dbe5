//! The reset dialog's link choice (SPEC §10): GET shows the form (with the pending link and
//! its Revoke button), POST makes a link through the domain and redirects to its one-time
//! result (the link, a copy button and a QR code, shown once); revoking answers the form again.

use crate::web::form::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::accounts::audit::Actor;
use crate::accounts::clock;
use crate::accounts::reset_links::{self, DEFAULT_EXPIRES_HOURS, LinkOptions, MAX_EXPIRES_HOURS};
use crate::auth::client_ip::ClientIp;
use crate::entities::users as user_entity;
use crate::error::Error;
use crate::paths;
use crate::state::AppState;
use crate::views::link_dialog::{LinkFormView, link_form_dialog, link_form_page};
use crate::web::one_time::{self, LinkShown, OneTime};
use crate::web::page_or_fragment;
use crate::web::users::reset;
use crate::web::{Hx, PageResult, Viewer, result};

#[derive(Deserialize)]
pub struct ShowQuery {
    revoked: Option<String>,
}

/// The form for `target` as it stands (with their pending link, if any).
async fn blank(
    state: &AppState,
    target: &user_entity::Model,
) -> crate::error::Result<LinkFormView> {
    let pending = reset_links::live_until(&state.db, target.user_id).await?;
    Ok(LinkFormView {
        target_id: target.user_id,
        target_name: target.username.clone(),
        expires_hours: DEFAULT_EXPIRES_HOURS.to_string(),
        revoke_keys: false,
        reset_mfa: false,
        pending: pending.map(|at| format!("{} UTC", clock::display(at))),
        revoked: false,
        expires_error: None,
        general: None,
    })
}

fn form_response(viewer: &Viewer, hx: Hx, status: StatusCode, view: &LinkFormView) -> Response {
    let markup = page_or_fragment(
        hx,
        || link_form_dialog(viewer.lang, &viewer.csrf, view),
        || link_form_page(&viewer.context(), view),
    );
    (status, markup).into_response()
}

pub async fn reset_link_dialog(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    Path(id): Path<String>,
    Query(query): Query<ShowQuery>,
) -> PageResult {
    let target = reset::target(&state, &viewer, hx, &id).await?;
    let view = blank(&state, &target).await.map_err(|e| viewer.fail(e))?;
    let view = LinkFormView {
        revoked: query.revoked.is_some() && view.pending.is_none(),
        ..view
    };
    Ok(form_response(&viewer, hx, StatusCode::OK, &view))
}

#[derive(Deserialize)]
pub struct LinkFields {
    #[serde(default)]
    expires_hours: String,
    revoke_api_keys: Option<String>,
    reset_mfa: Option<String>,
}

pub async fn submit_reset_link(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    ip: ClientIp,
    Path(id): Path<String>,
    Form(fields): Form<LinkFields>,
) -> PageResult {
    let target = reset::target(&state, &viewer, hx, &id).await?;
    let mut view = blank(&state, &target).await.map_err(|e| viewer.fail(e))?;
    view.expires_hours = fields.expires_hours.trim().to_string();
    view.revoke_keys = fields.revoke_api_keys.is_some();
    view.reset_mfa = fields.reset_mfa.is_some();
    let hours = view
        .expires_hours
        .parse::<i64>()
        .ok()
        .filter(|h| (1..=MAX_EXPIRES_HOURS).contains(h));
    let Some(hours) = hours else {
        view.expires_error = Some(viewer.lang.t("resetLink.invalidExpiry").to_string());
        return Ok(form_response(&viewer, hx, StatusCode::BAD_REQUEST, &view));
    };
    let options = LinkOptions {
        expires_hours: hours,
        revoke_api_keys: view.revoke_keys,
        reset_mfa: view.reset_mfa,
    };
    let actor = Actor::user(&viewer.user, ip.to_string());
    let link = match reset_links::create(&state.db, &actor, &viewer.caller, &target, options).await
    {
        Ok(link) => link,
        Err(err) => {
            let err = Error::from(err);
            if err.status().is_server_error() {
                return Err(viewer.fail(err));
            }
            view.general = Some(viewer.lang.t(err.message_key()).to_string());
            return Ok(form_response(&viewer, hx, err.status(), &view));
        }
    };
    let shown = LinkShown {
        target_id: target.user_id,
        target_name: target.username.clone(),
        url: state.config.link_url(link.token.expose()),
        expires: format!("{} UTC", clock::display(link.expires)),
    };
    let id = one_time::put(&state, &viewer, OneTime::Link(shown))
        .await
        .map_err(|e| viewer.fail(e))?;
    Ok(one_time::redirect_to(hx, &id, one_time::Back::Users))
}

/// Revokes the pending link; a second submission finds none and changes nothing.
pub async fn revoke_reset_link(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    ip: ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> PageResult {
    let target = reset::target(&state, &viewer, hx, &id).await?;
    let actor = Actor::user(&viewer.user, ip.to_string());
    reset_links::revoke(&state.db, &actor, &viewer.caller, &target)
        .await
        .map_err(|e| viewer.fail(e))?;
    if !hx.0 {
        let to = format!("{}?revoked=1", paths::reset_link(target.user_id));
        return Ok(axum::response::Redirect::to(&to).into_response());
    }
    let view = LinkFormView {
        revoked: true,
        ..blank(&state, &target).await.map_err(|e| viewer.fail(e))?
    };
    let dialog = link_form_dialog(viewer.lang, &viewer.csrf, &view);
    Ok(result::dialog_with_row(&state, &viewer, &headers, target.user_id, dialog).await)
}
