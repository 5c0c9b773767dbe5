//! `POST /panel/roles/{id}/members`: the role page's checkboxes, through
//! `accounts::roles::set_members` — of the users the form showed, exactly those checked are
//! members afterwards; members it did not show stay.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

use crate::accounts;
use crate::accounts::audit::Actor;
use crate::accounts::roles::{self, Candidates};
use crate::auth::client_ip::ClientIp;
use crate::entities::roles as role_entity;
use crate::error::Error;
use crate::paths;
use crate::state::AppState;
use crate::views::role_members::{MemberOption, MembersView};
use crate::web::form::Form;
use crate::web::roles::role_of;
use crate::web::{Hx, PageResult, Viewer, redirect};

/// How many users the page lists at once (the search narrows the rest).
pub const LISTED: u64 = 50;
/// More users than this in one form are refused.
const MAX_SHOWN: usize = 500;

/// The members list of `role` for `viewer`, narrowed by `search`.
pub(super) async fn members_view(
    state: &AppState,
    viewer: &Viewer,
    role: &role_entity::Model,
    search: &str,
) -> Result<MembersView, Error> {
    let Candidates {
        members,
        others,
        more,
        hidden_members,
        can_add,
    } = roles::candidates(&state.db, &viewer.caller, role.role_id, search, LISTED).await?;
    let total = roles::member_ids(&state.db, role.role_id).await?.len() as u64;
    let option = |member: bool| {
        move |user: crate::entities::users::Model| MemberOption {
            user_id: user.user_id,
            username: user.username,
            member,
        }
    };
    let mut options: Vec<MemberOption> = members.into_iter().map(option(true)).collect();
    options.extend(others.into_iter().map(option(false)));
    Ok(MembersView {
        role_id: role.role_id,
        role_name: role.role_name.clone(),
        total,
        search: search.trim().to_string(),
        options,
        more,
        hidden: hidden_members,
        can_add,
        saved: false,
        error: None,
    })
}

/// The ids under `name` in a form's fields (values that are no id name nobody).
fn ids(fields: &[(String, String)], name: &str) -> Vec<i32> {
    fields
        .iter()
        .filter(|(key, _)| key == name)
        .filter_map(|(_, value)| value.parse().ok())
        .collect()
}

pub async fn submit_members(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    ip: ClientIp,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> PageResult {
    let role = role_of(&state, &viewer, &id).await?;
    let lang = viewer.lang;
    let shown = ids(&fields, "shown");
    if shown.len() > MAX_SHOWN {
        return Err(viewer.refusal(StatusCode::BAD_REQUEST, lang.t("panelConfig.bulkTooMany")));
    }
    let chosen = ids(&fields, "member");
    let search = fields
        .iter()
        .find(|(key, _)| key == "q")
        .map(|(_, value)| value.trim().to_string())
        .unwrap_or_default();
    let actor = Actor::user(&viewer.user, ip.to_string());
    match roles::set_members(
        &state.db,
        &actor,
        &viewer.caller,
        role.role_id,
        &shown,
        &chosen,
    )
    .await
    {
        Ok(_) => {
            let query =
                serde_urlencoded::to_string([("q", search.as_str()), ("members_saved", "1")])
                    .unwrap_or_default();
            Ok(redirect(
                hx,
                &format!("{}?{query}", paths::role(role.role_id)),
            ))
        }
        Err(err) => {
            let key = match &err {
                accounts::Error::RolesNotAssignable { .. } => Some("roles.refuseGive"),
                accounts::Error::Denied => Some("roles.refuseMember"),
                _ => None,
            };
            let err = Error::from(err);
            if err.status().is_server_error() || matches!(err, Error::RoleNotFound) {
                return Err(viewer.fail(err));
            }
            let message = lang.t(key.unwrap_or(err.message_key()));
            let status = err.status();
            let mut members = members_view(&state, &viewer, &role, &search)
                .await
                .map_err(|e| viewer.fail(e))?;
            members.error = Some(message.to_string());
            let form = super::edit::stored_form(&state, &viewer, &role)
                .await
                .map_err(|e| viewer.fail(e))?;
            Ok((
                status,
                crate::views::roles::role_page(&viewer.context(), &form, &members),
            )
                .into_response())
        }
    }
}
