//! Second factors (SPEC §9): TOTP devices with replay protection and recovery codes —
//! enrolment, sign-in checks, removal and renewal. Every factor change rotates the user's
//! stamp in the same transaction and is audited (never with a secret or code).

pub mod cipher;
pub mod recovery;
pub mod totp;

use std::collections::HashSet;

use rand::RngExt;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionSession, TransactionTrait,
};
use time::PrimitiveDateTime;
use zeroize::Zeroizing;

use crate::accounts::audit::{self, Actor, action};
use crate::accounts::clock;
use crate::accounts::credentials::rotate_stamp;
use crate::accounts::locks;
use crate::accounts::permissions::{self, Caller, Target};
use crate::accounts::secret::Secret;
use crate::accounts::users;
use crate::config::{MfaConfig, MfaPolicy};
use crate::entities::{recovery_codes, totp_devices, totp_enrolments, users as user_entity};
use crate::error::{Error, Result};
use cipher::SecretCipher;

/// The issuer an authenticator app shows beside the account.
pub const ISSUER: &str = "passgate";
/// How long a started enrolment waits for its first code.
pub const ENROLMENT_MINUTES: i64 = 10;
/// Longest device name (characters).
pub const NAME_MAX: usize = 64;
/// The name of a device enrolled without one.
pub const DEFAULT_NAME: &str = "Authenticator";

/// What the second-factor operations need from the configuration.
#[derive(Clone, Debug)]
pub struct Mfa {
    pub cipher: SecretCipher,
    pub skew_steps: i64,
    pub policy: MfaPolicy,
}

impl Mfa {
    /// The cipher's key from the key file, or from `settings` (made on the first start).
    pub async fn load(conn: &impl ConnectionTrait, config: &MfaConfig) -> Result<Self> {
        Ok(Mfa {
            cipher: SecretCipher::load(conn, config.secret_key.as_ref()).await?,
            skew_steps: config.skew_steps,
            policy: config.policy,
        })
    }
}

/// Whether `user` must have a second factor: their own flag or the global policy.
pub fn required(policy: MfaPolicy, user: &user_entity::Model) -> bool {
    user.require_mfa
        || match policy {
            MfaPolicy::None => false,
            MfaPolicy::Superusers => user.superuser,
            MfaPolicy::All => true,
        }
}

fn now_step() -> i64 {
    totp::step_at(time::OffsetDateTime::now_utc().unix_timestamp())
}

fn target_of(user: &user_entity::Model) -> Target {
    crate::accounts::update::target_of(user)
}

/// Whether the user has at least one TOTP device.
pub async fn has_factor(conn: &impl ConnectionTrait, user_id: i32) -> Result<bool> {
    Ok(device_count(conn, user_id).await? > 0)
}

async fn device_count(conn: &impl ConnectionTrait, user_id: i32) -> Result<u64> {
    Ok(totp_devices::Entity::find()
        .filter(totp_devices::Column::UserId.eq(user_id))
        .count(conn)
        .await?)
}

/// Which of `user_ids` have a device (one query, for user lists).
pub async fn with_factors(
    conn: &impl ConnectionTrait,
    user_ids: impl IntoIterator<Item = i32>,
) -> Result<HashSet<i32>> {
    let ids: Vec<i32> = user_ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let found: Vec<i32> = totp_devices::Entity::find()
        .select_only()
        .column(totp_devices::Column::UserId)
        .distinct()
        .filter(totp_devices::Column::UserId.is_in(ids))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(found.into_iter().collect())
}

/// How many unused recovery codes the user has.
pub async fn recovery_codes_left(conn: &impl ConnectionTrait, user_id: i32) -> Result<u64> {
    Ok(recovery_codes::Entity::find()
        .filter(recovery_codes::Column::UserId.eq(user_id))
        .filter(recovery_codes::Column::UsedAt.is_null())
        .count(conn)
        .await?)
}

/// The user's devices (names and dates; the secret stays sealed), oldest first.
pub async fn list_devices(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    target: &user_entity::Model,
) -> Result<Vec<totp_devices::Model>> {
    permissions::can_list_factors(caller, &target_of(target))?;
    Ok(totp_devices::Entity::find()
        .filter(totp_devices::Column::UserId.eq(target.user_id))
        .order_by_asc(totp_devices::Column::Id)
        .all(conn)
        .await?)
}

/// A started enrolment: the secret is shown now and never again.
pub struct Enrolment {
    pub id: i32,
    pub secret_base32: Secret,
    pub otpauth_uri: Secret,
    pub username: String,
    pub issued: PrimitiveDateTime,
}

/// Starts adding a device to one's own account: a pending enrolment with a fresh 20-byte
/// secret, kept (sealed) in the database for 10 minutes so that any instance can finish it.
/// Earlier pending enrolments of the user are voided (one at a time).
pub async fn start_enrolment<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    mfa: &Mfa,
    caller: &Caller,
    user: &user_entity::Model,
) -> Result<Enrolment> {
    permissions::can_enrol(caller, &target_of(user))?;
    let secret = Zeroizing::new(rand::rng().random::<[u8; totp::SECRET_BYTES]>());
    let sealed = mfa.cipher.seal(user.user_id, secret.as_slice())?;
    let now = clock::now();
    let txn = db.begin().await?;
    totp_enrolments::Entity::delete_many()
        .filter(totp_enrolments::Column::UserId.eq(user.user_id))
        .exec(&txn)
        .await?;
    let pending = totp_enrolments::ActiveModel {
        user_id: Set(user.user_id),
        secret: Set(sealed),
        created: Set(now),
        expires: Set(now + time::Duration::minutes(ENROLMENT_MINUTES)),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    let base32 = totp::base32(secret.as_slice());
    Ok(Enrolment {
        id: pending.id,
        otpauth_uri: Secret::new(totp::otpauth_uri(ISSUER, &user.username, &base32)),
        secret_base32: Secret::new(base32),
        username: user.username.clone(),
        issued: now,
    })
}

/// A finished enrolment.
pub struct Enrolled {
    pub device: totp_devices::Model,
    /// The new recovery codes (only with the first device), shown once.
    pub recovery_codes: Vec<Secret>,
    /// The user with the new stamp.
    pub user: user_entity::Model,
}

/// A device name as given: trimmed, 1 to 64 characters, no control characters.
pub fn device_name(input: Option<&str>) -> Result<String> {
    let name = input.map(str::trim).unwrap_or("");
    if name.is_empty() {
        return Ok(DEFAULT_NAME.to_string());
    }
    if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(Error::InvalidJsonSchema(format!(
            "name: 1 to {NAME_MAX} characters"
        )));
    }
    Ok(name.to_string())
}

/// Finishes one's own enrolment with a code from the new device: the pending secret becomes
/// a device that has already used this code's step (so the code cannot sign in as well).
/// The first device also brings the recovery codes. A wrong code is `WrongMfaCode` and
/// changes nothing; an unknown, expired or someone else's enrolment is `NotFound`.
pub async fn verify_enrolment<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    mfa: &Mfa,
    actor: &Actor,
    caller: &Caller,
    user: &user_entity::Model,
    enrolment_id: i32,
    name: &str,
    code: &str,
) -> Result<Enrolled> {
    permissions::can_enrol(caller, &target_of(user))?;
    let now = clock::now();
    let pending = totp_enrolments::Entity::find_by_id(enrolment_id)
        .filter(totp_enrolments::Column::UserId.eq(user.user_id))
        .filter(totp_enrolments::Column::Expires.gt(now))
        .one(db)
        .await?
        .ok_or(Error::NotFound)?;
    let secret = mfa.cipher.open(user.user_id, &pending.secret)?;
    let step = totp::parse_code(code)
        .and_then(|code| totp::matching_step(&secret, &code, now_step(), mfa.skew_steps))
        .ok_or(Error::WrongMfaCode)?;
    let txn = db.begin().await?;
    // Only one instance finishes a given enrolment.
    let taken = totp_enrolments::Entity::delete_many()
        .filter(totp_enrolments::Column::Id.eq(pending.id))
        .filter(totp_enrolments::Column::UserId.eq(user.user_id))
        .exec(&txn)
        .await?;
    if taken.rows_affected != 1 {
        return Err(Error::NotFound);
    }
    let first = !has_factor(&txn, user.user_id).await?;
    let device = totp_devices::ActiveModel {
        user_id: Set(user.user_id),
        name: Set(name.to_string()),
        secret: Set(pending.secret.clone()),
        last_step: Set(step),
        created: Set(now),
        last_used: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let recovery_codes = if first {
        replace_recovery_codes(&txn, user.user_id).await?
    } else {
        Vec::new()
    };
    rotate_stamp(&txn, user.user_id).await?;
    audit::record(
        &txn,
        actor,
        Some((user.user_id, &user.username)),
        action::MFA_ENROLLED,
        format!(
            "device={} recovery_codes={}",
            device.id,
            recovery_codes.len()
        ),
    )
    .await?;
    let user = users::get(&txn, user.user_id).await?;
    txn.commit().await?;
    Ok(Enrolled {
        device,
        recovery_codes,
        user,
    })
}

/// Deletes the user's recovery codes and stores ten new ones; returns them for one display.
async fn replace_recovery_codes(txn: &impl ConnectionTrait, user_id: i32) -> Result<Vec<Secret>> {
    recovery_codes::Entity::delete_many()
        .filter(recovery_codes::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    let now = clock::now();
    let codes: Vec<Secret> = (0..recovery::COUNT).map(|_| recovery::generate()).collect();
    let rows = codes.iter().map(|code| {
        let normalised = recovery::normalise(code.expose()).unwrap_or_default();
        recovery_codes::ActiveModel {
            user_id: Set(user_id),
            code_hash: Set(recovery::hash(user_id, &normalised)),
            created: Set(now),
            used_at: Set(None),
            ..Default::default()
        }
    });
    recovery_codes::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    Ok(codes)
}

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
    for device in devices {
        let secret = mfa.cipher.open(user_id, &device.secret)?;
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
#[derive(Clone, Copy, Debug, Default)]
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
    let txn = db.begin().await?;
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
    if left == 0 {
        if own && required(mfa.policy, target) {
            return Err(Error::MfaRequiredByPolicy);
        }
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

/// Replaces one's own recovery codes with ten new ones; needs a current TOTP code
/// (`WrongMfaCode` otherwise, and nothing changes).
pub async fn renew_recovery_codes<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    mfa: &Mfa,
    actor: &Actor,
    caller: &Caller,
    user: &user_entity::Model,
    code: &str,
) -> Result<(Vec<Secret>, user_entity::Model)> {
    permissions::can_enrol(caller, &target_of(user))?;
    let txn = db.begin().await?;
    if accept_totp(&txn, mfa, user.user_id, code).await?.is_none() {
        return Err(Error::WrongMfaCode);
    }
    let codes = replace_recovery_codes(&txn, user.user_id).await?;
    rotate_stamp(&txn, user.user_id).await?;
    audit::record(
        &txn,
        actor,
        Some((user.user_id, &user.username)),
        action::RECOVERY_CODES_RENEWED,
        format!("count={}", codes.len()),
    )
    .await?;
    let user = users::get(&txn, user.user_id).await?;
    txn.commit().await?;
    Ok((codes, user))
}

/// Deletes every factor of a user (devices, pending enrolments, recovery codes) inside the
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
    Ok(devices.rows_affected)
}

/// An administrator's removal of all of a user's factors (a lost phone), without touching
/// the password: `passgate user reset-mfa`. The permission is the caller's (`can_reset`);
/// the command line passes it. Rotates the stamp and audits.
pub async fn reset_mfa<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    target: &user_entity::Model,
) -> Result<u64> {
    let txn = db.begin().await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn user(superuser: bool, require_mfa: bool) -> user_entity::Model {
        let now = clock::now();
        user_entity::Model {
            user_id: 1,
            username: "alice".into(),
            password: String::new(),
            email: None,
            enabled: true,
            superuser,
            manager: None,
            lang: "en".into(),
            created: now,
            last_update: now,
            last_login: None,
            last_ip: String::new(),
            security_stamp: String::new(),
            require_password_change: false,
            password_expires: None,
            require_mfa,
        }
    }

    #[test]
    fn who_must_have_a_factor() {
        use MfaPolicy::*;
        let cases = [
            // (policy, superuser, own flag, required)
            (None, false, false, false),
            (None, true, false, false),
            (None, false, true, true),
            (Superusers, false, false, false),
            (Superusers, true, false, true),
            (Superusers, false, true, true),
            (All, false, false, true),
            (All, true, false, true),
        ];
        for (policy, superuser, flag, expected) in cases {
            assert_eq!(
                required(policy, &user(superuser, flag)),
                expected,
                "{policy:?} superuser={superuser} flag={flag}"
            );
        }
    }

    #[test]
    fn device_names_are_checked() {
        assert_eq!(device_name(None).unwrap(), DEFAULT_NAME);
        assert_eq!(device_name(Some("  phone ")).unwrap(), "phone");
        assert!(device_name(Some(&"x".repeat(65))).is_err());
        assert!(device_name(Some("a\u{7}b")).is_err());
    }
}
