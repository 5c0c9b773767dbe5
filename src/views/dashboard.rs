//! The dashboard: who you are, your status, where you can go.

use maud::{Markup, html};

use crate::i18n::Lang;
use crate::views::layout::{Nav, PageContext, page};
use crate::web::paths;

pub struct DashboardView<'a> {
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub superuser: bool,
    /// RFC 3339, or `None` before the first sign-in.
    pub last_login: Option<String>,
    pub lang_code: &'a str,
    pub notice: Option<&'a str>,
}

pub fn dashboard_page(lang: Lang, csrf: &str, view: &DashboardView) -> Markup {
    let ctx = PageContext {
        lang,
        csrf,
        nav: Some(Nav {
            username: view.username,
            restricted: false,
        }),
    };
    let role = if view.superuser {
        lang.t("dashboard.roleSuperuser")
    } else {
        lang.t("dashboard.roleUser")
    };
    page(
        &ctx,
        lang.t("dashboard.title"),
        html! {
            section class="card" aria-labelledby="dash-title" {
                h1 id="dash-title" { (lang.t("dashboard.welcome")) ", " (view.username) }
                @if let Some(notice) = view.notice { div class="alert alert-ok" role="status" { (notice) } }
                dl class="facts" {
                    dt { (lang.t("dashboard.username")) } dd { (view.username) }
                    dt { (lang.t("dashboard.role")) } dd { (role) }
                    dt { (lang.t("dashboard.email")) } dd { (view.email.unwrap_or("—")) }
                    dt { (lang.t("dashboard.language")) } dd { (view.lang_code) }
                    dt { (lang.t("dashboard.lastLogin")) }
                    dd { (view.last_login.as_deref().unwrap_or("—")) }
                    dt { (lang.t("dashboard.passwordStatus")) } dd { span class="badge badge-ok" { (lang.t("dashboard.passwordOk")) } }
                }
            }
            section class="card" aria-labelledby="dash-links" {
                h2 id="dash-links" { (lang.t("dashboard.links")) }
                ul {
                    li { a href=(paths::CHANGE_PASSWORD) { (lang.t("base.changePassword")) } }
                }
            }
        },
    )
}
