//! The report of a bulk action (SPEC §11), shown once: whom it was applied to, and whom it
//! left alone and why.

use maud::{Markup, html};

use crate::paths;
use crate::views::layout::{PageContext, page};

pub struct BulkReportView<'a> {
    /// `require_change` or `end_sessions`.
    pub action: &'a str,
    pub applied: &'a [String],
    /// Username and reason code (`yourself`, `not_allowed`).
    pub skipped: &'a [(String, String)],
    pub unknown: usize,
}

pub fn bulk_report_page(ctx: &PageContext, view: &BulkReportView) -> Markup {
    let lang = ctx.lang;
    let title = match view.action {
        "end_sessions" => lang.t("panelConfig.bulkEndSessions"),
        _ => lang.t("panelConfig.bulkRequireChange"),
    };
    page(
        ctx,
        title,
        html! {
            section class="card narrow-wide" aria-labelledby="bulk-title" {
                h1 id="bulk-title" { (title) }
                @if view.applied.is_empty() {
                    div class="alert alert-info" role="status" { (lang.t("panelConfig.bulkNobody")) }
                } @else {
                    div class="alert alert-ok" role="status" {
                        (lang.t("panelConfig.bulkApplied").replace("{n}", &view.applied.len().to_string()))
                    }
                    ul class="names" { @for name in view.applied { li { (name) } } }
                }
                @if !view.skipped.is_empty() {
                    h2 { (lang.t("panelConfig.bulkSkipped")) }
                    ul class="names" {
                        @for (name, why) in view.skipped {
                            li { strong { (name) } ": " (lang.t(&format!("panelConfig.bulkWhy.{why}"))) }
                        }
                    }
                }
                @if view.unknown > 0 {
                    p class="hint" { (lang.t("panelConfig.bulkUnknownUsers").replace("{n}", &view.unknown.to_string())) }
                }
                div class="actions" { a class="button" href=(paths::USERS) { (lang.t("panelConfig.backToUsers")) } }
            }
        },
    )
}
