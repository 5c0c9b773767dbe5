//! Who is in which role (SPEC §14): a user's roles set with the user (`POST /users`, `PATCH
//! /users/{id}`, the user forms — planned and checked before the user's transaction, written
//! inside it), and a role's members changed from the role (its page, the CLI). The rules are
//! the same on every path: whoever may edit a user may give them the roles the caller
//! manages (superusers: any) and take any role away; nobody but a superuser changes their
//! own roles. Every membership change is audited (who, which role, which user).

use std::collections::{BTreeSet, HashMap};

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionSession,
    TransactionTrait,
};

use super::get_for;
use super::manage::describe;
use crate::accounts::audit::{self, Actor, action};
use crate::accounts::error::{Error, Result};
use crate::accounts::permissions::roles::{can_change_roles_of, can_give_role, role_target};
use crate::accounts::permissions::{Caller, Denied, target_of};
use crate::accounts::users;
use crate::entities::{roles, user_roles, users as user_entity};

/// What setting a user's roles adds and removes, checked before anything is written.
#[derive(Debug, Default)]
pub struct RolesPlan {
    pub add: Vec<roles::Model>,
    pub remove: Vec<roles::Model>,
}

impl RolesPlan {
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.remove.is_empty()
    }

    /// Writes the plan for `user` (inside the caller's transaction), one audit entry per
    /// membership added or removed.
    pub async fn apply(
        &self,
        txn: &impl ConnectionTrait,
        actor: &Actor,
        user: &user_entity::Model,
    ) -> Result<()> {
        for role in &self.add {
            join(txn, actor, user, role).await?;
        }
        for role in &self.remove {
            leave(txn, actor, user, role).await?;
        }
        Ok(())
    }
}

/// The roles named by `ids`, each once; [`Error::UnknownRole`] for an id that names none
/// (refused, never dropped).
async fn named(conn: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<roles::Model>> {
    let wanted: BTreeSet<i64> = ids.iter().copied().collect();
    let in_range: Vec<i32> = wanted
        .iter()
        .filter_map(|id| i32::try_from(*id).ok())
        .collect();
    let found: HashMap<i32, roles::Model> = roles::Entity::find()
        .filter(roles::Column::RoleId.is_in(in_range))
        .order_by_asc(roles::Column::RoleId)
        .all(conn)
        .await?
        .into_iter()
        .map(|role| (role.role_id, role))
        .collect();
    if let Some(unknown) = wanted
        .iter()
        .find(|id| i32::try_from(**id).map_or(true, |id| !found.contains_key(&id)))
    {
        return Err(Error::UnknownRole(*unknown));
    }
    let mut roles: Vec<roles::Model> = found.into_values().collect();
    roles.sort_by_key(|r| r.role_id);
    Ok(roles)
}

/// The roles of a user about to be created: each must exist and be one the creator may
/// give (else Crafty's `INVALID_ROLES_CREATE`).
pub async fn plan_for_new(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    wanted: &[i64],
) -> Result<RolesPlan> {
    let add = named(conn, wanted).await?;
    if add
        .iter()
        .any(|role| can_give_role(caller, &role_target(role)).is_err())
    {
        return Err(Error::RolesNotAssignable { creating: true });
    }
    Ok(RolesPlan {
        add,
        remove: Vec::new(),
    })
}

/// `wanted` replacing `target`'s roles. The same set is no change (and needs no right).
/// Otherwise: never one's own roles unless a superuser (Crafty's `INVALID_ROLES_MODIFY`);
/// only for whoever may edit the user (`ACCESS_DENIED`, before any role id is looked at);
/// every id must name a role (`INVALID_ROLES`); a role added must be one the caller manages
/// (`INVALID_ROLES_MODIFY`); any role may be taken away.
pub async fn plan_for_edit(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    target: &user_entity::Model,
    wanted: &[i64],
) -> Result<RolesPlan> {
    let current = super::of_user(conn, target.user_id).await?;
    let wanted_ids: BTreeSet<i64> = wanted.iter().copied().collect();
    let current_ids: BTreeSet<i64> = current.iter().map(|r| i64::from(r.role_id)).collect();
    if wanted_ids == current_ids {
        return Ok(RolesPlan::default());
    }
    may_change_roles_of(caller, target)?;
    let chosen = named(conn, wanted).await?;
    let add: Vec<roles::Model> = chosen
        .into_iter()
        .filter(|role| !current_ids.contains(&i64::from(role.role_id)))
        .collect();
    if add
        .iter()
        .any(|role| can_give_role(caller, &role_target(role)).is_err())
    {
        return Err(Error::RolesNotAssignable { creating: false });
    }
    let remove = current
        .into_iter()
        .filter(|role| !wanted_ids.contains(&i64::from(role.role_id)))
        .collect();
    Ok(RolesPlan { add, remove })
}

/// One's own roles: `INVALID_ROLES_MODIFY` (unless a superuser); someone one may not edit:
/// `ACCESS_DENIED`.
fn may_change_roles_of(caller: &Caller, target: &user_entity::Model) -> Result<()> {
    if caller.user_id == target.user_id && !caller.is_superuser() {
        return Err(Error::RolesNotAssignable { creating: false });
    }
    can_change_roles_of(caller, &target_of(target)).map_err(|_: Denied| Error::Denied)
}

/// One membership to set from the role's side: `user_id` in the role (`member`) or not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemberChange {
    pub user_id: i32,
    pub member: bool,
}

/// What a change of members did, by username.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MembersChanged {
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

/// Sets memberships of role `role_id` for a caller who may read roles: each user must exist
/// and be one the caller may change the roles of; adding needs a role the caller manages.
/// Everything is checked before anything is written (all or nothing); memberships already
/// as asked are left alone.
pub async fn change_members<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    caller: &Caller,
    role_id: i32,
    changes: &[MemberChange],
) -> Result<MembersChanged> {
    let role = get_for(db, caller, role_id).await?;
    let members: BTreeSet<i32> = super::member_ids(db, role.role_id)
        .await?
        .into_iter()
        .collect();
    let mut todo: Vec<(user_entity::Model, bool)> = Vec::new();
    let mut seen = BTreeSet::new();
    for change in changes {
        if members.contains(&change.user_id) == change.member || !seen.insert(change.user_id) {
            continue;
        }
        let user = users::get(db, change.user_id).await?;
        may_change_roles_of(caller, &user)?;
        if change.member && can_give_role(caller, &role_target(&role)).is_err() {
            return Err(Error::RolesNotAssignable { creating: false });
        }
        todo.push((user, change.member));
    }
    let mut done = MembersChanged::default();
    if todo.is_empty() {
        return Ok(done);
    }
    let txn = crate::accounts::transaction::begin(db).await?;
    for (user, member) in todo {
        if member {
            join(&txn, actor, &user, &role).await?;
            done.added.push(user.username);
        } else {
            leave(&txn, actor, &user, &role).await?;
            done.removed.push(user.username);
        }
    }
    txn.commit().await?;
    Ok(done)
}

/// The role page's member checkboxes: of the users `shown` on the form, exactly those
/// `chosen` are members afterwards; members not shown stay.
pub async fn set_members<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    caller: &Caller,
    role_id: i32,
    shown: &[i32],
    chosen: &[i32],
) -> Result<MembersChanged> {
    let changes: Vec<MemberChange> = shown
        .iter()
        .map(|&user_id| MemberChange {
            user_id,
            member: chosen.contains(&user_id),
        })
        .collect();
    change_members(db, actor, caller, role_id, &changes).await
}

/// Puts users into a role (`member`) or takes them out of it (`passgate role add|remove`).
pub async fn put_members<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    caller: &Caller,
    role_id: i32,
    user_ids: &[i32],
    member: bool,
) -> Result<MembersChanged> {
    let changes: Vec<MemberChange> = user_ids
        .iter()
        .map(|&user_id| MemberChange { user_id, member })
        .collect();
    change_members(db, actor, caller, role_id, &changes).await
}

async fn join(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    user: &user_entity::Model,
    role: &roles::Model,
) -> Result<()> {
    let inserted = user_roles::Entity::insert(user_roles::ActiveModel {
        user_id: Set(user.user_id),
        role_id: Set(role.role_id),
    })
    .on_conflict_do_nothing()
    .exec_without_returning(txn)
    .await?;
    if matches!(inserted, sea_orm::TryInsertResult::Inserted(n) if n > 0) {
        audit::record(
            txn,
            actor,
            Some((user.user_id, &user.username)),
            action::ROLE_MEMBER_ADDED,
            describe(role),
        )
        .await?;
    }
    Ok(())
}

async fn leave(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    user: &user_entity::Model,
    role: &roles::Model,
) -> Result<()> {
    let deleted = user_roles::Entity::delete_many()
        .filter(user_roles::Column::UserId.eq(user.user_id))
        .filter(user_roles::Column::RoleId.eq(role.role_id))
        .exec(txn)
        .await?
        .rows_affected;
    if deleted > 0 {
        audit::record(
            txn,
            actor,
            Some((user.user_id, &user.username)),
            action::ROLE_MEMBER_REMOVED,
            describe(role),
        )
        .await?;
    }
    Ok(())
}
