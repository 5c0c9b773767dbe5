//! The sign-in page and its form fragment.

use maud::{Markup, html};

use crate::i18n::Lang;
use crate::paths;
use crate::views::components::{Field, alert, csrf_field, emphasised, field, rd_field};
use crate::views::layout::{PageContext, page};

/// What the sign-in form shows again after a failed attempt.
#[derive(Default)]
pub struct LoginForm<'a> {
    pub username: &'a str,
    pub error: Option<&'a str>,
    /// Why the previous session ended, when it did.
    pub notice: Option<&'a str>,
    /// The server offers passkeys (`PASSGATE_PUBLIC_URL` is set): the script shows the
    /// passkey button and, where the browser has it, offers passkeys in the username field's
    /// autofill (SPEC §13); without JavaScript both stay off.
    pub passkeys: bool,
    /// Where the walk ends (`rd`, already checked), carried by the form.
    pub rd: Option<&'a str>,
    /// The application the user is going to ("Sign in to continue to *Wiki*").
    pub app: Option<&'a str>,
}

/// The form box; the same fragment is the htmx swap target and part of the full page.
pub fn login_box(lang: Lang, csrf: &str, form: &LoginForm) -> Markup {
    let error_id = "login-error";
    let mut username = Field::new("username", lang.t("login.username"), "text");
    username.value = Some(form.username);
    // `webauthn`: the browser may list this site's passkeys with the saved names.
    username.autocomplete = if form.passkeys {
        "username webauthn"
    } else {
        "username"
    };
    // After a wrong password the name is kept: the cursor waits in the password field.
    username.autofocus = form.username.is_empty();
    let mut password = Field::new("password", lang.t("login.password"), "password");
    password.autocomplete = "current-password";
    password.autofocus = !form.username.is_empty();
    html! {
        section id="auth-box" class="card narrow" aria-labelledby="auth-title" {
            h1 id="auth-title" { (lang.t("login.title")) }
            @if let Some(app) = form.app {
                p id="login-app" { (emphasised(lang.t("sso.continueTo"), "{app}", app)) }
            }
            @if let Some(notice) = form.notice {
                div id="login-notice" class="alert alert-info" role="status" { (notice) }
            }
            @if let Some(error) = form.error { (alert("error", error_id, error)) }
            form method="post" action=(paths::LOGIN) hx-post=(paths::LOGIN)
                hx-target="#auth-box" hx-swap="outerHTML"
                aria-describedby=[form.error.map(|_| error_id)] {
                (csrf_field(csrf))
                (rd_field(form.rd))
                (field(&username))
                (field(&password))
                button type="submit" { (lang.t("login.submit")) }
            }
            @if form.passkeys {
                (passkey_sign_in(lang))
            }
        }
    }
}

/// The passkey way in: hidden until `assets/passkey.js` finds a browser that can use it. The
/// button signs in for the name typed, or with nothing typed any passkey of this site the
/// device holds; `data-autofill` asks the script to offer them in the username field too.
fn passkey_sign_in(lang: Lang) -> Markup {
    html! {
        div class="passkey-box" data-passkey="login" data-autofill="username"
            data-options=(paths::PASSKEY_SIGN_IN_OPTIONS) data-finish=(paths::PASSKEY_SIGN_IN)
            data-cancelled=(lang.t("passkey.cancelled")) hidden {
            p class="divider" { (lang.t("passkey.or")) }
            button type="button" class="secondary" data-passkey-start {
                (lang.t("passkey.signIn"))
            }
            p class="field-error" data-passkey-error role="alert" hidden {}
        }
    }
}

pub fn login_page(lang: Lang, csrf: &str, form: &LoginForm) -> Markup {
    let ctx = PageContext {
        lang,
        csrf,
        nav: None,
    };
    page(&ctx, lang.t("login.title"), login_box(lang, csrf, form))
}
