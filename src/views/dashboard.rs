//! The dashboard: who you are, your status, where you can go; for administrators first the
//! overview of the users they see (SPEC §18).

use maud::{Markup, html};

use crate::paths;
use crate::views::layout::{PageContext, page};
use crate::views::overview::{OverviewView, overview_sections};

pub struct DashboardView<'a> {
    pub user_id: i32,
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub superuser: bool,
    /// RFC 3339, or `None` before the first sign-in.
    pub last_login: Option<String>,
    pub lang_code: &'a str,
    pub manages_users: bool,
    pub sees_audit: bool,
    /// Right after a sign-in with a recovery code: how many are left (said once).
    pub recovery_codes_left: Option<u64>,
    /// The overview, for administrators (SPEC §18).
    pub overview: Option<OverviewView>,
}

pub fn dashboard_page(ctx: &PageContext, view: &DashboardView) -> Markup {
    let lang = ctx.lang;
    let role = if view.superuser {
        lang.t("dashboard.roleSuperuser")
    } else {
        lang.t("dashboard.roleUser")
    };
    page(
        ctx,
        lang.t("dashboard.title"),
        html! {
            @if let Some(left) = view.recovery_codes_left {
                div class="alert alert-warning" role="status" {
                    (lang.t("login.recoveryCodeUsed").replace("{left}", &left.to_string()))
                    " " a href=(paths::SECURITY) { (lang.t("base.security")) }
                }
            }
            @if let Some(overview) = &view.overview {
                h1 id="dash-title" class="page-title" { (lang.t("dashboard.welcome")) ", " (view.username) }
                (overview_sections(lang, overview))
            }
            section class="card" aria-labelledby=(if view.overview.is_some() { "dash-account" } else { "dash-title" }) {
                @if view.overview.is_some() {
                    h2 id="dash-account" { (lang.t("overview.yourAccount")) }
                } @else {
                    h1 id="dash-title" { (lang.t("dashboard.welcome")) ", " (view.username) }
                }
                dl class="facts" {
                    dt { (lang.t("dashboard.username")) } dd { (view.username) }
                    dt { (lang.t("dashboard.role")) } dd { (role) }
                    dt { (lang.t("dashboard.email")) } dd { (view.email.unwrap_or("—")) }
                    dt { (lang.t("dashboard.language")) } dd { (lang.t(&format!("dashboard.languageName.{}", view.lang_code))) }
                    dt { (lang.t("dashboard.lastLogin")) }
                    dd { (view.last_login.as_deref().unwrap_or("—")) }
                    dt { (lang.t("dashboard.passwordStatus")) } dd { span class="badge badge-ok" { (lang.t("dashboard.passwordOk")) } }
                }
            }
            section class="card" aria-labelledby="dash-links" {
                h2 id="dash-links" { (lang.t("dashboard.links")) }
                ul {
                    @if view.manages_users {
                        li { a href=(paths::USERS) { (lang.t("base.users")) } }
                        li { a href=(paths::NEW_USER) { (lang.t("userConfig.newUser")) } }
                    }
                    @if view.sees_audit {
                        li { a href=(paths::AUDIT) { (lang.t("base.audit")) } }
                    }
                    li { a href=(paths::edit(view.user_id)) { (lang.t("dashboard.profile")) } }
                    li { a href=(paths::CHANGE_PASSWORD) { (lang.t("base.changePassword")) } }
                    li { a href=(paths::SECURITY) { (lang.t("base.security")) } }
                }
            }
        },
    )
}
