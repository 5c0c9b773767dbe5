//! Second factors (SPEC §9): TOTP devices with replay protection and recovery codes —
//! enrolment (`enrolment`), sign-in checks (`sign_in`), removal (`removal`); here the
//! settings, the policy and the queries they share. Every factor change rotates the user's
//! stamp in the same transaction and is audited (never with a secret or code).

pub mod cipher;
mod enrolment;
mod key_file;
pub mod recovery;
mod removal;
mod sign_in;
pub mod totp;

pub use enrolment::{
    Enrolled, Enrolment, EnrolmentAnswer, device_name, rename_device, renew_recovery_codes,
    start_enrolment, verify_enrolment,
};
pub use removal::{prune_enrolments, remove_all, remove_device, reset_mfa};
pub use sign_in::{FactorInput, FactorUsed, accept_totp, check_sign_in, use_recovery_code};

use std::collections::HashSet;

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::accounts::error::Result;
use crate::accounts::permissions::{self, Caller};
use crate::config::{MfaConfig, MfaPolicy};
use crate::entities::{passkeys, recovery_codes, totp_devices, users as user_entity};
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
    /// Where the cipher's key comes from, as the log names it when a secret does not open.
    pub key_source: String,
}

impl Mfa {
    /// The cipher's key from the key file, or from `settings` (made on the first start).
    pub async fn load(conn: &impl ConnectionTrait, config: &MfaConfig) -> Result<Self> {
        Ok(Mfa {
            cipher: SecretCipher::load(conn, config.secret_key.as_ref()).await?,
            skew_steps: config.skew_steps,
            policy: config.policy,
            key_source: match &config.secret_key_file {
                Some(path) => format!("the key in PASSGATE_SECRET_KEY_FILE ('{path}')"),
                None => "the key kept in the database (PASSGATE_SECRET_KEY_FILE is not set)".into(),
            },
        })
    }

    /// Opens a user's sealed TOTP secret; one that does not open with this key is
    /// [`Error::MfaUnavailable`](crate::accounts::Error::MfaUnavailable), logged in one line
    /// naming the key.
    pub fn open_secret(&self, user_id: i32, stored: &str) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        self.cipher.open(user_id, stored).map_err(|err| match err {
            crate::accounts::Error::Undecryptable => {
                tracing::error!(
                    user_id,
                    "a TOTP secret does not decrypt with {}: was the key file changed? Put the \
                     old key back, or remove the user's devices with `passgate user reset-mfa`",
                    self.key_source
                );
                crate::accounts::Error::MfaUnavailable
            }
            other => other,
        })
    }

    /// At start: whether a stored TOTP secret opens with this key (logged once if not, so a
    /// changed key file is noticed before a user trips over it).
    pub async fn check_key(&self, conn: &impl ConnectionTrait) -> Result<()> {
        if let Some(device) = totp_devices::Entity::find().one(conn).await? {
            let _ = self.open_secret(device.user_id, &device.secret);
        }
        Ok(())
    }
}

/// Whether `user` must have a second factor: their own flag, the global policy, or a role
/// of theirs with `mfa_required` (`in_mfa_role`, SPEC §14; read with the user on every
/// request, see `users::RowStatus`).
pub fn required(policy: MfaPolicy, user: &user_entity::Model, in_mfa_role: bool) -> bool {
    user.require_mfa
        || in_mfa_role
        || match policy {
            MfaPolicy::None => false,
            MfaPolicy::Superusers => user.superuser,
            MfaPolicy::All => true,
        }
}

/// [`required`] where the user's roles were not read with them: their own flag and the
/// policy first, then (only if those do not decide) one statement for the roles.
pub async fn required_of(
    conn: &impl ConnectionTrait,
    policy: MfaPolicy,
    user: &user_entity::Model,
) -> Result<bool> {
    if required(policy, user, false) {
        return Ok(true);
    }
    crate::accounts::roles::requires_mfa(conn, user.user_id).await
}

/// Whether `user` must have a second factor and has none — held at enrolment (SPEC §9) —
/// from what was read with them (`status`).
pub fn factor_missing(
    policy: MfaPolicy,
    user: &user_entity::Model,
    status: &crate::accounts::users::RowStatus,
) -> bool {
    !status.has_factor && required(policy, user, status.in_mfa_role)
}

pub(crate) fn now_step() -> i64 {
    totp::step_at(time::OffsetDateTime::now_utc().unix_timestamp())
}

pub(crate) use crate::accounts::permissions::target_of;

/// Whether the user has at least one second factor: a TOTP device or a passkey (SPEC §13).
/// One statement (`SELECT EXISTS(…) OR EXISTS(…)`): user rows carry it on every request.
pub async fn has_factor(conn: &impl ConnectionTrait, user_id: i32) -> Result<bool> {
    use sea_orm::sea_query::{Alias, Query};
    let query = Query::select()
        .expr_as(has_factor_expr(user_id), Alias::new("has_factor"))
        .to_owned();
    let statement = conn.get_database_backend().build(&query);
    let row = conn.query_one_raw(statement).await?.ok_or_else(|| {
        crate::accounts::error::Error::Internal(anyhow::anyhow!("no row from EXISTS"))
    })?;
    Ok(row.try_get::<bool>("", "has_factor")?)
}

/// `EXISTS (a TOTP device) OR EXISTS (a passkey)` of the user, for one-statement queries.
pub(crate) fn has_factor_expr(user_id: i32) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    let exists_in = |table: &str| {
        Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(Alias::new(table))
                .and_where(Expr::col(Alias::new("user_id")).eq(user_id))
                .to_owned(),
        )
    };
    exists_in("totp_devices").or(exists_in("passkeys"))
}

/// Whether the user has a TOTP device (what a code at sign-in is checked against).
pub async fn has_totp(conn: &impl ConnectionTrait, user_id: i32) -> Result<bool> {
    Ok(device_count(conn, user_id).await? > 0)
}

pub(crate) async fn device_count(conn: &impl ConnectionTrait, user_id: i32) -> Result<u64> {
    Ok(totp_devices::Entity::find()
        .filter(totp_devices::Column::UserId.eq(user_id))
        .count(conn)
        .await?)
}

/// Which of `user_ids` have a second factor (two queries, for user lists).
pub async fn with_factors(
    conn: &impl ConnectionTrait,
    user_ids: impl IntoIterator<Item = i32>,
) -> Result<HashSet<i32>> {
    let ids: Vec<i32> = user_ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let mut found: HashSet<i32> = totp_devices::Entity::find()
        .select_only()
        .column(totp_devices::Column::UserId)
        .distinct()
        .filter(totp_devices::Column::UserId.is_in(ids.clone()))
        .into_tuple::<i32>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    found.extend(
        passkeys::Entity::find()
            .select_only()
            .column(passkeys::Column::UserId)
            .distinct()
            .filter(passkeys::Column::UserId.is_in(ids))
            .into_tuple::<i32>()
            .all(conn)
            .await?,
    );
    Ok(found)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::clock;

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
            disable_password_auth: false,
            passkey_handle: None,
            theme: "default".into(),
            hints: true,
            server_order: String::new(),
            dashboard_columns: String::new(),
        }
    }

    #[test]
    fn who_must_have_a_factor() {
        use MfaPolicy::*;
        let cases = [
            // (policy, superuser, own flag, in a role with mfa_required, required)
            (None, false, false, false, false),
            (None, true, false, false, false),
            (None, false, true, false, true),
            (None, false, false, true, true),
            (None, true, false, true, true),
            (Superusers, false, false, false, false),
            (Superusers, true, false, false, true),
            (Superusers, false, true, false, true),
            (Superusers, false, false, true, true),
            (All, false, false, false, true),
            (All, true, false, false, true),
        ];
        for (policy, superuser, flag, role, expected) in cases {
            assert_eq!(
                required(policy, &user(superuser, flag), role),
                expected,
                "{policy:?} superuser={superuser} flag={flag} role={role}"
            );
        }
    }

    #[test]
    fn a_factor_is_missing_only_when_required_and_absent() {
        use crate::accounts::users::RowStatus;
        let plain = user(false, false);
        let status = |has_factor, in_mfa_role| RowStatus {
            has_factor,
            link_expires: Option::None,
            in_mfa_role,
            has_roles: Option::None,
        };
        assert!(factor_missing(
            MfaPolicy::None,
            &plain,
            &status(false, true)
        ));
        assert!(!factor_missing(
            MfaPolicy::None,
            &plain,
            &status(true, true)
        ));
        assert!(!factor_missing(
            MfaPolicy::None,
            &plain,
            &status(false, false)
        ));
        assert!(factor_missing(
            MfaPolicy::All,
            &plain,
            &status(false, false)
        ));
    }

    #[test]
    fn device_names_are_checked() {
        assert_eq!(device_name(None).unwrap(), DEFAULT_NAME);
        assert_eq!(device_name(Some("  phone ")).unwrap(), "phone");
        assert!(device_name(Some(&"x".repeat(65))).is_err());
        assert!(device_name(Some("a\u{7}b")).is_err());
    }
}
