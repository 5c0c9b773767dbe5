//! The server's HMAC key: signs login tokens, CSRF cookies and sign-in hints, and keys the
//! hashes that stand in for typed text (throttle buckets). It lives in `settings`, so every
//! instance shares it. With `PASSGATE_SECRET_KEY_FILE` set it is stored sealed with that key
//! (`v1:…`, as TOTP secrets are), so a copy of the database alone cannot sign a token; a
//! database that holds it in clear is sealed in place at the next start (its tokens stay
//! valid).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use rand::RngExt;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use sha2::Sha256;

use crate::accounts::error::{Error, Result};
use crate::accounts::mfa::cipher::SecretCipher;
use crate::config::MfaConfig;
use crate::entities::settings;

const SIGNING_KEY_SETTING: &str = "token_signing_key";
/// What a sealed signing key is bound to (the AEAD's associated data).
const SEALED_AS: &[u8] = b"passgate-token-signing-key";

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
    /// loses a race with another instance keeps the winner's key). With a key file
    /// (`keys.secret_key`) the key is stored sealed: a clear one is sealed in place (a
    /// conditional update: instances racing to do it agree, since each seals the same key).
    /// A sealed key that does not open (the key file changed, or is no longer set) is
    /// replaced by a new one, said in one log line naming the key: login tokens and signed
    /// cookies issued before stop working, and nothing else is lost.
    pub async fn load_or_create(conn: &impl ConnectionTrait, keys: &MfaConfig) -> Result<Self> {
        let sealing = keys
            .secret_key
            .as_ref()
            .map(|key| SecretCipher::from_key(&key.0));
        let fresh = zeroize::Zeroizing::new(rand::rng().random::<[u8; 32]>().to_vec());
        settings::Entity::insert(settings::ActiveModel {
            key: Set(SIGNING_KEY_SETTING.to_string()),
            value: Set(stored_form(sealing.as_ref(), &fresh)?),
        })
        .on_conflict_do_nothing_on([settings::Column::Key])
        .exec(conn)
        .await?;
        let stored = settings::Entity::find_by_id(SIGNING_KEY_SETTING.to_string())
            .one(conn)
            .await?
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("signing key missing")))?
            .value;
        if !SecretCipher::is_sealed(&stored) {
            let key = URL_SAFE_NO_PAD
                .decode(stored.as_bytes())
                .map_err(|_| Error::Internal(anyhow::anyhow!("signing key is not base64")))?;
            if let Some(cipher) = &sealing {
                replace(conn, &stored, &stored_form(Some(cipher), &key)?).await?;
                tracing::info!(
                    "the token signing key is now stored sealed with PASSGATE_SECRET_KEY_FILE"
                );
            }
            return Ok(SigningKey(key));
        }
        if let Some(key) = sealing
            .as_ref()
            .and_then(|cipher| cipher.open_for(SEALED_AS, &stored).ok())
        {
            return Ok(SigningKey(key.to_vec()));
        }
        tracing::error!(
            "the token signing key does not open with {}: a new one replaces it (login tokens \
             issued before no longer work); was PASSGATE_SECRET_KEY_FILE changed?",
            match &keys.secret_key_file {
                Some(path) => format!("the key in PASSGATE_SECRET_KEY_FILE ('{path}')"),
                None => "no key (PASSGATE_SECRET_KEY_FILE is not set)".into(),
            }
        );
        if replace(conn, &stored, &stored_form(sealing.as_ref(), &fresh)?).await? {
            Ok(SigningKey(fresh.to_vec()))
        } else {
            // Another instance replaced it first: take theirs.
            Box::pin(Self::load_or_create(conn, keys)).await
        }
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

    /// Whether the stored key is sealed (tests and `passgate` diagnostics).
    pub async fn is_sealed(conn: &impl ConnectionTrait) -> Result<bool> {
        Ok(
            settings::Entity::find_by_id(SIGNING_KEY_SETTING.to_string())
                .one(conn)
                .await?
                .is_some_and(|stored| SecretCipher::is_sealed(&stored.value)),
        )
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

/// The key as `settings` keeps it: sealed with the key file, or base64url in clear.
fn stored_form(sealing: Option<&SecretCipher>, key: &[u8]) -> Result<String> {
    match sealing {
        Some(cipher) => cipher.seal_for(SEALED_AS, key),
        None => Ok(URL_SAFE_NO_PAD.encode(key)),
    }
}

/// Replaces the stored key, if it is still `old`; whether it did.
async fn replace(conn: &impl ConnectionTrait, old: &str, new: &str) -> Result<bool> {
    use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};
    let replaced = settings::Entity::update_many()
        .col_expr(settings::Column::Value, Expr::value(new))
        .filter(settings::Column::Key.eq(SIGNING_KEY_SETTING))
        .filter(settings::Column::Value.eq(old))
        .exec(conn)
        .await?;
    Ok(replaced.rows_affected == 1)
}
