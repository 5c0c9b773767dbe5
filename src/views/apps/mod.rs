//! `/panel/apps` (SPEC §15.1, superusers): the applications passgate signs users in to — the
//! list (here), the form that creates and edits one (`form.rs`: hosts and public paths one per
//! line, roles as checkboxes, the policy, the OpenID Connect client: `client.rs`), the
//! confirmations before a deletion or an edit that ends OpenID Connect sign-ins
//! (`confirm.rs`) — and how their audit entries read (`audit.rs`).

mod audit;
pub mod client;
mod confirm;
mod form;

use maud::{Markup, html};

use crate::i18n::Lang;
use crate::paths;
use crate::views::layout::{PageContext, page};

pub use audit::audit_sentence;
pub(crate) use confirm::{Confirm, confirm_page};
pub use confirm::{EditConfirmView, delete_app_page, edit_confirm_page};
pub(crate) use form::text_area;
pub use form::{AppFormErrors, AppFormView, RoleChoice, app_form_page};

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
