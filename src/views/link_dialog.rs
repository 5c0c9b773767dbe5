//! The reset dialog's second choice (SPEC §10): a single-use link instead of a temporary
//! password, its result shown once (the link, a copy button, a QR code), and revoking a
//! pending link. Tabs at the top switch between the two choices with plain links.

use maud::{Markup, html};

use crate::i18n::Lang;
use crate::paths;
use crate::views::components::{CopyField, close_link, copy_field, csrf_field, dialog};
use crate::views::layout::{PageContext, page};
use crate::views::qr::qr_svg;

/// Which of the reset dialog's two forms is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetKind {
    TemporaryPassword,
    Link,
}

/// The two choices as tabs (links: they work without JavaScript, htmx swaps the dialog).
pub fn reset_tabs(lang: Lang, target_id: i32, active: ResetKind) -> Markup {
    let password_url = paths::reset(target_id);
    let link_url = paths::reset_link(target_id);
    let tab = |url: &str, label: &str, kind: ResetKind| {
        html! {
            a href=(url) hx-get=(url) hx-target="#dialog-slot"
                aria-current=[(kind == active).then_some("page")] { (label) }
        }
    };
    html! {
        nav class="tabs" aria-label=(lang.t("resetLink.choice")) {
            (tab(&password_url, lang.t("resetLink.tabPassword"), ResetKind::TemporaryPassword))
            (tab(&link_url, lang.t("resetLink.tabLink"), ResetKind::Link))
        }
    }
}

pub struct LinkFormView {
    pub target_id: i32,
    pub target_name: String,
    pub expires_hours: String,
    pub revoke_keys: bool,
    pub reset_mfa: bool,
    /// When the user's live link expires (formatted), if they have one.
    pub pending: Option<String>,
    /// The pending link was just revoked.
    pub revoked: bool,
    pub expires_error: Option<String>,
    pub general: Option<String>,
}

fn form(lang: Lang, csrf: &str, view: &LinkFormView) -> Markup {
    let make = paths::reset_link(view.target_id);
    let revoke = paths::reset_link_revoke(view.target_id);
    let expires_described = match &view.expires_error {
        Some(_) => "link-expires-hint link-expires-error",
        None => "link-expires-hint",
    };
    html! {
        h2 id="reset-title" { (lang.t("tempPassword.title").replace("{user}", &view.target_name)) }
        (reset_tabs(lang, view.target_id, ResetKind::Link))
        @if let Some(general) = &view.general { div class="alert alert-error" role="alert" { (general) } }
        @if view.revoked { div class="alert alert-ok" role="status" { (lang.t("resetLink.revoked")) } }
        p { (lang.t("resetLink.explain")) }
        @if let Some(until) = &view.pending {
            div class="pending-link" {
                p role="status" { (lang.t("resetLink.pending").replace("{time}", until)) }
                form method="post" action=(revoke) hx-post=(revoke) hx-target="#dialog-slot" {
                    (csrf_field(csrf))
                    button type="submit" class="secondary" { (lang.t("resetLink.revoke")) }
                }
            }
        }
        form method="post" action=(make) hx-post=(make) hx-target="#dialog-slot" {
            (csrf_field(csrf))
            div class="field" {
                label for="link-expires" { (lang.t("resetLink.expiresHours")) }
                input id="link-expires" name="expires_hours" type="number" min="1" max="72" step="1"
                    value=(view.expires_hours) required autofocus
                    aria-invalid=[view.expires_error.as_ref().map(|_| "true")]
                    aria-describedby=(expires_described);
                p id="link-expires-hint" class="hint" { (lang.t("resetLink.expiresHint")) }
                @if let Some(e) = &view.expires_error { p id="link-expires-error" class="field-error" { (e) } }
            }
            div class="field check" {
                input id="link-revoke" name="revoke_api_keys" type="checkbox" value="true" checked[view.revoke_keys];
                label for="link-revoke" { (lang.t("tempPassword.revokeKeys")) }
            }
            div class="field check" {
                input id="link-mfa" name="reset_mfa" type="checkbox" value="true" checked[view.reset_mfa];
                label for="link-mfa" { (lang.t("mfa.resetMfa")) }
            }
            p class="hint" { (lang.t("resetLink.optionsLater")) }
            div class="actions" {
                button type="submit" { (lang.t("resetLink.make")) }
                (close_link(lang.t("userConfig.cancel"), paths::USERS))
            }
        }
    }
}

/// A new link, shown once.
pub struct LinkResultView<'a> {
    pub title: &'a str,
    pub url: &'a str,
    pub expires: &'a str,
    /// Where Close leads without JavaScript.
    pub back: &'a str,
}

/// The link with a copy button (a read-only field without JavaScript) and its QR code.
pub fn link_shown(lang: Lang, view: &LinkResultView) -> Markup {
    html! {
        (copy_field(lang, &CopyField {
            id: "link-result",
            label: lang.t("resetLink.link"),
            value: view.url,
            hint: lang.t("resetLink.shownOnce"),
            autofocus: true,
        }))
        @if let Some(qr) = qr_svg(view.url, lang.t("resetLink.qrLabel")) { (qr) }
        dl class="facts" {
            dt { (lang.t("resetLink.validUntil")) }
            dd { (view.expires) }
        }
    }
}

fn result(lang: Lang, view: &LinkResultView) -> Markup {
    html! {
        h2 id="reset-title" { (view.title) }
        div class="alert alert-ok" role="status" { (lang.t("resetLink.made")) }
        (link_shown(lang, view))
        div class="actions" { (close_link(lang.t("base.close"), view.back)) }
    }
}

pub fn link_form_dialog(lang: Lang, csrf: &str, view: &LinkFormView) -> Markup {
    dialog("reset-dialog", "reset-title", form(lang, csrf, view))
}

pub fn link_form_page(ctx: &PageContext, view: &LinkFormView) -> Markup {
    wrap(ctx, form(ctx.lang, ctx.csrf, view))
}

pub fn link_result_dialog(lang: Lang, view: &LinkResultView) -> Markup {
    dialog("reset-dialog", "reset-title", result(lang, view))
}

pub fn link_result_page(ctx: &PageContext, view: &LinkResultView) -> Markup {
    wrap(ctx, result(ctx.lang, view))
}

fn wrap(ctx: &PageContext, content: Markup) -> Markup {
    page(
        ctx,
        ctx.lang.t("tempPassword.pageTitle"),
        html! {
            section class="card narrow-wide" aria-labelledby="reset-title" {
                h1 class="visually-hidden" { (ctx.lang.t("tempPassword.pageTitle")) }
                (content)
            }
        },
    )
}
