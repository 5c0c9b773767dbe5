//! The code page of a sign-in (SPEC §9): after the right password, a code from the
//! authenticator app — or, through a link, a recovery code; or the passkey (§13).

use maud::{Markup, html};

use crate::i18n::Lang;
use crate::paths;
use crate::views::components::{Field, alert, csrf_field, field, rd_field};
use crate::views::layout::{Nav, PageContext, page, site_header};

/// What the code page shows.
pub struct SecondFactorView<'a> {
    pub username: &'a str,
    /// Ask for a recovery code instead of a TOTP code.
    pub recovery: bool,
    /// The user has a TOTP device (else only the passkey is offered).
    pub totp: bool,
    /// The user has a passkey and the server offers passkeys.
    pub passkey: bool,
    pub error: Option<&'a str>,
    /// Where the walk ends (`rd`), carried by the form and the links.
    pub rd: Option<&'a str>,
}

/// The box: the htmx swap target on the sign-in page and the body of the page of its own.
pub fn second_factor_box(lang: Lang, csrf: &str, view: &SecondFactorView) -> Markup {
    let error_id = "second-factor-error";
    let (name, label, hint, autocomplete) = if view.recovery {
        (
            "recovery_code",
            lang.t("login.recoveryCode"),
            lang.t("login.recoveryCodeHint"),
            "off",
        )
    } else {
        (
            "code",
            lang.t("login.totpCode"),
            lang.t("login.totpCodeHint"),
            "one-time-code",
        )
    };
    let mut code = Field::new(name, label, "text");
    code.hint = Some(hint);
    code.autocomplete = autocomplete;
    code.autofocus = true;
    code.error = view.error;
    html! {
        section id="auth-box" class="card narrow" aria-labelledby="auth-title" {
            h1 id="auth-title" { (lang.t("login.secondFactorTitle")) }
            p { (lang.t("login.secondFactorFor")) " " strong { (view.username) } }
            @if view.totp {
                form method="post" action=(paths::SECOND_FACTOR) hx-post=(paths::SECOND_FACTOR)
                    hx-target="#auth-box" hx-swap="outerHTML"
                    aria-describedby=[view.error.map(|_| error_id)] {
                    (csrf_field(csrf))
                    (rd_field(view.rd))
                    (field(&code))
                    button type="submit" { (lang.t("login.secondFactorSubmit")) }
                }
                p {
                    @if view.recovery {
                        a href=(paths::with_rd(paths::SECOND_FACTOR, view.rd)) { (lang.t("login.useTotp")) }
                    } @else {
                        a href=(paths::with_rd(&format!("{}?recovery=1", paths::SECOND_FACTOR), view.rd)) {
                            (lang.t("login.useRecoveryCode"))
                        }
                    }
                }
            } @else if let Some(error) = view.error {
                (alert("error", error_id, error))
            }
            @if view.passkey {
                @if !view.totp { (rd_field(view.rd)) }
                div class="passkey-box" data-passkey="second-factor"
                    data-options=(paths::SECOND_FACTOR_PASSKEY_OPTIONS)
                    data-finish=(paths::SECOND_FACTOR_PASSKEY)
                    data-cancelled=(lang.t("passkey.cancelled")) hidden {
                    @if view.totp { p class="divider" { (lang.t("passkey.or")) } }
                    button type="button" class=[view.totp.then_some("secondary")] data-passkey-start {
                        @if view.totp { (lang.t("passkey.useInstead")) } @else { (lang.t("passkey.usePasskey")) }
                    }
                    p class="field-error" data-passkey-error role="alert" hidden {}
                }
                @if !view.totp {
                    noscript { p class="hint" { (lang.t("passkeyUse.signInNeedsScript")) } }
                }
            }
        }
    }
}

pub fn second_factor_page(lang: Lang, csrf: &str, view: &SecondFactorView) -> Markup {
    let ctx = context(lang, csrf, view.username);
    page(
        &ctx,
        lang.t("login.secondFactorTitle"),
        second_factor_box(lang, csrf, view),
    )
}

/// The box swapped in after the password with htmx, with the header showing who is signing
/// in and the sign-out button (an out-of-band swap).
pub fn second_factor_swap(lang: Lang, csrf: &str, view: &SecondFactorView) -> Markup {
    let ctx = context(lang, csrf, view.username);
    html! {
        (second_factor_box(lang, csrf, view))
        (site_header(&ctx, true))
    }
}

fn context<'a>(lang: Lang, csrf: &'a str, username: &'a str) -> PageContext<'a> {
    PageContext {
        lang,
        csrf,
        nav: Some(Nav {
            username,
            restricted: true,
            users: false,
            roles: false,
            audit: false,
        }),
    }
}
