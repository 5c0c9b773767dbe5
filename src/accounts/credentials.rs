//! Credential changes: the one path by which a password is set on an existing user.
//! Every change stores the new hash, settles the temporary-password flags, rotates the
//! security stamp, ends the user's sessions and writes an audit entry, in one transaction.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession, TransactionTrait,
    sea_query::Expr,
};
use time::PrimitiveDateTime;

use crate::accounts::audit::{self, Actor, action};
use crate::accounts::clock;
use crate::accounts::error::{Error, Result};
use crate::accounts::password::{self, Hasher, Policy};
use crate::accounts::permissions::{self, Caller, OwnChange};
use crate::accounts::reset_links;
use crate::accounts::secret::Secret;
use crate::accounts::users::{self, new_stamp};
use crate::entities::{api_keys, sessions, sso_sessions, users as user_entity};

/// The new state of a user's password, written by [`store_password`].
pub(crate) struct PasswordUpdate {
    pub hash: String,
    pub require_password_change: bool,
    pub password_expires: Option<PrimitiveDateTime>,
}

/// Writes the password and rotates the stamp, on the condition that the user's stamp is still
/// the one the caller read (so a change decided on stale state, e.g. racing an admin reset,
/// fails instead of undoing it). Deletes all the user's sessions. Returns the new stamp.
pub(crate) async fn store_password(
    txn: &impl ConnectionTrait,
    user: &user_entity::Model,
    update: PasswordUpdate,
) -> Result<String> {
    let stamp = new_stamp();
    let result = user_entity::Entity::update_many()
        .col_expr(user_entity::Column::Password, Expr::value(update.hash))
        .col_expr(
            user_entity::Column::RequirePasswordChange,
            Expr::value(update.require_password_change),
        )
        .col_expr(
            user_entity::Column::PasswordExpires,
            Expr::value(update.password_expires),
        )
        .col_expr(
            user_entity::Column::SecurityStamp,
            Expr::value(stamp.clone()),
        )
        .col_expr(user_entity::Column::LastUpdate, Expr::value(clock::now()))
        .filter(user_entity::Column::UserId.eq(user.user_id))
        .filter(user_entity::Column::SecurityStamp.eq(user.security_stamp.clone()))
        .exec(txn)
        .await?;
    if result.rows_affected != 1 {
        // Someone changed this user's credentials since we read them.
        return Err(Error::Stale);
    }
    end_sessions(txn, user.user_id).await?;
    // A reset link made before this change no longer stands (SPEC §10).
    reset_links::end_live_links(txn, user.user_id, reset_links::state::PASSWORD_CHANGED).await?;
    Ok(stamp)
}

/// Deletes every stored session of a user, the panel's and single sign-on's, and revokes
/// their OpenID Connect grants with every access and refresh token (their stamp check would
/// refuse them anyway; this also frees the rows at once). Part of every stamp rotation, in
/// its transaction.
pub async fn end_sessions(conn: &impl ConnectionTrait, user_id: i32) -> Result<()> {
    sessions::Entity::delete_many()
        .filter(sessions::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    sso_sessions::Entity::delete_many()
        .filter(sso_sessions::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    crate::accounts::oidc::grants::revoke_all_of_user(conn, user_id).await?;
    Ok(())
}

/// Rotates the user's stamp and ends their sessions without touching the password
/// (`invalidate_tokens`, disabling a user).
pub async fn rotate_stamp(txn: &impl ConnectionTrait, user_id: i32) -> Result<String> {
    let stamp = new_stamp();
    user_entity::Entity::update_many()
        .col_expr(
            user_entity::Column::SecurityStamp,
            Expr::value(stamp.clone()),
        )
        .col_expr(user_entity::Column::LastUpdate, Expr::value(clock::now()))
        .filter(user_entity::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    end_sessions(txn, user_id).await?;
    Ok(stamp)
}

/// Ends every session and login token of the caller's own account (`invalidate_tokens`):
/// the stamp rotates and the sessions go, in one transaction, with an audit entry. Not for
/// an API key without `full_access` (it could lock its owner out of every sign-in).
pub async fn invalidate_tokens<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    caller: &Caller,
    user: &user_entity::Model,
) -> Result<()> {
    permissions::can_change_own(caller, OwnChange::InvalidateTokens)?;
    let txn = crate::accounts::transaction::begin(db).await?;
    rotate_stamp(&txn, user.user_id).await?;
    audit::record(
        &txn,
        actor,
        Some((user.user_id, &user.username)),
        action::TOKENS_INVALIDATED,
        String::new(),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// What an administrator (or the CLI) asks of a reset.
#[derive(Clone, Copy, Debug)]
pub struct ResetOptions {
    /// The length of a generated password; `None`: the policy's default
    /// ([`Policy::generated_length`]: 16, or the configured minimum if that is longer).
    pub length: Option<usize>,
    pub expires_hours: i64,
    pub require_password_change: bool,
    pub revoke_api_keys: bool,
    /// Also remove every second factor of the target (a lost phone; SPEC §9).
    pub reset_mfa: bool,
}

impl Default for ResetOptions {
    fn default() -> Self {
        Self {
            length: None,
            expires_hours: -1,
            require_password_change: true,
            revoke_api_keys: false,
            reset_mfa: false,
        }
    }
}

/// Which reset option is out of range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidReset {
    Length,
    ExpiresHours,
}

impl ResetOptions {
    /// The options of SPEC §4, range-checked: `length` 8–128 (the configured minimum is
    /// checked when the password is generated), `expires_hours` -1 or 1–8760.
    pub fn checked(
        length: Option<i64>,
        expires_hours: i64,
        require_password_change: bool,
        revoke_api_keys: bool,
    ) -> Result<Self, InvalidReset> {
        if length.is_some_and(|length| {
            !(password::MIN_LENGTH_FLOOR as i64..=password::MAX_LENGTH as i64).contains(&length)
        }) {
            return Err(InvalidReset::Length);
        }
        if !(expires_hours == -1 || (1..=users::MAX_EXPIRES_HOURS).contains(&expires_hours)) {
            return Err(InvalidReset::ExpiresHours);
        }
        Ok(Self {
            length: length.map(|length| length as usize),
            expires_hours,
            require_password_change,
            revoke_api_keys,
            reset_mfa: false,
        })
    }
}

/// The result of a reset; `generated` is the password to show once, when the server chose it.
pub struct ResetOutcome {
    pub user: user_entity::Model,
    pub generated: Option<Secret>,
}

/// Where a reset's password comes from.
pub enum ResetPassword {
    /// The server generates it now (and returns it in the outcome).
    Generate,
    /// Chosen by the administrator.
    Chosen(Secret),
    /// Generated by the server earlier for this form (the web's Generate button), submitted
    /// unchanged: audited as generated.
    GeneratedEarlier(Secret),
}

impl From<Option<Secret>> for ResetPassword {
    /// A password the administrator chose, or none: the server generates one.
    fn from(chosen: Option<Secret>) -> Self {
        match chosen {
            Some(password) => ResetPassword::Chosen(password),
            None => ResetPassword::Generate,
        }
    }
}

/// What an administrator asks of a reset: the password (told where it came from, so the
/// audit says it truly) and the options.
pub struct ResetRequest {
    pub password: ResetPassword,
    pub options: ResetOptions,
}

/// Sets a temporary password on `target`, if `caller` may ([`permissions::can_reset`]:
/// nobody resets their own password here).
pub async fn reset_password<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    hasher: &Hasher,
    policy: &Policy,
    actor: &Actor,
    caller: &Caller,
    target: &user_entity::Model,
    request: ResetRequest,
) -> Result<ResetOutcome> {
    let ResetRequest {
        password: chosen,
        options,
    } = request;
    if actor.is(target) {
        return Err(Error::SelfResetNotAllowed);
    }
    permissions::can_reset(caller, &permissions::target_of(target))?;
    let password_expires = users::expiry_from_hours(options.expires_hours)?;
    let (password, generated, generated_now) = match chosen {
        ResetPassword::Chosen(password) => (password, false, false),
        ResetPassword::GeneratedEarlier(password) => (password, true, false),
        ResetPassword::Generate => (
            password::generate(
                options.length.unwrap_or_else(|| policy.generated_length()),
                policy,
            )
            .map_err(|_| {
                Error::invalid(
                    "length",
                    format!(
                        "length: a whole number from {} to {}",
                        policy.min_length,
                        password::MAX_LENGTH
                    ),
                )
            })?,
            true,
            true,
        ),
    };
    if !generated_now {
        policy
            .check(&target.username, password.expose())
            .map_err(Error::Policy)?;
    }
    let hash = hasher
        .hash(&password)
        .await
        .map_err(|e| Error::Internal(e.into()))?;
    let txn = crate::accounts::transaction::begin(db).await?;
    store_password(
        &txn,
        target,
        PasswordUpdate {
            hash,
            require_password_change: options.require_password_change,
            password_expires,
        },
    )
    .await?;
    if options.revoke_api_keys {
        api_keys::Entity::delete_many()
            .filter(api_keys::Column::UserId.eq(target.user_id))
            .exec(&txn)
            .await?;
    }
    if options.reset_mfa {
        crate::accounts::mfa::remove_all(&txn, target.user_id).await?;
    }
    audit::record(
        &txn,
        actor,
        Some((target.user_id, &target.username)),
        action::PASSWORD_RESET,
        format!(
            "require_password_change={} expires={} generated={} revoke_api_keys={} reset_mfa={}",
            options.require_password_change,
            password_expires
                .map(clock::rfc3339)
                .unwrap_or_else(|| "never".into()),
            generated,
            options.revoke_api_keys,
            options.reset_mfa
        ),
    )
    .await?;
    let user = users::get(&txn, target.user_id).await?;
    txn.commit().await?;
    crate::metrics::reset_issued(crate::metrics::Reset::TemporaryPassword);
    Ok(ResetOutcome {
        user,
        generated: generated_now.then_some(password),
    })
}
