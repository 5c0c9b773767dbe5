//! The passkeys part of the security page (SPEC §13): the list with remove, *add a passkey*
//! (shown by `assets/passkey.js` only where the browser can make one), and the switch that
//! turns password sign-in off.

use maud::{Markup, html};

use crate::i18n::Lang;
use crate::paths;
use crate::views::components::{Field, csrf_field, field};

/// One passkey as listed.
pub struct PasskeyRow {
    pub id: i32,
    pub name: String,
    pub created: String,
    pub last_used: Option<String>,
}

/// What the section shows.
pub struct PasskeysView<'a> {
    /// Passkeys are offered by this server (`PASSGATE_PUBLIC_URL`).
    pub enabled: bool,
    pub rows: &'a [PasskeyRow],
    pub password_off: bool,
}

pub fn passkeys_section(lang: Lang, csrf: &str, view: &PasskeysView) -> Markup {
    html! {
        section class="card" id="passkeys" aria-labelledby="passkeys-title" {
            h2 id="passkeys-title" { (lang.t("passkey.title")) }
            p { (lang.t("passkey.intro")) }
            @if view.rows.is_empty() {
                p { (lang.t("passkey.none")) }
            } @else {
                div class="table-scroll" {
                    table class="data stack" {
                        caption class="visually-hidden" { (lang.t("passkey.title")) }
                        thead { tr {
                            th scope="col" { (lang.t("passkey.name")) }
                            th scope="col" { (lang.t("passkey.created")) }
                            th scope="col" { (lang.t("passkey.lastUsed")) }
                            th scope="col" { span class="visually-hidden" { (lang.t("passkey.remove")) } }
                        } }
                        tbody {
                            @for row in view.rows {
                                tr {
                                    td data-label=(lang.t("passkey.name")) { (row.name) }
                                    td data-label=(lang.t("passkey.created")) { (row.created) }
                                    td data-label=(lang.t("passkey.lastUsed")) {
                                        (row.last_used.as_deref().unwrap_or(lang.t("passkey.never")))
                                    }
                                    td {
                                        (remove_form(lang, csrf, row))
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if view.enabled {
                h3 { (lang.t("passkey.add")) }
                div class="passkey-box" data-passkey="register"
                    data-options=(paths::PASSKEY_REGISTER_OPTIONS) data-finish=(paths::PASSKEY_REGISTER)
                    data-cancelled=(lang.t("passkey.cancelled")) hidden {
                    div class="field" {
                        label for="passkey-name" { (lang.t("passkey.name")) }
                        input id="passkey-name" name="name" type="text" maxlength="64"
                            autocomplete="off" data-passkey-name;
                    }
                    button type="button" data-passkey-start { (lang.t("passkey.add")) }
                    p class="field-error" data-passkey-error role="alert" hidden {}
                }
                noscript { p class="hint" { (lang.t("passkey.needsScript")) } }
                @if !view.rows.is_empty() {
                    (password_switch(lang, csrf, view.password_off))
                }
            } @else {
                p class="hint" { (lang.t("passkey.disabled")) }
            }
        }
    }
}

/// Removing one passkey needs the current password (as removing a TOTP device does).
fn remove_form(lang: Lang, csrf: &str, row: &PasskeyRow) -> Markup {
    let id = format!("passkey-{}-password", row.id);
    let mut password = Field::new(&id, lang.t("login.currentPassword"), "password");
    password.name = "current_password";
    password.autocomplete = "current-password";
    html! {
        details class="inline-action" {
            summary { (lang.t("passkey.remove")) span class="visually-hidden" { " " (row.name) } }
            form method="post" action=(paths::passkey_remove(row.id)) {
                (csrf_field(csrf))
                (field(&password))
                button type="submit" class="danger" { (lang.t("passkey.remove")) }
            }
        }
    }
}

fn password_switch(lang: Lang, csrf: &str, password_off: bool) -> Markup {
    html! {
        form method="post" action=(paths::PASSKEY_PASSWORD_SIGN_IN) class="switch-form" {
            (csrf_field(csrf))
            h3 { (lang.t("passkey.passwordSignIn")) }
            p {
                @if password_off {
                    span class="badge badge-warn" { (lang.t("passkey.passwordIsOff")) }
                } @else {
                    span class="badge badge-ok" { (lang.t("passkey.passwordIsOn")) }
                }
            }
            p id="password-off-hint" class="hint" { (lang.t("passkey.passwordOffHint")) }
            input type="hidden" name="disable" value=(if password_off { "false" } else { "true" });
            button type="submit" class="secondary" aria-describedby="password-off-hint" {
                @if password_off { (lang.t("passkey.turnPasswordOn")) } @else { (lang.t("passkey.turnPasswordOff")) }
            }
        }
    }
}
