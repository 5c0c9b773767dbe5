//! Passkeys (SPEC §13, WebAuthn through `webauthn-rs`): registering one for oneself, as a
//! discoverable credential carrying the user's random handle (`registration`, `handle`),
//! signing in with one — with nothing typed, for a typed name (answered with decoys where the
//! name has none, `decoy`), or as the second factor after a password (`sign_in`) — and
//! removing one (`removal`). A passkey is a second factor for the policy of §9. Ceremonies
//! (the challenge between the options and the browser's answer) live in the database
//! (`ceremony`), so any instance finishes what another started, and a ceremony is used at
//! most once.
//!
//! The relying party is the public base URL (`PASSGATE_PUBLIC_URL`, or `http://localhost:PORT`
//! on a loopback bind): its host is the RP id, its origin the only origin accepted. Without
//! one passkeys are off (`PasskeysDisabled`) and the start-up log says so; password and TOTP
//! sign-in are unaffected.

mod ceremony;
mod decoy;
mod handle;
mod registration;
mod removal;
mod sign_in;

pub use ceremony::prune as prune_ceremonies;
pub use handle::new_handle;
pub use registration::{Registered, RegistrationAnswer, finish_registration, start_registration};
pub use removal::{Removed, remove_passkey};
pub use sign_in::{SignInFor, finish_sign_in, owner_of, start_sign_in};

use std::sync::Arc;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

use crate::accounts::error::{Error, Result};
use crate::accounts::permissions::{self, Caller};
use crate::entities::{passkeys, users as user_entity};

/// How long a ceremony waits for the browser's answer.
pub const CEREMONY_MINUTES: i64 = 5;
/// Longest passkey name (characters).
pub const NAME_MAX: usize = 64;
/// The name of a passkey registered without one.
pub const DEFAULT_NAME: &str = "Passkey";

/// The relying party, when passkeys are on.
#[derive(Clone)]
pub struct Passkeys {
    webauthn: Option<Arc<Webauthn>>,
    /// Keys the decoy credential ids offered for a username without passkeys.
    decoy_key: Arc<[u8; 32]>,
}

impl std::fmt::Debug for Passkeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passkeys")
            .field("enabled", &self.webauthn.is_some())
            .finish_non_exhaustive()
    }
}

impl Passkeys {
    /// The relying party of `public_url` (`PASSGATE_PUBLIC_URL`, already checked to be an
    /// http(s) base URL); `Err` with the reason when passkeys cannot be offered.
    pub fn new(public_url: Option<&str>, decoy_key: [u8; 32]) -> (Self, Option<String>) {
        let (webauthn, why_off) = match public_url.map(relying_party) {
            Some(Ok(webauthn)) => (Some(Arc::new(webauthn)), None),
            Some(Err(reason)) => (None, Some(reason)),
            None => (
                None,
                Some(
                    "PASSGATE_PUBLIC_URL is not set and the bind address is not loopback: \
                     passkeys are off"
                        .to_string(),
                ),
            ),
        };
        (
            Passkeys {
                webauthn,
                decoy_key: Arc::new(decoy_key),
            },
            why_off,
        )
    }

    pub fn enabled(&self) -> bool {
        self.webauthn.is_some()
    }

    fn webauthn(&self) -> Result<&Webauthn> {
        self.webauthn.as_deref().ok_or(Error::PasskeysDisabled)
    }
}

fn relying_party(public_url: &str) -> std::result::Result<Webauthn, String> {
    let url = Url::parse(public_url).map_err(|e| format!("PASSGATE_PUBLIC_URL: {e}"))?;
    let host = url
        .host_str()
        .ok_or_else(|| "PASSGATE_PUBLIC_URL has no host: passkeys are off".to_string())?;
    let origin = Url::parse(&url.origin().ascii_serialization())
        .map_err(|e| format!("PASSGATE_PUBLIC_URL: {e}"))?;
    WebauthnBuilder::new(host, &origin)
        .and_then(|builder| builder.rp_name("passgate").build())
        .map_err(|e| {
            format!(
                "PASSGATE_PUBLIC_URL: '{host}' cannot be a passkey relying party ({e}); \
                 passkeys need a host name (not an IP address): passkeys are off"
            )
        })
}

/// A credential id as stored and looked up: base64url without padding.
fn credential_key(id: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

/// A passkey name as given: trimmed, 1 to 64 characters, no control characters.
pub fn passkey_name(input: Option<&str>) -> Result<String> {
    let name = input.map(str::trim).unwrap_or("");
    if name.is_empty() {
        return Ok(DEFAULT_NAME.to_string());
    }
    if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            format!("name: 1 to {NAME_MAX} characters"),
        ));
    }
    Ok(name.to_string())
}

/// How many passkeys the user has.
pub async fn count(conn: &impl ConnectionTrait, user_id: i32) -> Result<u64> {
    Ok(passkeys::Entity::find()
        .filter(passkeys::Column::UserId.eq(user_id))
        .count(conn)
        .await?)
}

async fn rows_of(conn: &impl ConnectionTrait, user_id: i32) -> Result<Vec<passkeys::Model>> {
    Ok(passkeys::Entity::find()
        .filter(passkeys::Column::UserId.eq(user_id))
        .order_by_asc(passkeys::Column::Id)
        .all(conn)
        .await?)
}

/// The user's passkey `id` (`NotFound` when it is not theirs).
async fn own_row(conn: &impl ConnectionTrait, user_id: i32, id: i32) -> Result<passkeys::Model> {
    passkeys::Entity::find_by_id(id)
        .filter(passkeys::Column::UserId.eq(user_id))
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// The user's passkeys (names and dates), oldest first: whoever may view the user.
pub async fn list(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    target: &user_entity::Model,
) -> Result<Vec<passkeys::Model>> {
    permissions::can_list_factors(caller, &crate::accounts::permissions::target_of(target))?;
    rows_of(conn, target.user_id).await
}

/// Deletes every passkey and ceremony of a user inside the caller's transaction (an
/// administrator's factor reset); returns how many passkeys there were.
pub async fn remove_all(txn: &impl ConnectionTrait, user_id: i32) -> Result<u64> {
    ceremony::forget_user(txn, user_id).await?;
    let removed = passkeys::Entity::delete_many()
        .filter(passkeys::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    if removed.rows_affected > 0 {
        password_auth_back_on(txn, user_id).await?;
    }
    Ok(removed.rows_affected)
}

/// Password sign-in is refused only while a passkey exists: with the last one gone, the flag
/// is cleared so that it cannot surprise anyone later. Returns whether it was set.
async fn password_auth_back_on(txn: &impl ConnectionTrait, user_id: i32) -> Result<bool> {
    use sea_orm::sea_query::Expr;
    let updated = user_entity::Entity::update_many()
        .col_expr(user_entity::Column::DisablePasswordAuth, Expr::value(false))
        .filter(user_entity::Column::UserId.eq(user_id))
        .filter(user_entity::Column::DisablePasswordAuth.eq(true))
        .exec(txn)
        .await?;
    Ok(updated.rows_affected > 0)
}

/// Whether a correct password may sign `user` in: not when they turned password sign-in off
/// and have a passkey (`PasswordAuthDisabled`).
pub async fn password_allowed(
    conn: &impl ConnectionTrait,
    user: &user_entity::Model,
) -> Result<()> {
    if user.disable_password_auth && count(conn, user.user_id).await? > 0 {
        return Err(Error::PasswordAuthDisabled);
    }
    Ok(())
}

/// Checks a change of `disable_password_auth` to `true`: refused while the user has no
/// passkey (they could not sign in at all).
pub async fn may_disable_password(conn: &impl ConnectionTrait, user_id: i32) -> Result<()> {
    if count(conn, user_id).await? == 0 {
        return Err(Error::invalid(
            "disable_password_auth",
            "disable_password_auth: register a passkey first",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_the_public_urls_host() {
        let (on, why) = Passkeys::new(Some("https://passgate.example.org/panel"), [7; 32]);
        assert!(on.enabled() && why.is_none());
        let (off, why) = Passkeys::new(None, [7; 32]);
        assert!(!off.enabled());
        assert!(why.unwrap().contains("PASSGATE_PUBLIC_URL"));
        // The loopback default: a host name, over http (browsers treat localhost as secure).
        let (local, why) = Passkeys::new(Some("http://localhost:8000"), [7; 32]);
        assert!(local.enabled() && why.is_none());
        let (ip, why) = Passkeys::new(Some("http://127.0.0.1:8000"), [7; 32]);
        // WebAuthn has no IP-address relying parties; the reason names it.
        if !ip.enabled() {
            assert!(why.unwrap().contains("127.0.0.1"));
        }
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(passkey_name(None).unwrap(), DEFAULT_NAME);
        assert_eq!(passkey_name(Some(" laptop ")).unwrap(), "laptop");
        assert!(passkey_name(Some(&"x".repeat(65))).is_err());
        assert!(passkey_name(Some("a\nb")).is_err());
    }
}
