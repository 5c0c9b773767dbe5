//! Applications (SPEC §15.1): `GET|POST /api/v2/apps`, `GET|PATCH|DELETE /api/v2/apps/{id}`,
//! `POST /api/v2/apps/{id}/secret` (a new OpenID Connect client secret, §16).
//! Superusers only (others 403 `ACCESS_DENIED`); the rules are `accounts::apps`'.

use axum::extract::{Path, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::accounts::apps::{self, App, AppChanges, AppFields, Policy};
use crate::accounts::oidc::Alg;
use crate::accounts::oidc::clients::{ClientChanges, ClientInfo};
use crate::api::caller::ApiCaller;
use crate::api::openapi::{
    AppErrors, AppSecretErrors, ChangeAppErrors, CreateAppErrors, ListAppsErrors,
};
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

/// The algorithm of a client's ID tokens.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
pub enum AlgName {
    /// The default: every client library accepts it.
    RS256,
    ES256,
}

impl From<AlgName> for Alg {
    fn from(name: AlgName) -> Self {
        match name {
            AlgName::RS256 => Alg::Rs256,
            AlgName::ES256 => Alg::Es256,
        }
    }
}

impl From<Alg> for AlgName {
    fn from(alg: Alg) -> Self {
        match alg {
            Alg::Rs256 => AlgName::RS256,
            Alg::Es256 => AlgName::ES256,
        }
    }
}

/// An application's OpenID Connect client (SPEC §16), never with its secret.
#[derive(Serialize, ToSchema)]
pub struct OidcRow {
    pub client_id: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// A public client has no secret and must use PKCE.
    pub public: bool,
    pub id_token_signed_response_alg: AlgName,
}

impl From<&ClientInfo> for OidcRow {
    fn from(client: &ClientInfo) -> Self {
        OidcRow {
            client_id: client.client_id.clone(),
            redirect_uris: client.settings.redirect_uris.clone(),
            post_logout_redirect_uris: client.settings.post_logout_redirect_uris.clone(),
            public: client.settings.public,
            id_token_signed_response_alg: client.settings.alg.into(),
        }
    }
}

/// OpenID Connect client settings: on creation `redirect_uris` is required and the rest
/// default (confidential, RS256); on a change only the fields given change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OidcBody {
    /// Exact `https` URLs, or `http` on `localhost`, `127.0.0.1` or `[::1]` (any port).
    redirect_uris: Option<Vec<String>>,
    /// Where `/oauth2/logout` may send the browser afterwards (the same rules).
    post_logout_redirect_uris: Option<Vec<String>>,
    /// `true`: no secret, PKCE required. Default `false`.
    public: Option<bool>,
    /// Default `RS256`.
    id_token_signed_response_alg: Option<AlgName>,
}

impl From<OidcBody> for ClientChanges {
    fn from(body: OidcBody) -> Self {
        ClientChanges {
            redirect_uris: body.redirect_uris,
            post_logout_redirect_uris: body.post_logout_redirect_uris,
            public: body.public,
            alg: body.id_token_signed_response_alg.map(Alg::from),
        }
    }
}

/// `null` and a missing field told apart: `Some(None)` is `null`.
fn null_or<'de, D, T>(deserializer: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
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
    /// Its OpenID Connect client (absent when it has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcRow>,
    /// Only in the answer of a change that made the client confidential: its first secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
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
            oidc: app.oidc.as_ref().map(OidcRow::from),
            client_secret: None,
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
    /// Makes it an OpenID Connect client (SPEC §16).
    #[serde(default)]
    oidc: Option<OidcBody>,
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
    /// The client's settings (only those given change); `null` ends the application's
    /// OpenID Connect client and every sign-in made through it.
    #[serde(default, deserialize_with = "null_or")]
    #[schema(value_type = Option<OidcBody>, nullable)]
    oidc: Option<Option<OidcBody>>,
}

/// A new application: its id and, for an OpenID Connect client, its `client_id` and — for a
/// confidential client, only in this answer — its `client_secret`.
#[derive(Serialize, ToSchema)]
pub struct CreatedApp {
    pub app_id: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// A client secret, shown only in this answer.
#[derive(Serialize, ToSchema)]
pub struct NewSecret {
    pub client_id: String,
    pub client_secret: String,
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
        oidc: body.oidc.map(ClientChanges::from),
    };
    let saved = apps::create(
        &state.db,
        &state.apps,
        &caller.actor(),
        &caller.rules(),
        fields,
    )
    .await?;
    Ok(created(CreatedApp {
        app_id: saved.app.app_id,
        client_id: saved.app.oidc.map(|client| client.client_id),
        client_secret: saved.client_secret.map(|s| s.expose().to_string()),
    }))
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
        oidc: body.oidc.map(|oidc| oidc.map(ClientChanges::from)),
        review: None,
    };
    let saved = apps::update(
        &state.db,
        &state.apps,
        &caller.actor(),
        &caller.rules(),
        app_id(&id)?,
        changes,
    )
    .await?;
    let mut row = AppRow::from(&saved.app);
    // Turning a public client confidential makes its first secret: shown here, once.
    row.client_secret = saved.client_secret.map(|s| s.expose().to_string());
    Ok(ok(row))
}

/// A new client secret for the application's confidential OpenID Connect client; the old one
/// stops working at once.
#[utoipa::path(
    post,
    path = paths::api::APP_SECRET,
    tag = "apps",
    operation_id = "new_app_secret",
    params(AppId),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "The new secret, shown only here", body = Envelope<NewSecret>), AppSecretErrors)
)]
pub async fn new_secret(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response> {
    let app_id = app_id(&id)?;
    let secret =
        apps::new_client_secret(&state.db, &caller.actor(), &caller.rules(), app_id).await?;
    let app = apps::get(&state.db, &caller.rules(), app_id).await?;
    Ok(ok(NewSecret {
        client_id: app.oidc.map(|c| c.client_id).unwrap_or_default(),
        client_secret: secret.expose().to_string(),
    }))
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
