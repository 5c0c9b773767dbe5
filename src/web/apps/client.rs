//! An application's OpenID Connect client in the panel (SPEC §16): the form's client fields,
//! their refusals beside the field, the card on the application's page, and a new client
//! secret — confirmed on a page of its own, made by `apps::new_client_secret` (the API's and
//! the CLI's use case, which checks the caller and audits), shown once as a one-time result.

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};

use crate::accounts::apps::{self, App};
use crate::accounts::oidc::Alg;
use crate::accounts::oidc::clients::{ClientChanges, ClientInfo};
use crate::accounts::{self, audit::Actor};
use crate::auth::client_ip::ClientIp;
use crate::i18n::Lang;
use crate::paths;
use crate::state::AppState;
use crate::views::apps::client::{
    ClientCardView, ClientErrors, ClientFormView, ProviderUrls, SecretView, regenerate_page,
    secret_dialog, secret_page,
};
use crate::web::apps::{app_id, load};
use crate::web::one_time::{self, OneTime};
use crate::web::{Hx, PageResult, Viewer};

/// The client's fields as submitted (or as the client is).
pub(super) struct ClientForm {
    pub on: bool,
    pub client_type: String,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub alg: String,
}

impl Default for ClientForm {
    fn default() -> Self {
        ClientForm {
            on: false,
            client_type: "confidential".into(),
            redirect_uris: String::new(),
            post_logout_redirect_uris: String::new(),
            alg: Alg::Rs256.as_str().into(),
        }
    }
}

/// A text area's non-blank lines, trimmed (hosts, paths, URIs: one per line).
pub(super) fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect()
}

impl ClientForm {
    /// Takes a submitted pair if it is one of the client's; `false` otherwise.
    pub fn take(&mut self, key: &str, value: &str) -> bool {
        match key {
            "oidc" => self.on = value == "on",
            "client_type" => self.client_type = value.to_string(),
            "redirect_uris" => self.redirect_uris = value.to_string(),
            "post_logout_redirect_uris" => self.post_logout_redirect_uris = value.to_string(),
            "alg" => self.alg = value.to_string(),
            _ => return false,
        }
        true
    }

    pub fn of(client: Option<&ClientInfo>) -> Self {
        let Some(client) = client else {
            return ClientForm::default();
        };
        let settings = &client.settings;
        ClientForm {
            on: true,
            client_type: if settings.public {
                "public"
            } else {
                "confidential"
            }
            .into(),
            redirect_uris: settings.redirect_uris.join("\n"),
            post_logout_redirect_uris: settings.post_logout_redirect_uris.join("\n"),
            alg: settings.alg.as_str().into(),
        }
    }

    /// The settings the domain checks; `None`: not an OpenID Connect client. Every field is
    /// given, so a save replaces the client's settings as the form shows them.
    pub fn changes(&self) -> Result<Option<ClientChanges>, accounts::Error> {
        if !self.on {
            return Ok(None);
        }
        let public = match self.client_type.as_str() {
            "confidential" => false,
            "public" => true,
            _ => return Err(accounts::Error::invalid("public", "public")),
        };
        let alg = Alg::parse(&self.alg).ok_or_else(|| accounts::Error::invalid("alg", "alg"))?;
        Ok(Some(ClientChanges {
            redirect_uris: Some(lines(&self.redirect_uris)),
            post_logout_redirect_uris: Some(lines(&self.post_logout_redirect_uris)),
            public: Some(public),
            alg: Some(alg),
        }))
    }

    pub fn view<'a>(
        &'a self,
        state: &AppState,
        existing: bool,
        errors: ClientErrors,
    ) -> ClientFormView<'a> {
        ClientFormView {
            on: self.on,
            client_type: &self.client_type,
            redirect_uris: &self.redirect_uris,
            post_logout_redirect_uris: &self.post_logout_redirect_uris,
            alg: &self.alg,
            existing,
            provider_off: state.oidc.is_none(),
            errors,
        }
    }
}

/// The value a URI refusal quotes (`redirect_uris: 'x' is not …` → `x`), if it quotes one.
fn quoted(reason: &str) -> Option<&str> {
    let mut parts = reason.splitn(3, '\'');
    parts.next();
    let value = parts.next()?;
    parts.next().map(|_| value)
}

/// Puts a refusal about the client beside its field; `false` when it is about none of them.
pub(super) fn place(lang: Lang, field: &str, reason: &str, errors: &mut ClientErrors) -> bool {
    let uri_message = |list_key: &str| match quoted(reason) {
        Some(value) => lang.t("oidcClient.uriInvalid").replace("{value}", value),
        None => lang.t(list_key).to_string(),
    };
    match field {
        "redirect_uris" => errors.redirect_uris = Some(uri_message("oidcClient.redirectUrisCount")),
        "post_logout_redirect_uris" => {
            errors.post_logout_redirect_uris = Some(uri_message("oidcClient.logoutUrisCount"));
        }
        "public" => errors.client_type = Some(lang.t("oidcClient.typeInvalid").to_string()),
        "alg" => errors.alg = Some(lang.t("oidcClient.algInvalid").to_string()),
        _ => return false,
    }
    true
}

/// The issuer and its discovery document, when OpenID Connect is on.
fn urls(state: &AppState) -> Option<ProviderUrls> {
    state.oidc.as_ref().map(|oidc| ProviderUrls {
        issuer: oidc.issuer.as_str().to_string(),
        discovery: oidc.issuer.url(paths::oidc::DISCOVERY),
    })
}

/// The card on the page of `app`, if it is a client.
pub(super) fn card<'a>(state: &AppState, app: &'a App) -> Option<ClientCardView<'a>> {
    app.oidc.as_ref().map(|client| ClientCardView {
        app_id: app.app_id,
        client_id: &client.client_id,
        public: client.settings.public,
        urls: urls(state),
    })
}

/// A client secret shown once (SPEC §16), after the application was registered or its
/// secret made anew.
#[derive(Clone, Serialize, Deserialize)]
pub struct SecretShown {
    pub app_id: i32,
    pub app_name: String,
    pub client_id: String,
    pub secret: String,
    pub created: bool,
}

/// Keeps `secret` of `app` for one display and answers the POST with the way to it.
pub(super) async fn show_once(
    state: &AppState,
    viewer: &Viewer,
    hx: Hx,
    app: &App,
    secret: &accounts::secret::Secret,
    created: bool,
) -> PageResult {
    let shown = SecretShown {
        app_id: app.app_id,
        app_name: app.name.clone(),
        client_id: app
            .oidc
            .as_ref()
            .map(|c| c.client_id.clone())
            .unwrap_or_default(),
        secret: secret.expose().to_string(),
        created,
    };
    let id = one_time::put(state, viewer, OneTime::ClientSecret(shown))
        .await
        .map_err(|e| viewer.fail(e))?;
    Ok(one_time::redirect_to(
        hx,
        &id,
        one_time::Back::App(app.app_id),
    ))
}

/// The result page's part: the secret with its copy button (a dialog for htmx).
pub fn show_secret(state: &AppState, viewer: &Viewer, hx: Hx, shown: &SecretShown) -> PageResult {
    let view = SecretView {
        app_id: shown.app_id,
        app_name: &shown.app_name,
        client_id: &shown.client_id,
        secret: &shown.secret,
        created: shown.created,
        urls: urls(state),
    };
    Ok(if hx.0 {
        secret_dialog(viewer.lang, &view).into_response()
    } else {
        secret_page(&viewer.context(), &view).into_response()
    })
}

/// `GET /panel/apps/{id}/secret`: the confirmation.
pub async fn regenerate_form(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> PageResult {
    let app = load(&state, &viewer, &id).await?;
    match &app.oidc {
        Some(client) if !client.settings.public => {
            Ok(regenerate_page(&viewer.context(), app.app_id, &app.name).into_response())
        }
        _ => Err(viewer.fail(accounts::Error::invalid(
            "public",
            "public: the application has no client secret",
        ))),
    }
}

/// `POST /panel/apps/{id}/secret`: a new secret, the old one stops at once; 303 to the
/// secret shown once.
pub async fn submit_regenerate(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    ip: ClientIp,
    Path(id): Path<String>,
) -> PageResult {
    let id = app_id(&viewer, &id)?;
    let actor = Actor::user(&viewer.user, ip.to_string());
    let secret = apps::new_client_secret(&state.db, &actor, &viewer.caller, id)
        .await
        .map_err(|e| viewer.fail(e))?;
    let app = load(&state, &viewer, &id.to_string()).await?;
    show_once(&state, &viewer, hx, &app, &secret, false).await
}
