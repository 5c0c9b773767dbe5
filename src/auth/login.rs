//! The one login path, used by the web form and the API: throttle, verify the password, then
//! the second factor, record.

use crate::accounts::audit::{self, Actor, action};
use crate::accounts::login::authenticate;
use crate::accounts::mfa::{self, FactorInput, FactorUsed};
use crate::accounts::secret::Secret;
use crate::accounts::{self, users};
use crate::auth::client_ip::ClientIp;
use crate::auth::throttle::{self, Keys};
use crate::entities::users as user_entity;
use crate::error::{Error, Result};
use crate::metrics::{self, SignIn as Outcome};
use crate::state::AppState;
use sea_orm::TransactionTrait;

/// A sign-in that went through.
pub struct SignIn {
    pub user: user_entity::Model,
    /// Which second factor was passed.
    pub factor: FactorUsed,
}

/// Checks the throttle, then the password alone: a user with a second factor gets
/// `MfaRequired` (the web form, until its code page exists).
pub async fn login(
    state: &AppState,
    ip: ClientIp,
    username: &str,
    password: &Secret,
) -> Result<user_entity::Model> {
    login_with_factor(state, ip, username, password, FactorInput::default())
        .await
        .map(|signed_in| signed_in.user)
}

/// Checks the throttle, then the credentials, then (for a user with a device) the second
/// factor. A throttled attempt authenticates nobody. A wrong password is
/// `IncorrectCredentials` whatever codes were sent; after a right one, no code is
/// `MfaRequired` (not counted: it is no guess) and a wrong code `IncorrectMfa` (counted in
/// the user's bucket, so codes cannot be brute-forced). Successes and failures are audited
/// (never with a password or code).
pub async fn login_with_factor(
    state: &AppState,
    ip: ClientIp,
    username: &str,
    password: &Secret,
    factor: FactorInput<'_>,
) -> Result<SignIn> {
    let ip_text = ip.to_string();
    let keys = Keys::login(&state.signing_key, ip.0, username);
    reserve(state, &keys).await?;
    let attempted = users::find_by_username(&state.db, username).await?;
    let known = attempted.is_some();
    let target = attempted.as_ref().map(|u| (u.user_id, u.username.clone()));
    let target = target.as_ref().map(|(id, name)| (*id, name.as_str()));
    let outcome = match authenticate(&state.hasher, attempted, password).await {
        Ok(user) => match mfa::check_sign_in(&state.db, &state.mfa, &user, factor).await {
            Ok(used) => signed_in(state, &keys, &user, &ip_text, target)
                .await?
                .map(|user| SignIn { user, factor: used })
                .ok_or(Error::IncorrectCredentials),
            Err(err) => Err(err.into()),
        },
        Err(err) => Err(err.into()),
    };
    let anonymous = Actor {
        user_id: None,
        username: String::new(),
        ip: ip_text.clone(),
    };
    match &outcome {
        Ok(_) => metrics::sign_in(Outcome::Success),
        Err(Error::IncorrectCredentials) if known => metrics::sign_in(Outcome::WrongPassword),
        Err(Error::IncorrectCredentials) => metrics::sign_in(Outcome::UnknownUser),
        Err(Error::IncorrectMfa) => metrics::sign_in(Outcome::SecondFactorWrong),
        Err(Error::TempPasswordExpired) => metrics::sign_in(Outcome::TempPasswordExpired),
        Err(Error::AccountDisabled) => metrics::sign_in(Outcome::Disabled),
        Err(Error::PasswordAuthDisabled) => metrics::sign_in(Outcome::PasswordNotAllowed),
        // A right password whose second factor is still to come is no outcome yet.
        Err(_) => {}
    }
    match outcome {
        Ok(signed_in) => {
            audit_recovery_code(state, &signed_in, &ip_text).await?;
            Ok(signed_in)
        }
        Err(err @ Error::MfaRequired) => {
            // The password was right and no code was tried: no guess to count.
            throttle::not_a_guess(&state.db, &keys).await?;
            Err(err)
        }
        Err(err @ Error::IncorrectMfa) => {
            wrong_factor(state, &keys, &anonymous, target).await?;
            Err(err)
        }
        Err(err @ Error::IncorrectCredentials) => {
            throttle::failed(&state.db, &state.config.throttle, &keys).await?;
            audit::record(
                &state.db,
                &anonymous,
                target,
                action::LOGIN_FAILED,
                "incorrect credentials".into(),
            )
            .await?;
            Err(err)
        }
        Err(
            err @ (Error::TempPasswordExpired
            | Error::AccountDisabled
            | Error::PasswordAuthDisabled),
        ) => {
            // The password was right: this is no guessing, so it does not count against anyone.
            throttle::succeeded(&state.db, &keys).await?;
            let reason = match err {
                Error::TempPasswordExpired => "temporary password expired",
                Error::AccountDisabled => "account disabled",
                _ => "password sign-in turned off (passkey)",
            };
            audit::record(
                &state.db,
                &anonymous,
                target,
                action::LOGIN_FAILED,
                reason.into(),
            )
            .await?;
            Err(err)
        }
        Err(err) => Err(err),
    }
}

/// [`throttle::reserve`], counting a refusal as a `locked` sign-in.
async fn reserve(state: &AppState, keys: &Keys) -> Result<()> {
    let reserved = throttle::reserve(&state.db, &state.config.throttle, keys).await;
    if let Err(Error::TooManyAttempts { .. }) = reserved {
        metrics::sign_in(Outcome::Locked);
    }
    reserved
}

/// Records a sign-in whose password was right, in one transaction: the login time and address,
/// the attempt taken back from the throttle, the audit entry. `None` (nothing recorded) when a
/// reset or change committed during the slow password check: the password checked may no
/// longer be the user's (the stamp check of `record_login`).
async fn signed_in(
    state: &AppState,
    keys: &Keys,
    user: &user_entity::Model,
    ip: &str,
    target: Option<(i32, &str)>,
) -> Result<Option<user_entity::Model>> {
    let txn = state.db.begin().await?;
    let Some(user) = users::record_login(&txn, user, ip).await? else {
        return Ok(None);
    };
    throttle::succeeded(&txn, keys).await?;
    let actor = Actor::user(&user, ip.to_string());
    audit::record(&txn, &actor, target, action::LOGIN, String::new()).await?;
    txn.commit().await?;
    Ok(Some(user))
}

/// A wrong second factor: counted in the user's throttle bucket (codes cannot be
/// brute-forced) and audited (never with the code).
async fn wrong_factor(
    state: &AppState,
    keys: &Keys,
    anonymous: &Actor,
    target: Option<(i32, &str)>,
) -> Result<()> {
    throttle::failed(&state.db, &state.config.throttle, keys).await?;
    audit::record(
        &state.db,
        anonymous,
        target,
        action::LOGIN_FAILED,
        "incorrect second factor".into(),
    )
    .await?;
    Ok(())
}

async fn audit_recovery_code(state: &AppState, signed_in: &SignIn, ip: &str) -> Result<()> {
    if let FactorUsed::RecoveryCode { left } = signed_in.factor {
        let user = &signed_in.user;
        audit::record(
            &state.db,
            &Actor::user(user, ip.to_string()),
            Some((user.user_id, &user.username)),
            action::RECOVERY_CODE_USED,
            format!("left={left}"),
        )
        .await?;
    }
    Ok(())
}

/// The second step of a web sign-in whose password was right (the *second factor pending*
/// state, `auth::pending`): a TOTP or recovery code of `user`, throttled and audited as at
/// `/auth/login`. `IncorrectMfa` for a wrong, used or replayed code; nothing is sent:
/// `MfaRequired`.
pub async fn second_factor(
    state: &AppState,
    ip: ClientIp,
    user: &user_entity::Model,
    factor: FactorInput<'_>,
) -> Result<SignIn> {
    let ip_text = ip.to_string();
    let keys = Keys::user(&state.signing_key, &user.username);
    reserve(state, &keys).await?;
    let target = Some((user.user_id, user.username.as_str()));
    let anonymous = Actor {
        user_id: None,
        username: String::new(),
        ip: ip_text.clone(),
    };
    match mfa::check_sign_in(&state.db, &state.mfa, user, factor).await {
        Ok(used) => {
            let signed_in = signed_in(state, &keys, user, &ip_text, target)
                .await?
                .map(|user| SignIn { user, factor: used })
                .ok_or(Error::IncorrectCredentials)?;
            metrics::sign_in(Outcome::Success);
            audit_recovery_code(state, &signed_in, &ip_text).await?;
            Ok(signed_in)
        }
        Err(accounts::Error::IncorrectMfa) => {
            metrics::sign_in(Outcome::SecondFactorWrong);
            wrong_factor(state, &keys, &anonymous, target).await?;
            Err(Error::IncorrectMfa)
        }
        Err(err) => {
            throttle::not_a_guess(&state.db, &keys).await?;
            Err(err.into())
        }
    }
}

/// Records a sign-in finished with a passkey as the second factor (the ceremony was checked
/// by `accounts::passkeys`).
pub async fn second_factor_passkey(
    state: &AppState,
    ip: ClientIp,
    user: &user_entity::Model,
) -> Result<user_entity::Model> {
    let keys = Keys::user(&state.signing_key, &user.username);
    let target = Some((user.user_id, user.username.as_str()));
    let user = signed_in(state, &keys, user, &ip.to_string(), target)
        .await?
        .ok_or(Error::IncorrectCredentials)?;
    metrics::sign_in(Outcome::Success);
    Ok(user)
}
