//! Authenticator apps (TOTP, SPEC §9) on the web: the set-up page a user who must have a
//! second factor is held at, the enrolment page (QR code and grouped secret, shown once), the
//! recovery codes (shown once, to download or print), and the part of the security page that
//! lists one's devices.

use maud::{Markup, html};

use crate::i18n::Lang;
use crate::paths;
use crate::views::components::{Field, alert, csrf_field, field, rd_field};
use crate::views::layout::{PageContext, page};
use crate::views::qr::qr_svg;

/// The set-up box (the swap target on the sign-in page after an in-place forced change, and
/// the body of its own page): why, what an authenticator app is, the button that starts.
pub fn setup_box(
    lang: Lang,
    csrf: &str,
    required: bool,
    passkeys: bool,
    rd: Option<&str>,
) -> Markup {
    html! {
        section id="auth-box" class="card narrow" aria-labelledby="setup-title" {
            h1 id="setup-title" { (lang.t("mfa.setupTitle")) }
            @if required {
                div class="alert alert-info" role="status" { (lang.t("mfa.required")) }
            }
            p { (lang.t("mfa.setupIntro")) }
            form method="post" action=(paths::TOTP_START) hx-post=(paths::TOTP_START)
                hx-target="#auth-box" hx-swap="outerHTML" {
                (csrf_field(csrf))
                (rd_field(rd))
                button type="submit" { (lang.t("mfa.start")) }
            }
            @if passkeys {
                p class="hint" {
                    (lang.t("mfa.orPasskey")) " "
                    a href=(paths::with_rd(paths::SECURITY, rd)) { (lang.t("base.security")) }
                }
            }
        }
    }
}

/// The page of a user held until they set up a second factor (or anyone adding one).
pub fn setup_page(ctx: &PageContext, required: bool, passkeys: bool, rd: Option<&str>) -> Markup {
    page(
        ctx,
        ctx.lang.t("mfa.setupTitle"),
        setup_box(ctx.lang, ctx.csrf, required, passkeys, rd),
    )
}

/// A started enrolment as shown once.
pub struct EnrolView<'a> {
    pub enrolment_id: i32,
    /// `None` after a wrong code: the secret is not shown a second time.
    pub secret_base32: Option<&'a str>,
    pub otpauth_uri: Option<&'a str>,
    pub name: &'a str,
    pub error: Option<&'a str>,
    /// Where the walk ends (`rd`), carried by the form.
    pub rd: Option<&'a str>,
}

/// `ABCD EFGH …`: the secret in groups of four, as people type it.
fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The enrolment box: the key (first display only) and the form for the first code.
pub fn enrol_box(lang: Lang, csrf: &str, view: &EnrolView) -> Markup {
    let mut name = Field::new("device_name", lang.t("mfa.deviceName"), "text");
    name.name = "name";
    name.value = Some(view.name);
    name.required = false;
    name.hint = Some(lang.t("mfa.deviceNameHint"));
    let mut code = Field::new("code", lang.t("login.totpCode"), "text");
    code.autocomplete = "one-time-code";
    code.hint = Some(lang.t("mfa.codeHint"));
    code.error = view.error;
    code.autofocus = view.error.is_some();
    let verify = paths::totp_verify(view.enrolment_id);
    html! {
        section id="auth-box" class="card narrow" aria-labelledby="enrol-title" {
            h1 id="enrol-title" { (lang.t("mfa.enrolTitle")) }
            @if let (Some(secret), Some(uri)) = (view.secret_base32, view.otpauth_uri) {
                p { (lang.t("mfa.stepScan")) }
                @if let Some(qr) = qr_svg(uri, lang.t("mfa.qrLabel")) { (qr) }
                p { (lang.t("mfa.stepType")) }
                p class="secret" { code { (grouped(secret)) } }
                p class="hint" { (lang.t("mfa.shownOnce")) }
            } @else {
                (alert("info", "enrol-again", lang.t("mfa.secretShownBefore")))
            }
            form method="post" action=(verify) hx-post=(verify)
                hx-target="#auth-box" hx-swap="outerHTML" {
                (csrf_field(csrf))
                (rd_field(view.rd))
                (field(&name))
                (field(&code))
                button type="submit" { (lang.t("mfa.verify")) }
            }
            p { a href=(paths::with_rd(paths::TOTP_SETUP, view.rd)) { (lang.t("mfa.startOver")) } }
        }
    }
}

pub fn enrol_page(ctx: &PageContext, view: &EnrolView) -> Markup {
    page(
        ctx,
        ctx.lang.t("mfa.enrolTitle"),
        enrol_box(ctx.lang, ctx.csrf, view),
    )
}

/// The recovery codes, shown once; the page is also the print view (`@media print`).
/// `then` is where *I have stored them* goes on to (the dashboard, or the walk's next step).
pub fn codes_box(lang: Lang, codes: &[String], then: &str) -> Markup {
    let text = format!("passgate recovery codes\n\n{}\n", codes.join("\n"));
    let download = format!("data:text/plain;charset=utf-8,{}", percent_encode(&text));
    html! {
        section id="auth-box" class="card narrow" aria-labelledby="codes-title" {
            h1 id="codes-title" { (lang.t("mfa.codesTitle")) }
            p { (lang.t("mfa.codesIntro")) }
            ul class="codes" {
                @for code in codes { li { code { (code) } } }
            }
            p class="actions no-print" {
                a class="button secondary" href=(download) download="passgate-recovery-codes.txt" {
                    (lang.t("mfa.download"))
                }
            }
            p class="hint no-print" { (lang.t("mfa.printHint")) }
            p class="no-print" {
                a class="button" href=(then) { (lang.t("mfa.stored")) }
            }
        }
    }
}

pub fn codes_page(ctx: &PageContext, codes: &[String], then: &str) -> Markup {
    page(
        ctx,
        ctx.lang.t("mfa.codesTitle"),
        codes_box(ctx.lang, codes, then),
    )
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// One device as listed.
pub struct DeviceRow {
    pub id: i32,
    pub name: String,
    pub created: String,
    pub last_used: Option<String>,
}

/// The authenticator part of the security page.
pub fn totp_section(lang: Lang, csrf: &str, devices: &[DeviceRow], codes_left: u64) -> Markup {
    html! {
        section class="card" id="authenticators" aria-labelledby="totp-title" {
            h2 id="totp-title" { (lang.t("mfa.appsTitle")) }
            @if devices.is_empty() {
                p { (lang.t("mfa.none")) }
            } @else {
                div class="table-scroll" {
                    table class="data stack" {
                        caption class="visually-hidden" { (lang.t("mfa.appsTitle")) }
                        thead { tr {
                            th scope="col" { (lang.t("mfa.deviceName")) }
                            th scope="col" { (lang.t("passkey.created")) }
                            th scope="col" { (lang.t("passkey.lastUsed")) }
                            th scope="col" { span class="visually-hidden" { (lang.t("passkey.remove")) } }
                        } }
                        tbody {
                            @for device in devices {
                                tr {
                                    td data-label=(lang.t("mfa.deviceName")) { (device.name) }
                                    td data-label=(lang.t("passkey.created")) { (device.created) }
                                    td data-label=(lang.t("passkey.lastUsed")) {
                                        (device.last_used.as_deref().unwrap_or(lang.t("passkey.never")))
                                    }
                                    td { div class="row-actions" {
                                        (rename_device(lang, csrf, device))
                                        (remove_device(lang, csrf, device))
                                    } }
                                }
                            }
                        }
                    }
                }
                p { (lang.t("mfa.codesLeft").replace("{left}", &codes_left.to_string())) }
                (renew_form(lang, csrf))
            }
            form method="post" action=(paths::TOTP_START) {
                (csrf_field(csrf))
                button type="submit" class="secondary" { (lang.t("mfa.add")) }
            }
        }
    }
}

fn rename_device(lang: Lang, csrf: &str, device: &DeviceRow) -> Markup {
    let id = format!("device-{}-name", device.id);
    let mut name = Field::new(&id, lang.t("mfa.deviceName"), "text");
    name.name = "name";
    name.value = Some(&device.name);
    html! {
        details class="inline-action" {
            summary { (lang.t("mfa.rename")) span class="visually-hidden" { " " (device.name) } }
            form method="post" action=(paths::totp_rename(device.id)) {
                (csrf_field(csrf))
                (field(&name))
                button type="submit" { (lang.t("mfa.rename")) }
            }
        }
    }
}

fn remove_device(lang: Lang, csrf: &str, device: &DeviceRow) -> Markup {
    let id = format!("device-{}-password", device.id);
    let mut password = Field::new(&id, lang.t("login.currentPassword"), "password");
    password.name = "current_password";
    password.autocomplete = "current-password";
    html! {
        details class="inline-action" {
            summary { (lang.t("passkey.remove")) span class="visually-hidden" { " " (device.name) } }
            form method="post" action=(paths::totp_remove(device.id)) {
                (csrf_field(csrf))
                (field(&password))
                button type="submit" class="danger" { (lang.t("passkey.remove")) }
            }
        }
    }
}

fn renew_form(lang: Lang, csrf: &str) -> Markup {
    let mut code = Field::new("renew-code", lang.t("login.totpCode"), "text");
    code.name = "code";
    code.autocomplete = "one-time-code";
    html! {
        details class="inline-action" {
            summary { (lang.t("mfa.renew")) }
            form method="post" action=(paths::TOTP_RENEW) {
                (csrf_field(csrf))
                p class="hint" { (lang.t("mfa.renewHint")) }
                (field(&code))
                button type="submit" { (lang.t("mfa.renew")) }
            }
        }
    }
}
