//! The one `update_user` path: the API's PATCH (own and others'), the web forms and the
//! change-password dialog all come through here. Whenever the password changes, both
//! temporary-password flags are cleared and the stamp rotates, in the same transaction.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, TransactionSession,
    TransactionTrait,
};

use crate::accounts::audit::{self, Actor, action};
use crate::accounts::clock;
use crate::accounts::credentials::{PasswordUpdate, rotate_stamp, store_password};
use crate::accounts::error::{Error, Result};
use crate::accounts::password::{Hasher, Policy, PolicyViolation};
use crate::accounts::permissions::{self, Caller, EditScope, Target};
use crate::accounts::preferences::Preferences;
use crate::accounts::secret::Secret;
use crate::accounts::users::{self, normalize_username};
use crate::accounts::{grants, lang, locks};
use crate::entities::users as user_entity;

/// The fields a PATCH may carry; `None` leaves a field as it is.
#[derive(Default)]
pub struct UserUpdate {
    pub username: Option<String>,
    /// `Some(None)` clears the address.
    pub email: Option<Option<String>>,
    pub lang: Option<String>,
    pub enabled: Option<bool>,
    pub superuser: Option<bool>,
    /// `Some(None)` removes the manager.
    pub manager: Option<Option<i32>>,
    pub permissions: Option<Vec<grants::Grant>>,
    /// The user's own two-factor requirement (SPEC §9).
    pub require_mfa: Option<bool>,
    /// Password sign-in off while a passkey exists (SPEC §13).
    pub disable_password_auth: Option<bool>,
    pub password: Option<Secret>,
    /// Needed to change one's own password outside a forced change.
    pub current_password: Option<Secret>,
    /// Crafty's preferences (a profile change, like `lang`).
    pub preferences: Preferences,
}

impl UserUpdate {
    /// Only the password (what a flagged user may send to `PATCH /users/@me`).
    pub fn touches_only_password(&self) -> bool {
        self.username.is_none()
            && self.email.is_none()
            && self.lang.is_none()
            && self.enabled.is_none()
            && self.superuser.is_none()
            && self.manager.is_none()
            && self.permissions.is_none()
            && self.require_mfa.is_none()
            && self.disable_password_auth.is_none()
            && self.preferences.is_empty()
    }
}

/// The rule-relevant part of a user.
pub fn target_of(user: &user_entity::Model) -> Target {
    Target {
        user_id: user.user_id,
        superuser: user.superuser,
        manager: user.manager,
    }
}

pub async fn enabled_superusers(conn: &impl ConnectionTrait) -> Result<u64> {
    Ok(user_entity::Entity::find()
        .filter(user_entity::Column::Superuser.eq(true))
        .filter(user_entity::Column::Enabled.eq(true))
        .count(conn)
        .await?)
}

/// Applies `update` to `target` on behalf of `caller`, after the permission check and
/// validation of every field; nothing is written unless everything is valid.
pub async fn update_user<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    hasher: &Hasher,
    policy: &Policy,
    actor: &Actor,
    caller: &Caller,
    target: &user_entity::Model,
    update: UserUpdate,
) -> Result<user_entity::Model> {
    let username = match &update.username {
        Some(name) => Some(normalize_username(name)?).filter(|n| *n != target.username),
        None => None,
    };
    let email = match update.email {
        Some(Some(ref e)) if e.trim().is_empty() => Some(None),
        Some(Some(ref e)) => Some(Some(users::validate_email(e)?)),
        other => other,
    }
    .filter(|e| *e != target.email);
    let lang = match &update.lang {
        Some(code) => Some(lang::validate(code)?).filter(|l| *l != target.lang),
        None => None,
    };
    update.preferences.validate()?;
    let preferences = Preferences {
        theme: update.preferences.theme.filter(|t| *t != target.theme),
        hints: update.preferences.hints.filter(|h| *h != target.hints),
        server_order: update
            .preferences
            .server_order
            .filter(|o| *o != target.server_order),
        dashboard_columns: update
            .preferences
            .dashboard_columns
            .filter(|c| *c != target.dashboard_columns),
    };
    let enabled = update.enabled.filter(|e| *e != target.enabled);
    let superuser = update.superuser.filter(|s| *s != target.superuser);
    let manager = update.manager.filter(|m| *m != target.manager);
    let require_mfa = update.require_mfa.filter(|r| *r != target.require_mfa);
    let scope = EditScope {
        profile: username.is_some() || email.is_some() || lang.is_some() || !preferences.is_empty(),
        identity: username.is_some() || email.is_some(),
        password: update.password.is_some(),
        enabled,
        superuser: superuser.is_some(),
        permissions: update.permissions.is_some(),
        manager: manager.is_some(),
        require_mfa,
    };
    permissions::can_edit(caller, &target_of(target), &scope)?;
    let disable_password_auth = update
        .disable_password_auth
        .filter(|d| *d != target.disable_password_auth);
    if let Some(disable) = disable_password_auth {
        permissions::can_set_password_sign_in(caller, &target_of(target), disable)?;
        if disable {
            crate::accounts::passkeys::may_disable_password(db, target.user_id).await?;
        }
    }

    if let Some(name) = &username
        && users::find_by_username(db, name).await?.is_some()
    {
        return Err(Error::UserExists);
    }
    if let Some(Some(manager_id)) = manager
        && (manager_id == target.user_id || users::find_by_id(db, manager_id).await?.is_none())
    {
        return Err(Error::invalid(
            "manager",
            "manager: not an existing other user",
        ));
    }
    if let Some(grants) = &update.permissions {
        grants::validate(grants)?;
    }
    let loses_superuser =
        target.superuser && target.enabled && (enabled == Some(false) || superuser == Some(false));
    let new_username = username.as_deref().unwrap_or(&target.username);
    let new_hash = match &update.password {
        Some(password) => Some(
            checked_hash(
                hasher,
                policy,
                caller,
                target,
                new_username,
                password,
                update.current_password.as_ref(),
            )
            .await?,
        ),
        None => None,
    };
    if let Some(name) = &username
        && new_hash.is_none()
        && hasher
            .verify(&Secret::new(name.clone()), Some(&target.password))
            .await
    {
        // The password would equal the username after the rename (SPEC §3a).
        return Err(Error::Policy(PolicyViolation::SameAsUsername));
    }

    let mut changed: Vec<&str> = Vec::new();
    let txn = db.begin().await?;
    if loses_superuser {
        locks::exclusive(&txn, locks::SUPERUSERS).await?;
        if enabled_superusers(&txn).await? <= 1 {
            return Err(Error::LastSuperuser);
        }
    }
    if let Some(hash) = new_hash {
        store_password(
            &txn,
            target,
            PasswordUpdate {
                hash,
                require_password_change: false,
                password_expires: None,
            },
        )
        .await?;
        changed.push("password");
    }
    let mut query = user_entity::Entity::update_many()
        .col_expr(user_entity::Column::LastUpdate, Expr::value(clock::now()))
        .filter(user_entity::Column::UserId.eq(target.user_id));
    if let Some(name) = username {
        query = query.col_expr(user_entity::Column::Username, Expr::value(name));
        changed.push("username");
    }
    if let Some(email) = email {
        query = query.col_expr(user_entity::Column::Email, Expr::value(email));
        changed.push("email");
    }
    if let Some(lang) = lang {
        query = query.col_expr(user_entity::Column::Lang, Expr::value(lang));
        changed.push("lang");
    }
    if let Some(enabled) = enabled {
        query = query.col_expr(user_entity::Column::Enabled, Expr::value(enabled));
        changed.push("enabled");
    }
    if let Some(superuser) = superuser {
        query = query.col_expr(user_entity::Column::Superuser, Expr::value(superuser));
        changed.push("superuser");
    }
    if let Some(manager) = manager {
        query = query.col_expr(user_entity::Column::Manager, Expr::value(manager));
        changed.push("manager");
    }
    if let Some(require_mfa) = require_mfa {
        query = query.col_expr(user_entity::Column::RequireMfa, Expr::value(require_mfa));
        changed.push("require_mfa");
    }
    if let Some(disable) = disable_password_auth {
        query = query.col_expr(
            user_entity::Column::DisablePasswordAuth,
            Expr::value(disable),
        );
        changed.push("disable_password_auth");
    }
    if let Some(theme) = preferences.theme {
        query = query.col_expr(user_entity::Column::Theme, Expr::value(theme));
        changed.push("theme");
    }
    if let Some(hints) = preferences.hints {
        query = query.col_expr(user_entity::Column::Hints, Expr::value(hints));
        changed.push("hints");
    }
    if let Some(order) = preferences.server_order {
        query = query.col_expr(user_entity::Column::ServerOrder, Expr::value(order));
        changed.push("server_order");
    }
    if let Some(columns) = preferences.dashboard_columns {
        query = query.col_expr(user_entity::Column::DashboardColumns, Expr::value(columns));
        changed.push("dashboard_columns");
    }
    query.exec(&txn).await.map_err(unique_as_exists)?;
    if enabled == Some(false) && !changed.contains(&"password") {
        // Disabling ends every session and login token at once.
        rotate_stamp(&txn, target.user_id).await?;
    }
    if let Some(grants) = &update.permissions {
        grants::replace(&txn, target.user_id, grants).await?;
        changed.push("permissions");
    }
    let self_password = changed.contains(&"password") && actor.is(target);
    let (what, detail) = if self_password && changed.len() == 1 {
        (
            action::PASSWORD_CHANGED,
            format!("forced={}", target.require_password_change),
        )
    } else {
        (
            action::USER_UPDATED,
            format!("changed={}", changed.join(",")),
        )
    };
    audit::record(
        &txn,
        actor,
        Some((target.user_id, &target.username)),
        what,
        detail,
    )
    .await?;
    let updated = users::get(&txn, target.user_id).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Checks and hashes a new password for `target`, who will be called `username`. For one's
/// own password: the current password unless the caller may skip it (a forced change by
/// whoever signed in with the temporary password, see
/// [`permissions::forced_change_exempt`]), and no reuse of the current (or temporary)
/// password.
async fn checked_hash(
    hasher: &Hasher,
    policy: &Policy,
    caller: &Caller,
    target: &user_entity::Model,
    username: &str,
    password: &Secret,
    current: Option<&Secret>,
) -> Result<String> {
    let own = caller.user_id == target.user_id;
    let forced = own && target.require_password_change;
    if own && !permissions::forced_change_exempt(caller, target.require_password_change) {
        let Some(current) = current else {
            return Err(Error::IncorrectCurrentPassword);
        };
        if !hasher.verify(current, Some(&target.password)).await {
            return Err(Error::IncorrectCurrentPassword);
        }
    }
    policy
        .check(username, password.expose())
        .map_err(Error::Policy)?;
    if own && hasher.verify(password, Some(&target.password)).await {
        return Err(Error::Policy(if forced {
            PolicyViolation::ReusesTemporary
        } else {
            PolicyViolation::ReusesCurrent
        }));
    }
    hasher
        .hash(password)
        .await
        .map_err(|e| Error::Internal(e.into()))
}

fn unique_as_exists(err: sea_orm::DbErr) -> Error {
    if matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    ) {
        Error::UserExists
    } else {
        err.into()
    }
}

/// A person changing their own password (the change-password dialog and page).
pub struct PasswordChange {
    /// Required unless the change is forced (the user's `require_password_change` is set).
    pub current_password: Option<Secret>,
    pub new_password: Secret,
    /// When given (web forms), must equal `new_password`.
    pub confirmation: Option<Secret>,
}

/// Changes `caller`'s own password through [`update_user`]. Forced (flag set, and the
/// caller signed in with the temporary password): no current password needed, the temporary
/// password may not be reused. Otherwise the current password is required and may not be
/// reused. Returns the user with its new stamp.
pub async fn change_password<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    hasher: &Hasher,
    policy: &Policy,
    actor: &Actor,
    caller: &Caller,
    user: &user_entity::Model,
    change: PasswordChange,
) -> Result<user_entity::Model> {
    if let Some(confirmation) = &change.confirmation
        && confirmation.expose() != change.new_password.expose()
    {
        return Err(Error::PasswordMismatch);
    }
    let update = UserUpdate {
        password: Some(change.new_password),
        current_password: change.current_password,
        ..UserUpdate::default()
    };
    update_user(db, hasher, policy, actor, caller, user, update).await
}

/// Deletes a user (their sessions, keys and permissions go with them). Never oneself, never
/// the last enabled superuser.
pub async fn delete_user<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    caller: &Caller,
    target: &user_entity::Model,
) -> Result<()> {
    permissions::can_delete(caller, &target_of(target))?;
    let txn = db.begin().await?;
    if target.superuser && target.enabled {
        locks::exclusive(&txn, locks::SUPERUSERS).await?;
        if enabled_superusers(&txn).await? <= 1 {
            return Err(Error::LastSuperuser);
        }
    }
    user_entity::Entity::delete_by_id(target.user_id)
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        actor,
        Some((target.user_id, &target.username)),
        action::USER_DELETED,
        String::new(),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
