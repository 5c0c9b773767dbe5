//! The users table (`/panel/panel_config`) with its htmx search.

pub(super) mod bulk;
pub(super) mod delete;
pub(super) mod edit;
pub(super) mod form;
pub(super) mod link;
pub(super) mod new;
pub(super) mod reset;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;

use crate::accounts::overview::UserStatus;
use crate::accounts::permissions::target_of;
use crate::accounts::permissions::{self};
use crate::accounts::users::UserFilter;
use crate::accounts::{clock, mfa, roles, users};
use crate::entities::users as user_entity;
use crate::state::AppState;
use crate::views::users::{
    PasswordStatus, TwoFactor, UserRowView, UsersTableView, users_page, users_table,
};
use crate::web::page_or_fragment;
use crate::web::{Hx, PageResult, Viewer};

pub const PER_PAGE: u64 = 50;

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    page: Option<String>,
    /// Only the members of this role (a role id; anything else filters nothing).
    role: Option<String>,
    /// Only the users in this state (SPEC §18; empty: everyone, an unknown name is refused).
    #[serde(default)]
    status: String,
}

/// The badges of a user's password state (`link_expires`: their live reset link's expiry;
/// `locked_until`: the end of their lock-out by failed sign-ins, when locked now).
pub fn statuses(
    user: &user_entity::Model,
    link_expires: Option<time::PrimitiveDateTime>,
    locked_until: Option<time::PrimitiveDateTime>,
) -> Vec<PasswordStatus> {
    let mut out = Vec::new();
    if let Some(until) = locked_until {
        out.push(PasswordStatus::Locked {
            left: remaining(until - clock::now()),
            until: clock::display(until),
        });
    }
    if let Some(at) = link_expires {
        out.push(PasswordStatus::LinkPending(remaining(at - clock::now())));
    }
    if users::temp_password_expired(user) {
        out.push(PasswordStatus::Expired);
        return out;
    }
    if user.require_password_change {
        out.push(PasswordStatus::ChangePending);
    }
    if let Some(at) = user.password_expires {
        out.push(PasswordStatus::ExpiresIn(remaining(at - clock::now())));
    }
    out
}

fn remaining(left: time::Duration) -> String {
    let minutes = left.whole_minutes().max(1);
    if minutes < 60 {
        format!("{minutes} min")
    } else if minutes < 48 * 60 {
        format!("{} h", minutes / 60)
    } else {
        format!("{} d", minutes / (24 * 60))
    }
}

/// What the table shows of `user` to `viewer`; `status` is the user's second factor, link
/// and whether a role requires a factor, `locked_until` the end of a lock-out in force,
/// `roles` the names of their roles (SPEC §3a, §9, §10, §14).
pub fn row_view(
    viewer: &Viewer,
    policy: crate::config::MfaPolicy,
    u: &user_entity::Model,
    manager: Option<String>,
    status: users::RowStatus,
    locked_until: Option<time::PrimitiveDateTime>,
    roles: Vec<String>,
) -> UserRowView {
    let target = target_of(u);
    let is_self = u.user_id == viewer.user.user_id;
    let can_reset = permissions::can_reset(&viewer.caller, &target).is_ok();
    UserRowView {
        user_id: u.user_id,
        username: u.username.clone(),
        enabled: u.enabled,
        superuser: u.superuser,
        manager,
        last_login: u.last_login.map(clock::display),
        statuses: statuses(u, status.link_expires, locked_until),
        is_self,
        can_reset,
        can_edit: permissions::can_view(&viewer.caller, &target).is_ok(),
        superuser_only: !is_self && !can_reset && u.superuser,
        selectable: can_reset,
        two_factor: match (
            status.has_factor,
            mfa::required(policy, u, status.in_mfa_role),
        ) {
            (true, true) => TwoFactor::OnRequired,
            (true, false) => TwoFactor::On,
            (false, true) => TwoFactor::RequiredMissing,
            (false, false) => TwoFactor::Off,
        },
        roles,
    }
}

/// One user's row as the table shows it now (for the out-of-band swap after an action).
pub async fn fresh_row(
    state: &AppState,
    viewer: &Viewer,
    user_id: i32,
) -> crate::error::Result<Option<UserRowView>> {
    let Some(user) = users::find_by_id(&state.db, user_id).await? else {
        return Ok(None);
    };
    if permissions::can_view(&viewer.caller, &target_of(&user)).is_err() {
        return Ok(None);
    }
    let manager = match user.manager {
        Some(id) => users::find_by_id(&state.db, id).await?.map(|m| m.username),
        None => None,
    };
    let status = users::row_status(&state.db, user.user_id).await?;
    let locked_until = users::locked_until_of(&state.db, &[user.user_id])
        .await?
        .remove(&user.user_id);
    let roles = roles::names_of_user(&state.db, user.user_id).await?;
    Ok(Some(row_view(
        viewer,
        state.mfa.policy,
        &user,
        manager,
        status,
        locked_until,
        roles,
    )))
}

pub async fn list_users(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    Query(query): Query<ListQuery>,
) -> PageResult {
    let page = query
        .page
        .as_deref()
        .and_then(|p| p.parse().ok())
        .unwrap_or(1);
    let status = match query.status.as_str() {
        "" => None,
        name => Some(UserStatus::parse(name).ok_or_else(|| {
            viewer.refusal(
                StatusCode::BAD_REQUEST,
                &viewer
                    .lang
                    .t("overview.filterUnknown")
                    .replace("{status}", &name.chars().take(40).collect::<String>()),
            )
        })?),
    };
    let filter = UserFilter {
        search: query.q.clone(),
        role: query.role.as_deref().and_then(|r| r.parse().ok()),
        status: status.map(|s| s.at(clock::now(), state.mfa.policy)),
    };
    let found = users::search_visible(&state.db, &viewer.caller, &filter, page, PER_PAGE)
        .await
        .map_err(|e| viewer.fail(e))?;
    let manager_names = users::names_of(&state.db, found.users.iter().filter_map(|u| u.manager))
        .await
        .map_err(|e| viewer.fail(e))?;
    let ids: Vec<i32> = found.users.iter().map(|u| u.user_id).collect();
    let row_statuses = users::row_statuses(&state.db, &ids)
        .await
        .map_err(|e| viewer.fail(e))?;
    let locked = users::locked_until_of(&state.db, &ids)
        .await
        .map_err(|e| viewer.fail(e))?;
    let mut user_roles = roles::of_users(&state.db, &ids)
        .await
        .map_err(|e| viewer.fail(e))?;
    let role_options = roles::filter_options(&state.db, &viewer.caller)
        .await
        .map_err(|e| viewer.fail(e))?;
    let rows = found
        .users
        .iter()
        .map(|u| {
            row_view(
                &viewer,
                state.mfa.policy,
                u,
                u.manager.and_then(|m| manager_names.get(&m).cloned()),
                row_statuses.get(&u.user_id).copied().unwrap_or_default(),
                locked.get(&u.user_id).copied(),
                user_roles
                    .remove(&u.user_id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|r| r.role_name)
                    .collect(),
            )
        })
        .collect();
    let view = UsersTableView {
        rows,
        search: query.q.clone(),
        role: filter.role,
        roles: role_options
            .into_iter()
            .map(|r| (r.role_id, r.role_name))
            .collect(),
        status: status.map(UserStatus::as_str),
        statuses: UserStatus::ALL.map(UserStatus::as_str).to_vec(),
        page: found.page,
        pages: found.pages(),
        total: found.total,
        can_create: viewer.caller.is_superuser() || viewer.caller.has_user_config(),
    };
    // htmx asks for the table only (the search box and the pager swap it in place).
    Ok(page_or_fragment(
        hx,
        || users_table(viewer.lang, &view),
        || users_page(&viewer.context(), &view),
    )
    .into_response())
}
