//! Removing a passkey: its owner, or whoever may reset the user.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession, TransactionTrait,
};

use super::{count, password_auth_back_on};
use crate::accounts::audit::{self, Actor, action};
use crate::accounts::credentials::rotate_stamp;
use crate::accounts::error::{Error, Result};
use crate::accounts::locks;
use crate::accounts::mfa::{self, Mfa};
use crate::accounts::permissions::target_of;
use crate::accounts::permissions::{self, Caller};
use crate::accounts::users;
use crate::entities::{passkeys, users as user_entity};

/// Removes one passkey. The owner (not through a narrow key) or whoever may reset the user;
/// the owner cannot remove their last second factor while one is required
/// (`MfaRequiredByPolicy`). Without passkeys left, password sign-in is on again. Rotates the
/// stamp and audits; `NotFound` for a passkey that is not the target's.
pub async fn remove_passkey<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    mfa_config: &Mfa,
    actor: &Actor,
    caller: &Caller,
    target: &user_entity::Model,
    passkey_id: i32,
) -> Result<user_entity::Model> {
    permissions::can_remove_factor(caller, &target_of(target))?;
    let own = caller.user_id == target.user_id;
    let txn = db.begin().await?;
    locks::exclusive(&txn, locks::FACTORS).await?;
    let removed = passkeys::Entity::delete_many()
        .filter(passkeys::Column::Id.eq(passkey_id))
        .filter(passkeys::Column::UserId.eq(target.user_id))
        .exec(&txn)
        .await?;
    if removed.rows_affected != 1 {
        return Err(Error::NotFound);
    }
    if own
        && !mfa::has_factor(&txn, target.user_id).await?
        && mfa::required_of(&txn, mfa_config.policy, target).await?
    {
        return Err(Error::MfaRequiredByPolicy);
    }
    let left = count(&txn, target.user_id).await?;
    if left == 0 {
        password_auth_back_on(&txn, target.user_id).await?;
    }
    rotate_stamp(&txn, target.user_id).await?;
    audit::record(
        &txn,
        actor,
        Some((target.user_id, &target.username)),
        action::PASSKEY_REMOVED,
        format!("passkey={passkey_id} passkeys_left={left}"),
    )
    .await?;
    let user = users::get(&txn, target.user_id).await?;
    txn.commit().await?;
    Ok(user)
}
