//! The role pages (SPEC §14): the list (`/panel/roles`), a new role, a role's page (its
//! settings and members) and the delete confirmation. Pure: plain view data in, markup out.

use maud::{Markup, html};

use crate::i18n::Lang;
use crate::paths;
use crate::views::components::{Field, alert, csrf_field, field};
use crate::views::layout::{PageContext, page};
use crate::views::role_members::{MembersView, members_card};

/// One row of the roles list.
pub struct RoleRowView {
    pub role_id: i32,
    pub name: String,
    pub members: u64,
    pub manager: Option<String>,
    pub mfa_required: bool,
    /// The viewer manages the role (may change or delete it).
    pub can_change: bool,
}

pub struct RolesView {
    pub rows: Vec<RoleRowView>,
    pub can_create: bool,
    /// A role was just deleted.
    pub deleted: bool,
}

fn mfa_badge(lang: Lang, required: bool) -> Markup {
    html! {
        @if required {
            span class="badge badge-warn" { (lang.t("roles.mfaBadge")) }
        } @else {
            "—"
        }
    }
}

pub fn roles_page(ctx: &PageContext, view: &RolesView) -> Markup {
    let lang = ctx.lang;
    page(
        ctx,
        lang.t("roles.title"),
        html! {
            section class="card" aria-labelledby="roles-title" {
                div class="card-head" {
                    h1 id="roles-title" { (lang.t("roles.title")) }
                    @if view.can_create {
                        a class="button" href=(paths::NEW_ROLE) { (lang.t("roles.new")) }
                    }
                }
                p class="hint" { (lang.t("roles.intro")) }
                @if view.deleted {
                    div class="alert alert-ok" role="status" { (lang.t("roles.deleted")) }
                }
                @if view.rows.is_empty() {
                    p { (lang.t("roles.none")) }
                } @else {
                    div class="table-scroll" role="region" tabindex="0" aria-label=(lang.t("roles.tableLabel")) {
                        table class="data stack" {
                            caption class="visually-hidden" { (lang.t("roles.title")) }
                            thead {
                                tr {
                                    th scope="col" { (lang.t("roles.name")) }
                                    th scope="col" { (lang.t("roles.members")) }
                                    th scope="col" { (lang.t("roles.manager")) }
                                    th scope="col" { (lang.t("roles.mfaColumn")) }
                                    th scope="col" { (lang.t("panelConfig.actions")) }
                                }
                            }
                            tbody {
                                @for row in &view.rows {
                                    tr {
                                        th scope="row" { a href=(paths::role(row.role_id)) { (row.name) } }
                                        td data-label=(lang.t("roles.members")) {
                                            a href=(paths::users_in_role(row.role_id))
                                                aria-label=(format!("{} {}", row.members, lang.t("roles.membersOf").replace("{role}", &row.name))) {
                                                (row.members)
                                            }
                                        }
                                        td data-label=(lang.t("roles.manager")) { (row.manager.as_deref().unwrap_or("—")) }
                                        td data-label=(lang.t("roles.mfaColumn")) { (mfa_badge(lang, row.mfa_required)) }
                                        td data-label=(lang.t("panelConfig.actions")) {
                                            div class="row-actions" {
                                                @let open = if row.can_change { lang.t("panelConfig.edit") } else { lang.t("roles.open") };
                                                // The visible word first: a voice user says what they see.
                                                a href=(paths::role(row.role_id))
                                                    aria-label=(format!("{open}: {}", row.name)) {
                                                    (open)
                                                }
                                                @if row.can_change {
                                                    a href=(paths::role_delete(row.role_id))
                                                        aria-label=(format!("{}: {}", lang.t("roles.delete"), row.name)) {
                                                        (lang.t("roles.delete"))
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
        },
    )
}

/// Messages beside the role form's fields.
#[derive(Default)]
pub struct RoleFormErrors {
    pub name: Option<String>,
    pub manager: Option<String>,
    pub general: Option<String>,
}

/// A role's settings as the form shows them.
pub struct RoleFormView {
    /// `None` when creating.
    pub role_id: Option<i32>,
    /// The name as stored (the page's title); `name` is what the form shows.
    pub stored_name: String,
    pub name: String,
    pub mfa_required: bool,
    /// The manager's username (empty: none).
    pub manager: String,
    /// The users a superuser may choose as manager (`ROLES_CONFIG` holders), sorted.
    pub managers: Vec<String>,
    /// The manager field (superusers only).
    pub manager_field: bool,
    /// The viewer may change the role; otherwise the settings are shown, not offered.
    pub can_change: bool,
    pub saved: bool,
    pub created: bool,
    pub errors: RoleFormErrors,
}

fn settings_form(lang: Lang, csrf: &str, view: &RoleFormView) -> Markup {
    let action = match view.role_id {
        Some(id) => paths::role(id),
        None => paths::NEW_ROLE.to_string(),
    };
    let e = &view.errors;
    let mut name = Field::new("role_name", lang.t("roles.name"), "text");
    name.name = "name";
    name.value = Some(&view.name);
    name.error = e.name.as_deref();
    name.hint = Some(lang.t("roles.nameHint"));
    name.autofocus = view.role_id.is_none();
    html! {
        @if let Some(general) = &e.general { (alert("error", "role-form-error", general)) }
        form method="post" action=(action) {
            (csrf_field(csrf))
            (field(&name))
            div class="field check" {
                input id="mfa_required" name="mfa_required" type="checkbox" value="true"
                    checked[view.mfa_required] aria-describedby="mfa_required-hint";
                label for="mfa_required" { (lang.t("roles.mfaRequired")) }
            }
            p id="mfa_required-hint" class="hint" { (lang.t("roles.mfaRequiredHint")) }
            @if view.manager_field {
                div class="field" {
                    label for="manager" { (lang.t("roles.manager")) }
                    select id="manager" name="manager"
                        aria-invalid=[e.manager.as_ref().map(|_| "true")]
                        aria-describedby=(if e.manager.is_some() { "manager-hint manager-error" } else { "manager-hint" }) {
                        option value="" selected[view.manager.is_empty()] { (lang.t("roles.noManager")) }
                        @for user in &view.managers {
                            option value=(user) selected[&view.manager == user] { (user) }
                        }
                    }
                    p id="manager-hint" class="hint" { (lang.t("roles.managerHint")) }
                    @if let Some(err) = &e.manager { p id="manager-error" class="field-error" { (err) } }
                }
            }
            div class="actions" {
                button type="submit" {
                    (if view.role_id.is_some() { lang.t("roles.save") } else { lang.t("roles.create") })
                }
                a href=(paths::ROLES) { (lang.t("roles.backToRoles")) }
            }
        }
    }
}

fn settings_facts(lang: Lang, view: &RoleFormView) -> Markup {
    html! {
        dl class="facts" {
            dt { (lang.t("roles.name")) }
            dd { (view.stored_name) }
            dt { (lang.t("roles.manager")) }
            dd { (if view.manager.is_empty() { "—" } else { view.manager.as_str() }) }
            dt { (lang.t("roles.mfaColumn")) }
            dd { (mfa_badge(lang, view.mfa_required)) }
        }
        p class="hint" { (lang.t("roles.notYours")) }
    }
}

pub fn new_role_page(ctx: &PageContext, view: &RoleFormView) -> Markup {
    let lang = ctx.lang;
    page(
        ctx,
        lang.t("roles.new"),
        html! {
            section class="card narrow-wide" aria-labelledby="role-title" {
                h1 id="role-title" { (lang.t("roles.new")) }
                (settings_form(lang, ctx.csrf, view))
            }
        },
    )
}

/// A role's page: its settings (a form for whoever manages it) and its members.
pub fn role_page(ctx: &PageContext, view: &RoleFormView, members: &MembersView) -> Markup {
    let lang = ctx.lang;
    let title = lang
        .t("roles.roleTitle")
        .replace("{role}", &view.stored_name);
    page(
        ctx,
        &title,
        html! {
            section class="card" aria-labelledby="role-title" {
                h1 id="role-title" { (title) }
                @if view.created {
                    div class="alert alert-ok" role="status" { (lang.t("roles.created")) }
                }
                @if view.saved {
                    div class="alert alert-ok" role="status" { (lang.t("roles.saved")) }
                }
                @if view.can_change {
                    (settings_form(lang, ctx.csrf, view))
                } @else {
                    (settings_facts(lang, view))
                }
            }
            (members_card(lang, ctx.csrf, members))
            @if let (Some(id), true) = (view.role_id, view.can_change) {
                section class="card" aria-labelledby="danger-title" {
                    h2 id="danger-title" { (lang.t("roles.deleteTitle")) }
                    p { (lang.t("roles.deleteHint")) }
                    a class="button danger" href=(paths::role_delete(id)) { (lang.t("roles.delete")) }
                }
            }
        },
    )
}

/// The delete confirmation: a page of its own, with and without JavaScript.
pub fn delete_role_page(
    ctx: &PageContext,
    role_id: i32,
    name: &str,
    members: u64,
    mfa_required: bool,
) -> Markup {
    let lang = ctx.lang;
    page(
        ctx,
        lang.t("roles.deleteTitle"),
        html! {
            section class="card narrow-wide" aria-labelledby="delete-title" {
                h1 id="delete-title" { (lang.t("roles.deleteTitle")) }
                p { (lang.t("roles.deleteConfirm").replace("{role}", name).replace("{n}", &members.to_string())) }
                @if mfa_required && members > 0 {
                    p { (lang.t("roles.deleteMfa")) }
                }
                form method="post" action=(paths::role_delete(role_id)) {
                    (csrf_field(ctx.csrf))
                    div class="actions" {
                        button type="submit" class="danger" { (lang.t("roles.deleteSubmit")) }
                        a href=(paths::role(role_id)) { (lang.t("userConfig.cancel")) }
                    }
                }
            }
        },
    )
}
