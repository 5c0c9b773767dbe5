//! Editing a user: the one `update_user` path: the API's PATCH (own and others'), the web forms and the
//! change-password dialog all come through here. Whenever the password changes, both
//! temporary-password flags are cleared and the stamp rotates, in the same transaction.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession, TransactionTrait,
};

use crate::accounts::audit::{self, Actor, action};
use crate::accounts::clock;
use crate::accounts::credentials::{PasswordUpdate, rotate_stamp, store_password};
use crate::accounts::error::{Error, Result};
use crate::accounts::password::{Hasher, Policy, PolicyViolation};
use crate::accounts::permissions::{self, Caller, EditScope, target_of};
use crate::accounts::preferences::Preferences;
use crate::accounts::secret::Secret;
use crate::accounts::users::{self, normalize_username};
use crate::accounts::{grants, lang};
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
    /// Role ids replacing the user's roles (SPEC §14).
    pub roles: Option<Vec<i64>>,
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
            && self.roles.is_none()
            && self.preferences.is_empty()
    }
}

/// What an edit changed, named in the audit entry in this order.
#[derive(Default)]
struct Changes {
    password: bool,
    username: bool,
    email: bool,
    lang: bool,
    enabled: bool,
    superuser: bool,
    manager: bool,
    require_mfa: bool,
    disable_password_auth: bool,
    theme: bool,
    hints: bool,
    server_order: bool,
    dashboard_columns: bool,
    permissions: bool,
    roles: bool,
}

impl Changes {
    fn names(&self) -> Vec<&'static str> {
        [
            ("password", self.password),
            ("username", self.username),
            ("email", self.email),
            ("lang", self.lang),
            ("enabled", self.enabled),
            ("superuser", self.superuser),
            ("manager", self.manager),
            ("require_mfa", self.require_mfa),
            ("disable_password_auth", self.disable_password_auth),
            ("theme", self.theme),
            ("hints", self.hints),
            ("server_order", self.server_order),
            ("dashboard_columns", self.dashboard_columns),
            ("permissions", self.permissions),
            ("roles", self.roles),
        ]
        .into_iter()
        .filter_map(|(name, changed)| changed.then_some(name))
        .collect()
    }

    /// The password and nothing else (a person's own change is audited as such).
    fn only_password(&self) -> bool {
        self.password && self.names().len() == 1
    }
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
    let roles = match &update.roles {
        Some(wanted) => crate::accounts::roles::plan_for_edit(db, caller, target, wanted).await?,
        None => Default::default(),
    };
    let scope = EditScope {
        profile: username.is_some() || email.is_some() || lang.is_some() || !preferences.is_empty(),
        identity: username.is_some() || email.is_some(),
        password: update.password.is_some(),
        enabled,
        superuser: superuser.is_some(),
        permissions: update.permissions.is_some(),
        manager: manager.is_some(),
        require_mfa,
        roles: !roles.is_empty(),
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

    let mut changed = Changes::default();
    let txn = crate::accounts::transaction::begin(db).await?;
    if loses_superuser {
        users::keep_a_superuser(&txn).await?;
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
        changed.password = true;
    }
    let mut query = user_entity::Entity::update_many()
        .col_expr(user_entity::Column::LastUpdate, Expr::value(clock::now()))
        .filter(user_entity::Column::UserId.eq(target.user_id));
    if let Some(name) = username {
        query = query.col_expr(user_entity::Column::Username, Expr::value(name));
        changed.username = true;
    }
    if let Some(email) = email {
        query = query.col_expr(user_entity::Column::Email, Expr::value(email));
        changed.email = true;
    }
    if let Some(lang) = lang {
        query = query.col_expr(user_entity::Column::Lang, Expr::value(lang));
        changed.lang = true;
    }
    if let Some(enabled) = enabled {
        query = query.col_expr(user_entity::Column::Enabled, Expr::value(enabled));
        changed.enabled = true;
    }
    if let Some(superuser) = superuser {
        query = query.col_expr(user_entity::Column::Superuser, Expr::value(superuser));
        changed.superuser = true;
    }
    if let Some(manager) = manager {
        query = query.col_expr(user_entity::Column::Manager, Expr::value(manager));
        changed.manager = true;
    }
    if let Some(require_mfa) = require_mfa {
        query = query.col_expr(user_entity::Column::RequireMfa, Expr::value(require_mfa));
        changed.require_mfa = true;
    }
    if let Some(disable) = disable_password_auth {
        query = query.col_expr(
            user_entity::Column::DisablePasswordAuth,
            Expr::value(disable),
        );
        changed.disable_password_auth = true;
    }
    if let Some(theme) = preferences.theme {
        query = query.col_expr(user_entity::Column::Theme, Expr::value(theme));
        changed.theme = true;
    }
    if let Some(hints) = preferences.hints {
        query = query.col_expr(user_entity::Column::Hints, Expr::value(hints));
        changed.hints = true;
    }
    if let Some(order) = preferences.server_order {
        query = query.col_expr(user_entity::Column::ServerOrder, Expr::value(order));
        changed.server_order = true;
    }
    if let Some(columns) = preferences.dashboard_columns {
        query = query.col_expr(user_entity::Column::DashboardColumns, Expr::value(columns));
        changed.dashboard_columns = true;
    }
    query.exec(&txn).await.map_err(unique_as_exists)?;
    if enabled == Some(false) && !changed.password {
        // Disabling ends every session and login token at once.
        rotate_stamp(&txn, target.user_id).await?;
    }
    if let Some(grants) = &update.permissions {
        grants::replace(&txn, target.user_id, grants).await?;
        changed.permissions = true;
    }
    let forced_change = changed.password && actor.is(target) && target.require_password_change;
    // Each membership is audited on its own (which role, which user).
    roles.apply(&txn, actor, target).await?;
    changed.roles = !roles.is_empty();
    let (what, detail) = if changed.only_password() && actor.is(target) {
        (
            action::PASSWORD_CHANGED,
            format!("forced={}", target.require_password_change),
        )
    } else {
        (
            action::USER_UPDATED,
            format!("changed={}", changed.names().join(",")),
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
    if forced_change {
        crate::metrics::forced_change_completed();
    }
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
