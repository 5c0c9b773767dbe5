//! A new role (`/panel/roles/new`) and a role's page (`/panel/roles/{id}`): its settings, a
//! form for whoever manages it, and its members (see `members`).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::Deserialize;

use crate::accounts;
use crate::accounts::audit::Actor;
use crate::accounts::permissions::ROLES_CONFIG;
use crate::accounts::permissions::roles::{can_change_role, role_target};
use crate::accounts::roles::{self, NewRole, RoleChange};
use crate::accounts::{grants, users};
use crate::auth::client_ip::ClientIp;
use crate::entities::roles as role_entity;
use crate::error::Error;
use crate::i18n::Lang;
use crate::paths;
use crate::state::AppState;
use crate::views::role_members::members_box;
use crate::views::roles::{RoleFormErrors, RoleFormView, new_role_page, role_page};
use crate::web::form::Form;
use crate::web::roles::members::members_view;
use crate::web::roles::{may_create, role_of};
use crate::web::{Hx, PageResult, Viewer, page_or_fragment, redirect};

#[derive(Clone, Default, Deserialize)]
pub struct RoleFields {
    #[serde(default)]
    name: String,
    mfa_required: Option<String>,
    #[serde(default)]
    manager: String,
}

#[derive(Default, Deserialize)]
pub struct RoleQuery {
    #[serde(default)]
    pub(super) q: String,
    saved: Option<String>,
    created: Option<String>,
    members_saved: Option<String>,
}

/// The form of a role as stored, for `viewer`.
pub(super) async fn stored_form(
    state: &AppState,
    viewer: &Viewer,
    role: &role_entity::Model,
) -> Result<RoleFormView, Error> {
    let manager = match role.manager {
        Some(id) => users::find_by_id(&state.db, id)
            .await?
            .map(|u| u.username)
            .unwrap_or_default(),
        None => String::new(),
    };
    let manager_field = viewer.caller.is_superuser();
    let mut managers = if manager_field {
        grants::holder_names(&state.db, ROLES_CONFIG).await?
    } else {
        Vec::new()
    };
    if manager_field && !manager.is_empty() && !managers.contains(&manager) {
        managers.push(manager.clone());
        managers.sort();
    }
    Ok(RoleFormView {
        role_id: Some(role.role_id),
        stored_name: role.role_name.clone(),
        name: role.role_name.clone(),
        mfa_required: role.mfa_required,
        manager,
        managers,
        manager_field,
        can_change: can_change_role(&viewer.caller, &role_target(role)).is_ok(),
        saved: false,
        created: false,
        errors: RoleFormErrors::default(),
    })
}

/// Puts a refused change beside the field it is about; the status to answer with, or the
/// failure when it is not a refusal of the input.
fn place_error(
    lang: Lang,
    err: accounts::Error,
    errors: &mut RoleFormErrors,
) -> Result<StatusCode, Error> {
    use accounts::Error as D;
    match &err {
        D::Invalid { field: "name", .. } => {
            errors.name = Some(lang.t("roles.nameInvalid").to_string())
        }
        D::RoleNameExists => errors.name = Some(lang.t("roles.nameTaken").to_string()),
        D::Invalid {
            field: "manager", ..
        } => errors.manager = Some(lang.t("userConfig.managerUnknown").to_string()),
        D::Denied => errors.general = Some(lang.t("roles.refuseCreate").to_string()),
        _ => {}
    }
    let err = Error::from(err);
    if err.status().is_server_error() || matches!(err, Error::RoleNotFound) {
        return Err(err);
    }
    if errors.name.is_none() && errors.manager.is_none() && errors.general.is_none() {
        errors.general = Some(lang.t(err.message_key()).to_string());
    }
    Ok(err.status())
}

fn blank(viewer: &Viewer) -> RoleFormView {
    RoleFormView {
        role_id: None,
        stored_name: String::new(),
        name: String::new(),
        mfa_required: false,
        manager: String::new(),
        managers: Vec::new(),
        manager_field: viewer.caller.is_superuser(),
        can_change: true,
        saved: false,
        created: false,
        errors: RoleFormErrors::default(),
    }
}

fn refuse_create(viewer: &Viewer) -> Result<(), crate::web::PageError> {
    if may_create(viewer) {
        Ok(())
    } else {
        Err(viewer.refusal(StatusCode::FORBIDDEN, viewer.lang.t("roles.refuseCreate")))
    }
}

/// `GET /panel/roles/new`.
pub async fn new_role_form(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    refuse_create(&viewer)?;
    let mut view = blank(&viewer);
    if view.manager_field {
        view.managers = grants::holder_names(&state.db, ROLES_CONFIG)
            .await
            .map_err(|e| viewer.fail(e))?;
    }
    Ok(new_role_page(&viewer.context(), &view).into_response())
}

/// `POST /panel/roles/new`: creates the role, then its page (where members are added).
pub async fn submit_new_role(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    ip: ClientIp,
    Form(fields): Form<RoleFields>,
) -> PageResult {
    refuse_create(&viewer)?;
    let mut view = blank(&viewer);
    view.name = fields.name.trim().to_string();
    view.mfa_required = fields.mfa_required.is_some();
    view.manager = fields.manager.trim().to_string();
    if view.manager_field {
        view.managers = grants::holder_names(&state.db, ROLES_CONFIG)
            .await
            .map_err(|e| viewer.fail(e))?;
    }
    let outcome = async {
        let manager = if viewer.caller.is_superuser() {
            Some(users::manager_named(&state.db, &fields.manager).await?)
        } else {
            None
        };
        let actor = Actor::user(&viewer.user, ip.to_string());
        let new = NewRole {
            name: fields.name.clone(),
            manager,
            mfa_required: view.mfa_required,
        };
        roles::create(&state.db, &actor, &viewer.caller, new).await
    }
    .await;
    match outcome {
        Ok(role) => Ok(redirect(
            hx,
            &format!("{}?created=1", paths::role(role.role_id)),
        )),
        Err(err) => {
            let status =
                place_error(viewer.lang, err, &mut view.errors).map_err(|e| viewer.fail(e))?;
            Ok((status, new_role_page(&viewer.context(), &view)).into_response())
        }
    }
}

/// `GET /panel/roles/{id}`: the role's page; with htmx (the member search) only its list.
pub async fn role_page_view(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    Path(id): Path<String>,
    Query(query): Query<RoleQuery>,
) -> PageResult {
    let role = role_of(&state, &viewer, &id).await?;
    let mut members = members_view(&state, &viewer, &role, &query.q)
        .await
        .map_err(|e| viewer.fail(e))?;
    members.saved = query.members_saved.is_some();
    let mut form = stored_form(&state, &viewer, &role)
        .await
        .map_err(|e| viewer.fail(e))?;
    form.saved = query.saved.is_some();
    form.created = query.created.is_some();
    Ok(page_or_fragment(
        hx,
        || members_box(viewer.lang, &viewer.csrf, &members),
        || role_page(&viewer.context(), &form, &members),
    )
    .into_response())
}

/// `POST /panel/roles/{id}`: the role's settings, for whoever manages it.
pub async fn submit_role(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    ip: ClientIp,
    Path(id): Path<String>,
    Form(fields): Form<RoleFields>,
) -> PageResult {
    let role = role_of(&state, &viewer, &id).await?;
    super::may_change(&viewer, &role)?;
    let mut form = stored_form(&state, &viewer, &role)
        .await
        .map_err(|e| viewer.fail(e))?;
    form.name = fields.name.trim().to_string();
    form.mfa_required = fields.mfa_required.is_some();
    let outcome = async {
        let manager = if form.manager_field {
            form.manager = fields.manager.trim().to_string();
            Some(users::manager_named(&state.db, &fields.manager).await?)
        } else {
            None
        };
        let change = RoleChange {
            name: Some(fields.name.clone()),
            manager,
            mfa_required: Some(form.mfa_required),
        };
        let actor = Actor::user(&viewer.user, ip.to_string());
        roles::update(&state.db, &actor, &viewer.caller, role.role_id, change).await
    }
    .await;
    match outcome {
        Ok(role) => Ok(redirect(
            hx,
            &format!("{}?saved=1", paths::role(role.role_id)),
        )),
        Err(err) => {
            let status =
                place_error(viewer.lang, err, &mut form.errors).map_err(|e| viewer.fail(e))?;
            let members = members_view(&state, &viewer, &role, "")
                .await
                .map_err(|e| viewer.fail(e))?;
            Ok((status, role_page(&viewer.context(), &form, &members)).into_response())
        }
    }
}
