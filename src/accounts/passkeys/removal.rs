//! Removing a passkey: its owner, or whoever may reset the user.

use sea_orm::{ConnectionTrait, EntityTrait, TransactionSession, TransactionTrait};

use super::{count, own_row, password_auth_back_on};
use crate::accounts::audit::{self, Actor, action};
use crate::accounts::credentials::rotate_stamp;
use crate::accounts::error::{Error, Result};
use crate::accounts::locks;
use crate::accounts::mfa::{self, Mfa};
use crate::accounts::permissions::target_of;
use crate::accounts::permissions::{self, Caller};
use crate::accounts::users;
use crate::entities::{passkeys, users as user_entity};

/// What a removal did.
pub struct Removed {
    /// The user as they are now (a new stamp).
    pub user: user_entity::Model,
    /// It was the last passkey of a user who had turned password sign-in off: it is on
    /// again (nobody is left without a way in), and the user is told so.
    pub password_sign_in_back_on: bool,
}

/// Removes one passkey. The owner (not through a narrow key) or whoever may reset the user;
/// the owner cannot remove their last second factor while one is required
/// (`MfaRequiredByPolicy`). Without passkeys left, password sign-in is on again. Rotates the
/// stamp and audits (naming the passkey); `NotFound` for a passkey that is not the target's.
pub async fn remove_passkey<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    mfa_config: &Mfa,
    actor: &Actor,
    caller: &Caller,
    target: &user_entity::Model,
    passkey_id: i32,
) -> Result<Removed> {
    permissions::can_remove_factor(caller, &target_of(target))?;
    let own = caller.user_id == target.user_id;
    let txn = crate::accounts::transaction::begin(db).await?;
    locks::exclusive(&txn, locks::FACTORS).await?;
    let row = own_row(&txn, target.user_id, passkey_id).await?;
    passkeys::Entity::delete_by_id(row.id).exec(&txn).await?;
    if own
        && !mfa::has_factor(&txn, target.user_id).await?
        && mfa::required_of(&txn, mfa_config.policy, target).await?
    {
        return Err(Error::MfaRequiredByPolicy);
    }
    let left = count(&txn, target.user_id).await?;
    let password_sign_in_back_on = left == 0 && password_auth_back_on(&txn, target.user_id).await?;
    rotate_stamp(&txn, target.user_id).await?;
    audit::record(
        &txn,
        actor,
        Some((target.user_id, &target.username)),
        action::PASSKEY_REMOVED,
        format!(
            "passkey={passkey_id} passkeys_left={left} password_back_on={password_sign_in_back_on} {}",
            audit::trailing_name(&row.name)
        ),
    )
    .await?;
    let user = users::get(&txn, target.user_id).await?;
    txn.commit().await?;
    Ok(Removed {
        user,
        password_sign_in_back_on,
    })
}
