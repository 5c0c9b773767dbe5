//! Removing second factors: one device (its owner, or an administrator), or all of them (an
//! administrator's reset), and expired enrolments.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession, TransactionTrait,
};

use super::{Mfa, device_count, has_factor, required_of, target_of};
use crate::accounts::audit::{self, Actor, action};
use crate::accounts::clock;
use crate::accounts::credentials::rotate_stamp;
use crate::accounts::error::{Error, Result};
use crate::accounts::locks;
use crate::accounts::permissions::{self, Caller};
use crate::accounts::users;
use crate::entities::{recovery_codes, totp_devices, totp_enrolments, users as user_entity};

/// Removes one device. The owner (not through a narrow key) or whoever may reset the user;
/// the owner cannot remove their last device while a factor is required
/// (`MfaRequiredByPolicy`); an administrator can (a lost phone), and the user is then held
/// at enrolment. The last device takes the recovery codes with it. `NotFound` for a device
/// that is not the target's.
pub async fn remove_device<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    mfa: &Mfa,
    actor: &Actor,
    caller: &Caller,
    target: &user_entity::Model,
    device_id: i32,
) -> Result<user_entity::Model> {
    permissions::can_remove_factor(caller, &target_of(target))?;
    let own = caller.user_id == target.user_id;
    let txn = crate::accounts::transaction::begin(db).await?;
    // Two removals at once must not both pass the count below.
    locks::exclusive(&txn, locks::FACTORS).await?;
    let removed = totp_devices::Entity::delete_many()
        .filter(totp_devices::Column::Id.eq(device_id))
        .filter(totp_devices::Column::UserId.eq(target.user_id))
        .exec(&txn)
        .await?;
    if removed.rows_affected != 1 {
        return Err(Error::NotFound);
    }
    let left = device_count(&txn, target.user_id).await?;
    if own
        && !has_factor(&txn, target.user_id).await?
        && required_of(&txn, mfa.policy, target).await?
    {
        return Err(Error::MfaRequiredByPolicy);
    }
    if left == 0 {
        recovery_codes::Entity::delete_many()
            .filter(recovery_codes::Column::UserId.eq(target.user_id))
            .exec(&txn)
            .await?;
    }
    rotate_stamp(&txn, target.user_id).await?;
    audit::record(
        &txn,
        actor,
        Some((target.user_id, &target.username)),
        action::MFA_REMOVED,
        format!("device={device_id} devices_left={left}"),
    )
    .await?;
    let user = users::get(&txn, target.user_id).await?;
    txn.commit().await?;
    Ok(user)
}

/// Deletes enrolments that were never finished in time (run periodically).
pub async fn prune_enrolments(conn: &impl ConnectionTrait) -> Result<()> {
    totp_enrolments::Entity::delete_many()
        .filter(totp_enrolments::Column::Expires.lte(clock::now()))
        .exec(conn)
        .await?;
    Ok(())
}

/// Deletes every factor of a user (devices, pending enrolments, recovery codes, passkeys) inside the
/// caller's transaction; returns how many devices there were. The caller rotates the stamp
/// and audits (a reset with `reset_mfa`, or [`reset_mfa`]).
pub async fn remove_all(txn: &impl ConnectionTrait, user_id: i32) -> Result<u64> {
    let devices = totp_devices::Entity::delete_many()
        .filter(totp_devices::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    totp_enrolments::Entity::delete_many()
        .filter(totp_enrolments::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    recovery_codes::Entity::delete_many()
        .filter(recovery_codes::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    let passkeys = crate::accounts::passkeys::remove_all(txn, user_id).await?;
    Ok(devices.rows_affected + passkeys)
}

/// An administrator's removal of all of a user's factors (a lost phone), without touching
/// the password: `passgate user reset-mfa`. The permission is the caller's (`can_reset`);
/// the command line passes it. Rotates the stamp and audits.
pub async fn reset_mfa<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    target: &user_entity::Model,
) -> Result<u64> {
    let txn = crate::accounts::transaction::begin(db).await?;
    let removed = remove_all(&txn, target.user_id).await?;
    rotate_stamp(&txn, target.user_id).await?;
    audit::record(
        &txn,
        actor,
        Some((target.user_id, &target.username)),
        action::MFA_RESET,
        format!("devices={removed}"),
    )
    .await?;
    txn.commit().await?;
    Ok(removed)
}
