//! Adding a TOTP device to one's own account (start, then verify with a first code) and
//! renewing the recovery codes that come with the first device.

use rand::RngExt;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    TransactionSession, TransactionTrait,
};
use time::PrimitiveDateTime;
use zeroize::Zeroizing;

use super::{
    DEFAULT_NAME, ENROLMENT_MINUTES, ISSUER, Mfa, NAME_MAX, accept_totp, has_factor, now_step,
    recovery, target_of, totp,
};
use crate::accounts::audit::{self, Actor, action};
use crate::accounts::clock;
use crate::accounts::credentials::rotate_stamp;
use crate::accounts::error::{Error, Result};
use crate::accounts::permissions::{self, Caller};
use crate::accounts::secret::Secret;
use crate::accounts::users;
use crate::entities::{recovery_codes, totp_devices, totp_enrolments, users as user_entity};

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
    let txn = crate::accounts::transaction::begin(db).await?;
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

/// What finishes an enrolment: which one, the device's name, the first code.
#[derive(Clone, Copy)]
pub struct EnrolmentAnswer<'a> {
    pub enrolment_id: i32,
    pub name: &'a str,
    pub code: &'a str,
}

/// A device name as given: trimmed, 1 to 64 characters, no control characters.
pub fn device_name(input: Option<&str>) -> Result<String> {
    let name = input.map(str::trim).unwrap_or("");
    if name.is_empty() {
        return Ok(DEFAULT_NAME.to_string());
    }
    if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            format!("name: 1 to {NAME_MAX} characters"),
        ));
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
    answer: EnrolmentAnswer<'_>,
) -> Result<Enrolled> {
    let EnrolmentAnswer {
        enrolment_id,
        name,
        code,
    } = answer;
    permissions::can_enrol(caller, &target_of(user))?;
    let now = clock::now();
    let pending = totp_enrolments::Entity::find_by_id(enrolment_id)
        .filter(totp_enrolments::Column::UserId.eq(user.user_id))
        .filter(totp_enrolments::Column::Expires.gt(now))
        .one(db)
        .await?
        .ok_or(Error::NotFound)?;
    let secret = mfa.open_secret(user.user_id, &pending.secret)?;
    let step = totp::parse_code(code)
        .and_then(|code| totp::matching_step(&secret, &code, now_step(), mfa.skew_steps))
        .ok_or(Error::WrongMfaCode)?;
    let txn = crate::accounts::transaction::begin(db).await?;
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

/// Renames one of one's own devices (a label only: no factor changes, so the stamp stays).
/// `NotFound` for a device that is not the user's.
pub async fn rename_device(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    caller: &Caller,
    user: &user_entity::Model,
    device_id: i32,
    name: &str,
) -> Result<()> {
    use sea_orm::sea_query::Expr;
    permissions::can_enrol(caller, &target_of(user))?;
    let renamed = totp_devices::Entity::update_many()
        .col_expr(totp_devices::Column::Name, Expr::value(name))
        .filter(totp_devices::Column::Id.eq(device_id))
        .filter(totp_devices::Column::UserId.eq(user.user_id))
        .exec(conn)
        .await?;
    if renamed.rows_affected != 1 {
        return Err(Error::NotFound);
    }
    audit::record(
        conn,
        actor,
        Some((user.user_id, &user.username)),
        action::MFA_RENAMED,
        format!("device={device_id}"),
    )
    .await
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
    let txn = crate::accounts::transaction::begin(db).await?;
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
