//! The server's HMAC key: signs login tokens, CSRF cookies and sign-in hints, and keys the
//! hashes that stand in for typed text (throttle buckets). It lives in `settings`, so every
//! instance shares it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use rand::RngExt;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use sha2::Sha256;

use crate::accounts::error::{Error, Result};
use crate::entities::settings;

const SIGNING_KEY_SETTING: &str = "token_signing_key";

/// The HMAC key, shared through the database.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(***)")
    }
}

impl SigningKey {
    /// Reads the key from `settings`, creating it on the very first start (an insert that
    /// loses a race with another instance keeps the winner's key).
    pub async fn load_or_create(conn: &impl ConnectionTrait) -> Result<Self> {
        let bytes: [u8; 32] = rand::rng().random();
        settings::Entity::insert(settings::ActiveModel {
            key: Set(SIGNING_KEY_SETTING.to_string()),
            value: Set(URL_SAFE_NO_PAD.encode(bytes)),
        })
        .on_conflict_do_nothing_on([settings::Column::Key])
        .exec(conn)
        .await?;
        let stored = settings::Entity::find_by_id(SIGNING_KEY_SETTING.to_string())
            .one(conn)
            .await?
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("signing key missing")))?;
        let key = URL_SAFE_NO_PAD
            .decode(stored.value.as_bytes())
            .map_err(|_| Error::Internal(anyhow::anyhow!("signing key is not base64")))?;
        Ok(SigningKey(key))
    }

    /// An HMAC-SHA256 of `data` for one `purpose` (so a value signed for one use is never
    /// accepted for another), base64url.
    pub fn sign_for(&self, purpose: &str, data: &str) -> String {
        let mut mac = self.mac();
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// A key from raw bytes (tests and tools).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        SigningKey(bytes)
    }

    /// A fresh HMAC-SHA256 with this key (the JWT signature of `auth::tokens`).
    pub fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC takes keys of any length")
    }

    /// A keyed hash of `data` for another purpose than tokens (`purpose` separates the
    /// uses), hex: e.g. the throttle's username buckets, so no typed text is stored.
    pub fn keyed_hash(&self, purpose: &str, data: &[u8]) -> String {
        let mut mac = self.mac();
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(data);
        hex::encode(mac.finalize().into_bytes())
    }
}
