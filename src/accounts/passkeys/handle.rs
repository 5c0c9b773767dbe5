//! The WebAuthn user handle (SPEC §13): what a discoverable credential hands back so that a
//! sign-in with nothing typed finds its user. 16 random bytes per user, stored as 32 hex
//! digits in `users.passkey_handle`, stable for the life of the account (a rename keeps it)
//! and never derived from the name or the id.

use rand::RngExt;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use webauthn_rs::prelude::Uuid;

use crate::accounts::error::Result;
use crate::accounts::users;
use crate::entities::users as user_entity;

/// A fresh handle, as stored.
pub fn new_handle() -> String {
    Uuid::from_bytes(rand::rng().random::<[u8; 16]>())
        .simple()
        .to_string()
}

/// The user's handle; a user without one (a row written outside passgate) gets one first.
pub(super) async fn handle_of(
    conn: &impl ConnectionTrait,
    user: &user_entity::Model,
) -> Result<Uuid> {
    if let Some(handle) = stored(user) {
        return Ok(handle);
    }
    // Only where there is none yet: two registrations at once end with the same handle.
    user_entity::Entity::update_many()
        .col_expr(
            user_entity::Column::PasskeyHandle,
            Expr::value(Some(new_handle())),
        )
        .filter(user_entity::Column::UserId.eq(user.user_id))
        .filter(user_entity::Column::PasskeyHandle.is_null())
        .exec(conn)
        .await?;
    let user = users::get(conn, user.user_id).await?;
    stored(&user).ok_or_else(|| {
        crate::accounts::Error::Internal(anyhow::anyhow!(
            "user {} has no passkey handle",
            user.user_id
        ))
    })
}

fn stored(user: &user_entity::Model) -> Option<Uuid> {
    user.passkey_handle
        .as_deref()
        .and_then(|text| Uuid::try_parse(text).ok())
}

/// The handle passkeys registered before 2026-12-06 carry: derived from the user id. Only
/// a passkey from then (`discoverable = false`) may answer with it.
fn legacy_handle(user_id: i32) -> Uuid {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("passgate user {user_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

/// Whether `returned` (the handle of a sign-in with nothing typed) names `owner`, the user
/// the answering credential belongs to (WebAuthn §7.2 step 6): their handle, or for a
/// passkey registered before the handles the one it was registered with.
pub(super) fn names_owner(
    returned: Uuid,
    owner: &user_entity::Model,
    legacy_passkey: bool,
) -> bool {
    stored(owner) == Some(returned) || (legacy_passkey && legacy_handle(owner.user_id) == returned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_random_and_stored_as_32_hex_digits() {
        let (a, b) = (new_handle(), new_handle());
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(Uuid::try_parse(&a).is_ok());
    }

    #[test]
    fn legacy_handles_are_stable_and_distinct() {
        assert_eq!(legacy_handle(1), legacy_handle(1));
        assert_ne!(legacy_handle(1), legacy_handle(2));
    }
}
