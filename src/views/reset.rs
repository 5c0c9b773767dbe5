//! The reset-password dialog (tempPassword namespace): form, and the result shown once.

use maud::{Markup, html};

use crate::i18n::Lang;
use crate::paths;
use crate::views::components::{CopyField, close_link, copy_field, csrf_field, dialog};
use crate::views::layout::{PageContext, page};
use crate::views::link_dialog::{ResetKind, reset_tabs};

/// Lengths offered for a generated password.
pub const LENGTHS: [usize; 9] = [8, 12, 16, 20, 24, 32, 48, 64, 128];

/// The lengths a form offers for a generated password: the configured minimum, then each of
/// [`LENGTHS`] above it (a shorter one would only be refused).
pub fn length_choices(min_length: usize) -> impl Iterator<Item = usize> {
    std::iter::once(min_length).chain(LENGTHS.into_iter().filter(move |&n| n > min_length))
}

#[derive(Default)]
pub struct ResetErrors {
    pub password: Option<String>,
    pub length: Option<String>,
    pub expires: Option<String>,
    pub general: Option<String>,
}

pub struct ResetFormView {
    pub target_id: i32,
    pub target_name: String,
    /// A password to prefill (the Generate button's result), or empty for "generate on reset".
    pub password: String,
    pub length: usize,
    /// The configured minimum password length (the shortest length offered).
    pub min_length: usize,
    pub expires_hours: String,
    pub require_change: bool,
    pub revoke_keys: bool,
    /// Also remove every second factor (SPEC §9, a lost phone).
    pub reset_mfa: bool,
    pub errors: ResetErrors,
}

pub struct ResetResultView {
    pub target_name: String,
    /// Shown exactly once.
    pub password: Option<String>,
    pub expires: Option<String>,
    pub require_change: bool,
}

fn error_for(id: &str, error: &Option<String>) -> Markup {
    html! { @if let Some(e) = error { p id=(format!("{id}-error")) class="field-error" { (e) } } }
}

fn described(id: &str, hint: bool, error: &Option<String>) -> Option<String> {
    let mut ids = Vec::new();
    if hint {
        ids.push(format!("{id}-hint"));
    }
    if error.is_some() {
        ids.push(format!("{id}-error"));
    }
    (!ids.is_empty()).then(|| ids.join(" "))
}

fn form(lang: Lang, csrf: &str, view: &ResetFormView) -> Markup {
    let url = paths::reset(view.target_id);
    let e = &view.errors;
    // Focus lands on the first field in error (the password field otherwise).
    let focus_password = e.password.is_some() || (e.length.is_none() && e.expires.is_none());
    html! {
        h2 id="reset-title" { (lang.t("tempPassword.title").replace("{user}", &view.target_name)) }
        (reset_tabs(lang, view.target_id, ResetKind::TemporaryPassword))
        @if let Some(general) = &e.general { div class="alert alert-error" role="alert" { (general) } }
        form method="post" action=(url) hx-post=(url) hx-target="#dialog-slot" {
            (csrf_field(csrf))
            div class="field" {
                label for="reset-password" { (lang.t("tempPassword.password")) }
                input id="reset-password" name="password" type="text" value=(view.password)
                    autocomplete="off" spellcheck="false"
                    autofocus[focus_password]
                    aria-invalid=[e.password.as_ref().map(|_| "true")]
                    aria-describedby=[described("reset-password", true, &e.password)];
                p id="reset-password-hint" class="hint" { (lang.t("tempPassword.passwordHint")) }
                (error_for("reset-password", &e.password))
            }
            div class="field inline" {
                label for="reset-length" { (lang.t("tempPassword.length")) }
                select id="reset-length" name="length" autofocus[e.length.is_some() && !focus_password]
                    aria-invalid=[e.length.as_ref().map(|_| "true")]
                    aria-describedby=[described("reset-length", false, &e.length)] {
                    @for n in length_choices(view.min_length) { option value=(n) selected[n == view.length] { (n) } }
                }
                button type="submit" name="intent" value="generate" class="secondary" { (lang.t("tempPassword.generate")) }
                (error_for("reset-length", &e.length))
            }
            div class="field" {
                label for="reset-expires" { (lang.t("tempPassword.expiresHours")) }
                input id="reset-expires" name="expires_hours" type="number" min="-1" max="8760" step="1"
                    autofocus[e.expires.is_some() && e.length.is_none() && !focus_password]
                    value=(view.expires_hours)
                    aria-invalid=[e.expires.as_ref().map(|_| "true")]
                    aria-describedby=[described("reset-expires", true, &e.expires)];
                p id="reset-expires-hint" class="hint" { (lang.t("tempPassword.expiresHint")) }
                (error_for("reset-expires", &e.expires))
            }
            div class="field check" {
                input id="reset-require" name="require_password_change" type="checkbox" value="true" checked[view.require_change];
                label for="reset-require" { (lang.t("tempPassword.requireChange")) }
            }
            div class="field check" {
                input id="reset-revoke" name="revoke_api_keys" type="checkbox" value="true" checked[view.revoke_keys];
                label for="reset-revoke" { (lang.t("tempPassword.revokeKeys")) }
            }
            div class="field check" {
                input id="reset-mfa" name="reset_mfa" type="checkbox" value="true" checked[view.reset_mfa];
                label for="reset-mfa" { (lang.t("mfa.resetMfa")) }
            }
            div class="actions" {
                button type="submit" name="intent" value="reset" class="danger" { (lang.t("tempPassword.submit")) }
                (close_link(lang.t("userConfig.cancel"), paths::USERS))
            }
        }
    }
}

fn result(lang: Lang, view: &ResetResultView) -> Markup {
    html! {
        h2 id="reset-title" { (lang.t("tempPassword.doneTitle").replace("{user}", &view.target_name)) }
        div class="alert alert-ok" role="status" { (lang.t("tempPassword.done")) }
        @if let Some(password) = &view.password {
            (copy_field(lang, &CopyField {
                id: "reset-result",
                label: lang.t("tempPassword.newPassword"),
                value: password,
                hint: lang.t("tempPassword.shownOnce"),
                autofocus: true,
            }))
        }
        dl class="facts" {
            dt { (lang.t("tempPassword.expires")) }
            dd { (view.expires.as_deref().unwrap_or(lang.t("tempPassword.never"))) }
            dt { (lang.t("tempPassword.requireChange")) }
            dd { (if view.require_change { lang.t("panelConfig.yes") } else { lang.t("panelConfig.no") }) }
        }
        div class="actions" { (close_link(lang.t("base.close"), paths::USERS)) }
    }
}

/// Where an *already shown* page leads back to: the page the result was made on.
pub struct BackLink<'a> {
    pub href: &'a str,
    /// The translation key of its words.
    pub label: &'a str,
}

fn already_shown(lang: Lang, back: &BackLink) -> Markup {
    html! {
        h2 id="reset-title" { (lang.t("base.alreadyShownTitle")) }
        div class="alert alert-info" role="status" { (lang.t("base.alreadyShown")) }
        div class="actions" { (close_link(lang.t(back.label), back.href)) }
    }
}

/// A one-time result opened a second time (reload, back button): nothing is repeated.
pub fn already_shown_dialog(lang: Lang, back: &BackLink) -> Markup {
    dialog("reset-dialog", "reset-title", already_shown(lang, back))
}

pub fn already_shown_page(ctx: &PageContext, back: &BackLink) -> Markup {
    page(
        ctx,
        ctx.lang.t("base.alreadyShownTitle"),
        html! {
            section class="card narrow-wide" aria-labelledby="reset-title" {
                h1 class="visually-hidden" { (ctx.lang.t("base.alreadyShownTitle")) }
                (already_shown(ctx.lang, back))
            }
        },
    )
}

pub fn reset_dialog(lang: Lang, csrf: &str, view: &ResetFormView) -> Markup {
    dialog("reset-dialog", "reset-title", form(lang, csrf, view))
}

pub fn reset_result_dialog(lang: Lang, view: &ResetResultView) -> Markup {
    dialog("reset-dialog", "reset-title", result(lang, view))
}

/// The same dialog as a page of its own, for browsers without JavaScript.
pub fn reset_page(ctx: &PageContext, view: &ResetFormView) -> Markup {
    page(
        ctx,
        ctx.lang.t("tempPassword.pageTitle"),
        html! {
            section class="card narrow-wide" aria-labelledby="reset-title" {
                h1 class="visually-hidden" { (ctx.lang.t("tempPassword.pageTitle")) }
                (form(ctx.lang, ctx.csrf, view))
            }
        },
    )
}

pub fn reset_result_page(ctx: &PageContext, view: &ResetResultView) -> Markup {
    page(
        ctx,
        ctx.lang.t("tempPassword.pageTitle"),
        html! {
            section class="card narrow-wide" aria-labelledby="reset-title" {
                h1 class="visually-hidden" { (ctx.lang.t("tempPassword.pageTitle")) }
                (result(ctx.lang, view))
            }
        },
    )
}
