//! Applications (SPEC §15.1): `GET|POST /api/v2/apps`, `GET|PATCH|DELETE /api/v2/apps/{id}`.
//! Superusers only (others 403 `ACCESS_DENIED`); the rules are `accounts::apps`'.

use axum::extract::{Path, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::accounts::apps::{self, App, AppChanges, AppFields, Policy};
use crate::api::caller::ApiCaller;
use crate::api::openapi::{AppErrors, ChangeAppErrors, CreateAppErrors, ListAppsErrors};
use crate::api::schemas::{Empty, Envelope};
use crate::api::{ApiJson, created, ok};
use crate::error::{Error, Result};
use crate::paths;
use crate::state::AppState;

/// What a session must have passed to open the application.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PolicyName {
    /// A password sign-in is enough.
    OneFactor,
    /// A session that passed a second factor.
    TwoFactor,
    /// Nobody.
    Deny,
}

impl From<PolicyName> for Policy {
    fn from(name: PolicyName) -> Self {
        match name {
            PolicyName::OneFactor => Policy::OneFactor,
            PolicyName::TwoFactor => Policy::TwoFactor,
            PolicyName::Deny => Policy::Deny,
        }
    }
}

impl From<Policy> for PolicyName {
    fn from(policy: Policy) -> Self {
        match policy {
            Policy::OneFactor => PolicyName::OneFactor,
            Policy::TwoFactor => PolicyName::TwoFactor,
            Policy::Deny => PolicyName::Deny,
        }
    }
}

/// An application as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct AppRow {
    pub app_id: i32,
    pub name: String,
    pub description: String,
    /// `wiki.example.org`, `*.apps.example.org`, `files.example.org:8443`.
    pub hosts: Vec<String>,
    /// Path prefixes that pass without a sign-in, normalised.
    pub public_paths: Vec<String>,
    /// Role ids; empty: every enabled user.
    pub allowed_roles: Vec<i32>,
    pub policy: PolicyName,
}

impl From<&App> for AppRow {
    fn from(app: &App) -> Self {
        AppRow {
            app_id: app.app_id,
            name: app.name.clone(),
            description: app.description.clone(),
            hosts: app.hosts.iter().map(ToString::to_string).collect(),
            public_paths: app.public_paths.iter().map(ToString::to_string).collect(),
            allowed_roles: app.allowed_roles.clone(),
            policy: app.policy.into(),
        }
    }
}

/// A new application.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppBody {
    /// 1 to 64 characters, unique whatever the case.
    #[schema(min_length = 1, max_length = 64)]
    name: String,
    #[serde(default)]
    #[schema(max_length = 500)]
    description: String,
    /// Exact hosts or one wildcard label; each host in at most one application.
    #[serde(default)]
    hosts: Vec<String>,
    /// Path prefixes such as `/api/` that pass without a sign-in.
    #[serde(default)]
    public_paths: Vec<String>,
    /// Role ids (SPEC §14); empty: every enabled user.
    #[serde(default)]
    allowed_roles: Vec<i32>,
    /// Default `one_factor`.
    #[serde(default)]
    policy: Option<PolicyName>,
}

/// A change: only the fields given change (lists are replaced whole).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppPatch {
    #[schema(min_length = 1, max_length = 64)]
    name: Option<String>,
    #[schema(max_length = 500)]
    description: Option<String>,
    hosts: Option<Vec<String>>,
    public_paths: Option<Vec<String>>,
    allowed_roles: Option<Vec<i32>>,
    policy: Option<PolicyName>,
}

/// The id of an application answer (`{"app_id": N}`).
#[derive(Serialize, ToSchema)]
pub struct CreatedApp {
    pub app_id: i32,
}

/// `{id}`: which application.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AppId {
    /// A numeric application id; anything else names none (404 `APP_NOT_FOUND`).
    #[param(pattern = "^[0-9]+$", example = "1")]
    #[allow(dead_code)]
    id: String,
}

fn app_id(raw: &str) -> Result<i32> {
    raw.parse::<i32>().map_err(|_| Error::AppNotFound)
}

/// Every application, by name.
#[utoipa::path(
    get,
    path = paths::api::APPS,
    tag = "apps",
    operation_id = "list_apps",
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "The applications", body = Envelope<Vec<AppRow>>), ListAppsErrors)
)]
pub async fn list(State(state): State<AppState>, caller: ApiCaller) -> Result<Response> {
    let apps = apps::list(&state.db, &caller.rules()).await?;
    Ok(ok(apps.iter().map(AppRow::from).collect::<Vec<_>>()))
}

/// Registers an application.
#[utoipa::path(
    post,
    path = paths::api::APPS,
    tag = "apps",
    operation_id = "create_app",
    request_body = AppBody,
    security(("bearer" = []), ("session" = [])),
    responses((status = 201, description = "Created", body = Envelope<CreatedApp>), CreateAppErrors)
)]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(body): ApiJson<AppBody>,
) -> Result<Response> {
    let fields = AppFields {
        name: body.name,
        description: body.description,
        hosts: body.hosts,
        public_paths: body.public_paths,
        allowed_roles: body.allowed_roles,
        policy: body.policy.map_or(Policy::OneFactor, Policy::from),
    };
    let app = apps::create(
        &state.db,
        &state.apps,
        &caller.actor(),
        &caller.rules(),
        fields,
    )
    .await?;
    Ok(created(CreatedApp { app_id: app.app_id }))
}

/// One application.
#[utoipa::path(
    get,
    path = paths::api::APP,
    tag = "apps",
    operation_id = "show_app",
    params(AppId),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "The application", body = Envelope<AppRow>), AppErrors)
)]
pub async fn show(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response> {
    let app = apps::get(&state.db, &caller.rules(), app_id(&id)?).await?;
    Ok(ok(AppRow::from(&app)))
}

/// Changes the fields given.
#[utoipa::path(
    patch,
    path = paths::api::APP,
    tag = "apps",
    operation_id = "update_app",
    params(AppId),
    request_body = AppPatch,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "The application as it is now", body = Envelope<AppRow>), ChangeAppErrors)
)]
pub async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AppPatch>,
) -> Result<Response> {
    let changes = AppChanges {
        name: body.name,
        description: body.description,
        hosts: body.hosts,
        public_paths: body.public_paths,
        allowed_roles: body.allowed_roles,
        policy: body.policy.map(Policy::from),
    };
    let app = apps::update(
        &state.db,
        &state.apps,
        &caller.actor(),
        &caller.rules(),
        app_id(&id)?,
        changes,
    )
    .await?;
    Ok(ok(AppRow::from(&app)))
}

/// Deletes an application: its hosts answer 403 from then on.
#[utoipa::path(
    delete,
    path = paths::api::APP,
    tag = "apps",
    operation_id = "delete_app",
    params(AppId),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "Deleted", body = Envelope<Empty>), AppErrors)
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response> {
    apps::delete(
        &state.db,
        &state.apps,
        &caller.actor(),
        &caller.rules(),
        app_id(&id)?,
    )
    .await?;
    Ok(ok(json!({})))
}
