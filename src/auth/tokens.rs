//! Login tokens: HS256 JWTs carrying `user_id`, `iat`, `exp` and a fingerprint of the user's
//! security stamp. The signing key lives in `settings`, so every instance signs and accepts
//! the same tokens; rotating a user's stamp voids all their tokens at once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::entities::users;

/// How long a login token lives (the stamp can end it sooner).
pub const TOKEN_LIFETIME: time::Duration = time::Duration::hours(24);
/// `{"alg":"HS256","typ":"JWT"}`
const HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

pub use crate::accounts::signing_key::SigningKey;

#[derive(Serialize, Deserialize)]
pub struct Claims {
    pub user_id: i32,
    pub iat: i64,
    pub exp: i64,
    /// A fingerprint of the user's security stamp when the token was issued.
    pub stamp: String,
    /// Issued by a sign-in with a temporary password: only such a token may set a new
    /// password without `current_password` during the forced change.
    #[serde(default)]
    pub tmp: bool,
    /// The sign-in that issued the token passed a second factor (Crafty's `mfa` claim).
    #[serde(default)]
    pub mfa: bool,
}

/// A short, one-way fingerprint of a stamp (the stamp itself never leaves the server).
pub fn stamp_fingerprint(stamp: &str) -> String {
    hex::encode(&Sha256::digest(stamp.as_bytes())[..16])
}

/// Issues a token for the user's current stamp. Tokens are issued at sign-in and after one's
/// own password change (which clears the flag), so a token of a flagged user always comes
/// from a sign-in with the temporary password (`tmp`).
pub fn issue(key: &SigningKey, user: &users::Model) -> String {
    issue_with_mfa(key, user, false)
}

/// [`issue`], stating whether a second factor was passed (the `mfa` claim).
pub fn issue_with_mfa(key: &SigningKey, user: &users::Model, mfa: bool) -> String {
    sign(key, user, mfa, user.require_password_change)
}

/// The token of a sign-in: `mfa` when it passed a second factor (a passkey is one), `tmp`
/// only when it proved the temporary password (a passkey sign-in does not).
pub fn issue_for_sign_in(key: &SigningKey, signed_in: &crate::auth::login::SignIn) -> String {
    sign(
        key,
        &signed_in.user,
        signed_in.factor != crate::accounts::mfa::FactorUsed::None,
        signed_in.proved_temporary(),
    )
}

fn sign(key: &SigningKey, user: &users::Model, mfa: bool, tmp: bool) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = Claims {
        user_id: user.user_id,
        iat: now,
        exp: now + TOKEN_LIFETIME.whole_seconds(),
        stamp: stamp_fingerprint(&user.security_stamp),
        tmp,
        mfa,
    };
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
    let signing_input = format!("{HEADER}.{payload}");
    let mut mac = key.mac();
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// The claims of a genuine, unexpired token; `None` for anything else. The caller still
/// compares the stamp fingerprint with the user's current stamp.
pub fn verify(key: &SigningKey, token: &str) -> Option<Claims> {
    let mut parts = token.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || header != HEADER {
        return None;
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    let mut mac = key.mac();
    mac.update(header.as_bytes());
    mac.update(b".");
    mac.update(payload.as_bytes());
    mac.verify_slice(&signature).ok()?;
    let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    (claims.exp > now).then_some(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SigningKey {
        SigningKey::from_bytes(vec![byte; 32])
    }

    fn user() -> users::Model {
        let now = crate::accounts::clock::now();
        users::Model {
            user_id: 7,
            username: "alice".into(),
            password: String::new(),
            email: None,
            enabled: true,
            superuser: false,
            manager: None,
            lang: "en".into(),
            created: now,
            last_update: now,
            last_login: None,
            last_ip: String::new(),
            security_stamp: "stamp-1".into(),
            require_password_change: false,
            password_expires: None,
            require_mfa: false,
            disable_password_auth: false,
            passkey_handle: None,
            theme: "default".into(),
            hints: true,
            server_order: String::new(),
            dashboard_columns: String::new(),
        }
    }

    #[test]
    fn a_token_verifies_with_its_key_only() {
        let token = issue(&key(1), &user());
        let claims = verify(&key(1), &token).expect("genuine");
        assert_eq!(claims.user_id, 7);
        assert_eq!(claims.stamp, stamp_fingerprint("stamp-1"));
        assert!(verify(&key(2), &token).is_none());
    }

    #[test]
    fn tampered_or_malformed_tokens_are_refused() {
        let token = issue(&key(1), &user());
        let (head, sig) = token.rsplit_once('.').unwrap();
        let forged_claims =
            URL_SAFE_NO_PAD.encode(br#"{"user_id":1,"iat":0,"exp":99999999999,"stamp":"x"}"#);
        let forged = format!("{HEADER}.{forged_claims}.{sig}");
        assert!(verify(&key(1), &forged).is_none());
        assert!(verify(&key(1), &format!("{head}.")).is_none());
        assert!(verify(&key(1), "").is_none());
        assert!(verify(&key(1), "a.b.c.d").is_none());
        let none_alg = format!("eyJhbGciOiJub25lIn0.{forged_claims}.");
        assert!(verify(&key(1), &none_alg).is_none());
    }

    #[test]
    fn expired_tokens_are_refused() {
        let claims = Claims {
            user_id: 7,
            iat: 0,
            exp: 1,
            stamp: "x".into(),
            tmp: false,
            mfa: false,
        };
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
        let input = format!("{HEADER}.{payload}");
        let mut mac = key(1).mac();
        mac.update(input.as_bytes());
        let token = format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        );
        assert!(verify(&key(1), &token).is_none());
    }
}
