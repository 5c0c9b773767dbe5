//! The passkeys part of the security page (SPEC §13): the list with remove, *add a passkey*
//! (shown by `assets/passkey.js` only where the browser can make one), and the switch that
//! turns password sign-in off. A passkey that needs the username typed (one from before
//! sign-in without a username, or from a device that could not keep it) says so, and offers
//! to register it again in its place.

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
    /// Signs in with nothing typed (else the username must be typed first).
    pub discoverable: bool,
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
                @if view.rows.iter().any(|row| !row.discoverable) {
                    p id="passkeys-need-name" class="alert alert-info" {
                        (lang.t("passkeyUse.needsNameExplained"))
                    }
                }
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
                                    td data-label=(lang.t("passkey.name")) {
                                        span {
                                            (row.name)
                                            @if !row.discoverable {
                                                " " span class="badge badge-warn" { (lang.t("passkeyUse.needsName")) }
                                            }
                                        }
                                    }
                                    td data-label=(lang.t("passkey.created")) { (row.created) }
                                    td data-label=(lang.t("passkey.lastUsed")) {
                                        (row.last_used.as_deref().unwrap_or(lang.t("passkey.never")))
                                    }
                                    td class="actions-cell" {
                                        div class="passkey-actions" {
                                            @if !row.discoverable && view.enabled {
                                                (register_again(lang, row))
                                            }
                                            (remove_form(lang, csrf, row))
                                        }
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
                    data-cancelled=(lang.t("passkeyUse.registerCancelled"))
                    data-exists=(lang.t("passkeyUse.alreadyRegistered")) hidden {
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

/// Registering a passkey again in its place, so that it signs in without a username: the
/// current password (it removes the old one), then the device's prompt. Needs script, like
/// every passkey ceremony: hidden until `assets/passkey.js` shows it.
fn register_again(lang: Lang, row: &PasskeyRow) -> Markup {
    let id = format!("passkey-{}-again-password", row.id);
    html! {
        details class="inline-action" data-passkey="register"
            data-options=(paths::PASSKEY_REGISTER_OPTIONS) data-finish=(paths::PASSKEY_REGISTER)
            data-replaces=(row.id) data-cancelled=(lang.t("passkeyUse.registerCancelled"))
            data-exists=(lang.t("passkeyUse.alreadyRegistered")) hidden {
            summary {
                (lang.t("passkeyUse.registerAgain"))
                span class="visually-hidden" { " " (row.name) }
            }
            div class="field" {
                label for=(id) { (lang.t("login.currentPassword")) }
                input id=(id) type="password" autocomplete="current-password"
                    data-passkey-password;
            }
            p id=(format!("passkey-{}-again-hint", row.id)) class="hint" {
                (lang.t("passkeyUse.registerAgainHint"))
            }
            button type="button" data-passkey-start
                aria-describedby=(format!("passkey-{}-again-hint", row.id)) {
                (lang.t("passkeyUse.registerAgain"))
            }
            p class="field-error" data-passkey-error role="alert" hidden {}
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
