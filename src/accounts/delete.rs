//! Deleting a user: their sessions, keys, factors and permissions go with them.

use sea_orm::{ConnectionTrait, EntityTrait, TransactionSession, TransactionTrait};

use crate::accounts::audit::{self, Actor, action};
use crate::accounts::error::Result;
use crate::accounts::permissions::{self, Caller, target_of};
use crate::accounts::users;
use crate::entities::users as user_entity;

/// Deletes a user (their sessions, keys and permissions go with them). Never oneself, never
/// the last enabled superuser.
pub async fn delete_user<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    caller: &Caller,
    target: &user_entity::Model,
) -> Result<()> {
    permissions::can_delete(caller, &target_of(target))?;
    let txn = crate::accounts::transaction::begin(db).await?;
    if target.superuser && target.enabled {
        users::keep_a_superuser(&txn).await?;
    }
    user_entity::Entity::delete_by_id(target.user_id)
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        actor,
        Some((target.user_id, &target.username)),
        action::USER_DELETED,
        String::new(),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
