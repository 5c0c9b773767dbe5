//! `/panel/sessions` (SPEC §11): one's own sessions, this one marked; end one, or all others.

use maud::{Markup, html};

use crate::i18n::Lang;
use crate::paths;
use crate::views::components::csrf_field;
use crate::views::layout::{PageContext, page};
use crate::views::oidc::{AppSignInRow, app_sign_ins};

pub struct SessionRow {
    pub handle: String,
    pub browser: String,
    pub signed_in: String,
    pub last_seen: String,
    pub address: String,
    pub current: bool,
    /// A single sign-on session: what it opens ("Single sign-on: apps on example.org").
    pub apps: Option<String>,
}

pub struct SessionsView {
    pub rows: Vec<SessionRow>,
    /// What was just done: `one` or `others` (with how many), shown once as a status.
    pub notice: Option<String>,
    /// The apps the user signed in to through OpenID Connect (SPEC §16).
    pub apps: Vec<AppSignInRow>,
    /// An app's sign-in was just ended.
    pub apps_ended: bool,
}

fn end_form(lang: Lang, csrf: &str, row: &SessionRow) -> Markup {
    html! {
        form method="post" action=(paths::SESSIONS_END) {
            (csrf_field(csrf))
            input type="hidden" name="session" value=(row.handle);
            button type="submit" class="secondary"
                aria-label=(if row.apps.is_some() { lang.t("sso.endApps") } else { lang.t("sessions.endOne") }.replace("{browser}", &row.browser)) {
                (lang.t("sessions.end"))
            }
        }
    }
}

pub fn sessions_page(ctx: &PageContext, view: &SessionsView) -> Markup {
    let lang = ctx.lang;
    let others = view.rows.iter().filter(|r| !r.current).count();
    let any_apps = view.rows.iter().any(|r| r.apps.is_some());
    page(
        ctx,
        lang.t("sessions.title"),
        html! {
            section class="card" aria-labelledby="sessions-title" {
                h1 id="sessions-title" { (lang.t("sessions.title")) }
                @if let Some(notice) = &view.notice {
                    div class="alert alert-ok" role="status" { (notice) }
                }
                p { (lang.t("sessions.intro")) }
                div class="table-scroll" role="region" tabindex="0" aria-label=(lang.t("sessions.tableLabel")) {
                    table class="data stack" {
                        caption class="visually-hidden" { (lang.t("sessions.title")) }
                        thead { tr {
                            th scope="col" { (lang.t("sessions.browser")) }
                            @if any_apps { th scope="col" { (lang.t("sso.kind")) } }
                            th scope="col" { (lang.t("sessions.signedIn")) }
                            th scope="col" { (lang.t("sessions.lastSeen")) }
                            th scope="col" { (lang.t("sessions.address")) }
                            th scope="col" { span class="visually-hidden" { (lang.t("sessions.end")) } }
                        } }
                        tbody {
                            @for row in &view.rows {
                                tr {
                                    th scope="row" data-label=(lang.t("sessions.browser")) {
                                        (row.browser)
                                        @if row.current { " " span class="badge badge-ok" { (lang.t("sessions.thisOne")) } }
                                    }
                                    @if any_apps {
                                        td data-label=(lang.t("sso.kind")) {
                                            (row.apps.as_deref().unwrap_or(lang.t("sso.kindPanel")))
                                        }
                                    }
                                    td data-label=(lang.t("sessions.signedIn")) { (row.signed_in) }
                                    td data-label=(lang.t("sessions.lastSeen")) { (row.last_seen) }
                                    td data-label=(lang.t("sessions.address")) { (row.address) }
                                    td {
                                        @if row.current && row.apps.is_none() {
                                            span class="hint" { (lang.t("sessions.signOutHint")) }
                                        } @else {
                                            (end_form(lang, ctx.csrf, row))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                @if others > 0 {
                    form method="post" action=(paths::SESSIONS_END_OTHERS) class="actions" {
                        (csrf_field(ctx.csrf))
                        button type="submit" class="danger" { (lang.t("sessions.endOthers")) }
                    }
                } @else {
                    p class="hint" { (lang.t("sessions.noOthers")) }
                }
            }
            (app_sign_ins(ctx, &view.apps, view.apps_ended))
        },
    )
}
