//! Encryption of secrets at rest — TOTP secrets, the OpenID Connect signing keys, and the
//! one-time results shown once (`auth::one_time`) — with XChaCha20-Poly1305 under a key from
//! `PASSGATE_SECRET_KEY_FILE` (outside the database) or, without one, a key generated once and
//! kept in `settings`. What a value belongs to is the associated data (for a TOTP secret its
//! user id, for a signing key its key id), so a value copied onto another row or used for
//! another purpose does not decrypt.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngExt;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use zeroize::Zeroizing;

use crate::accounts::error::{Error, Result};
use crate::config::SecretKeyBytes;
use crate::entities::settings;

const KEY_SETTING: &str = "mfa_secret_key";
/// Stored form: `v1:` then base64 of nonce (24 bytes) ‖ ciphertext ‖ tag.
const VERSION: &str = "v1:";
const NONCE_BYTES: usize = 24;

/// The key that seals and opens TOTP secrets.
#[derive(Clone)]
pub struct SecretCipher(XChaCha20Poly1305);

impl std::fmt::Debug for SecretCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretCipher(***)")
    }
}

impl SecretCipher {
    /// The configured key, or the one in `settings` (created on the very first start; an
    /// insert that loses a race with another instance keeps the winner's key). A configured
    /// key on a database that still keeps one in `settings` takes over its secrets
    /// ([`super::key_file::adopt`]).
    pub async fn load(
        conn: &impl ConnectionTrait,
        configured: Option<&SecretKeyBytes>,
    ) -> Result<Self> {
        if let Some(key) = configured {
            let file = Self::from_key(&key.0);
            if let Some(old) = Self::stored(conn).await? {
                super::key_file::adopt(conn, &old, &file, KEY_SETTING).await?;
            }
            return Ok(file);
        }
        let fresh = Zeroizing::new(rand::rng().random::<[u8; 32]>());
        settings::Entity::insert(settings::ActiveModel {
            key: Set(KEY_SETTING.to_string()),
            value: Set(STANDARD.encode(*fresh)),
        })
        .on_conflict_do_nothing_on([settings::Column::Key])
        .exec(conn)
        .await?;
        Self::stored(conn)
            .await?
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("mfa secret key missing")))
    }

    /// The key kept in `settings`, if there is one.
    async fn stored(conn: &impl ConnectionTrait) -> Result<Option<Self>> {
        let Some(stored) = settings::Entity::find_by_id(KEY_SETTING.to_string())
            .one(conn)
            .await?
        else {
            return Ok(None);
        };
        let bytes = Zeroizing::new(
            STANDARD
                .decode(stored.value.as_bytes())
                .map_err(|_| Error::Internal(anyhow::anyhow!("mfa secret key is not base64")))?,
        );
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| Error::Internal(anyhow::anyhow!("mfa secret key is not 32 bytes")))?;
        Ok(Some(Self::from_key(&key)))
    }

    pub fn from_key(key: &[u8; 32]) -> Self {
        SecretCipher(XChaCha20Poly1305::new(&(*key).into()))
    }

    fn aad(user_id: i32) -> Vec<u8> {
        format!("passgate-totp-secret:{user_id}").into_bytes()
    }

    /// Encrypts a TOTP secret for `user_id` under a fresh random nonce.
    pub fn seal(&self, user_id: i32, secret: &[u8]) -> Result<String> {
        self.seal_for(&Self::aad(user_id), secret)
    }

    /// Decrypts what [`seal`](Self::seal) made for the same user. A wrong key (e.g. the key
    /// file changed) or a row moved to another user is an error, never a match.
    pub fn open(&self, user_id: i32, stored: &str) -> Result<Zeroizing<Vec<u8>>> {
        self.open_for(&Self::aad(user_id), stored)
    }

    /// Whether `stored` has the sealed form (`v1:…`), whatever key sealed it.
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with(VERSION)
    }

    /// Encrypts `secret` bound to `aad` (what it is, and whose: a sealed value copied to
    /// another place does not open there) under a fresh random nonce.
    pub fn seal_for(&self, aad: &[u8], secret: &[u8]) -> Result<String> {
        let nonce_bytes: [u8; NONCE_BYTES] = rand::rng().random();
        let nonce = XNonce::from(nonce_bytes);
        let sealed = self
            .0
            .encrypt(&nonce, Payload { msg: secret, aad })
            .map_err(|_| Error::Internal(anyhow::anyhow!("encrypting a secret failed")))?;
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{VERSION}{}", STANDARD.encode(out)))
    }

    /// Decrypts what [`seal_for`](Self::seal_for) made with the same `aad`; a wrong key or
    /// `aad` is [`Error::Undecryptable`].
    pub fn open_for(&self, aad: &[u8], stored: &str) -> Result<Zeroizing<Vec<u8>>> {
        let undecryptable = || Error::Undecryptable;
        let bytes = stored
            .strip_prefix(VERSION)
            .and_then(|b64| STANDARD.decode(b64).ok())
            .filter(|b| b.len() > NONCE_BYTES)
            .ok_or_else(undecryptable)?;
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| undecryptable())?;
        self.0
            .decrypt(&XNonce::from(nonce), Payload { msg: sealed, aad })
            .map(Zeroizing::new)
            .map_err(|_| undecryptable())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_for_their_user_and_key_only() {
        let cipher = SecretCipher::from_key(&[1; 32]);
        let sealed = cipher.seal(7, b"twenty bytes secret!").unwrap();
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("twenty"));
        assert_eq!(
            cipher.open(7, &sealed).unwrap().as_slice(),
            b"twenty bytes secret!"
        );
        assert!(cipher.open(8, &sealed).is_err(), "another user's row");
        assert!(SecretCipher::from_key(&[2; 32]).open(7, &sealed).is_err());
        assert!(cipher.open(7, "v1:AAAA").is_err());
        assert!(cipher.open(7, "garbage").is_err());
        // A fresh nonce each time.
        assert_ne!(sealed, cipher.seal(7, b"twenty bytes secret!").unwrap());
        // Another kind of value under the same key does not open as a TOTP secret, nor the
        // other way round.
        let other = cipher.seal_for(b"passgate-one-time:7", b"payload").unwrap();
        assert!(cipher.open(7, &other).is_err());
        assert!(cipher.open_for(b"passgate-one-time:7", &sealed).is_err());
        assert_eq!(
            cipher
                .open_for(b"passgate-one-time:7", &other)
                .unwrap()
                .as_slice(),
            b"payload"
        );
    }
}
