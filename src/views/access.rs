//! Single sign-on pages a person meets outside the panel (SPEC §15): the access-denied page
//! (also shown at an application's own address by the forward-auth answer, so its styles and
//! links name passgate's address in full) and the sign-out confirmation of `GET /logout?rd=`.

use maud::{DOCTYPE, Markup, html};

use crate::i18n::Lang;
use crate::paths;
use crate::views::assets::asset_url;
use crate::views::components::{csrf_field, emphasised};
use crate::views::layout::{PageContext, page};

/// What the access-denied page says.
pub struct DeniedView<'a> {
    /// The application refused (`None`: no application has the address).
    pub app: Option<&'a str>,
    /// Who is signed in, if known.
    pub username: Option<&'a str>,
    /// passgate's address before every link and asset (`""` on passgate itself).
    pub base: &'a str,
    /// On passgate itself, the CSRF token of the sign-out form; elsewhere sign-out is a link
    /// to the confirmation page.
    pub csrf: Option<&'a str>,
    /// The application's URL, to sign in there again after signing out.
    pub rd: Option<&'a str>,
}

/// A page of its own (no scripts: it is also served at the application's address), in the
/// panel's look.
pub fn denied_page(lang: Lang, view: &DeniedView) -> Markup {
    let base = view.base;
    let title = lang.t("sso.deniedTitle");
    let dashboard = format!("{base}{}", paths::DASHBOARD);
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · passgate" }
                link rel="stylesheet" href=(format!("{base}{}", asset_url("app.css")));
                link rel="icon" type="image/svg+xml" href=(format!("{base}{}", asset_url("lock.svg")));
            }
            body {
                header class="top" {
                    span class="brand" { "passgate" }
                    @if let Some(username) = view.username {
                        nav aria-label=(lang.t("base.navigation")) {
                            ul {
                                li { span { (lang.t("base.signedInAs")) " " strong { (username) } } }
                                li { (sign_out(lang, view)) }
                            }
                        }
                    }
                }
                main id="main" {
                    section class="card narrow" aria-labelledby="denied-title" {
                        h1 id="denied-title" { (title) }
                        @match view.app {
                            Some(app) => p { (emphasised(lang.t("sso.deniedApp"), "{app}", app)) },
                            None => p { (lang.t("sso.deniedNoApp")) },
                        }
                        p { (lang.t("sso.deniedHint")) }
                        p { a href=(dashboard) { (lang.t("sso.toPanel")) } }
                    }
                }
            }
        }
    }
}

fn sign_out(lang: Lang, view: &DeniedView) -> Markup {
    match view.csrf {
        Some(csrf) => html! {
            form method="post" action=(paths::LOGOUT) {
                (csrf_field(csrf))
                @if let Some(rd) = view.rd { input type="hidden" name="rd" value=(rd); }
                button type="submit" class="link" { (lang.t("sso.signInAsOther")) }
            }
        },
        None => html! {
            a href=(format!("{}{}", view.base, paths::with_rd(paths::LOGOUT, view.rd))) {
                (lang.t("sso.signInAsOther"))
            }
        },
    }
}

/// `GET /logout?rd=`: a confirmation with a plain form (a link must not sign anyone out).
pub fn logout_confirm_page(ctx: &PageContext, rd: Option<&str>) -> Markup {
    let lang = ctx.lang;
    page(
        ctx,
        lang.t("sso.logoutTitle"),
        html! {
            section class="card narrow" aria-labelledby="logout-title" {
                h1 id="logout-title" { (lang.t("sso.logoutTitle")) }
                p { (lang.t("sso.logoutText")) }
                form method="post" action=(paths::LOGOUT) class="actions" {
                    (csrf_field(ctx.csrf))
                    @if let Some(rd) = rd { input type="hidden" name="rd" value=(rd); }
                    button type="submit" { (lang.t("base.logout")) }
                    a class="button secondary" href=(paths::DASHBOARD) { (lang.t("sso.stay")) }
                }
            }
        },
    )
}
