//! The second step of a sign-in: a TOTP code, accepted at most once per step and device, or
//! a recovery code, accepted once.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::{Mfa, has_factor, now_step, recovery, recovery_codes_left, totp};
use crate::accounts::clock;
use crate::accounts::error::{Error, Result};
use crate::entities::{recovery_codes, totp_devices, users as user_entity};

/// Accepts a TOTP code of one of the user's devices, at most once: the device's last
/// accepted step moves forward in one conditional UPDATE, so the same code (or an older
/// one) is refused afterwards on every instance, even when two requests race. Returns the
/// device that accepted it.
pub async fn accept_totp(
    conn: &impl ConnectionTrait,
    mfa: &Mfa,
    user_id: i32,
    code: &str,
) -> Result<Option<i32>> {
    let Some(code) = totp::parse_code(code) else {
        return Ok(None);
    };
    let devices = totp_devices::Entity::find()
        .filter(totp_devices::Column::UserId.eq(user_id))
        .all(conn)
        .await?;
    let now = now_step();
    let mut unopened = false;
    for device in devices {
        let secret = match mfa.open_secret(user_id, &device.secret) {
            Ok(secret) => secret,
            // The code may be this device's: "incorrect" would mislead; said once below.
            Err(Error::MfaUnavailable) => {
                unopened = true;
                continue;
            }
            Err(err) => return Err(err),
        };
        let Some(step) = totp::matching_step(&secret, &code, now, mfa.skew_steps) else {
            continue;
        };
        let moved = totp_devices::Entity::update_many()
            .col_expr(totp_devices::Column::LastStep, Expr::value(step))
            .col_expr(
                totp_devices::Column::LastUsed,
                Expr::value(Some(clock::now())),
            )
            .filter(totp_devices::Column::Id.eq(device.id))
            .filter(totp_devices::Column::LastStep.lt(step))
            .exec(conn)
            .await?;
        if moved.rows_affected == 1 {
            return Ok(Some(device.id));
        }
    }
    if unopened {
        return Err(Error::MfaUnavailable);
    }
    Ok(None)
}

/// Uses one of the user's recovery codes (each works once, also when two requests race);
/// returns how many are left, or `None` when the code is not an unused code of this user.
pub async fn use_recovery_code(
    conn: &impl ConnectionTrait,
    user_id: i32,
    code: &str,
) -> Result<Option<u64>> {
    let Some(normalised) = recovery::normalise(code) else {
        return Ok(None);
    };
    let used = recovery_codes::Entity::update_many()
        .col_expr(
            recovery_codes::Column::UsedAt,
            Expr::value(Some(clock::now())),
        )
        .filter(recovery_codes::Column::UserId.eq(user_id))
        .filter(recovery_codes::Column::CodeHash.eq(recovery::hash(user_id, &normalised)))
        .filter(recovery_codes::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    if used.rows_affected != 1 {
        return Ok(None);
    }
    Ok(Some(recovery_codes_left(conn, user_id).await?))
}

/// What a sign-in brought as its second factor.
#[derive(Clone, Copy, Default)]
pub struct FactorInput<'a> {
    pub totp: Option<&'a str>,
    pub backup_code: Option<&'a str>,
}

/// How the second step of a sign-in went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactorUsed {
    /// The user has no second factor.
    None,
    Totp,
    /// A recovery code, with how many are left.
    RecoveryCode {
        left: u64,
    },
    /// A passkey (with user verification: two factors in one, SPEC §13), alone or after the
    /// password.
    Passkey,
}

/// The second step of a sign-in, after a correct password: nothing for a user without a
/// device; otherwise a TOTP code (preferred when both are sent) or a recovery code.
/// `MfaRequired` when none was sent, `IncorrectMfa` when it is wrong, used or replayed.
pub async fn check_sign_in(
    conn: &impl ConnectionTrait,
    mfa: &Mfa,
    user: &user_entity::Model,
    input: FactorInput<'_>,
) -> Result<FactorUsed> {
    crate::accounts::passkeys::password_allowed(conn, user).await?;
    if !has_factor(conn, user.user_id).await? {
        return Ok(FactorUsed::None);
    }
    match (input.totp, input.backup_code) {
        (Some(code), _) => match accept_totp(conn, mfa, user.user_id, code).await? {
            Some(_) => Ok(FactorUsed::Totp),
            None => Err(Error::IncorrectMfa),
        },
        (None, Some(code)) => match use_recovery_code(conn, user.user_id, code).await? {
            Some(left) => Ok(FactorUsed::RecoveryCode { left }),
            None => Err(Error::IncorrectMfa),
        },
        (None, None) => Err(Error::MfaRequired),
    }
}
