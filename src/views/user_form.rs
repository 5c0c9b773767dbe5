//! Create and edit a user (userConfig namespace), and the delete confirmation.

use maud::{Markup, html};

use crate::i18n::Lang;
use crate::i18n::SUPPORTED;
use crate::paths;
use crate::views::components::{CopyField, Field, alert, copy_field, csrf_field, field};
use crate::views::layout::{PageContext, page};
use crate::views::reset::length_choices;

/// Messages beside the fields.
#[derive(Default)]
pub struct UserFormErrors {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub manager: Option<String>,
    pub expires: Option<String>,
    pub roles: Option<String>,
    pub general: Option<String>,
}

/// A role offered on the user form.
pub struct RoleChoice {
    pub role_id: i32,
    pub name: String,
    pub checked: bool,
    pub mfa_required: bool,
}

/// The user's roles on the form (SPEC §14).
pub enum RolesField {
    /// Checkboxes: the roles the viewer may give, and those the user has (which any editor
    /// may take away).
    Choose(Vec<RoleChoice>),
    /// Shown, not offered (one's own roles, unless a superuser).
    Show(Vec<String>),
}

/// What the form shows and which fields the viewer may set.
pub struct UserFormView {
    /// `None` when creating.
    pub user_id: Option<i32>,
    pub username: String,
    pub email: String,
    pub lang: String,
    pub enabled: bool,
    pub superuser: bool,
    pub user_config: bool,
    pub user_config_quota: String,
    /// `ROLES_CONFIG` and its quantity (SPEC §14).
    pub roles_config: bool,
    pub roles_config_quota: String,
    pub manager: String,
    /// The users who may be chosen as manager (they hold `USER_CONFIG`).
    pub managers: Vec<String>,
    pub password: String,
    pub length: usize,
    /// The configured minimum password length (the shortest length offered).
    pub min_length: usize,
    pub require_change: bool,
    pub expires_hours: String,
    /// Superuser, permissions and manager fields (superusers only).
    pub admin_fields: bool,
    /// The enabled checkbox (not on one's own account).
    pub enabled_field: bool,
    /// The *require two-factor* checkbox (editing someone else).
    pub require_mfa_field: bool,
    pub require_mfa: bool,
    /// Creating: send a set-up link instead of a password (SPEC §10).
    pub setup_link: bool,
    /// The user's roles; `None` when there is nothing to offer or show.
    pub roles: Option<RolesField>,
    pub is_self: bool,
    pub can_reset: bool,
    pub can_delete: bool,
    /// *End all sessions* of someone else (SPEC §11).
    pub can_end_sessions: bool,
    /// The user's sessions were just ended.
    pub sessions_ended: bool,
    pub saved: bool,
    pub errors: UserFormErrors,
}

fn lang_name(code: &str) -> &'static str {
    match code {
        "de" => "Deutsch",
        _ => "English",
    }
}

fn checkbox(id: &str, label: &str, checked: bool) -> Markup {
    html! {
        div class="field check" {
            input id=(id) name=(id) type="checkbox" value="true" checked[checked];
            label for=(id) { (label) }
        }
    }
}

fn roles_field(lang: Lang, roles: &RolesField, error: Option<&str>) -> Markup {
    html! {
        fieldset aria-describedby=(if error.is_some() { "roles-hint roles-error" } else { "roles-hint" }) {
            legend { (lang.t("roles.userLegend")) }
            @match roles {
                RolesField::Choose(choices) => {
                    ul class="checklist" {
                        @for choice in choices {
                            li {
                                input type="checkbox" id=(format!("role-{}", choice.role_id)) name="role"
                                    value=(choice.role_id) checked[choice.checked];
                                input type="hidden" name="role_shown" value=(choice.role_id);
                                label for=(format!("role-{}", choice.role_id)) {
                                    (choice.name)
                                    @if choice.mfa_required { " " span class="badge badge-warn" { (lang.t("roles.mfaBadge")) } }
                                }
                            }
                        }
                    }
                    p id="roles-hint" class="hint" { (lang.t("roles.userHint")) }
                }
                RolesField::Show(names) => {
                    p { (if names.is_empty() { "—".to_string() } else { names.join(", ") }) }
                    p id="roles-hint" class="hint" { (lang.t("roles.ownHint")) }
                }
            }
            @if let Some(err) = error { p id="roles-error" class="field-error" { (err) } }
        }
    }
}

fn form(lang: Lang, csrf: &str, view: &UserFormView) -> Markup {
    let creating = view.user_id.is_none();
    let action = match view.user_id {
        Some(id) => paths::edit(id),
        None => paths::NEW_USER.to_string(),
    };
    let e = &view.errors;
    let mut username = Field::new("username", lang.t("userConfig.username"), "text");
    username.value = Some(&view.username);
    username.error = e.username.as_deref();
    username.hint = Some(lang.t("userConfig.usernameHint"));
    let mut email = Field::new("email", lang.t("userConfig.email"), "email");
    email.value = Some(&view.email);
    email.error = e.email.as_deref();
    email.required = false;
    email.autocomplete = "email";
    html! {
        @if let Some(general) = &e.general { (alert("error", "form-error", general)) }
        @if view.saved { div class="alert alert-ok" role="status" { (lang.t("userConfig.saved")) } }
        form method="post" action=(action) {
            (csrf_field(csrf))
            (field(&username))
            (field(&email))
            div class="field" {
                label for="lang" { (lang.t("userConfig.language")) }
                select id="lang" name="lang" {
                    @for code in SUPPORTED { option value=(code) selected[view.lang == code] { (lang_name(code)) } }
                }
            }
            @if creating {
                fieldset {
                    legend { (lang.t("userConfig.passwordLegend")) }
                    div class="field check" {
                        input id="setup_link" name="setup_link" type="checkbox" value="true"
                            checked[view.setup_link] aria-describedby="setup_link-hint";
                        label for="setup_link" { (lang.t("userConfig.setupLink")) }
                        p id="setup_link-hint" class="hint" { (lang.t("userConfig.setupLinkHint")) }
                    }
                    div class="field" {
                        label for="password" { (lang.t("userConfig.initialPassword")) }
                        input id="password" name="password" type="text" value=(view.password) autocomplete="off"
                            spellcheck="false" aria-invalid=[e.password.as_ref().map(|_| "true")]
                            aria-describedby=(if e.password.is_some() { "password-hint password-error" } else { "password-hint" });
                        p id="password-hint" class="hint" { (lang.t("userConfig.initialPasswordHint")) }
                        @if let Some(err) = &e.password { p id="password-error" class="field-error" { (err) } }
                    }
                    div class="field inline" {
                        label for="length" { (lang.t("tempPassword.length")) }
                        select id="length" name="length" {
                            @for n in length_choices(view.min_length) { option value=(n) selected[n == view.length] { (n) } }
                        }
                        button type="submit" name="intent" value="generate" class="secondary" { (lang.t("tempPassword.generate")) }
                    }
                    (checkbox("require_password_change", lang.t("userConfig.requireChange"), view.require_change))
                    div class="field" {
                        label for="expires_hours" { (lang.t("tempPassword.expiresHours")) }
                        input id="expires_hours" name="expires_hours" type="number" min="-1" max="8760" step="1"
                            value=(view.expires_hours) aria-invalid=[e.expires.as_ref().map(|_| "true")]
                            aria-describedby=(if e.expires.is_some() { "expires-hint expires-error" } else { "expires-hint" });
                        p id="expires-hint" class="hint" { (lang.t("tempPassword.expiresHint")) }
                        @if let Some(err) = &e.expires { p id="expires-error" class="field-error" { (err) } }
                    }
                }
            }
            @if view.enabled_field { (checkbox("enabled", lang.t("userConfig.enabled"), view.enabled)) }
            @if view.require_mfa_field {
                (checkbox("require_mfa", lang.t("mfa.requireToggle"), view.require_mfa))
                p class="hint" { (lang.t("mfa.requireHint")) }
            }
            @if let Some(roles) = &view.roles { (roles_field(lang, roles, e.roles.as_deref())) }
            @if view.admin_fields {
                fieldset {
                    legend { (lang.t("userConfig.rolesLegend")) }
                    (checkbox("superuser", lang.t("userConfig.superuser"), view.superuser))
                    (checkbox("user_config", lang.t("userConfig.userConfig"), view.user_config))
                    div class="field" {
                        label for="user_config_quota" { (lang.t("userConfig.quota")) }
                        input id="user_config_quota" name="user_config_quota" type="number" min="-1" step="1"
                            value=(view.user_config_quota) aria-describedby="quota-hint";
                        p id="quota-hint" class="hint" { (lang.t("userConfig.quotaHint")) }
                    }
                    (checkbox("roles_config", lang.t("roles.rolesConfig"), view.roles_config))
                    div class="field" {
                        label for="roles_config_quota" { (lang.t("roles.quota")) }
                        input id="roles_config_quota" name="roles_config_quota" type="number" min="-1" step="1"
                            value=(view.roles_config_quota) aria-describedby="roles-quota-hint";
                        p id="roles-quota-hint" class="hint" { (lang.t("roles.quotaHint")) }
                    }
                    div class="field" {
                        label for="manager" { (lang.t("userConfig.manager")) }
                        select id="manager" name="manager"
                            aria-invalid=[e.manager.as_ref().map(|_| "true")]
                            aria-describedby=(if e.manager.is_some() { "manager-hint manager-error" } else { "manager-hint" }) {
                            option value="" selected[view.manager.is_empty()] { (lang.t("userConfig.noManager")) }
                            @for name in &view.managers {
                                option value=(name) selected[&view.manager == name] { (name) }
                            }
                        }
                        p id="manager-hint" class="hint" { (lang.t("userConfig.managerHint")) }
                        @if let Some(err) = &e.manager { p id="manager-error" class="field-error" { (err) } }
                    }
                }
            }
            div class="actions" {
                button type="submit" name="intent" value="save" {
                    (if creating { lang.t("userConfig.create") } else { lang.t("userConfig.save") })
                }
            }
        }
    }
}

pub fn user_form_page(ctx: &PageContext, view: &UserFormView) -> Markup {
    let lang = ctx.lang;
    let title = match view.user_id {
        Some(_) => lang
            .t("userConfig.editTitle")
            .replace("{user}", &view.username),
        None => lang.t("userConfig.newUser").to_string(),
    };
    page(
        ctx,
        &title,
        html! {
            section class="card" aria-labelledby="form-title" {
                h1 id="form-title" { (title) }
                (form(lang, ctx.csrf, view))
            }
            @if let Some(id) = view.user_id {
                section class="card" aria-labelledby="more-title" {
                    h2 id="more-title" { (lang.t("userConfig.moreActions")) }
                    @if view.sessions_ended {
                        div class="alert alert-ok" role="status" { (lang.t("userConfig.sessionsEnded").replace("{user}", &view.username)) }
                    }
                    @if view.can_end_sessions {
                        form method="post" action=(paths::end_sessions(id)) class="inline-form" {
                            (csrf_field(ctx.csrf))
                            button type="submit" class="secondary" { (lang.t("userConfig.endSessions")) }
                            p class="hint" { (lang.t("userConfig.endSessionsHint")) }
                        }
                    }
                    div class="actions" {
                        @if view.is_self {
                            a class="button secondary" href=(paths::SESSIONS) { (lang.t("sessions.title")) }
                            a class="button secondary" href=(paths::CHANGE_PASSWORD)
                                hx-get=(paths::CHANGE_PASSWORD_DIALOG) hx-target="#dialog-slot" {
                                (lang.t("base.changePassword"))
                            }
                        } @else if view.can_reset {
                            a class="button secondary" href=(paths::reset(id)) hx-get=(paths::reset(id)) hx-target="#dialog-slot" {
                                (lang.t("tempPassword.resetButton"))
                            }
                        }
                        @if view.can_delete {
                            a class="button danger" href=(format!("{}?id={id}", paths::DELETE_USER)) { (lang.t("userConfig.delete")) }
                        }
                        a href=(paths::USERS) { (lang.t("panelConfig.backToUsers")) }
                    }
                }
            }
            div id="dialog-slot" {}
        },
    )
}

/// After creating: the initial password or the set-up link, shown once.
pub fn created_page(
    ctx: &PageContext,
    username: &str,
    user_id: i32,
    password: Option<&str>,
    link: Option<&crate::views::link_dialog::LinkResultView>,
    require_change: bool,
) -> Markup {
    let lang = ctx.lang;
    page(
        ctx,
        lang.t("userConfig.createdTitle"),
        html! {
            section class="card" aria-labelledby="created-title" {
                h1 id="created-title" { (lang.t("userConfig.createdTitle")) }
                div class="alert alert-ok" role="status" { (lang.t("userConfig.created").replace("{user}", username)) }
                @if let Some(password) = password {
                    (copy_field(lang, &CopyField {
                        id: "created-password",
                        label: if require_change { lang.t("userConfig.temporaryPassword") } else { lang.t("userConfig.initialPassword") },
                        value: password,
                        hint: lang.t("tempPassword.shownOnce"),
                        autofocus: false,
                    }))
                }
                @if let Some(link) = link {
                    p { (lang.t("userConfig.setupLinkMade")) }
                    (crate::views::link_dialog::link_shown(lang, link))
                }
                div class="actions" {
                    a class="button" href=(paths::edit(user_id)) { (lang.t("panelConfig.edit")) }
                    a href=(paths::USERS) { (lang.t("panelConfig.backToUsers")) }
                }
            }
        },
    )
}

pub fn delete_page(ctx: &PageContext, user_id: i32, username: &str, error: Option<&str>) -> Markup {
    let lang = ctx.lang;
    page(
        ctx,
        lang.t("userConfig.deleteTitle"),
        html! {
            section class="card narrow-wide" aria-labelledby="delete-title" {
                h1 id="delete-title" { (lang.t("userConfig.deleteTitle")) }
                @if let Some(error) = error { (alert("error", "delete-error", error)) }
                p { (lang.t("userConfig.deleteConfirm").replace("{user}", username)) }
                form method="post" action=(format!("{}?id={user_id}", paths::DELETE_USER)) {
                    (csrf_field(ctx.csrf))
                    div class="actions" {
                        button type="submit" class="danger" { (lang.t("userConfig.deleteSubmit")) }
                        a href=(paths::edit(user_id)) { (lang.t("userConfig.cancel")) }
                    }
                }
            }
        },
    )
}
