//! An application's OpenID Connect client in the panel (SPEC §16, `oidcClient` strings): the
//! fieldset of the application form, the card on its page (the `client_id` and the URLs a
//! relying party needs), the confirmation before a new secret, and the secret shown once.

use maud::{Markup, html};

use crate::i18n::Lang;
use crate::paths;
use crate::views::apps::{Confirm, confirm_page, text_area};
use crate::views::components::{CopyField, close_link, copy_field, dialog};
use crate::views::layout::{PageContext, page};

/// The client type a form offers, by its value.
pub const CLIENT_TYPES: [(&str, &str); 2] = [
    ("confidential", "oidcClient.confidential"),
    ("public", "oidcClient.public"),
];

/// The signing algorithms a form offers, by their value.
pub const ALGS: [(&str, &str); 2] = [("RS256", "oidcClient.rs256"), ("ES256", "oidcClient.es256")];

/// Messages beside the client's fields after a refused save.
#[derive(Default)]
pub struct ClientErrors {
    pub client_type: Option<String>,
    pub redirect_uris: Option<String>,
    pub post_logout_redirect_uris: Option<String>,
    pub alg: Option<String>,
}

impl ClientErrors {
    pub fn any(&self) -> bool {
        self.client_type.is_some()
            || self.redirect_uris.is_some()
            || self.post_logout_redirect_uris.is_some()
            || self.alg.is_some()
    }
}

/// The client's fields as submitted (or as the client is).
pub struct ClientFormView<'a> {
    pub on: bool,
    /// `confidential` or `public`.
    pub client_type: &'a str,
    /// One per line.
    pub redirect_uris: &'a str,
    pub post_logout_redirect_uris: &'a str,
    /// `RS256` or `ES256`.
    pub alg: &'a str,
    /// The application is a client now: turning it off ends its sign-ins.
    pub existing: bool,
    /// OpenID Connect is off on this server (no `PASSGATE_PUBLIC_URL`).
    pub provider_off: bool,
    pub errors: ClientErrors,
}

fn choices(
    lang: Lang,
    name: &str,
    legend: &str,
    options: &[(&str, &str)],
    current: &str,
    error: Option<&str>,
) -> Markup {
    let error_id = format!("{name}-error");
    html! {
        fieldset aria-describedby=[error.map(|_| error_id.as_str())] {
            legend { (legend) }
            @for (value, key) in options {
                div class="field check" {
                    input id=(format!("{name}-{value}")) name=(name) type="radio" value=(value)
                        checked[current == *value];
                    label for=(format!("{name}-{value}")) { (lang.t(key)) }
                }
            }
            @if let Some(error) = error { p id=(error_id) class="field-error" { (error) } }
        }
    }
}

/// The "OpenID Connect" fieldset of the application form.
pub fn client_fieldset(lang: Lang, view: &ClientFormView) -> Markup {
    let e = &view.errors;
    html! {
        fieldset class="client" {
            legend { (lang.t("oidcClient.legend")) }
            @if view.provider_off {
                div class="alert alert-info" role="status" { (lang.t("oidcClient.providerOff")) }
            }
            div class="field check" {
                input id="oidc-on" name="oidc" type="checkbox" value="on" checked[view.on]
                    aria-describedby="oidc-on-hint";
                label for="oidc-on" { (lang.t("oidcClient.on")) }
            }
            div class="field" {
                p id="oidc-on-hint" class="hint" {
                    (lang.t(if view.existing { "oidcClient.offEnds" } else { "oidcClient.onHint" }))
                }
            }
            (choices(lang, "client_type", lang.t("oidcClient.type"), &CLIENT_TYPES, view.client_type, e.client_type.as_deref()))
            (text_area("redirect_uris", lang.t("oidcClient.redirectUris"), view.redirect_uris,
                lang.t("oidcClient.redirectUrisHint"), e.redirect_uris.as_deref()))
            (text_area("post_logout_redirect_uris", lang.t("oidcClient.logoutUris"), view.post_logout_redirect_uris,
                lang.t("oidcClient.logoutUrisHint"), e.post_logout_redirect_uris.as_deref()))
            (choices(lang, "alg", lang.t("oidcClient.alg"), &ALGS, view.alg, e.alg.as_deref()))
        }
    }
}

/// What a relying party is configured with: the issuer and its discovery document.
pub struct ProviderUrls {
    pub issuer: String,
    pub discovery: String,
}

/// The card on an application's page: its client as a relying party is set up with it.
pub struct ClientCardView<'a> {
    pub app_id: i32,
    pub client_id: &'a str,
    pub public: bool,
    /// `None`: OpenID Connect is off on this server.
    pub urls: Option<ProviderUrls>,
}

fn provider_facts(lang: Lang, urls: Option<&ProviderUrls>) -> Markup {
    html! {
        @match urls {
            Some(urls) => dl class="facts" {
                dt { (lang.t("oidcClient.issuer")) }
                dd { code { (urls.issuer) } }
                dt { (lang.t("oidcClient.discovery")) }
                dd { code { (urls.discovery) } }
            },
            None => div class="alert alert-info" role="status" { (lang.t("oidcClient.providerOff")) },
        }
    }
}

/// The card, with `notice` (what was just done) under its title.
pub fn client_card(lang: Lang, view: &ClientCardView, notice: Option<&str>) -> Markup {
    html! {
        section class="card" aria-labelledby="client-title" {
            h2 id="client-title" { (lang.t("oidcClient.cardTitle")) }
            @if let Some(notice) = notice {
                div class="alert alert-ok" role="status" { (notice) }
            }
            (copy_field(lang, &CopyField {
                id: "client-id",
                label: lang.t("oidcClient.clientId"),
                value: view.client_id,
                hint: lang.t("oidcClient.clientIdHint"),
                autofocus: false,
            }))
            (provider_facts(lang, view.urls.as_ref()))
            @if view.public {
                p class="hint" { (lang.t("oidcClient.publicNoSecret")) }
            } @else {
                p class="hint" { (lang.t("oidcClient.secretHint")) }
                div class="actions" {
                    a class="button secondary" href=(paths::app_secret(view.app_id)) { (lang.t("oidcClient.regenerate")) }
                }
            }
        }
    }
}

/// The confirmation before a new secret (a plain form: works without JavaScript).
pub fn regenerate_page(ctx: &PageContext, app_id: i32, name: &str) -> Markup {
    confirm_page(
        ctx,
        &Confirm {
            name,
            title: "oidcClient.regenerateTitle",
            text: "oidcClient.regenerateConfirm",
            submit: "oidcClient.regenerateSubmit",
            action: paths::app_secret(app_id),
            back: paths::edit_app(app_id),
        },
    )
}

/// A client secret, shown this once.
pub struct SecretView<'a> {
    pub app_id: i32,
    pub app_name: &'a str,
    pub client_id: &'a str,
    pub secret: &'a str,
    /// The application was just registered (else: a new secret for it).
    pub created: bool,
    pub urls: Option<ProviderUrls>,
}

fn secret_shown(lang: Lang, view: &SecretView) -> Markup {
    let done = if view.created {
        "oidcClient.createdDone"
    } else {
        "oidcClient.regeneratedDone"
    };
    html! {
        h2 id="secret-title" { (lang.t("oidcClient.secretTitle").replace("{app}", view.app_name)) }
        div class="alert alert-ok" role="status" { (lang.t(done)) }
        (copy_field(lang, &CopyField {
            id: "client-secret",
            label: lang.t("oidcClient.clientSecret"),
            value: view.secret,
            hint: lang.t("oidcClient.secretShownOnce"),
            autofocus: true,
        }))
        (copy_field(lang, &CopyField {
            id: "client-id",
            label: lang.t("oidcClient.clientId"),
            value: view.client_id,
            hint: lang.t("oidcClient.clientIdHint"),
            autofocus: false,
        }))
        (provider_facts(lang, view.urls.as_ref()))
        div class="actions" { (close_link(lang.t("oidcClient.toApp"), &paths::edit_app(view.app_id))) }
    }
}

pub fn secret_page(ctx: &PageContext, view: &SecretView) -> Markup {
    let title = ctx
        .lang
        .t("oidcClient.secretTitle")
        .replace("{app}", view.app_name);
    page(
        ctx,
        &title,
        html! {
            section class="card narrow-wide" aria-labelledby="secret-title" {
                h1 class="visually-hidden" { (title) }
                (secret_shown(ctx.lang, view))
            }
        },
    )
}

pub fn secret_dialog(lang: Lang, view: &SecretView) -> Markup {
    dialog("secret-dialog", "secret-title", secret_shown(lang, view))
}
