//! Tokens (SPEC §16): the code exchange, refresh with rotation and reuse detection (what a
//! token is worth when presented back — `userinfo`, revocation, introspection — is in
//! `tokens/presented.rs`). Access tokens (10 minutes) and refresh tokens (only with `offline_access`; they
//! last as long as their grant) are opaque random strings kept as hashes. Every use checks
//! that the grant still stands: the user enabled with the stamp the grant was made under, the
//! application still open to them.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionSession,
    TransactionTrait,
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::accounts::apps::{self, App, Policy};
use crate::accounts::audit::Actor;
use crate::accounts::clock;
use crate::accounts::oidc::clients::Client;
use crate::accounts::oidc::grants::{self, action};
use crate::accounts::oidc::id_token;
use crate::accounts::oidc::{
    ACCESS_TOKEN_SECONDS, Amr, OAuthError, Oidc, Scopes, code, hash_secret, new_secret,
};
use crate::accounts::secret::Secret;
use crate::entities::{oidc_grants, oidc_tokens, users as user_entity};

/// `oidc_tokens.kind` of an access token.
pub const ACCESS: &str = "access";
/// `oidc_tokens.kind` of a refresh token.
pub const REFRESH: &str = "refresh";
/// Prefixes that make a leaked token recognisable.
pub const ACCESS_PREFIX: &str = "pga_";
pub const REFRESH_PREFIX: &str = "pgr_";

mod presented;

pub use presented::{Bearer, Introspection, bearer, introspect, revoke};

/// What the token endpoint answers.
#[derive(Debug)]
pub struct Issued {
    pub access_token: Secret,
    pub expires_in: i64,
    pub refresh_token: Option<Secret>,
    pub id_token: String,
    pub scope: String,
}

/// Exchanges an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.6) for tokens. The code must
/// be this client's, unexpired, sent with the same redirect URI, and — if the request had a
/// PKCE challenge — with its verifier (a verifier without a challenge is refused too, so a
/// downgrade is noticed). A second use of a code revokes every token issued from it.
pub async fn exchange_code<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    provider: &Oidc,
    actor: &Actor,
    client: &Client,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: Option<&str>,
) -> Result<Issued, OAuthError> {
    let invalid = || OAuthError::invalid_grant("the code is invalid, expired or already used");
    let txn = crate::accounts::transaction::begin(db).await?;
    let code_hash = hash_secret(code);
    write_first(
        &txn,
        oidc_grants::Entity::update_many()
            .col_expr(
                oidc_grants::Column::LastUsed,
                Expr::col(oidc_grants::Column::LastUsed),
            )
            .filter(oidc_grants::Column::CodeHash.eq(code_hash.as_str())),
    )
    .await?;
    let grant = oidc_grants::Entity::find()
        .filter(oidc_grants::Column::CodeHash.eq(code_hash))
        .one(&txn)
        .await?
        .ok_or_else(invalid)?;
    if grant.app_id != client.app_id {
        return Err(invalid());
    }
    if grant.code_used.is_some() {
        grants::revoke_reading_user(&txn, actor, &grant, action::REVOKED, "code_replayed").await?;
        txn.commit().await?;
        return Err(invalid());
    }
    let now = clock::now();
    if grant.code_expires <= now {
        return Err(invalid());
    }
    if redirect_uri != Some(grant.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant(
            "redirect_uri differs from the authorization request's",
        ));
    }
    check_verifier(grant.code_challenge.as_deref(), verifier)?;
    let Some(user) = standing_user(&txn, &grant).await? else {
        return Err(invalid());
    };
    // Single use on every instance: the first redemption to mark the code wins.
    let marked = oidc_grants::Entity::update_many()
        .col_expr(oidc_grants::Column::CodeUsed, Expr::value(Some(now)))
        .col_expr(oidc_grants::Column::LastUsed, Expr::value(Some(now)))
        .filter(oidc_grants::Column::GrantId.eq(grant.grant_id))
        .filter(oidc_grants::Column::CodeUsed.is_null())
        .exec(&txn)
        .await?;
    if marked.rows_affected != 1 {
        return Err(invalid());
    }
    let scopes = Scopes::parse(&grant.scope);
    let issued = issue(&txn, provider, client, &grant, &user, &scopes).await?;
    txn.commit().await?;
    issued.count();
    Ok(issued)
}

/// RFC 7636 §4.6: `BASE64URL(SHA256(verifier)) == challenge`; a verifier is 43–128
/// characters of `[A-Za-z0-9-._~]`.
fn check_verifier(challenge: Option<&str>, verifier: Option<&str>) -> Result<(), OAuthError> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(OAuthError::invalid_grant(
            "code_verifier sent for a code requested without code_challenge",
        )),
        (Some(_), None) => Err(OAuthError::invalid_grant("code_verifier is missing")),
        (Some(challenge), Some(verifier)) => {
            let well_formed = (43..=128).contains(&verifier.len())
                && verifier
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
            let computed = base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                Sha256::digest(verifier.as_bytes()),
            );
            if well_formed && bool::from(computed.as_bytes().ct_eq(challenge.as_bytes())) {
                Ok(())
            } else {
                Err(OAuthError::invalid_grant("code_verifier does not match"))
            }
        }
    }
}

/// Exchanges a refresh token for a new access token and a new refresh token (the old one is
/// used up). A refresh token used twice revokes its whole family (the grant, with every token
/// of it). Refused when the grant no longer stands (stamp, disabled, the application closed
/// to the user) or `scope` asks for more than was granted.
pub async fn refresh<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    provider: &Oidc,
    actor: &Actor,
    client: &Client,
    refresh_token: &str,
    scope: Option<&str>,
) -> Result<Issued, OAuthError> {
    let invalid = || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
    let txn = crate::accounts::transaction::begin(db).await?;
    write_first(&txn, touch_token(refresh_token)).await?;
    let Some((token, Some(grant))) = oidc_tokens::Entity::find_by_id(hash_secret(refresh_token))
        .filter(oidc_tokens::Column::Kind.eq(REFRESH))
        .find_also_related(oidc_grants::Entity)
        .one(&txn)
        .await?
    else {
        return Err(invalid());
    };
    if grant.app_id != client.app_id {
        return Err(invalid());
    }
    let user = user_entity::Entity::find_by_id(grant.user_id)
        .one(&txn)
        .await?;
    if token.used.is_some() {
        grants::revoke(
            &txn,
            actor,
            &grant,
            user.as_ref(),
            action::REFRESH_REFUSED,
            "refresh_token_reused",
        )
        .await?;
        txn.commit().await?;
        return Err(invalid());
    }
    let now = clock::now();
    if token.expires <= now {
        return Err(invalid());
    }
    let Some(user) = standing_user(&txn, &grant).await? else {
        if let Some(user) = user.as_ref() {
            crate::accounts::audit::record(
                &txn,
                actor,
                Some((user.user_id, &user.username)),
                action::REFRESH_REFUSED,
                format!(
                    "app={} grant={} reason=not_admitted",
                    grant.app_id, grant.grant_id
                ),
            )
            .await?;
            txn.commit().await?;
        }
        return Err(invalid());
    };
    let granted = Scopes::parse(&token.scope);
    let scopes = match scope {
        None => granted,
        Some(asked) => {
            let asked = Scopes::parse(asked);
            if !asked.within(&granted) || !asked.has("openid") {
                return Err(OAuthError::new(
                    code::INVALID_SCOPE,
                    "scope asks for more than was granted",
                ));
            }
            asked
        }
    };
    let marked = oidc_tokens::Entity::update_many()
        .col_expr(oidc_tokens::Column::Used, Expr::value(Some(now)))
        .filter(oidc_tokens::Column::TokenHash.eq(token.token_hash.clone()))
        .filter(oidc_tokens::Column::Used.is_null())
        .exec(&txn)
        .await?;
    if marked.rows_affected != 1 {
        // Another request used it at the same moment: a reuse.
        grants::revoke(
            &txn,
            actor,
            &grant,
            Some(&user),
            action::REFRESH_REFUSED,
            "refresh_token_reused",
        )
        .await?;
        txn.commit().await?;
        return Err(invalid());
    }
    oidc_grants::Entity::update_many()
        .col_expr(oidc_grants::Column::LastUsed, Expr::value(Some(now)))
        .filter(oidc_grants::Column::GrantId.eq(grant.grant_id))
        .exec(&txn)
        .await?;
    let issued = issue(&txn, provider, client, &grant, &user, &scopes).await?;
    txn.commit().await?;
    crate::metrics::oidc_refreshed();
    issued.count();
    Ok(issued)
}

impl Issued {
    /// Counts what this answer issued (after its transaction committed).
    fn count(&self) {
        use crate::metrics::{Oidc, oidc_issued};
        oidc_issued(Oidc::AccessToken);
        if self.refresh_token.is_some() {
            oidc_issued(Oidc::RefreshToken);
        }
        oidc_issued(Oidc::IdToken);
    }
}

/// Issues an access token, a refresh token (with `offline_access`) and an ID token under
/// `grant`; the access token carries `scopes` (the refresh token, the grant's own).
async fn issue(
    conn: &impl ConnectionTrait,
    provider: &Oidc,
    client: &Client,
    grant: &oidc_grants::Model,
    user: &user_entity::Model,
    scopes: &Scopes,
) -> Result<Issued, OAuthError> {
    let now = clock::now();
    let access_token = Secret::new(new_secret(ACCESS_PREFIX));
    let mut rows = vec![oidc_tokens::ActiveModel {
        token_hash: Set(hash_secret(access_token.expose())),
        grant_id: Set(grant.grant_id),
        kind: Set(ACCESS.into()),
        scope: Set(scopes.to_text()),
        created: Set(now),
        expires: Set(now + time::Duration::seconds(ACCESS_TOKEN_SECONDS)),
        used: Set(None),
    }];
    let refresh_token = Scopes::parse(&grant.scope)
        .has("offline_access")
        .then(|| Secret::new(new_secret(REFRESH_PREFIX)));
    if let Some(refresh) = &refresh_token {
        rows.push(oidc_tokens::ActiveModel {
            token_hash: Set(hash_secret(refresh.expose())),
            grant_id: Set(grant.grant_id),
            kind: Set(REFRESH.into()),
            scope: Set(grant.scope.clone()),
            created: Set(now),
            expires: Set(grant.expires),
            used: Set(None),
        });
    }
    oidc_tokens::Entity::insert_many(rows)
        .exec_without_returning(conn)
        .await?;
    let id_token = id_token::sign(conn, provider, client, grant, user, scopes).await?;
    Ok(Issued {
        access_token,
        expires_in: ACCESS_TOKEN_SECONDS,
        refresh_token,
        id_token,
        scope: scopes.to_text(),
    })
}

/// The user of `grant` if the grant still stands: the user exists, is enabled, and their
/// stamp is the one the grant was made under (a rotation also deletes the grant; this holds
/// even for a rotation that did not), and the application still admits them as they signed
/// in ([`admits`]).
pub(crate) async fn standing_user(
    conn: &impl ConnectionTrait,
    grant: &oidc_grants::Model,
) -> Result<Option<user_entity::Model>, OAuthError> {
    let Some(user) = user_entity::Entity::find_by_id(grant.user_id)
        .one(conn)
        .await?
        .filter(|user| user.enabled && user.security_stamp == grant.stamp)
    else {
        return Ok(None);
    };
    let Some(app) = apps::for_sign_in(conn, grant.app_id).await? else {
        return Ok(None);
    };
    let roles = role_ids_of(conn, user.user_id).await?;
    Ok(admits(&app, &roles, &Amr::parse(&grant.amr)).then_some(user))
}

/// The ids of the roles the user holds (read now: a removal counts at the next refresh).
pub(crate) async fn role_ids_of(
    conn: &impl ConnectionTrait,
    user_id: i32,
) -> Result<Vec<i32>, OAuthError> {
    Ok(crate::accounts::roles::of_user(conn, user_id)
        .await?
        .into_iter()
        .map(|role| role.role_id)
        .collect())
}

/// Whether `app` lets a user with `role_ids`, signed in as `amr` says, have tokens: not set
/// to `deny`, the user in one of its roles (or it has none), and a second factor passed in
/// that sign-in if it needs `two_factor`.
pub fn admits(app: &App, role_ids: &[i32], amr: &Amr) -> bool {
    let in_roles =
        app.allowed_roles.is_empty() || role_ids.iter().any(|id| app.allowed_roles.contains(id));
    match app.policy {
        Policy::Deny => false,
        Policy::OneFactor => in_roles,
        Policy::TwoFactor => in_roles && amr.has_second_factor(),
    }
}

/// Makes a transaction's first statement a write that locks the row: on PostgreSQL two
/// redemptions of one code (or uses of one refresh token) queue instead of both reading it
/// unused. `update` changes nothing (a column set to itself). (On SQLite the transaction holds
/// the write lock from its start already: `accounts::transaction::begin`.)
async fn write_first<E: EntityTrait>(
    txn: &impl ConnectionTrait,
    update: sea_orm::UpdateMany<E>,
) -> Result<(), OAuthError> {
    update.exec(txn).await?;
    Ok(())
}

/// A no-op update of the token `token` (see [`write_first`]).
fn touch_token(token: &str) -> sea_orm::UpdateMany<oidc_tokens::Entity> {
    oidc_tokens::Entity::update_many()
        .col_expr(
            oidc_tokens::Column::Expires,
            Expr::col(oidc_tokens::Column::Expires),
        )
        .filter(oidc_tokens::Column::TokenHash.eq(hash_secret(token)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_verifiers_are_checked_as_rfc_7636_says() {
        // RFC 7636 appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(check_verifier(Some(challenge), Some(verifier)).is_ok());
        assert!(check_verifier(None, None).is_ok());
        let wrong = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX";
        assert!(check_verifier(Some(challenge), Some(wrong)).is_err());
        assert!(check_verifier(Some(challenge), None).is_err());
        assert!(
            check_verifier(None, Some(verifier)).is_err(),
            "a verifier for a code without a challenge is a downgrade"
        );
        assert!(
            check_verifier(Some(challenge), Some(challenge)).is_err(),
            "the challenge itself is no verifier (plain)"
        );
        assert!(check_verifier(Some(challenge), Some("short")).is_err());
    }
}
