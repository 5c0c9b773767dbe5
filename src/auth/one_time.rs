//! One-time results at rest (SPEC §6): what a request made to be shown exactly once — a
//! generated password, a reset or set-up link, recovery codes, a new authenticator's secret,
//! a Generate button's draft — waits in `one_time_results` until the request that shows it
//! takes it out.
//!
//! - **Sealed.** The payload is encrypted with the server's AEAD key (the TOTP secrets' key:
//!   `PASSGATE_SECRET_KEY_FILE`, else `settings`), bound to its owner, id and user, so the
//!   database file and its WAL never hold it in clear, and a row copied elsewhere does not open.
//! - **Bound to the session.** Its owner is a random key kept in the session's data
//!   ([`OWNER_KEY`], made at sign-in and kept when the same user's session is re-established
//!   after a factor change), and its user: another session, or another user signing in over
//!   this browser's session, finds nothing.
//! - **Taken once.** Showing deletes the row (SQLite overwrites deleted content:
//!   `secure_delete`, `db.rs`); of two requests taking the same result one gets it. Unshown
//!   results expire after [`LIFETIME`] and are pruned; a user's go with the user.
//! - **A row per result**, not an entry in the session's data: two requests of one session
//!   (two tabs) each keep theirs, where the session store, saving whole records, let the later
//!   save drop the other's result.

use base64::Engine;
use rand::RngExt;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use sea_orm::{Set, sea_query::OnConflict};
use tower_sessions::Session;
use zeroize::Zeroizing;

use crate::accounts::clock;
use crate::accounts::mfa::cipher::SecretCipher;
use crate::auth::session::session_error;
use crate::entities::one_time_results as results;
use crate::error::Result;

/// The session key holding the session's one-time owner key.
pub const OWNER_KEY: &str = "one_time_owner";
/// Unshown results (and remembered forms) kept per session; the oldest go first. A person
/// opens a few tabs, not dozens.
pub const MAX_ENTRIES: usize = 16;
/// How long an unshown result waits (it is normally shown by the redirect that follows).
pub const LIFETIME: time::Duration = time::Duration::hours(1);

/// Whose results: a session's owner key and its signed-in user.
#[derive(Clone, Debug)]
pub struct Owner {
    key: String,
    user_id: i32,
}

fn random_key() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::rng().random::<[u8; 16]>())
}

impl Owner {
    /// The owner of `session`, signed in as `user_id`. A session signed in before owner keys
    /// existed gets one now.
    pub async fn of(session: &Session, user_id: i32) -> Result<Owner> {
        let key = match session
            .get::<String>(OWNER_KEY)
            .await
            .map_err(session_error)?
        {
            Some(key) => key,
            None => {
                let key = random_key();
                session
                    .insert(OWNER_KEY, &key)
                    .await
                    .map_err(session_error)?;
                key
            }
        };
        Ok(Owner { key, user_id })
    }

    fn context(&self, id: &str) -> Vec<u8> {
        format!("passgate-one-time:{}:{}:{id}", self.user_id, self.key).into_bytes()
    }

    fn row(&self, id: &str) -> sea_orm::Condition {
        sea_orm::Condition::all()
            .add(results::Column::Owner.eq(self.key.as_str()))
            .add(results::Column::Id.eq(id))
            .add(results::Column::UserId.eq(self.user_id))
    }
}

/// At sign-in: a fresh owner key, unless the session is already signed in as `user_id` (a
/// factor change re-establishes it; its results stay reachable).
pub async fn start(session: &Session, user_id: i32) -> Result<()> {
    let same_user = session
        .get::<i32>(crate::auth::session_store::USER_ID_KEY)
        .await
        .map_err(session_error)?
        == Some(user_id);
    let has_key = session
        .get::<String>(OWNER_KEY)
        .await
        .map_err(session_error)?
        .is_some();
    if !(same_user && has_key) {
        session
            .insert(OWNER_KEY, random_key())
            .await
            .map_err(session_error)?;
    }
    Ok(())
}

/// Keeps `payload` for one display; returns its new random id.
pub async fn put(
    db: &impl ConnectionTrait,
    cipher: &SecretCipher,
    owner: &Owner,
    payload: &[u8],
) -> Result<String> {
    let id = random_key();
    store(db, cipher, owner, &id, payload).await?;
    Ok(id)
}

/// The stored id of a named slot; `:` never occurs in a result's random id, so a result's
/// URL cannot reach a slot.
fn slot_id(slot: &str) -> String {
    format!("slot:{slot}")
}

/// Keeps `payload` under a name of the caller's (a form's slot), replacing what was there.
pub async fn put_at(
    db: &impl ConnectionTrait,
    cipher: &SecretCipher,
    owner: &Owner,
    slot: &str,
    payload: &[u8],
) -> Result<()> {
    store(db, cipher, owner, &slot_id(slot), payload).await
}

/// Takes what [`put_at`] kept under `slot`, once.
pub async fn take_at(
    db: &impl ConnectionTrait,
    cipher: &SecretCipher,
    owner: &Owner,
    slot: &str,
) -> Result<Option<Zeroizing<Vec<u8>>>> {
    take_row(db, cipher, owner, &slot_id(slot)).await
}

async fn store(
    db: &impl ConnectionTrait,
    cipher: &SecretCipher,
    owner: &Owner,
    id: &str,
    payload: &[u8],
) -> Result<()> {
    let sealed = cipher.seal_for(&owner.context(id), payload)?;
    let now = clock::now();
    results::Entity::insert(results::ActiveModel {
        owner: Set(owner.key.clone()),
        id: Set(id.to_string()),
        user_id: Set(owner.user_id),
        sealed: Set(sealed),
        created: Set(now),
        expires: Set(now + LIFETIME),
    })
    .on_conflict(
        OnConflict::columns([results::Column::Owner, results::Column::Id])
            .update_columns([
                results::Column::UserId,
                results::Column::Sealed,
                results::Column::Created,
                results::Column::Expires,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    // The oldest beyond the limit go; this one stays. (A session holds a handful at most.)
    let others: Vec<String> = results::Entity::find()
        .select_only()
        .column(results::Column::Id)
        .filter(results::Column::Owner.eq(owner.key.as_str()))
        .filter(results::Column::Id.ne(id))
        .order_by_desc(results::Column::Created)
        .into_tuple()
        .all(db)
        .await?;
    let beyond: Vec<String> = others.into_iter().skip(MAX_ENTRIES - 1).collect();
    if !beyond.is_empty() {
        results::Entity::delete_many()
            .filter(results::Column::Owner.eq(owner.key.as_str()))
            .filter(results::Column::Id.is_in(beyond))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Takes result `id` out: its payload on the first call for this owner, `None` after that (or
/// for an unknown, expired, or another session's or user's id, or a slot's).
pub async fn take(
    db: &impl ConnectionTrait,
    cipher: &SecretCipher,
    owner: &Owner,
    id: &str,
) -> Result<Option<Zeroizing<Vec<u8>>>> {
    if id.contains(':') {
        return Ok(None);
    }
    take_row(db, cipher, owner, id).await
}

async fn take_row(
    db: &impl ConnectionTrait,
    cipher: &SecretCipher,
    owner: &Owner,
    id: &str,
) -> Result<Option<Zeroizing<Vec<u8>>>> {
    let Some(row) = results::Entity::find()
        .filter(owner.row(id))
        .filter(results::Column::Expires.gt(clock::now()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    // Two requests at once: only the one that deletes the row shows it.
    let deleted = results::Entity::delete_many()
        .filter(owner.row(id))
        .exec(db)
        .await?;
    if deleted.rows_affected != 1 {
        return Ok(None);
    }
    Ok(Some(cipher.open_for(&owner.context(id), &row.sealed)?))
}

/// Deletes every result of the session (it is signing out).
pub async fn forget(db: &impl ConnectionTrait, session: &Session) -> Result<()> {
    if let Some(key) = session
        .get::<String>(OWNER_KEY)
        .await
        .map_err(session_error)?
    {
        results::Entity::delete_many()
            .filter(results::Column::Owner.eq(key))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Deletes expired results (run periodically).
pub async fn prune(db: &impl ConnectionTrait) -> Result<()> {
    results::Entity::delete_many()
        .filter(results::Column::Expires.lte(clock::now()))
        .exec(db)
        .await?;
    Ok(())
}
