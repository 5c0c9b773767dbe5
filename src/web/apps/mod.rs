//! `/panel/apps` (SPEC §15.1): the applications, for superusers — the list (here), the form
//! read and shown (`form.rs`), create and edit (`edit.rs`: an edit that ends OpenID Connect
//! sign-ins is confirmed on a page of its own first), delete with a confirmation
//! (`delete.rs`). Plain forms and 303s (nothing needs JavaScript); every change goes through
//! `accounts::apps`, which checks the caller and audits. A refusal is placed beside the field
//! it is about. The OpenID Connect client's fields, card and secret: `client.rs`.

pub mod client;
mod delete;
mod edit;
mod form;

use axum::extract::{Query, State};
use axum::response::IntoResponse;
use serde::Deserialize;

use crate::accounts;
use crate::accounts::apps::{self, App};
use crate::state::AppState;
use crate::views::apps::{AppRowView, AppsView, apps_page};
use crate::web::{PageError, PageResult, Viewer};

pub use delete::{delete_app_form, submit_delete_app};
pub use edit::{edit_app_form, new_app_form, submit_edit_app, submit_new_app};

#[derive(Deserialize, Default)]
pub struct ListQuery {
    done: Option<String>,
}

/// `GET /panel/apps`.
pub async fn list_apps(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<ListQuery>,
) -> PageResult {
    let fail = |e: accounts::Error| viewer.fail(e);
    let all = apps::list(&state.db, &viewer.caller).await.map_err(fail)?;
    let roles = apps::role_choices(&state.db).await.map_err(fail)?;
    let role_name = |id: &i32| {
        roles
            .iter()
            .find(|(role_id, _)| role_id == id)
            .map_or_else(|| id.to_string(), |(_, name)| name.clone())
    };
    let rows = all
        .iter()
        .map(|app| AppRowView {
            id: app.app_id,
            name: app.name.clone(),
            description: app.description.clone(),
            hosts: app.hosts.iter().map(ToString::to_string).collect(),
            public_paths: app.public_paths.iter().map(ToString::to_string).collect(),
            roles: app.allowed_roles.iter().map(role_name).collect(),
            policy: app.policy.as_str().to_string(),
        })
        .collect();
    let lang = viewer.lang;
    let notice = match query.done.as_deref() {
        Some("created") => Some(lang.t("apps.created")),
        Some("updated") => Some(lang.t("apps.updated")),
        Some("deleted") => Some(lang.t("apps.deleted")),
        _ => None,
    };
    let view = AppsView {
        rows,
        notice,
        sso_off: state.config.sso.is_none(),
    };
    Ok(apps_page(&viewer.context(), &view).into_response())
}

/// Refuses early whoever may not manage applications (the use cases check again).
fn superuser_only(viewer: &Viewer) -> Result<(), PageError> {
    accounts::permissions::can_manage_apps(&viewer.caller).map_err(|e| viewer.fail(e))
}

pub(crate) fn app_id(viewer: &Viewer, raw: &str) -> Result<i32, PageError> {
    raw.parse::<i32>()
        .map_err(|_| viewer.fail(accounts::Error::AppNotFound))
}

/// The application the path names, as the viewer may read it (superusers).
pub(crate) async fn load(state: &AppState, viewer: &Viewer, raw: &str) -> Result<App, PageError> {
    let id = app_id(viewer, raw)?;
    apps::get(&state.db, &viewer.caller, id)
        .await
        .map_err(|e| viewer.fail(e))
}
