//! The form that creates and edits an application (its OpenID Connect fieldset and card:
//! `client.rs`).

use maud::{Markup, html};

use crate::paths;
use crate::views::apps::client::{ClientCardView, ClientFormView, client_card, client_fieldset};
use crate::views::apps::policy_key;
use crate::views::components::{Field, alert, csrf_field, field};
use crate::views::layout::{PageContext, page};

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
    /// Why nothing was saved, when it is about no field.
    pub warning: Option<&'a str>,
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
                @if let Some(warning) = view.warning {
                    (alert("error", "app-form-warning", warning))
                } @else if any_error {
                    (alert("error", "app-form-error", lang.t("apps.fixFields")))
                }
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
