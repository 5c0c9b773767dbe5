//! The page layout every full page is wrapped in.

use maud::{DOCTYPE, Markup, html};

use crate::i18n::Lang;
use crate::paths;
use crate::views::assets::asset_url;

/// htmx settings compatible with a strict CSP; 4xx fragments (form errors) are swapped in.
/// No settle delay (the pages use no transitions): new content is processed, and a dialog
/// opened modal with its focus set, in the same task that swaps it in, so nothing is shown
/// that a quick click or keystroke could reach before htmx has wired it up. The pages carry
/// no `style` attributes, so htmx settles none: copying one that a browser extension or tool
/// left on an input would only be refused by the CSP (a console error per input).
const HTMX_CONFIG: &str = r#"{"defaultSettleDelay":0,"attributesToSettle":["class","width","height"],"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"selfRequestsOnly":true,"historyCacheSize":0,"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},{"code":"4..","swap":true,"error":false},{"code":"...","swap":false,"error":true}]}"#;

/// Who is signed in, as the navigation shows it.
pub struct Nav<'a> {
    pub username: &'a str,
    /// While a password change is pending the navigation offers only sign-out.
    pub restricted: bool,
    /// Show the users table (superusers and `USER_CONFIG` holders).
    pub users: bool,
    /// Show the roles (superusers and `ROLES_CONFIG` holders).
    pub roles: bool,
    /// Show the audit log (superusers).
    pub audit: bool,
}

/// Everything the layout needs besides the content.
pub struct PageContext<'a> {
    pub lang: Lang,
    pub csrf: &'a str,
    pub nav: Option<Nav<'a>>,
}

pub fn page(ctx: &PageContext, title: &str, content: Markup) -> Markup {
    let lang = ctx.lang;
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="htmx-config" content=(HTMX_CONFIG);
                title { (title) " · passgate" }
                link rel="stylesheet" href=(asset_url("app.css"));
                // The lock as the tab's icon (and no request for a missing /favicon.ico).
                link rel="icon" type="image/svg+xml" href=(asset_url("lock.svg"));
                script src=(asset_url("htmx.min.js")) defer {}
            }
            body hx-headers=(format!(r#"{{"X-CSRF-Token":"{}"}}"#, ctx.csrf)) {
                a class="skip-link" href="#main" { (lang.t("base.skipToContent")) }
                (site_header(ctx, false))
                main id="main" tabindex="-1" { (content) }
                script src=(asset_url("copy.js")) defer {}
                script src=(asset_url("dialog.js")) defer {}
                script src=(asset_url("passkey.js")) defer {}
            }
        }
    }
}

/// The header: the brand and, for a signed-in user, who it is and how to sign out. `oob`
/// marks it for an htmx out-of-band swap (the in-place forced change after signing in).
pub fn site_header(ctx: &PageContext, oob: bool) -> Markup {
    let lang = ctx.lang;
    html! {
        header id="site-header" class="top" hx-swap-oob=[oob.then_some("true")] {
            span class="brand" { "passgate" }
            @if let Some(nav) = &ctx.nav {
                nav aria-label=(lang.t("base.navigation")) {
                    ul {
                        @if !nav.restricted {
                            li { a href=(paths::DASHBOARD) { (lang.t("base.dashboard")) } }
                            @if nav.users {
                                li { a href=(paths::USERS) { (lang.t("base.users")) } }
                            }
                            @if nav.roles {
                                li { a href=(paths::ROLES) { (lang.t("roles.title")) } }
                            }
                            @if nav.audit {
                                li { a href=(paths::AUDIT) { (lang.t("base.audit")) } }
                                // Applications are superusers' too (SPEC §15.1).
                                li { a href=(paths::APPS) { (lang.t("base.apps")) } }
                            }
                            li { a href=(paths::CHANGE_PASSWORD) { (lang.t("base.changePassword")) } }
                            li { a href=(paths::SECURITY) { (lang.t("base.security")) } }
                            li { a href=(paths::SESSIONS) { (lang.t("base.sessions")) } }
                        }
                        li { span { (lang.t("base.signedInAs")) " " strong { (nav.username) } } }
                        li {
                            form method="post" action=(paths::LOGOUT) {
                                input type="hidden" name="csrf_token" value=(ctx.csrf);
                                button type="submit" class="link" { (lang.t("base.logout")) }
                            }
                        }
                    }
                }
            }
        }
    }
}
