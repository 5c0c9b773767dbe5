//! Creating and editing an application. An edit that would end OpenID Connect sign-ins (the
//! client turned off, or made public) is shown on a confirmation page first, carrying the
//! whole edit; only its confirmed submission applies it, and only if the application is still
//! as it was shown (`accounts::apps::review`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};

use crate::accounts;
use crate::accounts::apps::{self, App, Saved, Unconfirmed};
use crate::accounts::audit::Actor;
use crate::auth::client_ip::ClientIp;
use crate::paths;
use crate::state::AppState;
use crate::views::apps::{EditConfirmView, edit_confirm_page, policy_key};
use crate::web::apps::form::{Shown, Submitted, refused, render_form};
use crate::web::apps::{ListQuery, app_id, client, load, superuser_only};
use crate::web::form::Form;
use crate::web::{Hx, PageResult, Viewer};

/// `GET /panel/apps/new`.
pub async fn new_app_form(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    superuser_only(&viewer)?;
    let submitted = Submitted::from_pairs(Vec::new());
    render_form(&state, &viewer, &submitted, Shown::ok(None)).await
}

/// `POST /panel/apps/new`. A confidential client's secret is shown once (a one-time result);
/// a public client's page shows its `client_id`.
pub async fn submit_new_app(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    ip: ClientIp,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let submitted = Submitted::from_pairs(pairs);
    let actor = Actor::user(&viewer.user, ip.to_string());
    let created = match submitted.fields() {
        Ok(fields) => apps::create(&state.db, &state.apps, &actor, &viewer.caller, fields).await,
        Err(err) => Err(err),
    };
    match created {
        Ok(Saved {
            app,
            client_secret: Some(secret),
        }) => client::show_once(&state, &viewer, hx, &app, &secret, true).await,
        // A public client: its page, opened at the card with its client id.
        Ok(Saved { app, .. }) if app.oidc.is_some() => Ok(Redirect::to(&format!(
            "{}?done=created#client-title",
            paths::edit_app(app.app_id)
        ))
        .into_response()),
        Ok(_) => Ok(Redirect::to(&format!("{}?done=created", paths::APPS)).into_response()),
        Err(err) => refused(&state, &viewer, None, &submitted, err).await,
    }
}

/// `GET /panel/apps/{id}`: the application's page, its form and its client.
pub async fn edit_app_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<ListQuery>,
) -> PageResult {
    let app = load(&state, &viewer, &id).await?;
    let submitted = Submitted::of(&app);
    let notice = match query.done.as_deref() {
        Some("created") => Some(viewer.lang.t("apps.created")),
        _ => None,
    };
    let shown = Shown {
        notice,
        ..Shown::ok(Some(&app))
    };
    render_form(&state, &viewer, &submitted, shown).await
}

/// `POST /panel/apps/{id}`: every field of the form replaces the application's. Turning a
/// public client confidential makes its first secret, shown once. An edit that ends OpenID
/// Connect sign-ins answers its confirmation page; the page's Confirm posts the same edit
/// here with what it showed, and only then is it applied.
pub async fn submit_edit_app(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    ip: ClientIp,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let id = app_id(&viewer, &id)?;
    let submitted = Submitted::from_pairs(pairs);
    let actor = Actor::user(&viewer.user, ip.to_string());
    let updated = match submitted.changes() {
        Ok(changes) => {
            apps::update(&state.db, &state.apps, &actor, &viewer.caller, id, changes).await
        }
        Err(err) => Err(err),
    };
    match updated {
        Ok(Saved {
            app,
            client_secret: Some(secret),
        }) => client::show_once(&state, &viewer, hx, &app, &secret, false).await,
        Ok(_) => Ok(Redirect::to(&format!("{}?done=updated", paths::APPS)).into_response()),
        Err(err) => {
            // The page again, with the application's client as it still is.
            let current = apps::get(&state.db, &viewer.caller, id)
                .await
                .map_err(|e| viewer.fail(e))?;
            match err {
                accounts::Error::EditUnconfirmed(why) => {
                    confirm_edit(&state, &viewer, &current, &submitted, &why).await
                }
                err => refused(&state, &viewer, Some(&current), &submitted, err).await,
            }
        }
    }
}

/// An edit that was not applied because it ends OpenID Connect sign-ins: its confirmation
/// page (again, saying so, when the application changed since it was shown), or — when the
/// application changed so that the edit now ends nothing — the form with what was typed and
/// why nothing was saved. Never applied from here.
async fn confirm_edit(
    state: &AppState,
    viewer: &Viewer,
    current: &App,
    submitted: &Submitted,
    why: &Unconfirmed,
) -> PageResult {
    let lang = viewer.lang;
    let status = if why.changed {
        StatusCode::CONFLICT
    } else {
        StatusCode::OK
    };
    if !why.ends.any() {
        let shown = Shown {
            warning: Some(lang.t("appsConfirm.stale")),
            status,
            ..Shown::ok(Some(current))
        };
        return render_form(state, viewer, submitted, shown).await;
    }
    let client_type = match (submitted.client.on, submitted.client.client_type.as_str()) {
        (false, _) => lang.t("appsConfirm.oidcOff"),
        (true, "public") => lang.t("oidcClient.public"),
        (true, _) => lang.t("oidcClient.confidential"),
    };
    let mut after = vec![
        (lang.t("apps.name"), submitted.name.trim().to_string()),
        (
            lang.t("apps.policy"),
            lang.t(policy_key(&submitted.policy)).to_string(),
        ),
        (lang.t("oidcClient.legend"), client_type.to_string()),
    ];
    if submitted.client.on {
        after.push((
            lang.t("oidcClient.redirectUris"),
            client::lines(&submitted.client.redirect_uris).join(", "),
        ));
    }
    let version = why.version.clone();
    let view = EditConfirmView {
        app_id: current.app_id,
        name: &current.name,
        client_id: current.oidc.as_ref().map_or("", |c| c.client_id.as_str()),
        ends_client: why.ends.client,
        ends_secret: why.ends.secret,
        signed_in: why.signed_in,
        changed: why.changed,
        version: &version,
        ends_words: why.ends.to_words(),
        fields: &submitted.carried,
        after,
    };
    Ok((status, edit_confirm_page(&viewer.context(), &view)).into_response())
}
