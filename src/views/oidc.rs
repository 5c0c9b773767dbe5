//! The OpenID Connect provider's pages (SPEC §16): the refusal of an authorization request
//! that cannot go back to its app, the sign-out confirmation of RP-initiated logout (a plain
//! form), the page after signing out, and the apps section of `/panel/sessions`.

use axum::http::StatusCode;
use maud::{Markup, html};

use crate::i18n::Lang;
use crate::paths;
use crate::views::components::csrf_field;
use crate::views::error::error_page_in;
use crate::views::layout::{PageContext, page};

/// Why an authorization request got a page instead of a redirect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    UnknownClient,
    UnregisteredRedirectUri,
    /// The logout request's `id_token_hint` is not passgate's.
    InvalidHint,
    /// The logout request's `client_id` is not the hint's audience.
    ClientMismatch,
    /// The logout request's redirect URI is not registered.
    UnregisteredLogoutUri,
}

impl Refused {
    fn message_key(self) -> &'static str {
        match self {
            Refused::UnknownClient => "oidc.unknownClient",
            Refused::UnregisteredRedirectUri => "oidc.badRedirect",
            Refused::InvalidHint => "oidc.logoutInvalidHint",
            Refused::ClientMismatch => "oidc.logoutClientMismatch",
            Refused::UnregisteredLogoutUri => "oidc.logoutUnregisteredUri",
        }
    }
}

/// 400: the request is refused at passgate and goes nowhere.
pub fn refused_page(ctx: &PageContext, refused: Refused) -> Markup {
    error_page_in(
        ctx,
        StatusCode::BAD_REQUEST,
        ctx.lang.t(refused.message_key()),
    )
}

/// What the sign-out confirmation carries (re-checked when it is submitted).
pub struct LogoutForm<'a> {
    pub username: &'a str,
    /// The app that asked, when it could be told.
    pub app: Option<&'a str>,
    pub id_token_hint: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub post_logout_redirect_uri: Option<&'a str>,
    pub state: Option<&'a str>,
}

/// "Sign out of passgate?" — a plain form; staying signed in goes to the dashboard.
pub fn logout_page(ctx: &PageContext, form: &LogoutForm) -> Markup {
    let lang = ctx.lang;
    let hidden = [
        ("id_token_hint", form.id_token_hint),
        ("client_id", form.client_id),
        ("post_logout_redirect_uri", form.post_logout_redirect_uri),
        ("state", form.state),
    ];
    page(
        ctx,
        lang.t("oidc.logoutTitle"),
        html! {
            section class="card narrow-wide" aria-labelledby="logout-title" {
                h1 id="logout-title" { (lang.t("oidc.logoutTitle")) }
                @if let Some(app) = form.app {
                    p { (lang.t("oidc.logoutFrom").replace("{app}", app)) }
                }
                p { (lang.t("oidc.logoutAs").replace("{user}", form.username)) }
                p { (lang.t("oidc.logoutIntro")) }
                form method="post" action=(paths::oidc::LOGOUT_CONFIRM) class="actions" {
                    (csrf_field(ctx.csrf))
                    @for (name, value) in hidden {
                        @if let Some(value) = value {
                            input type="hidden" name=(name) value=(value);
                        }
                    }
                    button type="submit" { (lang.t("oidc.logoutSubmit")) }
                    a class="button secondary" href=(paths::DASHBOARD) { (lang.t("oidc.logoutCancel")) }
                }
            }
        },
    )
}

/// After signing out, when the app gave no (registered) place to return to.
pub fn signed_out_page(lang: Lang) -> Markup {
    let ctx = PageContext {
        lang,
        csrf: "",
        nav: None,
    };
    page(
        &ctx,
        lang.t("oidc.signedOutTitle"),
        html! {
            section class="card narrow" aria-labelledby="signed-out-title" {
                h1 id="signed-out-title" { (lang.t("oidc.signedOutTitle")) }
                p role="status" { (lang.t("oidc.signedOut")) }
                p { a href=(paths::LOGIN) { (lang.t("oidc.signInAgain")) } }
            }
        },
    )
}

/// One app the user signed in to, on the sessions page.
pub struct AppSignInRow {
    pub grant_id: i32,
    pub app: String,
    pub signed_in: String,
    pub last_used: String,
    pub this_browser: bool,
}

/// The apps section of `/panel/sessions`: each live grant, with a form that ends it.
pub fn app_sign_ins(ctx: &PageContext, rows: &[AppSignInRow], ended: bool) -> Markup {
    let lang = ctx.lang;
    html! {
        section class="card" aria-labelledby="apps-title" id="app-sign-ins" {
            h2 id="apps-title" { (lang.t("oidc.appsTitle")) }
            @if ended {
                div class="alert alert-ok" role="status" { (lang.t("oidc.appsEnded")) }
            }
            p { (lang.t("oidc.appsIntro")) }
            @if rows.is_empty() {
                p class="hint" { (lang.t("oidc.appsNone")) }
            } @else {
                div class="table-scroll" role="region" tabindex="0" aria-label=(lang.t("oidc.appsTableLabel")) {
                    table class="data stack" {
                        caption class="visually-hidden" { (lang.t("oidc.appsTitle")) }
                        thead { tr {
                            th scope="col" { (lang.t("oidc.app")) }
                            th scope="col" { (lang.t("oidc.appsSignedIn")) }
                            th scope="col" { (lang.t("oidc.appsLastUsed")) }
                            th scope="col" { span class="visually-hidden" { (lang.t("oidc.appsEnd")) } }
                        } }
                        tbody {
                            @for row in rows {
                                tr {
                                    th scope="row" data-label=(lang.t("oidc.app")) {
                                        (row.app)
                                        @if row.this_browser { " " span class="badge badge-ok" { (lang.t("oidc.appsThisBrowser")) } }
                                    }
                                    td data-label=(lang.t("oidc.appsSignedIn")) { (row.signed_in) }
                                    td data-label=(lang.t("oidc.appsLastUsed")) { (row.last_used) }
                                    td {
                                        form method="post" action=(paths::SESSIONS_END_APP) {
                                            (csrf_field(ctx.csrf))
                                            input type="hidden" name="grant" value=(row.grant_id);
                                            button type="submit" class="secondary"
                                                aria-label=(lang.t("oidc.appsEndOne").replace("{app}", &row.app)) {
                                                (lang.t("oidc.appsEnd"))
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
    }
}
