//! Reset links (SPEC §10): a single-use link with which a user sets their own password, so
//! the administrator who made it never knows the password (ASVS 5.0 6.4.6).
//!
//! The token (32 random bytes, base64url) is in the link only; the database keeps its SHA-256.
//! A user has at most one live link: a new one supersedes the old, and any other change of
//! the password voids it (`credentials::store_password`). Using a link consumes it in the same
//! transaction that stores the password, so of two submissions exactly one wins.

use base64::Engine;
use rand::RngExt;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    TransactionSession, TransactionTrait,
};
use sha2::{Digest, Sha256};
use time::PrimitiveDateTime;

use crate::accounts::audit::{self, Actor, action};
use crate::accounts::clock;
use crate::accounts::credentials::{PasswordUpdate, store_password};
use crate::accounts::error::{Error, Result};
use crate::accounts::password::{Hasher, Policy};
use crate::accounts::permissions::target_of;
use crate::accounts::permissions::{self, Caller};
use crate::accounts::secret::Secret;
use crate::entities::{api_keys, reset_links, users as user_entity};

/// Hours a link lives unless asked otherwise, and the longest allowed.
pub const DEFAULT_EXPIRES_HOURS: i64 = 24;
pub const MAX_EXPIRES_HOURS: i64 = 72;

/// The states a link can be in (`reset_links.state`).
pub mod state {
    pub const LIVE: &str = "live";
    pub const USED: &str = "used";
    pub const REVOKED: &str = "revoked";
    pub const SUPERSEDED: &str = "superseded";
    pub const PASSWORD_CHANGED: &str = "password_changed";
}

/// What an administrator asks of a link; the options take effect when it is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkOptions {
    pub expires_hours: i64,
    pub revoke_api_keys: bool,
    pub reset_mfa: bool,
}

impl Default for LinkOptions {
    fn default() -> Self {
        Self {
            expires_hours: DEFAULT_EXPIRES_HOURS,
            revoke_api_keys: false,
            reset_mfa: false,
        }
    }
}

impl LinkOptions {
    /// `expires_hours` must be 1–72.
    pub fn checked(expires_hours: i64, revoke_api_keys: bool, reset_mfa: bool) -> Result<Self> {
        if !(1..=MAX_EXPIRES_HOURS).contains(&expires_hours) {
            return Err(Error::invalid(
                "expires_hours",
                "expires_hours: a whole number from 1 to 72",
            ));
        }
        Ok(Self {
            expires_hours,
            revoke_api_keys,
            reset_mfa,
        })
    }
}

/// Whether a link resets an existing password or sets up a new account's first one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Reset,
    Setup,
}

impl Purpose {
    /// As stored in `reset_links.purpose`.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Reset => "reset",
            Purpose::Setup => "setup",
        }
    }
}

/// A new link: the token (shown once, in the URL) and when it stops working.
pub struct NewLink {
    pub token: Secret,
    pub expires: PrimitiveDateTime,
}

/// Why a link does not work (the page says which, and to ask for a new one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkProblem {
    /// No such link (mistyped, truncated, or its user was deleted).
    Unknown,
    Used,
    Revoked,
    /// A newer link was made for the same user.
    Superseded,
    /// The password was changed another way since.
    PasswordChanged,
    Expired,
    /// The account was disabled since.
    AccountDisabled,
}

impl LinkProblem {
    /// A stable name, for translation keys.
    pub fn code(self) -> &'static str {
        match self {
            LinkProblem::Unknown => "unknown",
            LinkProblem::Used => "used",
            LinkProblem::Revoked => "revoked",
            LinkProblem::Superseded => "superseded",
            LinkProblem::PasswordChanged => "passwordChanged",
            LinkProblem::Expired => "expired",
            LinkProblem::AccountDisabled => "accountDisabled",
        }
    }
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_token() -> Secret {
    let bytes: [u8; 32] = rand::rng().random();
    Secret::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// Makes a link for `target` (who may: as for a password reset; never oneself), voiding any
/// live one. Changes nothing else about the user until the link is used.
pub async fn create<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    caller: &Caller,
    target: &user_entity::Model,
    options: LinkOptions,
) -> Result<NewLink> {
    permissions::can_reset(caller, &target_of(target))?;
    let link = create_unchecked(db, actor, target, Purpose::Reset, options).await?;
    crate::metrics::reset_issued(crate::metrics::Reset::ResetLink);
    Ok(link)
}

/// Makes a link without a permission check: for the operator's CLI and for a user just
/// created by someone allowed to (the set-up link), inside their own checks.
pub(crate) async fn create_unchecked<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    target: &user_entity::Model,
    purpose: Purpose,
    options: LinkOptions,
) -> Result<NewLink> {
    LinkOptions::checked(
        options.expires_hours,
        options.revoke_api_keys,
        options.reset_mfa,
    )?;
    let token = new_token();
    let now = clock::now();
    let expires = now + time::Duration::hours(options.expires_hours);
    let txn = crate::accounts::transaction::begin(db).await?;
    end_live_links(&txn, target.user_id, state::SUPERSEDED).await?;
    reset_links::ActiveModel {
        user_id: Set(target.user_id),
        token_hash: Set(token_hash(token.expose())),
        purpose: Set(purpose.as_str().to_string()),
        state: Set(state::LIVE.to_string()),
        created: Set(now),
        created_by: Set(actor.username.chars().take(64).collect()),
        expires: Set(expires),
        ended: Set(None),
        revoke_api_keys: Set(options.revoke_api_keys),
        reset_mfa: Set(options.reset_mfa),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        Some((target.user_id, &target.username)),
        action::RESET_LINK_CREATED,
        format!(
            "purpose={} expires={} revoke_api_keys={} reset_mfa={}",
            purpose.as_str(),
            clock::rfc3339(expires),
            options.revoke_api_keys,
            options.reset_mfa
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(NewLink { token, expires })
}

/// Ends the user's live link, if any, with `why` (a `state`). Returns whether there was one.
pub async fn end_live_links(conn: &impl ConnectionTrait, user_id: i32, why: &str) -> Result<bool> {
    let ended = reset_links::Entity::update_many()
        .col_expr(reset_links::Column::State, Expr::value(why))
        .col_expr(reset_links::Column::Ended, Expr::value(Some(clock::now())))
        .filter(reset_links::Column::UserId.eq(user_id))
        .filter(reset_links::Column::State.eq(state::LIVE))
        .exec(conn)
        .await?;
    Ok(ended.rows_affected > 0)
}

/// Revokes `target`'s live link (who may: as for making one). Returns whether there was one.
pub async fn revoke<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    caller: &Caller,
    target: &user_entity::Model,
) -> Result<bool> {
    permissions::can_reset(caller, &target_of(target))?;
    let txn = crate::accounts::transaction::begin(db).await?;
    let revoked = end_live_links(&txn, target.user_id, state::REVOKED).await?;
    if revoked {
        audit::record(
            &txn,
            actor,
            Some((target.user_id, &target.username)),
            action::RESET_LINK_REVOKED,
            String::new(),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(revoked)
}

/// When the user's live link expires (`None`: no live link, or it has expired).
pub async fn live_until(
    conn: &impl ConnectionTrait,
    user_id: i32,
) -> Result<Option<PrimitiveDateTime>> {
    let now = clock::now();
    Ok(reset_links::Entity::find()
        .filter(reset_links::Column::UserId.eq(user_id))
        .filter(reset_links::Column::State.eq(state::LIVE))
        .filter(reset_links::Column::Expires.gt(now))
        .one(conn)
        .await?
        .map(|link| link.expires))
}

/// When each of `user_ids`' live link expires (users without one are absent).
pub async fn live_until_of(
    conn: &impl ConnectionTrait,
    user_ids: &[i32],
) -> Result<std::collections::HashMap<i32, PrimitiveDateTime>> {
    if user_ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(reset_links::Entity::find()
        .filter(reset_links::Column::UserId.is_in(user_ids.iter().copied()))
        .filter(reset_links::Column::State.eq(state::LIVE))
        .filter(reset_links::Column::Expires.gt(clock::now()))
        .all(conn)
        .await?
        .into_iter()
        .map(|link| (link.user_id, link.expires))
        .collect())
}

/// A link that works, with its user.
pub struct LiveLink {
    pub link: reset_links::Model,
    pub user: user_entity::Model,
}

/// Looks a token up without consuming anything (link previewers and scanners fetch URLs).
pub async fn look_up(
    conn: &impl ConnectionTrait,
    token: &str,
) -> Result<std::result::Result<LiveLink, LinkProblem>> {
    // A token is 43 base64url characters; anything else cannot be one (and is not hashed).
    let plausible = token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !plausible {
        return Ok(Err(LinkProblem::Unknown));
    }
    let found = reset_links::Entity::find()
        .filter(reset_links::Column::TokenHash.eq(token_hash(token)))
        .find_also_related(user_entity::Entity)
        .one(conn)
        .await?;
    let Some((link, Some(user))) = found else {
        return Ok(Err(LinkProblem::Unknown));
    };
    let problem = match link.state.as_str() {
        state::LIVE if link.expires <= clock::now() => Some(LinkProblem::Expired),
        state::LIVE if !user.enabled => Some(LinkProblem::AccountDisabled),
        state::LIVE => None,
        state::USED => Some(LinkProblem::Used),
        state::REVOKED => Some(LinkProblem::Revoked),
        state::SUPERSEDED => Some(LinkProblem::Superseded),
        _ => Some(LinkProblem::PasswordChanged),
    };
    Ok(match problem {
        Some(problem) => Err(problem),
        None => Ok(LiveLink { link, user }),
    })
}

/// The outcome of a submitted link.
pub enum Used {
    /// The password is set; the user (with their new stamp) may be signed in.
    Done(Box<user_entity::Model>),
    /// The link does not work (nothing changed).
    NotValid(LinkProblem),
}

/// Uses a link: checks the new password (confirmation, policy), then in one transaction
/// consumes the link (only if it is still live: of two submissions one wins), stores the
/// password with both temporary-password flags cleared, rotates the stamp (every session and
/// token ends), applies the link's options and writes the audit entry.
pub async fn consume<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    hasher: &Hasher,
    policy: &Policy,
    token: &str,
    new_password: Secret,
    confirmation: Secret,
    ip: &str,
) -> Result<Used> {
    let LiveLink { link, user } = match look_up(db, token).await? {
        Ok(live) => live,
        Err(problem) => return Ok(Used::NotValid(problem)),
    };
    if new_password.expose() != confirmation.expose() {
        return Err(Error::PasswordMismatch);
    }
    policy
        .check(&user.username, new_password.expose())
        .map_err(Error::Policy)?;
    let hash = hasher
        .hash(&new_password)
        .await
        .map_err(|e| Error::Internal(e.into()))?;
    let txn = crate::accounts::transaction::begin(db).await?;
    let consumed = reset_links::Entity::update_many()
        .col_expr(reset_links::Column::State, Expr::value(state::USED))
        .col_expr(reset_links::Column::Ended, Expr::value(Some(clock::now())))
        .filter(reset_links::Column::LinkId.eq(link.link_id))
        .filter(reset_links::Column::State.eq(state::LIVE))
        .filter(reset_links::Column::Expires.gt(clock::now()))
        .exec(&txn)
        .await?;
    if consumed.rows_affected != 1 {
        // Another submission (or a revocation, a new link, a password change) came first.
        drop(txn);
        let problem = match look_up(db, token).await? {
            Err(problem) => problem,
            Ok(_) => LinkProblem::Used,
        };
        return Ok(Used::NotValid(problem));
    }
    let update = PasswordUpdate {
        hash,
        require_password_change: false,
        password_expires: None,
    };
    if let Err(err) = store_password(&txn, &user, update).await {
        // The user's credentials changed while we hashed: their change wins, the link is
        // void (rolled back with this transaction, and voided by that change).
        return match err {
            Error::Stale => Ok(Used::NotValid(LinkProblem::PasswordChanged)),
            other => Err(other),
        };
    }
    if link.revoke_api_keys {
        api_keys::Entity::delete_many()
            .filter(api_keys::Column::UserId.eq(user.user_id))
            .exec(&txn)
            .await?;
    }
    if link.reset_mfa {
        // A lost phone: the user's factors go with the link's use (SPEC §9, §10).
        crate::accounts::mfa::remove_all(&txn, user.user_id).await?;
    }
    let actor = Actor::user(&user, ip.to_string());
    audit::record(
        &txn,
        &actor,
        Some((user.user_id, &user.username)),
        action::RESET_LINK_USED,
        format!(
            "purpose={} revoke_api_keys={} reset_mfa={}",
            link.purpose, link.revoke_api_keys, link.reset_mfa
        ),
    )
    .await?;
    let updated = crate::accounts::users::get(&txn, user.user_id).await?;
    txn.commit().await?;
    crate::metrics::reset_link_used(if link.purpose == Purpose::Setup.as_str() {
        crate::metrics::LinkUsed::SetupLink
    } else {
        crate::metrics::LinkUsed::ResetLink
    });
    Ok(Used::Done(Box::new(updated)))
}
