//! Checking a username and password, in the order that reveals nothing to a guesser.

use crate::accounts::error::{Error, Result};
use crate::accounts::password::Hasher;
use crate::accounts::secret::Secret;
use crate::accounts::users;
use crate::entities::users as user_entity;

/// Verifies the credentials against `user`, the account the username names (`None`: no such
/// account). A wrong password or unknown username costs the same argon2 verification and
/// gives the same error; only after a correct password are an expired temporary password and
/// a disabled account told apart.
pub async fn authenticate(
    hasher: &Hasher,
    user: Option<user_entity::Model>,
    password: &Secret,
) -> Result<user_entity::Model> {
    let verified = hasher
        .verify(password, user.as_ref().map(|u| u.password.as_str()))
        .await;
    match user {
        Some(user) if verified => may_sign_in(user),
        _ => Err(Error::IncorrectCredentials),
    }
}

/// What refuses a user who proved who they are, whatever the proof (a password, a
/// passkey): an expired temporary password (the account waits for an administrator) and a
/// disabled account, told only now, so that they tell nothing to someone without the proof.
pub fn may_sign_in(user: user_entity::Model) -> Result<user_entity::Model> {
    if users::temp_password_expired(&user) {
        return Err(Error::TempPasswordExpired);
    }
    if !user.enabled {
        return Err(Error::AccountDisabled);
    }
    Ok(user)
}
