//! Reading, creating, changing and deleting roles (SPEC §14). Each use case takes the caller
//! and checks it itself; every change is written with its audit entry in one transaction.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    TransactionSession, TransactionTrait,
};

use super::{count_managed, find_by_name, get, is_unique_violation, member_ids, normalize_name};
use crate::accounts::audit::{self, Actor, action};
use crate::accounts::clock;
use crate::accounts::error::{Error, Result};
use crate::accounts::locks;
use crate::accounts::permissions::Caller;
use crate::accounts::permissions::roles::{
    can_change_role, can_create_role, can_read_roles, can_set_role_manager, role_target,
};
use crate::accounts::users;
use crate::entities::{roles, user_roles};

/// A role to create.
pub struct NewRole {
    pub name: String,
    /// `None`: not given — a superuser's role then has no manager, anyone else manages the
    /// role they create. `Some(None)`: no manager; `Some(Some(id))`: that user (superusers only).
    pub manager: Option<Option<i32>>,
    pub mfa_required: bool,
}

/// What a change of a role sets; `None` leaves a field as it is.
#[derive(Default)]
pub struct RoleChange {
    pub name: Option<String>,
    /// `Some(None)` removes the manager (superusers only, as any change of manager).
    pub manager: Option<Option<i32>>,
    pub mfa_required: Option<bool>,
}

impl RoleChange {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.manager.is_none() && self.mfa_required.is_none()
    }
}

/// Every role, for a caller who may read roles (a superuser or a `ROLES_CONFIG` holder).
pub async fn list_for(conn: &impl ConnectionTrait, caller: &Caller) -> Result<Vec<roles::Model>> {
    can_read_roles(caller)?;
    super::list_all(conn).await
}

/// One role, for a caller who may read roles; [`Error::RoleNotFound`] after that check, so
/// the existence of a role tells nothing to anyone else.
pub async fn get_for(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    role_id: i32,
) -> Result<roles::Model> {
    can_read_roles(caller)?;
    get(conn, role_id).await
}

/// The ids of a role's members that the caller may see: all of them for a superuser;
/// for anyone else, those among the users they may see (themselves and the users they
/// manage), as `GET /users` shows them.
pub async fn members_for(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    role_id: i32,
) -> Result<Vec<i32>> {
    let role = get_for(conn, caller, role_id).await?;
    let members = member_ids(conn, role.role_id).await?;
    if caller.is_superuser() {
        return Ok(members);
    }
    let visible: std::collections::HashSet<i32> = users::list_visible(conn, caller)
        .await?
        .into_iter()
        .map(|u| u.user_id)
        .collect();
    Ok(members
        .into_iter()
        .filter(|id| visible.contains(id))
        .collect())
}

/// Creates a role for `caller`: a superuser as asked; a `ROLES_CONFIG` holder within their
/// quantity (counted again under a lock in the transaction), as its manager.
pub async fn create<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    caller: &Caller,
    new: NewRole,
) -> Result<roles::Model> {
    let names_other_manager = new
        .manager
        .is_some_and(|manager| manager != Some(caller.user_id));
    let managed = if caller.is_superuser() {
        0
    } else {
        count_managed(db, caller.user_id).await?
    };
    can_create_role(caller, managed, names_other_manager)?;
    let (manager, quota) = if caller.is_superuser() {
        (new.manager.flatten(), None)
    } else {
        (
            Some(caller.user_id),
            caller.roles_config.filter(|q| *q >= 0),
        )
    };
    let name = normalize_name(&new.name)?;
    if let Some(manager) = manager {
        existing_manager(db, manager).await?;
    }
    if find_by_name(db, &name).await?.is_some() {
        return Err(Error::RoleNameExists);
    }
    let now = clock::now();
    let txn = crate::accounts::transaction::begin(db).await?;
    if let (Some(quota), Some(manager)) = (quota, manager) {
        locks::exclusive(&txn, locks::QUOTAS).await?;
        if count_managed(&txn, manager).await? >= quota as u64 {
            return Err(Error::Denied);
        }
    }
    let inserted = roles::ActiveModel {
        role_name: Set(name),
        created: Set(now),
        last_update: Set(now),
        manager: Set(manager),
        mfa_required: Set(new.mfa_required),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let role = match inserted {
        Ok(role) => role,
        // A concurrent create of the same name loses on the unique index.
        Err(err) if is_unique_violation(&err) => return Err(Error::RoleNameExists),
        Err(err) => return Err(err.into()),
    };
    audit::record(
        &txn,
        actor,
        None,
        action::ROLE_CREATED,
        format!(
            "{} manager={} mfa_required={}",
            describe(&role),
            manager.map_or_else(|| "none".to_string(), |m| m.to_string()),
            role.mfa_required
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(role)
}

/// Changes a role for whoever manages it (another manager: superusers only). A change that
/// sets nothing new writes nothing. Returns the role as stored now.
pub async fn update<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    caller: &Caller,
    role_id: i32,
    change: RoleChange,
) -> Result<roles::Model> {
    let role = get_for(db, caller, role_id).await?;
    can_change_role(caller, &role_target(&role))?;
    let name = match &change.name {
        Some(name) => Some(normalize_name(name)?).filter(|n| *n != role.role_name),
        None => None,
    };
    let manager = change.manager.filter(|m| *m != role.manager);
    if let Some(manager) = manager {
        can_set_role_manager(caller)?;
        if let Some(id) = manager {
            existing_manager(db, id).await?;
        }
    }
    let mfa_required = change.mfa_required.filter(|m| *m != role.mfa_required);
    if let Some(name) = &name
        && find_by_name(db, name).await?.is_some()
    {
        return Err(Error::RoleNameExists);
    }
    let mut changed = Vec::new();
    let mut query = roles::Entity::update_many()
        .col_expr(roles::Column::LastUpdate, Expr::value(clock::now()))
        .filter(roles::Column::RoleId.eq(role.role_id));
    if let Some(name) = name {
        query = query.col_expr(roles::Column::RoleName, Expr::value(name));
        changed.push("name");
    }
    if let Some(manager) = manager {
        query = query.col_expr(roles::Column::Manager, Expr::value(manager));
        changed.push("manager");
    }
    if let Some(mfa_required) = mfa_required {
        query = query.col_expr(roles::Column::MfaRequired, Expr::value(mfa_required));
        changed.push("mfa_required");
    }
    if changed.is_empty() {
        return Ok(role);
    }
    let txn = crate::accounts::transaction::begin(db).await?;
    let updated = query.exec(&txn).await.map_err(|err| {
        if is_unique_violation(&err) {
            Error::RoleNameExists
        } else {
            err.into()
        }
    })?;
    if updated.rows_affected == 0 {
        // Deleted meanwhile.
        return Err(Error::RoleNotFound);
    }
    let stored = get(&txn, role.role_id).await?;
    audit::record(
        &txn,
        actor,
        None,
        action::ROLE_UPDATED,
        format!(
            "{} changed={} manager={} mfa_required={}",
            describe(&stored),
            changed.join(","),
            stored
                .manager
                .map_or_else(|| "none".to_string(), |m| m.to_string()),
            stored.mfa_required
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(stored)
}

/// Deletes a role for whoever manages it; its members lose it (and, with it, any second
/// factor it required of them). Returns the role as it was.
pub async fn delete<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    caller: &Caller,
    role_id: i32,
) -> Result<roles::Model> {
    let role = get_for(db, caller, role_id).await?;
    can_change_role(caller, &role_target(&role))?;
    let txn = crate::accounts::transaction::begin(db).await?;
    // An application open only to this role would open to everyone once the role is gone
    // (no allowed roles: every enabled user), so a role in use is not deleted.
    let used_by = apps_using(&txn, role.role_id).await?;
    if !used_by.is_empty() {
        return Err(Error::RoleInUse(used_by.join(", ")));
    }
    let members = user_roles::Entity::delete_many()
        .filter(user_roles::Column::RoleId.eq(role.role_id))
        .exec(&txn)
        .await?
        .rows_affected;
    let deleted = roles::Entity::delete_by_id(role.role_id)
        .exec(&txn)
        .await?
        .rows_affected;
    if deleted == 0 {
        return Err(Error::RoleNotFound);
    }
    audit::record(
        &txn,
        actor,
        None,
        action::ROLE_DELETED,
        format!("{} members={members}", describe(&role)),
    )
    .await?;
    txn.commit().await?;
    Ok(role)
}

/// A manager must be an existing user.
async fn existing_manager(conn: &impl ConnectionTrait, user_id: i32) -> Result<()> {
    match users::find_by_id(conn, user_id).await? {
        Some(_) => Ok(()),
        None => Err(Error::invalid("manager", "manager: not an existing user")),
    }
}

/// `role=ID name=NAME` for an audit entry: the name form-encoded, so that a name with spaces
/// stays one `key=value` pair (the audit page decodes it).
/// The names of the applications open to `role_id`, sorted.
async fn apps_using(conn: &impl ConnectionTrait, role_id: i32) -> Result<Vec<String>> {
    use crate::entities::{app_roles, apps};
    let ids: Vec<i32> = app_roles::Entity::find()
        .filter(app_roles::Column::RoleId.eq(role_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|row| row.app_id)
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut names: Vec<String> = apps::Entity::find()
        .filter(apps::Column::AppId.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|app| app.name)
        .collect();
    names.sort();
    Ok(names)
}

pub(super) fn describe(role: &roles::Model) -> String {
    let name = serde_urlencoded::to_string([("name", role.role_name.as_str())])
        .unwrap_or_else(|_| "name=".into());
    format!("role={} {name}", role.role_id)
}
