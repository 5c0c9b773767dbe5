//! The users table (`/panel/panel_config`): search, pages, status badges, row actions.

use maud::{Markup, html};

use crate::i18n::Lang;
use crate::paths;
use crate::views::components::pager;
use crate::views::layout::{PageContext, page};
use crate::views::overview::filter_label;

/// Where a user's password (and their sign-in) stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PasswordStatus {
    /// Locked out by failed sign-ins (SPEC §3a): for how long yet and until when (both already
    /// formatted; the time is UTC).
    Locked {
        left: String,
        until: String,
    },
    ChangePending,
    /// A temporary password that expires in the given (already formatted) time.
    ExpiresIn(String),
    Expired,
    /// A live reset or set-up link that expires in the given (already formatted) time.
    LinkPending(String),
}

pub struct UserRowView {
    pub user_id: i32,
    pub username: String,
    pub enabled: bool,
    pub superuser: bool,
    pub manager: Option<String>,
    pub last_login: Option<String>,
    pub statuses: Vec<PasswordStatus>,
    pub is_self: bool,
    pub can_reset: bool,
    pub can_edit: bool,
    /// The viewer sees this superuser but may not reset them: say why instead of an empty cell.
    pub superuser_only: bool,
    pub two_factor: TwoFactor,
    /// A checkbox for the bulk actions (users the viewer may act on).
    pub selectable: bool,
    /// The names of the user's roles (SPEC §14), by name.
    pub roles: Vec<String>,
}

/// A user's second factor as administrators see it (SPEC §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TwoFactor {
    On,
    /// Set up, and required (the user's flag, the server's policy or a role).
    OnRequired,
    Off,
    /// Required (the user's flag or the server's policy) but not set up: held at set-up.
    RequiredMissing,
}

pub fn two_factor_badge(lang: Lang, status: TwoFactor) -> Markup {
    match status {
        TwoFactor::On => html! { span class="badge badge-ok" { (lang.t("mfa.badgeOn")) } },
        TwoFactor::OnRequired => {
            html! { span class="badge badge-ok" { (lang.t("roles.badgeOnRequired")) } }
        }
        TwoFactor::Off => html! { span class="badge" { (lang.t("mfa.badgeOff")) } },
        TwoFactor::RequiredMissing => {
            html! { span class="badge badge-warn" { (lang.t("mfa.badgeMissing")) } }
        }
    }
}

pub struct UsersTableView {
    pub rows: Vec<UserRowView>,
    pub search: String,
    /// The role the table is narrowed to (`?role=`).
    pub role: Option<i32>,
    /// The roles the viewer may filter by: (id, name).
    pub roles: Vec<(i32, String)>,
    /// The state the table is narrowed to (`?status=`, SPEC §18).
    pub status: Option<&'static str>,
    /// Every state the table can be narrowed to, by its `?status=` name.
    pub statuses: Vec<&'static str>,
    pub page: u64,
    pub pages: u64,
    pub total: u64,
    pub can_create: bool,
}

pub fn status_badge(lang: Lang, status: &PasswordStatus) -> Markup {
    match status {
        PasswordStatus::ChangePending => {
            html! { span class="badge badge-warn" { (lang.t("tempPassword.statusPending")) } }
        }
        PasswordStatus::ExpiresIn(when) => html! {
            span class="badge badge-warn" { (lang.t("tempPassword.statusExpiresIn").replace("{time}", when)) }
        },
        PasswordStatus::LinkPending(when) => html! {
            span class="badge badge-warn" { (lang.t("tempPassword.statusLinkPending").replace("{time}", when)) }
        },
        PasswordStatus::Expired => {
            html! { span class="badge badge-danger" { (lang.t("tempPassword.statusExpired")) } }
        }
        // The badge says *locked* and for how long; its name read aloud says why and until
        // when (the visible words stay first, so the name starts with what is seen).
        PasswordStatus::Locked { left, until } => html! {
            span class="badge badge-danger" title=(lang.t("lockout.badgeTitle").replace("{until}", until)) {
                (lang.t("lockout.badge").replace("{time}", left))
                span class="visually-hidden" { " " (lang.t("lockout.badgeWhy").replace("{until}", until)) }
            }
        },
    }
}

fn yes_no(lang: Lang, value: bool) -> &'static str {
    if value {
        lang.t("panelConfig.yes")
    } else {
        lang.t("panelConfig.no")
    }
}

fn page_link(search: &str, role: Option<i32>, status: Option<&str>, page: u64) -> String {
    let mut pairs = vec![("q", search.to_string()), ("page", page.to_string())];
    if let Some(role) = role {
        pairs.push(("role", role.to_string()));
    }
    if let Some(status) = status {
        pairs.push(("status", status.to_string()));
    }
    let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
    format!("{}?{query}", paths::USERS)
}

/// The table without its state filter (the search and the role kept).
fn unfiltered_link(search: &str, role: Option<i32>) -> String {
    let mut pairs = Vec::new();
    if !search.is_empty() {
        pairs.push(("q", search.to_string()));
    }
    if let Some(role) = role {
        pairs.push(("role", role.to_string()));
    }
    if pairs.is_empty() {
        return paths::USERS.to_string();
    }
    let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
    format!("{}?{query}", paths::USERS)
}

/// The id of a user's table row (the target of the out-of-band swap after a reset).
pub fn row_id(user_id: i32) -> String {
    format!("user-row-{user_id}")
}

/// The id of a row's reset link (focus returns to it when the dialog closes).
pub fn reset_link_id(user_id: i32) -> String {
    format!("reset-link-{user_id}")
}

fn row(lang: Lang, row: &UserRowView, oob: bool) -> Markup {
    let reset_url = paths::reset(row.user_id);
    html! {
        tr id=(row_id(row.user_id)) hx-swap-oob=[oob.then_some("true")] {
            td class="select" {
                @if row.selectable {
                    input type="checkbox" name="user" value=(row.user_id) form="bulk-form"
                        aria-label=(lang.t("panelConfig.select").replace("{user}", &row.username));
                }
            }
            th scope="row" { (row.username) }
            td data-label=(lang.t("panelConfig.enabled")) { (yes_no(lang, row.enabled)) }
            td data-label=(lang.t("panelConfig.superuser")) { (yes_no(lang, row.superuser)) }
            td data-label=(lang.t("panelConfig.manager")) { (row.manager.as_deref().unwrap_or("—")) }
            td data-label=(lang.t("roles.column")) {
                @if row.roles.is_empty() { "—" } @else { (row.roles.join(", ")) }
            }
            td data-label=(lang.t("panelConfig.lastLogin")) { (row.last_login.as_deref().unwrap_or("—")) }
            td data-label=(lang.t("panelConfig.status")) { div class="badges" { @for status in &row.statuses { (status_badge(lang, status)) } (two_factor_badge(lang, row.two_factor)) } }
            td data-label=(lang.t("panelConfig.actions")) { div class="row-actions" {
                @if row.is_self {
                    a class="icon-link" id="change-own-password" href=(paths::CHANGE_PASSWORD)
                        hx-get=(paths::CHANGE_PASSWORD_DIALOG) hx-target="#dialog-slot" {
                        (lang.t("panelConfig.changeOwnPassword"))
                    }
                } @else if row.can_reset {
                    a class="icon-link" id=(reset_link_id(row.user_id)) href=(reset_url)
                        hx-get=(reset_url) hx-target="#dialog-slot"
                        aria-label=(lang.t("tempPassword.resetFor").replace("{user}", &row.username))
                        title=(lang.t("tempPassword.resetFor").replace("{user}", &row.username)) {
                        img src=(crate::views::assets::asset_url("lock.svg")) alt="" width="16" height="16";
                        span { (lang.t("tempPassword.resetShort")) }
                    }
                } @else if row.superuser_only {
                    span class="hint" { (lang.t("panelConfig.superuserOnly")) }
                }
                @if row.can_edit {
                    a href=(paths::edit(row.user_id))
                        aria-label=(lang.t("panelConfig.editUser").replace("{user}", &row.username)) {
                        (lang.t("panelConfig.edit"))
                    }
                }
            } }
        }
    }
}

/// The table with its pager: the htmx search swaps exactly this.
pub fn users_table(lang: Lang, view: &UsersTableView) -> Markup {
    html! {
        div id="users-table" {
            @if let Some(status) = view.status {
                p class="filter-note" {
                    span { (lang.t("overview.filterActive").replace("{status}", filter_label(lang, status))) }
                    a href=(unfiltered_link(&view.search, view.role)) { (lang.t("overview.filterClear")) }
                }
            }
            p class="hint" role="status" { (lang.t("panelConfig.count").replace("{n}", &view.total.to_string())) }
            div class="table-scroll" role="region" tabindex="0" aria-label=(lang.t("panelConfig.tableLabel")) {
            table class="data stack" {
                caption class="visually-hidden" { (lang.t("panelConfig.title")) }
                thead {
                    tr {
                        th scope="col" class="select" { span class="visually-hidden" { (lang.t("panelConfig.selectColumn")) } }
                        th scope="col" { (lang.t("panelConfig.username")) }
                        th scope="col" { (lang.t("panelConfig.enabled")) }
                        th scope="col" { (lang.t("panelConfig.superuser")) }
                        th scope="col" { (lang.t("panelConfig.manager")) }
                        th scope="col" { (lang.t("roles.column")) }
                        th scope="col" { (lang.t("panelConfig.lastLogin")) }
                        th scope="col" { (lang.t("panelConfig.status")) }
                        th scope="col" { (lang.t("panelConfig.actions")) }
                    }
                }
                tbody { @for r in &view.rows { (row(lang, r, false)) } }
            }
            }
            (pager(lang, view.page, view.pages, |n| page_link(&view.search, view.role, view.status, n)))
        }
    }
}

/// One row, swapped out of band into the table behind a dialog (after a reset): wrapped in a
/// `<template>` so that the HTML parser keeps a `<tr>` outside a table.
pub fn user_row_oob(lang: Lang, view: &UserRowView) -> Markup {
    html! { template { (row(lang, view, true)) } }
}

pub fn users_page(ctx: &PageContext, view: &UsersTableView) -> Markup {
    let lang = ctx.lang;
    page(
        ctx,
        lang.t("panelConfig.title"),
        html! {
            section class="card" aria-labelledby="users-title" {
                div class="card-head" {
                    h1 id="users-title" { (lang.t("panelConfig.title")) }
                    @if view.can_create {
                        a class="button" href=(paths::NEW_USER) { (lang.t("userConfig.newUser")) }
                    }
                }
                form method="get" action=(paths::USERS) role="search" class="search" {
                    label for="q" { (lang.t("panelConfig.search")) }
                    input id="q" name="q" type="search" value=(view.search) autocomplete="off"
                        hx-get=(paths::USERS) hx-trigger="input changed delay:300ms, search"
                        hx-include="closest form"
                        hx-target="#users-table" hx-swap="outerHTML" hx-push-url="true";
                    @if !view.roles.is_empty() || view.role.is_some() {
                        label for="role-filter" { (lang.t("roles.filter")) }
                        select id="role-filter" name="role"
                            hx-get=(paths::USERS) hx-trigger="change" hx-include="closest form"
                            hx-target="#users-table" hx-swap="outerHTML" hx-push-url="true" {
                            option value="" selected[view.role.is_none()] { (lang.t("roles.filterAll")) }
                            @for (id, name) in &view.roles {
                                option value=(id) selected[view.role == Some(*id)] { (name) }
                            }
                        }
                    }
                    label for="status-filter" { (lang.t("overview.filterLabel")) }
                    select id="status-filter" name="status"
                        hx-get=(paths::USERS) hx-trigger="change" hx-include="closest form"
                        hx-target="#users-table" hx-swap="outerHTML" hx-push-url="true" {
                        option value="" selected[view.status.is_none()] { (lang.t("overview.filterAll")) }
                        @for status in &view.statuses {
                            option value=(status) selected[view.status == Some(*status)] { (filter_label(lang, status)) }
                        }
                    }
                    button type="submit" class="secondary" { (lang.t("panelConfig.searchSubmit")) }
                }
                @if view.rows.iter().any(|r| r.selectable) {
                    form id="bulk-form" method="post" action=(paths::BULK) class="bulk" {
                        (crate::views::components::csrf_field(ctx.csrf))
                        label for="bulk-action" { (lang.t("panelConfig.bulkLabel")) }
                        select id="bulk-action" name="action" {
                            option value="require_change" { (lang.t("panelConfig.bulkRequireChange")) }
                            option value="end_sessions" { (lang.t("panelConfig.bulkEndSessions")) }
                        }
                        button type="submit" class="secondary" { (lang.t("panelConfig.bulkApply")) }
                    }
                }
                (users_table(lang, view))
            }
            div id="dialog-slot" {}
        },
    )
}
