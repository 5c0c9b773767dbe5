//! Checking a username and password, in the order that reveals nothing to a guesser.

use crate::accounts::password::Hasher;
use crate::accounts::secret::Secret;
use crate::accounts::users;
use crate::entities::users as user_entity;
use crate::error::{Error, Result};
use sea_orm::ConnectionTrait;

/// Verifies the credentials. A wrong password or unknown username costs the same argon2
/// verification and gives the same error; only after a correct password are an expired
/// temporary password and a disabled account told apart.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    hasher: &Hasher,
    username: &str,
    password: &Secret,
) -> Result<user_entity::Model> {
    let user = users::find_by_username(db, username).await?;
    let verified = hasher
        .verify(password, user.as_ref().map(|u| u.password.as_str()))
        .await;
    let user = match user {
        Some(user) if verified => user,
        _ => return Err(Error::IncorrectCredentials),
    };
    if users::temp_password_expired(&user) {
        return Err(Error::TempPasswordExpired);
    }
    if !user.enabled {
        return Err(Error::AccountDisabled);
    }
    Ok(user)
}
