//! Tokens presented back by a client or an app: what an access token is worth at
//! `userinfo`, revocation (RFC 7009) and introspection (RFC 7662). Each checks that the grant
//! still stands ([`super::standing_user`]).

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession, TransactionTrait,
};

use super::{ACCESS, REFRESH, standing_user, touch_token, write_first};
use crate::accounts::audit::Actor;
use crate::accounts::clock;
use crate::accounts::oidc::clients::Client;
use crate::accounts::oidc::grants::{self, action};
use crate::accounts::oidc::{OAuthError, hash_secret};
use crate::entities::{oidc_grants, oidc_tokens, users as user_entity};

/// A live access token with its grant and user (for `userinfo` and introspection).
pub struct Bearer {
    pub grant: oidc_grants::Model,
    pub user: user_entity::Model,
    pub token: oidc_tokens::Model,
}

/// The grant and user an access token stands for, if it is live and its grant still stands.
pub async fn bearer(
    conn: &impl ConnectionTrait,
    access_token: &str,
) -> Result<Option<Bearer>, OAuthError> {
    let found = oidc_tokens::Entity::find_by_id(hash_secret(access_token))
        .filter(oidc_tokens::Column::Kind.eq(ACCESS))
        .filter(oidc_tokens::Column::Expires.gt(clock::now()))
        .find_also_related(oidc_grants::Entity)
        .one(conn)
        .await?;
    let Some((token, Some(grant))) = found else {
        return Ok(None);
    };
    Ok(standing_user(conn, &grant)
        .await?
        .map(|user| Bearer { grant, user, token }))
}

/// RFC 7009: revokes `token` if it is this client's — an access token alone, a refresh
/// token with its whole grant. Anything else (unknown, another client's) changes nothing and
/// is not told apart.
pub async fn revoke<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    client: &Client,
    token: &str,
) -> Result<(), OAuthError> {
    let txn = crate::accounts::transaction::begin(db).await?;
    write_first(&txn, touch_token(token)).await?;
    let found = oidc_tokens::Entity::find_by_id(hash_secret(token))
        .find_also_related(oidc_grants::Entity)
        .one(&txn)
        .await?;
    let Some((token, Some(grant))) = found else {
        return Ok(());
    };
    if grant.app_id != client.app_id {
        return Ok(());
    }
    if token.kind == REFRESH {
        grants::revoke_reading_user(&txn, actor, &grant, action::REVOKED, "revocation_request")
            .await?;
        txn.commit().await?;
    } else {
        let live = token.expires > clock::now();
        oidc_tokens::Entity::delete_by_id(token.token_hash)
            .exec(&txn)
            .await?;
        txn.commit().await?;
        if live {
            crate::metrics::oidc_revoked(crate::metrics::Oidc::AccessToken, 1);
        }
    }
    Ok(())
}

/// What introspection says of a token (RFC 7662 §2.2).
#[derive(Debug, PartialEq, Eq)]
pub enum Introspection {
    Inactive,
    Active {
        scope: String,
        client_id: String,
        username: String,
        sub: String,
        token_type: &'static str,
        exp: i64,
        iat: i64,
    },
}

/// Introspects `token` for a confidential `client`: active only if it is one of this
/// client's, live, unused (a refresh token), and its grant still stands.
pub async fn introspect(
    conn: &impl ConnectionTrait,
    client: &Client,
    token: &str,
) -> Result<Introspection, OAuthError> {
    let found = oidc_tokens::Entity::find_by_id(hash_secret(token))
        .filter(oidc_tokens::Column::Expires.gt(clock::now()))
        .filter(oidc_tokens::Column::Used.is_null())
        .find_also_related(oidc_grants::Entity)
        .one(conn)
        .await?;
    let Some((token, Some(grant))) = found else {
        return Ok(Introspection::Inactive);
    };
    if grant.app_id != client.app_id {
        return Ok(Introspection::Inactive);
    }
    let Some(user) = standing_user(conn, &grant).await? else {
        return Ok(Introspection::Inactive);
    };
    let sub = grants::subject_of(conn, user.user_id).await?;
    let unix = |at: time::PrimitiveDateTime| at.assume_utc().unix_timestamp();
    Ok(Introspection::Active {
        scope: token.scope,
        client_id: client.client_id.clone(),
        username: user.username,
        sub,
        token_type: if token.kind == REFRESH {
            "refresh_token"
        } else {
            "Bearer"
        },
        exp: unix(token.expires),
        iat: unix(token.created),
    })
}
