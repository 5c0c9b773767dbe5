//! First start: an empty database gets the superuser `admin` with a generated password.

use sea_orm::DatabaseConnection;

use crate::accounts::audit::Actor;
use crate::accounts::error::{Error, Result};
use crate::accounts::password::{Hasher, Policy};
use crate::accounts::permissions::Caller;
use crate::accounts::secret::Secret;
use crate::accounts::users::{self, NewUser};

pub const ADMIN_USERNAME: &str = "admin";

/// Creates `admin` (superuser, must change the password at first login) when there are no
/// users at all, and returns its generated password to print once. `None` when users exist
/// (or another instance created the admin at the same moment).
pub async fn ensure_admin(
    db: &DatabaseConnection,
    hasher: &Hasher,
    policy: &Policy,
) -> Result<Option<Secret>> {
    if users::count(db).await? > 0 {
        return Ok(None);
    }
    let new = NewUser {
        require_mfa: false,
        username: ADMIN_USERNAME.into(),
        password: None,
        email: None,
        superuser: true,
        manager: None,
        lang: "en".into(),
        require_password_change: true,
        expires_hours: -1,
        enabled: true,
        permissions: Vec::new(),
        preferences: Default::default(),
        setup_link: None,
        roles: Vec::new(),
    };
    match users::create(db, hasher, policy, &Actor::cli(), &Caller::operator(), new).await {
        Ok(created) => Ok(created.generated),
        Err(Error::UserExists) => Ok(None),
        Err(err) => Err(err),
    }
}
