//! API keys: opaque secrets shown once, stored only as a SHA-256 hash, compared in constant
//! time. Format: `pgk_<key id>_<secret>`.

use base64::Engine;
use rand::RngExt;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionSession, TransactionTrait,
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::accounts::audit::{self, Actor, action};
use crate::accounts::clock;
use crate::accounts::error::{Error, Result};
use crate::accounts::grants;
use crate::accounts::permissions::target_of;
use crate::accounts::permissions::{self, Caller, KNOWN_PERMISSIONS, KeyScope};
use crate::accounts::secret::Secret;
use crate::entities::{api_keys, users};

/// The recognisable prefix of every key.
pub const PREFIX: &str = "pgk_";

fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The scope stored with a key.
pub fn scope_of(key: &api_keys::Model) -> KeyScope {
    KeyScope {
        full_access: key.full_access,
        permissions: key
            .permissions
            .split(',')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
    }
}

/// Creates a key for `owner` and returns it with the token, which is never shown again.
/// The caller's rights bound the key; the operator at the console (`passgate key create`,
/// [`Caller::operator`]) is bound only by what the owner holds, and told what is missing.
pub async fn create<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    caller: &Caller,
    owner: &users::Model,
    name: &str,
    scope: KeyScope,
) -> Result<(api_keys::Model, Secret)> {
    permissions::can_change_keys(caller, &target_of(owner))?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(Error::invalid("name", "name: 1 to 64 characters"));
    }
    if let Some(unknown) = scope
        .permissions
        .iter()
        .find(|p| !KNOWN_PERMISSIONS.contains(&p.as_str()))
    {
        return Err(Error::invalid(
            "permissions",
            format!(
                "permissions: unknown permission '{}'",
                unknown.chars().take(40).collect::<String>()
            ),
        ));
    }
    let owner_grants: Vec<String> = grants::load(db, owner.user_id)
        .await?
        .into_iter()
        .map(|g| g.name)
        .collect();
    if caller.is_operator() {
        if let Some(missing) = scope
            .permissions
            .iter()
            .find(|p| !owner.superuser && !owner_grants.contains(p))
        {
            return Err(Error::invalid(
                "permissions",
                format!("permissions: '{}' does not hold {missing}", owner.username),
            ));
        }
    } else {
        permissions::can_grant_key(caller, owner.superuser, &owner_grants, &scope)?;
    }
    let bytes: [u8; 32] = rand::rng().random();
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let txn = crate::accounts::transaction::begin(db).await?;
    let key = api_keys::ActiveModel {
        user_id: Set(owner.user_id),
        name: Set(name.to_string()),
        token_hash: Set(hash_secret(&secret)),
        permissions: Set(scope.permissions.join(",")),
        full_access: Set(scope.full_access),
        created: Set(clock::now()),
        last_used: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        Some((owner.user_id, &owner.username)),
        action::KEY_CREATED,
        format!(
            "key_id={} full_access={} permissions={}",
            key.key_id, key.full_access, key.permissions
        ),
    )
    .await?;
    txn.commit().await?;
    let token = Secret::new(format!("{PREFIX}{}_{secret}", key.key_id));
    Ok((key, token))
}

pub async fn list(conn: &impl ConnectionTrait, owner_id: i32) -> Result<Vec<api_keys::Model>> {
    Ok(api_keys::Entity::find()
        .filter(api_keys::Column::UserId.eq(owner_id))
        .order_by_asc(api_keys::Column::KeyId)
        .all(conn)
        .await?)
}

/// One of `owner`'s keys; a key of another user is `None`.
pub async fn find(
    conn: &impl ConnectionTrait,
    owner_id: i32,
    key_id: i32,
) -> Result<Option<api_keys::Model>> {
    Ok(api_keys::Entity::find_by_id(key_id)
        .filter(api_keys::Column::UserId.eq(owner_id))
        .one(conn)
        .await?)
}

/// Deletes one of `owner`'s keys; a key of another user is "not found".
pub async fn delete<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    caller: &Caller,
    owner: &users::Model,
    key_id: i32,
) -> Result<()> {
    permissions::can_change_keys(caller, &target_of(owner))?;
    let txn = crate::accounts::transaction::begin(db).await?;
    let deleted = api_keys::Entity::delete_many()
        .filter(api_keys::Column::KeyId.eq(key_id))
        .filter(api_keys::Column::UserId.eq(owner.user_id))
        .exec(&txn)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(Error::NotFound);
    }
    audit::record(
        &txn,
        actor,
        Some((owner.user_id, &owner.username)),
        action::KEY_DELETED,
        format!("key_id={key_id}"),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The key and its owner for a presented token, if the token is genuine.
pub async fn authenticate(
    conn: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<(api_keys::Model, users::Model)>> {
    let Some((id, secret)) = token
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.split_once('_'))
    else {
        return Ok(None);
    };
    let Ok(key_id) = id.parse::<i32>() else {
        return Ok(None);
    };
    let found = api_keys::Entity::find_by_id(key_id)
        .find_also_related(users::Entity)
        .one(conn)
        .await?;
    let Some((key, Some(owner))) = found else {
        return Ok(None);
    };
    let presented = hash_secret(secret);
    if !bool::from(presented.as_bytes().ct_eq(key.token_hash.as_bytes())) {
        return Ok(None);
    }
    Ok(Some((key, owner)))
}
