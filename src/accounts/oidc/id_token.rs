//! The ID token and the user's claims (SPEC §16): `iss`, `sub`, `aud`, `exp`, `iat`,
//! `auth_time`, `nonce`, `amr`, `sid`, and by scope `profile` → `preferred_username`, `name`;
//! `email` → `email`, `email_verified` (false: passgate does not verify addresses); `groups` →
//! `groups` (role names). `userinfo` answers the same user claims for its token's scopes.

use sea_orm::ConnectionTrait;
use serde_json::{Map, Value, json};

use crate::accounts::clock;
use crate::accounts::oidc::clients::Client;
use crate::accounts::oidc::grants;
use crate::accounts::oidc::{Amr, ID_TOKEN_SECONDS, OAuthError, Oidc, Scopes};
use crate::entities::{oidc_grants, users as user_entity};

/// The issuer: `PASSGATE_PUBLIC_URL`, without a trailing slash. Every endpoint's URL is built
/// from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issuer(String);

impl Issuer {
    pub fn new(public_url: &str) -> Self {
        Issuer(public_url.trim_end_matches('/').to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The absolute URL of one of passgate's paths.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }
}

/// The user's claims for `scopes`, with `sub` (what `userinfo` answers).
pub async fn user_claims(
    conn: &impl ConnectionTrait,
    user: &user_entity::Model,
    scopes: &Scopes,
) -> Result<Map<String, Value>, OAuthError> {
    let mut claims = Map::new();
    claims.insert(
        "sub".into(),
        Value::String(grants::subject_of(conn, user.user_id).await?),
    );
    if scopes.has("profile") {
        claims.insert("preferred_username".into(), json!(user.username));
        claims.insert("name".into(), json!(user.username));
    }
    if scopes.has("email")
        && let Some(email) = user.email.as_deref().filter(|e| !e.is_empty())
    {
        claims.insert("email".into(), json!(email));
        claims.insert("email_verified".into(), json!(false));
    }
    if scopes.has("groups") {
        claims.insert(
            "groups".into(),
            json!(role_names(conn, user.user_id).await?),
        );
    }
    Ok(claims)
}

/// The names of the user's roles (the `groups` claim), as forward authentication sends them.
async fn role_names(conn: &impl ConnectionTrait, user_id: i32) -> Result<Vec<String>, OAuthError> {
    Ok(crate::accounts::roles::names_of_user(conn, user_id).await?)
}

/// Signs the ID token of `grant` for `client`, with the claims of `scopes`.
pub(crate) async fn sign(
    conn: &impl ConnectionTrait,
    provider: &Oidc,
    client: &Client,
    grant: &oidc_grants::Model,
    user: &user_entity::Model,
    scopes: &Scopes,
) -> Result<String, OAuthError> {
    let now = clock::now().assume_utc().unix_timestamp();
    let mut claims = user_claims(conn, user, scopes).await?;
    let amr = Amr::parse(&grant.amr);
    let standard = json!({
        "iss": provider.issuer.as_str(),
        "aud": client.client_id,
        "exp": now + ID_TOKEN_SECONDS,
        "iat": now,
        "auth_time": grant.auth_time.assume_utc().unix_timestamp(),
        "amr": amr.values(),
        "sid": grant.sid,
    });
    if let Value::Object(standard) = standard {
        claims.extend(standard);
    }
    if let Some(nonce) = &grant.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    Ok(provider.keys.sign(conn, client.alg, &claims).await?)
}
