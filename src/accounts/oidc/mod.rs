//! The OpenID Connect provider's domain (SPEC §16): signing keys (`keys`), clients — the OIDC
//! settings of applications (`clients`), the checked authorization request (`request`),
//! grants and their codes (`grants`), access and refresh tokens (`tokens`), the ID token and
//! the claims it shares with `userinfo` (`id_token`). The protocol's HTTP surface is the
//! top-level `oauth` module and the browser pages in `web::oidc`; here no HTTP.
//!
//! Errors are RFC 6749's ([`OAuthError`]), not `accounts::Error`: a client reads them.

pub mod authorize;
pub mod clients;
pub mod grants;
pub mod id_token;
pub mod keys;
pub mod logout;
pub mod request;
pub mod tokens;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngExt;
use sha2::{Digest, Sha256};

use crate::accounts::error::{Error, Result};
use crate::accounts::mfa::cipher::SecretCipher;
use id_token::Issuer;
use keys::KeyRing;

/// An authorization code lives this long (seconds).
pub const CODE_SECONDS: i64 = 60;
/// An access token lives this long (seconds).
pub const ACCESS_TOKEN_SECONDS: i64 = 600;
/// An ID token is valid this long (seconds; SPEC: 5 minutes to an hour).
pub const ID_TOKEN_SECONDS: i64 = 600;

/// The provider, when it is on: its issuer and its keys.
#[derive(Clone, Debug)]
pub struct Oidc {
    pub issuer: Issuer,
    pub keys: KeyRing,
}

impl Oidc {
    /// The provider of `public_url` (`PASSGATE_PUBLIC_URL` as configured; `None` turns it
    /// off), its keys made now if this is the first start with it on.
    pub async fn start(
        conn: &impl sea_orm::ConnectionTrait,
        public_url: Option<&str>,
        cipher: &SecretCipher,
    ) -> Result<Option<Self>> {
        let Some(public_url) = public_url else {
            return Ok(None);
        };
        let keys = KeyRing::new(cipher.clone());
        keys.ensure(conn).await?;
        Ok(Some(Oidc {
            issuer: Issuer::new(public_url),
            keys,
        }))
    }
}

/// The algorithms an ID token may be signed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256 over RSA-2048: the default, every client accepts it.
    Rs256,
    /// ECDSA over P-256 with SHA-256.
    Es256,
}

impl Alg {
    pub const ALL: [Alg; 2] = [Alg::Rs256, Alg::Es256];

    pub fn as_str(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
        }
    }

    /// `RS256` or `ES256`, exactly as JOSE spells them.
    pub fn parse(text: &str) -> Option<Self> {
        Alg::ALL.into_iter().find(|alg| alg.as_str() == text)
    }
}

/// The scopes passgate understands (SPEC §16); others are ignored, as OIDC asks.
pub const SCOPES: [&str; 5] = ["openid", "profile", "email", "groups", "offline_access"];

/// A set of understood scopes, kept in the order of [`SCOPES`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scopes(Vec<&'static str>);

impl Scopes {
    /// The understood scopes of a space-separated `scope` parameter (unknown ones dropped).
    pub fn parse(text: &str) -> Self {
        let asked: Vec<&str> = text.split(' ').filter(|s| !s.is_empty()).collect();
        Scopes(
            SCOPES
                .into_iter()
                .filter(|scope| asked.contains(scope))
                .collect(),
        )
    }

    pub fn has(&self, scope: &str) -> bool {
        self.0.contains(&scope)
    }

    /// Whether every scope of `self` is also in `other`.
    pub fn within(&self, other: &Scopes) -> bool {
        self.0.iter().all(|scope| other.has(scope))
    }

    /// Space-separated, as stored and as the token response names them.
    pub fn to_text(&self) -> String {
        self.0.join(" ")
    }
}

/// How the user proved who they are in the sign-in a grant was made in (the `amr` claim,
/// RFC 8176): `pwd` a password, `otp` a TOTP or recovery code, `hwk` a passkey, `mfa` when
/// two of them were used.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Amr(Vec<&'static str>);

impl Amr {
    pub const PASSWORD: &'static str = "pwd";
    pub const OTP: &'static str = "otp";
    pub const PASSKEY: &'static str = "hwk";
    pub const MULTIPLE: &'static str = "mfa";
    const ALL: [&'static str; 4] = [Self::PASSWORD, Self::OTP, Self::PASSKEY, Self::MULTIPLE];

    /// From the methods used, in any order; `mfa` is added when two or more were.
    pub fn of(methods: &[&str]) -> Self {
        let used: Vec<&'static str> = Self::ALL[..3]
            .iter()
            .copied()
            .filter(|m| methods.contains(m))
            .collect();
        let mut amr = used.clone();
        if used.len() >= 2 {
            amr.push(Self::MULTIPLE);
        }
        Amr(amr)
    }

    /// As stored (space-separated); unknown words are dropped.
    pub fn parse(text: &str) -> Self {
        let words: Vec<&str> = text.split(' ').collect();
        Amr(Self::ALL
            .into_iter()
            .filter(|m| words.contains(m))
            .collect())
    }

    pub fn to_text(&self) -> String {
        self.0.join(" ")
    }

    pub fn values(&self) -> &[&'static str] {
        &self.0
    }

    /// Whether a second factor was passed (what an application's `two_factor` asks).
    pub fn has_second_factor(&self) -> bool {
        self.0.contains(&Self::MULTIPLE)
    }
}

/// An error of the OAuth 2.0 protocol (RFC 6749 §4.1.2.1 and §5.2, RFC 6750 §3.1): its code
/// and a description for the developer (never a secret, never an echo of one).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    pub code: &'static str,
    pub description: String,
}

/// The error codes used.
pub mod code {
    pub const INVALID_REQUEST: &str = "invalid_request";
    pub const INVALID_CLIENT: &str = "invalid_client";
    pub const INVALID_GRANT: &str = "invalid_grant";
    pub const UNAUTHORIZED_CLIENT: &str = "unauthorized_client";
    pub const UNSUPPORTED_GRANT_TYPE: &str = "unsupported_grant_type";
    pub const UNSUPPORTED_RESPONSE_TYPE: &str = "unsupported_response_type";
    pub const INVALID_SCOPE: &str = "invalid_scope";
    pub const ACCESS_DENIED: &str = "access_denied";
    pub const SERVER_ERROR: &str = "server_error";
    pub const LOGIN_REQUIRED: &str = "login_required";
    pub const INTERACTION_REQUIRED: &str = "interaction_required";
    pub const INVALID_TOKEN: &str = "invalid_token";
}

impl OAuthError {
    pub fn new(code: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            code,
            description: description.into(),
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(code::INVALID_REQUEST, description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(code::INVALID_GRANT, description)
    }

    pub fn invalid_client() -> Self {
        Self::new(code::INVALID_CLIENT, "client authentication failed")
    }

    /// A failure of ours (the database, a key): logged here, told as `server_error`.
    pub fn server(err: impl Into<Error>) -> Self {
        let err = err.into();
        tracing::error!(error = %err, "OpenID Connect request failed");
        Self::new(
            code::SERVER_ERROR,
            "the server could not complete the request",
        )
    }
}

impl From<Error> for OAuthError {
    fn from(err: Error) -> Self {
        OAuthError::server(err)
    }
}

impl From<sea_orm::DbErr> for OAuthError {
    fn from(err: sea_orm::DbErr) -> Self {
        OAuthError::server(err)
    }
}

/// A fresh random secret (code, token, client secret): 256 bits, base64url, after `prefix`.
pub(crate) fn new_secret(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// How a code, token or client secret is stored: hex SHA-256.
pub(crate) fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_keep_what_is_understood_in_a_fixed_order() {
        let scopes = Scopes::parse("email  openid unknown offline_access");
        assert_eq!(scopes.to_text(), "openid email offline_access");
        assert!(scopes.has("openid") && !scopes.has("profile"));
        assert!(Scopes::parse("openid").within(&scopes));
        assert!(!Scopes::parse("openid profile").within(&scopes));
        assert_eq!(Scopes::parse("").to_text(), "");
    }

    #[test]
    fn amr_adds_mfa_when_two_methods_were_used() {
        assert_eq!(Amr::of(&["pwd"]).to_text(), "pwd");
        assert!(!Amr::of(&["pwd"]).has_second_factor());
        assert_eq!(Amr::of(&["otp", "pwd"]).to_text(), "pwd otp mfa");
        assert_eq!(Amr::of(&["pwd", "hwk"]).to_text(), "pwd hwk mfa");
        assert!(Amr::of(&["pwd", "hwk"]).has_second_factor());
        assert_eq!(Amr::parse("pwd otp mfa"), Amr::of(&["pwd", "otp"]));
        assert_eq!(Amr::parse("pwd nonsense").to_text(), "pwd");
    }

    #[test]
    fn secrets_are_random_and_stored_as_hashes() {
        let a = new_secret("pgc_");
        assert!(a.starts_with("pgc_") && a.len() == 4 + 43);
        assert_ne!(a, new_secret("pgc_"));
        assert_eq!(hash_secret(&a).len(), 64);
        assert_ne!(hash_secret(&a), a);
    }

    #[test]
    fn algorithms_are_spelled_as_jose_does() {
        assert_eq!(Alg::parse("RS256"), Some(Alg::Rs256));
        assert_eq!(Alg::parse("ES256"), Some(Alg::Es256));
        assert_eq!(Alg::parse("rs256"), None);
        assert_eq!(Alg::parse("none"), None);
    }
}
