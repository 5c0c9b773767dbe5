//! `/panel/apps` (SPEC §15.1, superusers): the applications passgate signs users in to — the
//! list, the form that creates and edits one (hosts and public paths one per line, roles as
//! checkboxes, the policy, the OpenID Connect client: `client.rs`), the delete confirmation —
//! and how their audit entries read.

pub mod client;

use maud::{Markup, html};

use crate::i18n::Lang;
use crate::paths;
use crate::views::components::{Field, alert, csrf_field, emphasised, field};
use crate::views::layout::{PageContext, page};
use client::{ClientCardView, ClientFormView, client_card, client_fieldset};

/// The translation key of a policy's name (`one_factor`, `two_factor`, `deny`).
pub fn policy_key(policy: &str) -> &'static str {
    match policy {
        "two_factor" => "apps.policyTwoFactor",
        "deny" => "apps.policyDeny",
        _ => "apps.policyOneFactor",
    }
}

pub struct AppRowView {
    pub id: i32,
    pub name: String,
    pub description: String,
    pub hosts: Vec<String>,
    pub public_paths: Vec<String>,
    /// Role names; empty: every enabled user.
    pub roles: Vec<String>,
    pub policy: String,
}

pub struct AppsView<'a> {
    pub rows: Vec<AppRowView>,
    /// What was just done, said once.
    pub notice: Option<&'a str>,
    /// Single sign-on is off: the proxies cannot ask yet.
    pub sso_off: bool,
}

fn list_or_dash(lang: Lang, items: &[String], empty: &str) -> Markup {
    html! {
        @if items.is_empty() {
            span class="hint" { (if empty.is_empty() { lang.t("apps.none") } else { empty }) }
        } @else {
            ul class="plain" { @for item in items { li { code { (item) } } } }
        }
    }
}

pub fn apps_page(ctx: &PageContext, view: &AppsView) -> Markup {
    let lang = ctx.lang;
    page(
        ctx,
        lang.t("apps.title"),
        html! {
            section class="card" aria-labelledby="apps-title" {
                h1 id="apps-title" { (lang.t("apps.title")) }
                @if let Some(notice) = view.notice {
                    div class="alert alert-ok" role="status" { (notice) }
                }
                @if view.sso_off {
                    div class="alert alert-info" role="status" { (lang.t("apps.ssoOff")) }
                }
                p { (lang.t("apps.intro")) }
                p { a class="button" href=(paths::NEW_APP) { (lang.t("apps.new")) } }
                @if view.rows.is_empty() {
                    p class="hint" { (lang.t("apps.empty")) }
                } @else {
                    div class="table-scroll" role="region" tabindex="0" aria-label=(lang.t("apps.tableLabel")) {
                        table class="data stack" {
                            caption class="visually-hidden" { (lang.t("apps.title")) }
                            thead { tr {
                                th scope="col" { (lang.t("apps.name")) }
                                th scope="col" { (lang.t("apps.hosts")) }
                                th scope="col" { (lang.t("apps.publicPaths")) }
                                th scope="col" { (lang.t("apps.roles")) }
                                th scope="col" { (lang.t("apps.policy")) }
                                th scope="col" { (lang.t("apps.actions")) }
                            } }
                            tbody {
                                @for row in &view.rows {
                                    tr {
                                        th scope="row" data-label=(lang.t("apps.name")) {
                                            (row.name)
                                            @if !row.description.is_empty() {
                                                br; span class="hint" { (row.description) }
                                            }
                                        }
                                        td data-label=(lang.t("apps.hosts")) { (list_or_dash(lang, &row.hosts, "")) }
                                        td data-label=(lang.t("apps.publicPaths")) { (list_or_dash(lang, &row.public_paths, "")) }
                                        td data-label=(lang.t("apps.roles")) { (list_or_dash(lang, &row.roles, lang.t("apps.everyone"))) }
                                        td data-label=(lang.t("apps.policy")) { (lang.t(policy_key(&row.policy))) }
                                        td data-label=(lang.t("apps.actions")) {
                                            div class="actions" {
                                                a href=(paths::edit_app(row.id))
                                                    aria-label=(lang.t("apps.editApp").replace("{app}", &row.name)) {
                                                    (lang.t("apps.edit"))
                                                }
                                                a href=(paths::delete_app(row.id))
                                                    aria-label=(lang.t("apps.deleteApp").replace("{app}", &row.name)) {
                                                    (lang.t("apps.delete"))
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// A role offered on the form.
pub struct RoleChoice {
    pub id: i32,
    pub name: String,
    pub checked: bool,
}

/// Messages beside the fields after a refused save.
#[derive(Default)]
pub struct AppFormErrors {
    pub name: Option<String>,
    pub description: Option<String>,
    pub hosts: Option<String>,
    pub public_paths: Option<String>,
    pub roles: Option<String>,
}

pub struct AppFormView<'a> {
    /// `None`: a new application.
    pub id: Option<i32>,
    pub name: &'a str,
    pub description: &'a str,
    /// One per line.
    pub hosts: &'a str,
    pub public_paths: &'a str,
    pub roles: Vec<RoleChoice>,
    pub policy: &'a str,
    pub errors: AppFormErrors,
    /// The OpenID Connect fields.
    pub client: ClientFormView<'a>,
    /// The application's client as it is (on its page, when it has one).
    pub card: Option<ClientCardView<'a>>,
    /// What was just done, said once (in the client's card when there is one: the page is
    /// opened at it).
    pub notice: Option<&'a str>,
}

/// A labelled text area with its hint and error tied to it.
pub(crate) fn text_area(
    id: &str,
    label: &str,
    value: &str,
    hint: &str,
    error: Option<&str>,
) -> Markup {
    let described = match error {
        Some(_) => format!("{id}-hint {id}-error"),
        None => format!("{id}-hint"),
    };
    html! {
        div class="field" {
            label for=(id) { (label) }
            textarea id=(id) name=(id) rows="3" spellcheck="false" autocapitalize="off"
                autofocus[error.is_some()] aria-invalid=[error.map(|_| "true")] aria-describedby=(described) { (value) }
            p id=(format!("{id}-hint")) class="hint" { (hint) }
            @if let Some(error) = error { p id=(format!("{id}-error")) class="field-error" { (error) } }
        }
    }
}

pub fn app_form_page(ctx: &PageContext, view: &AppFormView) -> Markup {
    let lang = ctx.lang;
    let (title, action) = match view.id {
        Some(id) => (
            lang.t("apps.editTitle").replace("{app}", view.name),
            paths::edit_app(id),
        ),
        None => (
            lang.t("apps.newTitle").to_string(),
            paths::NEW_APP.to_string(),
        ),
    };
    let e = &view.errors;
    let mut name = Field::new("name", lang.t("apps.name"), "text");
    name.value = Some(view.name);
    name.error = e.name.as_deref();
    let any_error = e.name.is_some()
        || e.description.is_some()
        || e.hosts.is_some()
        || e.public_paths.is_some()
        || e.roles.is_some()
        || view.client.errors.any();
    // Focus lands on the name of a new application, or on the first field in error (the
    // first text area in error has `autofocus` too; the browser takes the first).
    name.autofocus = e.name.is_some() || (view.id.is_none() && !any_error);
    let mut description = Field::new("description", lang.t("apps.description"), "text");
    description.value = Some(view.description);
    description.error = e.description.as_deref();
    description.required = false;
    page(
        ctx,
        &title,
        html! {
            section class="card" aria-labelledby="app-form-title" {
                h1 id="app-form-title" { (title) }
                @if let (Some(notice), None) = (view.notice, &view.card) {
                    div class="alert alert-ok" role="status" { (notice) }
                }
                @if any_error { (alert("error", "app-form-error", lang.t("apps.fixFields"))) }
                form method="post" action=(action) {
                    (csrf_field(ctx.csrf))
                    (field(&name))
                    (field(&description))
                    (text_area("hosts", lang.t("apps.hosts"), view.hosts, lang.t("apps.hostsHint"), e.hosts.as_deref()))
                    (text_area("public_paths", lang.t("apps.publicPaths"), view.public_paths, lang.t("apps.publicPathsHint"), e.public_paths.as_deref()))
                    fieldset {
                        legend { (lang.t("apps.roles")) }
                        @if view.roles.is_empty() {
                            p class="hint" { (lang.t("apps.noRoles")) }
                        } @else {
                            p class="hint" id="roles-hint" { (lang.t("apps.rolesHint")) }
                            @for role in &view.roles {
                                div class="field check" {
                                    input id=(format!("role-{}", role.id)) name="role" type="checkbox"
                                        value=(role.id) checked[role.checked];
                                    label for=(format!("role-{}", role.id)) { (role.name) }
                                }
                            }
                        }
                        @if let Some(error) = &e.roles { p class="field-error" { (error) } }
                    }
                    fieldset {
                        legend { (lang.t("apps.policy")) }
                        @for policy in ["one_factor", "two_factor", "deny"] {
                            div class="field check" {
                                input id=(format!("policy-{policy}")) name="policy" type="radio"
                                    value=(policy) checked[view.policy == policy];
                                label for=(format!("policy-{policy}")) { (lang.t(policy_key(policy))) }
                            }
                        }
                    }
                    (client_fieldset(lang, &view.client))
                    div class="actions" {
                        button type="submit" { (lang.t("apps.save")) }
                        a href=(paths::APPS) { (lang.t("apps.cancel")) }
                    }
                }
            }
            @if let Some(card) = &view.card { (client_card(lang, card, view.notice)) }
        },
    )
}

/// A confirmation before an action on application `name` that cannot be undone: `title`
/// and `submit` are translation keys (`title` with `{app}`), `action` where the form posts.
pub(crate) struct Confirm<'a> {
    pub name: &'a str,
    pub title: &'a str,
    pub text: &'a str,
    pub submit: &'a str,
    pub action: String,
    /// Where Cancel leads.
    pub back: String,
}

pub(crate) fn confirm_page(ctx: &PageContext, view: &Confirm) -> Markup {
    let lang = ctx.lang;
    let title = lang.t(view.title).replace("{app}", view.name);
    page(
        ctx,
        &title,
        html! {
            section class="card narrow-wide" aria-labelledby="confirm-title" {
                h1 id="confirm-title" { (emphasised(lang.t(view.title), "{app}", view.name)) }
                p { (lang.t(view.text)) }
                form method="post" action=(view.action) {
                    (csrf_field(ctx.csrf))
                    div class="actions" {
                        button type="submit" class="danger" { (lang.t(view.submit)) }
                        a href=(view.back) { (lang.t("apps.cancel")) }
                    }
                }
            }
        },
    )
}

pub fn delete_app_page(ctx: &PageContext, id: i32, name: &str) -> Markup {
    confirm_page(
        ctx,
        &Confirm {
            name,
            title: "apps.deleteTitle",
            text: "apps.deleteConfirm",
            submit: "apps.deleteSubmit",
            action: paths::delete_app(id),
            back: paths::APPS.to_string(),
        },
    )
}

/// The audit detail of an application or single sign-on entry as a sentence (`None`: not
/// one of those, or a detail this does not know). `get` reads a value of the detail, decoded
/// (`app=Team+Wiki`: names are form-encoded, see `accounts::audit::value`).
pub fn audit_sentence(
    lang: Lang,
    action: &str,
    get: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    let yes = |value: Option<String>| {
        if value.as_deref() == Some("true") {
            lang.t("panelConfig.yes")
        } else {
            lang.t("panelConfig.no")
        }
    };
    if action == "sso_session_issued" && get("app").is_none() {
        return Some(format!(
            "{}.",
            lang.t("apps.auditIssued")
                .replace("{yes}", yes(get("second_factor")))
        ));
    }
    let app = get("app")?;
    let sentence = match action {
        "app_created" | "app_deleted" => lang
            .t("apps.auditApp")
            .replace("{app}", &app)
            .replace("{policy}", lang.t(policy_key(&get("policy")?)))
            .replace(
                "{hosts}",
                &get("hosts")
                    .filter(|h| !h.is_empty())
                    .unwrap_or_else(|| "—".into()),
            ),
        "app_updated" => lang
            .t("apps.auditChanged")
            .replace("{app}", &app)
            .replace("{fields}", &get("changed")?.replace(',', ", ")),
        "app_client_secret_regenerated" => lang.t("oidcClient.auditSecret").replace("{app}", &app),
        "sso_session_issued" => lang
            .t("apps.auditIssuedFor")
            .replace("{app}", &app)
            .replace("{yes}", yes(get("second_factor"))),
        "sso_refused" if get("reason").as_deref() == Some("roles") => {
            lang.t("apps.auditRefusedRoles").replace("{app}", &app)
        }
        "sso_refused" => lang.t("apps.auditRefusedPolicy").replace("{app}", &app),
        _ => return None,
    };
    Some(format!("{sentence}."))
}
