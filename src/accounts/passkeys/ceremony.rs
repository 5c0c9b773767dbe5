//! Ceremonies in progress, in the database: stored when the options are sent, taken (read and
//! deleted, at most once, by any instance) when the browser answers, gone after five minutes.

use base64::Engine;
use rand::RngExt;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::CEREMONY_MINUTES;
use crate::accounts::clock;
use crate::accounts::error::{Error, Result};
use crate::entities::webauthn_ceremonies;

/// What a ceremony is for; a ceremony of one kind never finishes another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Purpose {
    Register,
    /// Passwordless sign-in for the username typed.
    Login,
    /// Passwordless sign-in with nothing typed: any discoverable passkey of this site.
    Discoverable,
    /// The second step after a correct password.
    SecondFactor,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::Login => "login",
            Purpose::Discoverable => "discoverable",
            Purpose::SecondFactor => "second_factor",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            Purpose::Register,
            Purpose::Login,
            Purpose::Discoverable,
            Purpose::SecondFactor,
        ]
        .into_iter()
        .find(|purpose| purpose.as_str() == text)
    }
}

/// The marker stored for a sign-in offered to a username without passkeys: the answer can
/// never match, and the options looked like anyone's.
pub(super) const DECOY: &str = "decoy";

/// Stores a ceremony's state; returns its id (16 random bytes, base64url).
pub(super) async fn store(
    conn: &impl ConnectionTrait,
    purpose: Purpose,
    user_id: Option<i32>,
    state: &impl Serialize,
) -> Result<String> {
    let state = serde_json::to_string(state).map_err(|e| Error::Internal(e.into()))?;
    store_raw(conn, purpose, user_id, state).await
}

pub(super) async fn store_raw(
    conn: &impl ConnectionTrait,
    purpose: Purpose,
    user_id: Option<i32>,
    state: String,
) -> Result<String> {
    let id =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::rng().random::<[u8; 16]>());
    webauthn_ceremonies::Entity::insert(webauthn_ceremonies::ActiveModel {
        id: Set(id.clone()),
        user_id: Set(user_id),
        purpose: Set(purpose.as_str().to_string()),
        state: Set(state),
        expires: Set(clock::now() + time::Duration::minutes(CEREMONY_MINUTES)),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(id)
}

/// A taken ceremony.
pub(super) struct Taken {
    pub purpose: Purpose,
    pub user_id: Option<i32>,
    pub state: String,
}

impl Taken {
    pub fn state<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_str(&self.state).map_err(|e| Error::Internal(e.into()))
    }
}

/// Takes the ceremony `id` of one of `purposes` (for `user_id` where given): it is deleted
/// whether the answer turns out right or not, so an answer is tried once. `None` for an
/// unknown, expired, already taken, other-purpose or other user's ceremony (that one stays for
/// its owner).
pub(super) async fn take(
    conn: &impl ConnectionTrait,
    id: &str,
    purposes: &[Purpose],
    user_id: Option<i32>,
) -> Result<Option<Taken>> {
    let mut find = webauthn_ceremonies::Entity::find_by_id(id.to_string())
        .filter(webauthn_ceremonies::Column::Purpose.is_in(purposes.iter().map(|p| p.as_str())))
        .filter(webauthn_ceremonies::Column::Expires.gt(clock::now()));
    if let Some(user_id) = user_id {
        find = find.filter(webauthn_ceremonies::Column::UserId.eq(user_id));
    }
    let Some(row) = find.one(conn).await? else {
        return Ok(None);
    };
    // Two answers at once: only the one that deletes the row goes on.
    let deleted = webauthn_ceremonies::Entity::delete_many()
        .filter(webauthn_ceremonies::Column::Id.eq(row.id.as_str()))
        .exec(conn)
        .await?;
    if deleted.rows_affected != 1 {
        return Ok(None);
    }
    let purpose = Purpose::parse(&row.purpose)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("ceremony purpose {}", row.purpose)))?;
    Ok(Some(Taken {
        purpose,
        user_id: row.user_id,
        state: row.state,
    }))
}

/// Deletes a user's ceremonies (their factors were reset).
pub(super) async fn forget_user(conn: &impl ConnectionTrait, user_id: i32) -> Result<()> {
    webauthn_ceremonies::Entity::delete_many()
        .filter(webauthn_ceremonies::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Deletes expired ceremonies (run periodically).
pub async fn prune(conn: &impl ConnectionTrait) -> Result<()> {
    webauthn_ceremonies::Entity::delete_many()
        .filter(webauthn_ceremonies::Column::Expires.lte(clock::now()))
        .exec(conn)
        .await?;
    Ok(())
}
