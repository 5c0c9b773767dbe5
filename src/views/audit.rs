//! The audit log page (superusers): who did what to whom, when, from where.

use maud::{Markup, html};

use crate::paths;
use crate::views::components::pager;
use crate::views::layout::{PageContext, page};

pub struct AuditRow {
    pub when: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub ip: String,
    pub detail: String,
}

mod sentences;

pub use sentences::detail_sentence;

pub struct AuditView {
    pub rows: Vec<AuditRow>,
    pub user: String,
    pub page: u64,
    pub pages: u64,
}

fn link(user: &str, page: u64) -> String {
    let query = serde_urlencoded::to_string([("user", user), ("page", &page.to_string())])
        .unwrap_or_default();
    format!("{}?{query}", paths::AUDIT)
}

pub fn audit_page(ctx: &PageContext, view: &AuditView) -> Markup {
    let lang = ctx.lang;
    page(
        ctx,
        lang.t("audit.title"),
        html! {
            section class="card" aria-labelledby="audit-title" {
                h1 id="audit-title" { (lang.t("audit.title")) }
                form method="get" action=(paths::AUDIT) role="search" class="search" {
                    label for="audit-user" { (lang.t("audit.filter")) }
                    input id="audit-user" name="user" type="search" value=(view.user) autocomplete="off";
                    button type="submit" class="secondary" { (lang.t("audit.filterSubmit")) }
                }
                div class="table-scroll" role="region" tabindex="0" aria-label=(lang.t("audit.tableLabel")) {
                table class="data stack" {
                    caption class="visually-hidden" { (lang.t("audit.title")) }
                    thead {
                        tr {
                            th scope="col" { (lang.t("audit.when")) }
                            th scope="col" { (lang.t("audit.actor")) }
                            th scope="col" { (lang.t("audit.action")) }
                            th scope="col" { (lang.t("audit.target")) }
                            th scope="col" { (lang.t("audit.ip")) }
                            th scope="col" { (lang.t("audit.detail")) }
                        }
                    }
                    tbody {
                        @for row in &view.rows {
                            tr {
                                td data-label=(lang.t("audit.when")) { (row.when) }
                                td data-label=(lang.t("audit.actor")) { (row.actor) }
                                td data-label=(lang.t("audit.action")) { (row.action) }
                                td data-label=(lang.t("audit.target")) { (row.target) }
                                td data-label=(lang.t("audit.ip")) { (row.ip) }
                                td data-label=(lang.t("audit.detail")) { (row.detail) }
                            }
                        }
                    }
                }
                }
                @if view.rows.is_empty() { p { (lang.t("audit.empty")) } }
                (pager(lang, view.page, view.pages, |n| link(&view.user, n)))
            }
        },
    )
}
