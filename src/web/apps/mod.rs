//! `/panel/apps` (SPEC §15.1): the applications, for superusers — list, create, edit, delete
//! with a confirmation. Plain forms and 303s (nothing needs JavaScript); every change goes
//! through `accounts::apps`, which checks the caller and audits. A refusal is placed beside
//! the field it is about. The OpenID Connect client's fields, card and secret: `client.rs`.

pub mod client;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

use crate::accounts::apps::{self, App, AppChanges, AppFields, Policy, Saved};
use crate::accounts::{self, audit::Actor};
use crate::auth::client_ip::ClientIp;
use crate::error::Error;
use crate::i18n::Lang;
use crate::paths;
use crate::state::AppState;
use crate::views::apps::client::ClientErrors;
use crate::views::apps::{
    AppFormErrors, AppFormView, AppRowView, AppsView, RoleChoice, app_form_page, apps_page,
    delete_app_page,
};
use crate::web::form::Form;
use crate::web::{Hx, PageError, PageResult, Viewer};
use client::ClientForm;

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

/// The form's fields as submitted (or as the application is).
#[derive(Default)]
struct Submitted {
    name: String,
    description: String,
    hosts: String,
    public_paths: String,
    roles: Vec<i32>,
    /// A role value that was not a number (tampered with).
    bad_role: bool,
    policy: String,
    client: ClientForm,
}

impl Submitted {
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut submitted = Submitted {
            policy: Policy::OneFactor.as_str().to_string(),
            ..Submitted::default()
        };
        for (key, value) in pairs {
            if submitted.client.take(&key, &value) {
                continue;
            }
            match key.as_str() {
                "name" => submitted.name = value,
                "description" => submitted.description = value,
                "hosts" => submitted.hosts = value,
                "public_paths" => submitted.public_paths = value,
                "policy" => submitted.policy = value,
                "role" => match value.parse::<i32>() {
                    Ok(id) => submitted.roles.push(id),
                    Err(_) => submitted.bad_role = true,
                },
                _ => {}
            }
        }
        submitted
    }

    fn of(app: &App) -> Self {
        let lines = |items: Vec<String>| items.join("\n");
        Submitted {
            name: app.name.clone(),
            description: app.description.clone(),
            hosts: lines(app.hosts.iter().map(ToString::to_string).collect()),
            public_paths: lines(app.public_paths.iter().map(ToString::to_string).collect()),
            roles: app.allowed_roles.clone(),
            bad_role: false,
            policy: app.policy.as_str().to_string(),
            client: ClientForm::of(app.oidc.as_ref()),
        }
    }

    fn lines(text: &str) -> Vec<String> {
        text.lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_string)
            .collect()
    }

    fn fields(&self) -> Result<AppFields, accounts::Error> {
        if self.bad_role {
            return Err(accounts::Error::invalid("allowed_roles", "allowed_roles"));
        }
        let policy = Policy::parse(&self.policy)
            .ok_or_else(|| accounts::Error::invalid("policy", "policy"))?;
        Ok(AppFields {
            name: self.name.clone(),
            description: self.description.clone(),
            hosts: Submitted::lines(&self.hosts),
            public_paths: Submitted::lines(&self.public_paths),
            allowed_roles: self.roles.clone(),
            policy,
            oidc: self.client.changes()?,
        })
    }
}

/// The form as it is shown: `current` is the application being edited (`None`: a new one).
struct Shown<'a> {
    current: Option<&'a App>,
    errors: AppFormErrors,
    client_errors: ClientErrors,
    notice: Option<&'a str>,
    status: StatusCode,
}

impl<'a> Shown<'a> {
    fn ok(current: Option<&'a App>) -> Self {
        Shown {
            current,
            errors: AppFormErrors::default(),
            client_errors: ClientErrors::default(),
            notice: None,
            status: StatusCode::OK,
        }
    }
}

async fn render_form(
    state: &AppState,
    viewer: &Viewer,
    submitted: &Submitted,
    shown: Shown<'_>,
) -> PageResult {
    let roles = apps::role_choices(&state.db)
        .await
        .map_err(|e| viewer.fail(e))?
        .into_iter()
        .map(|(role_id, name)| RoleChoice {
            id: role_id,
            name,
            checked: submitted.roles.contains(&role_id),
        })
        .collect();
    let existing = shown.current.is_some_and(|app| app.oidc.is_some());
    let view = AppFormView {
        id: shown.current.map(|app| app.app_id),
        name: &submitted.name,
        description: &submitted.description,
        hosts: &submitted.hosts,
        public_paths: &submitted.public_paths,
        roles,
        policy: &submitted.policy,
        errors: shown.errors,
        client: submitted.client.view(state, existing, shown.client_errors),
        card: shown.current.and_then(|app| client::card(state, app)),
        notice: shown.notice,
    };
    Ok((shown.status, app_form_page(&viewer.context(), &view)).into_response())
}

/// The quoted value in a refusal's reason (`hosts: 'x': …` → `x`).
fn quoted(reason: &str) -> &str {
    reason.split('\'').nth(1).unwrap_or(reason)
}

/// A refusal beside its field; anything else is the error page.
fn place(lang: Lang, err: accounts::Error) -> Result<(AppFormErrors, ClientErrors), Error> {
    use accounts::Error as D;
    let mut errors = AppFormErrors::default();
    let mut client_errors = ClientErrors::default();
    let text = |key: &str| Some(lang.t(key).to_string());
    match &err {
        D::AppNameExists => errors.name = text("apps.nameTaken"),
        D::HostTaken(host) => {
            errors.hosts = Some(lang.t("apps.hostTaken").replace("{value}", host));
        }
        D::Invalid { field, reason } => match *field {
            "name" => errors.name = text("apps.nameInvalid"),
            "description" => errors.description = text("apps.descriptionInvalid"),
            "hosts" => {
                errors.hosts = Some(
                    lang.t("apps.hostsInvalid")
                        .replace("{value}", quoted(reason)),
                );
            }
            "public_paths" => {
                errors.public_paths = Some(
                    lang.t("apps.pathsInvalid")
                        .replace("{value}", quoted(reason)),
                );
            }
            "allowed_roles" => errors.roles = text("apps.rolesInvalid"),
            field if client::place(lang, field, reason, &mut client_errors) => {}
            _ => return Err(err.into()),
        },
        _ => return Err(err.into()),
    }
    Ok((errors, client_errors))
}

/// A save that was refused: the form again with the reason beside its field (400), or the
/// error page for anything that is not about a field.
async fn refused(
    state: &AppState,
    viewer: &Viewer,
    current: Option<&App>,
    submitted: &Submitted,
    err: accounts::Error,
) -> PageResult {
    match place(viewer.lang, err) {
        Ok((errors, client_errors)) => {
            let shown = Shown {
                errors,
                client_errors,
                status: StatusCode::BAD_REQUEST,
                ..Shown::ok(current)
            };
            render_form(state, viewer, submitted, shown).await
        }
        Err(err) => Err(viewer.fail(err)),
    }
}

/// Refuses early whoever may not manage applications (the use cases check again).
fn superuser_only(viewer: &Viewer) -> Result<(), PageError> {
    accounts::permissions::can_manage_apps(&viewer.caller).map_err(|e| viewer.fail(e))
}

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
/// public client confidential makes its first secret, shown once.
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
    let updated = match submitted.fields() {
        Ok(fields) => {
            let changes = AppChanges {
                name: Some(fields.name),
                description: Some(fields.description),
                hosts: Some(fields.hosts),
                public_paths: Some(fields.public_paths),
                allowed_roles: Some(fields.allowed_roles),
                policy: Some(fields.policy),
                oidc: Some(fields.oidc),
            };
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
            refused(&state, &viewer, Some(&current), &submitted, err).await
        }
    }
}

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
