//! A user's web sessions (SPEC §11): listing one's own, ending one or all others, and ending
//! every session and login token of a user (oneself, a superuser, or their manager). The
//! single sign-on sessions of the user (SPEC §15.3, `sso_sessions`) are listed and ended
//! beside the panel's.
//!
//! A session id is a credential: the database keeps only its SHA-256 ([`stored_id`]), and
//! pages name a session by a *handle*, the first 128 bits of that hash (hex). Functions here
//! take the caller's own session id as the cookie carries it.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionSession,
    TransactionTrait,
};
use sha2::{Digest, Sha256};
use time::PrimitiveDateTime;

use crate::accounts::audit::{self, Actor, action};
use crate::accounts::clock;
use crate::accounts::credentials::rotate_stamp;
use crate::accounts::error::{Error, Result};
use crate::accounts::permissions::target_of;
use crate::accounts::permissions::{self, Caller};
use crate::entities::{sessions, sso_sessions, users as user_entity};

/// Which kind of session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The panel's own session (`sessions`).
    Panel,
    /// A single sign-on session, which opens the applications (`sso_sessions`).
    SingleSignOn,
}

/// One session as its owner sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    pub handle: String,
    pub kind: Kind,
    pub signed_in_at: Option<PrimitiveDateTime>,
    pub last_seen: Option<PrimitiveDateTime>,
    pub address: Option<String>,
    pub browser: Option<String>,
    /// The session the request came with.
    pub current: bool,
}

/// The sessions of the browser a request came from: its panel session id, and the row id of
/// its SSO session (the SHA-256 of its cookie's token), if it has one.
#[derive(Clone, Copy, Debug)]
pub struct ThisBrowser<'a> {
    pub panel: &'a str,
    pub sso: Option<&'a str>,
}

async fn live_sso_rows(
    conn: &impl ConnectionTrait,
    user_id: i32,
) -> Result<Vec<sso_sessions::Model>> {
    Ok(sso_sessions::Entity::find()
        .filter(sso_sessions::Column::UserId.eq(user_id))
        .filter(sso_sessions::Column::Expires.gt(clock::now()))
        .order_by_desc(sso_sessions::Column::LastSeen)
        .all(conn)
        .await?)
}

/// How a session id is stored: its SHA-256, hex (64 characters). A copy of the database
/// holds no session a browser could present.
pub fn stored_id(session_id: &str) -> String {
    hex::encode(Sha256::digest(session_id.as_bytes()))
}

/// The public name of a session, from its stored id.
pub fn handle_of(stored: &str) -> String {
    stored.chars().take(32).collect()
}

async fn live_rows(conn: &impl ConnectionTrait, user_id: i32) -> Result<Vec<sessions::Model>> {
    Ok(sessions::Entity::find()
        .filter(sessions::Column::UserId.eq(user_id))
        .filter(sessions::Column::ExpiryDate.gt(clock::now()))
        .order_by_desc(sessions::Column::LastSeen)
        .order_by_desc(sessions::Column::SignedInAt)
        .all(conn)
        .await?)
}

/// The user's live sessions, the panel's and single sign-on's, most recently seen first.
pub async fn list_own(
    conn: &impl ConnectionTrait,
    user_id: i32,
    this: ThisBrowser<'_>,
) -> Result<Vec<SessionInfo>> {
    let current_panel = stored_id(this.panel);
    let panel = live_rows(conn, user_id)
        .await?
        .into_iter()
        .map(|row| SessionInfo {
            handle: handle_of(&row.id),
            kind: Kind::Panel,
            current: row.id == current_panel,
            signed_in_at: row.signed_in_at,
            last_seen: row.last_seen,
            address: row.address,
            browser: row.browser,
        });
    let sso = live_sso_rows(conn, user_id)
        .await?
        .into_iter()
        .map(|row| SessionInfo {
            handle: handle_of(&row.id),
            kind: Kind::SingleSignOn,
            current: Some(row.id.as_str()) == this.sso,
            signed_in_at: Some(row.signed_in_at),
            last_seen: Some(row.last_seen),
            address: row.address,
            browser: row.browser,
        });
    let mut all: Vec<SessionInfo> = panel.chain(sso).collect();
    all.sort_by_key(|s| std::cmp::Reverse(s.last_seen));
    Ok(all)
}

/// Ends one of the user's own sessions by its handle: any single sign-on session (this
/// browser's too: the panel stays signed in), any panel session but the current one (that is
/// signing out). Returns whether one was ended; a second submission finds nothing.
pub async fn end_own<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    user: &user_entity::Model,
    handle: &str,
    this: ThisBrowser<'_>,
) -> Result<bool> {
    let current_panel = stored_id(this.panel);
    let txn = crate::accounts::transaction::begin(db).await?;
    let panel = live_rows(&txn, user.user_id)
        .await?
        .into_iter()
        .find(|row| row.id != current_panel && handle_of(&row.id) == handle);
    let sso = live_sso_rows(&txn, user.user_id)
        .await?
        .into_iter()
        .find(|row| handle_of(&row.id) == handle);
    match (panel, sso) {
        (Some(row), _) => {
            sessions::Entity::delete_by_id(row.id).exec(&txn).await?;
        }
        (None, Some(row)) => {
            sso_sessions::Entity::delete_by_id(row.id)
                .exec(&txn)
                .await?;
        }
        (None, None) => return Ok(false),
    }
    audit::record(
        &txn,
        actor,
        Some((user.user_id, &user.username)),
        action::SESSIONS_ENDED,
        "scope=one".into(),
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// Ends every session of the user but this browser's (its panel and SSO sessions). Returns
/// how many ended.
pub async fn end_others<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    user: &user_entity::Model,
    this: ThisBrowser<'_>,
) -> Result<u64> {
    let txn = crate::accounts::transaction::begin(db).await?;
    let panel = sessions::Entity::delete_many()
        .filter(sessions::Column::UserId.eq(user.user_id))
        .filter(sessions::Column::Id.ne(stored_id(this.panel)))
        .exec(&txn)
        .await?
        .rows_affected;
    let sso = sso_sessions::Entity::delete_many()
        .filter(sso_sessions::Column::UserId.eq(user.user_id))
        .filter(sso_sessions::Column::Id.ne(this.sso.unwrap_or("")))
        .exec(&txn)
        .await?
        .rows_affected;
    let ended = panel + sso;
    if ended > 0 {
        audit::record(
            &txn,
            actor,
            Some((user.user_id, &user.username)),
            action::SESSIONS_ENDED,
            format!("scope=others count={ended}"),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(ended)
}

/// Ends every session and login token of `target` (the stamp rotates; API keys stay):
/// oneself, a superuser, or the manager holding `USER_CONFIG`.
pub async fn end_all<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    caller: &Caller,
    target: &user_entity::Model,
) -> Result<()> {
    permissions::can_end_sessions(caller, &target_of(target))?;
    let txn = crate::accounts::transaction::begin(db).await?;
    end_all_unchecked(&txn, actor, target).await?;
    txn.commit().await?;
    Ok(())
}

/// [`end_all`] inside the caller's transaction, after the caller's own permission check.
pub(crate) async fn end_all_unchecked(
    txn: &impl ConnectionTrait,
    actor: &Actor,
    target: &user_entity::Model,
) -> Result<()> {
    // Read under the transaction: a user deleted meanwhile is not written about.
    if user_entity::Entity::find_by_id(target.user_id)
        .one(txn)
        .await?
        .is_none()
    {
        return Err(Error::UserNotFound);
    }
    rotate_stamp(txn, target.user_id).await?;
    audit::record(
        txn,
        actor,
        Some((target.user_id, &target.username)),
        action::SESSIONS_ENDED,
        "scope=all".into(),
    )
    .await
}
