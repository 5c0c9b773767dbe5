//! The one sign-in walk, for the web pages and the API alike: the throttle, the proof — a
//! password and its second factor, or a passkey (`auth::passkey_login`) — the rules every
//! sign-in meets whatever the proof (`accounts::login::may_sign_in`: an expired temporary
//! password, a disabled account; password sign-in turned off), then the record and the audit.
//! Where the user goes next (the forced change, enrolment, the dashboard) is decided from the
//! [`SignIn`] by the surface: `web::walk` for the pages, the API's `page`.

use crate::accounts::PasskeyRefusal;
use crate::accounts::audit::{self, Actor, action};
use crate::accounts::login::authenticate;
use crate::accounts::mfa::{self, FactorInput, FactorUsed};
use crate::accounts::secret::Secret;
use crate::accounts::users;
use crate::auth::client_ip::ClientIp;
use crate::auth::throttle::{self, Keys};
use crate::entities::users as user_entity;
use crate::error::{Error, Result};
use crate::metrics::{self, SignIn as Outcome};
use crate::state::AppState;

/// A sign-in that went through.
pub struct SignIn {
    pub user: user_entity::Model,
    /// Which second factor was passed (a passkey counts as one).
    pub factor: FactorUsed,
    /// The user's password was proved in this sign-in.
    pub password_proved: bool,
}

impl SignIn {
    /// The sign-in proved the temporary password: only such a session or token may set a new
    /// password without `current_password` during the forced change (SPEC §3a). A passkey
    /// sign-in of a flagged user is asked for it.
    pub fn proved_temporary(&self) -> bool {
        self.password_proved && self.user.require_password_change
    }
}

/// What a proof established, before it is recorded.
pub(super) struct Proved {
    pub user: user_entity::Model,
    pub factor: FactorUsed,
    pub password: bool,
}

/// Checks the throttle, then the password alone: a user with a second factor gets
/// `MfaRequired` (the web form; the code comes on the next page).
pub async fn login(
    state: &AppState,
    ip: ClientIp,
    username: &str,
    password: &Secret,
) -> Result<SignIn> {
    login_with_factor(state, ip, username, password, FactorInput::default()).await
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
    let keys = Keys::login(&state.signing_key, ip.0, username);
    reserve(state, &keys).await?;
    let attempted = users::find_by_username(&state.db, username).await?;
    let target = attempted.as_ref().map(|u| (u.user_id, u.username.clone()));
    let proved = async {
        let user = authenticate(&state.hasher, attempted, password).await?;
        let factor = mfa::check_sign_in(&state.db, &state.mfa, &user, factor).await?;
        Ok(Proved {
            user,
            factor,
            password: true,
        })
    }
    .await;
    conclude(state, &keys, ip, target_ref(&target), proved, "").await
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
    let keys = Keys::user(&state.signing_key, &user.username);
    reserve(state, &keys).await?;
    let proved = mfa::check_sign_in(&state.db, &state.mfa, user, factor)
        .await
        .map(|factor| Proved {
            user: user.clone(),
            factor,
            password: true,
        })
        .map_err(Error::from);
    let target = Some((user.user_id, user.username.as_str()));
    conclude(state, &keys, ip, target, proved, "").await
}

/// [`throttle::reserve`], counting a refusal as a `locked` sign-in.
pub(super) async fn reserve(state: &AppState, keys: &Keys) -> Result<()> {
    let reserved = throttle::reserve(&state.db, &state.config.throttle, keys).await;
    if let Err(Error::TooManyAttempts { .. }) = reserved {
        metrics::sign_in(Outcome::Locked);
    }
    reserved
}

/// The sign-in counter's outcome of an attempt (`None`: a right password whose second factor
/// is still to come is no outcome yet).
fn counted(outcome: &Result<SignIn>, known_user: bool) -> Option<Outcome> {
    Some(match outcome {
        Ok(signed_in) if !signed_in.password_proved => Outcome::Passkey,
        Ok(_) => Outcome::Success,
        Err(Error::IncorrectCredentials) if known_user => Outcome::WrongPassword,
        Err(Error::IncorrectCredentials) => Outcome::UnknownUser,
        Err(Error::IncorrectMfa) => Outcome::SecondFactorWrong,
        Err(Error::PasskeyNotAccepted(_)) => Outcome::PasskeyRefused,
        Err(Error::TempPasswordExpired) => Outcome::TempPasswordExpired,
        Err(Error::AccountDisabled) => Outcome::Disabled,
        Err(Error::PasswordAuthDisabled) => Outcome::PasswordNotAllowed,
        Err(_) => return None,
    })
}

fn target_ref(target: &Option<(i32, String)>) -> Option<(i32, &str)> {
    target.as_ref().map(|(id, name)| (*id, name.as_str()))
}

/// The end of every attempt, whatever the proof: a success is recorded (`detail` names the
/// proof in the audit entry); each refusal counts in the throttle as what it is — a wrong
/// password, code or passkey as a failure, a right proof refused by a rule as no guess — and
/// is audited.
pub(super) async fn conclude(
    state: &AppState,
    keys: &Keys,
    ip: ClientIp,
    target: Option<(i32, &str)>,
    proved: Result<Proved>,
    detail: &str,
) -> Result<SignIn> {
    let ip = ip.to_string();
    let outcome = match proved {
        Ok(proved) => match signed_in(state, keys, &proved.user, &ip, target, detail).await? {
            Some(user) => Ok(SignIn {
                user,
                factor: proved.factor,
                password_proved: proved.password,
            }),
            // A reset or change committed meanwhile: what was proved may be gone.
            None if proved.password => Err(Error::IncorrectCredentials),
            None => Err(Error::PasskeyNotAccepted(PasskeyRefusal::Unknown)),
        },
        Err(err) => Err(err),
    };
    if let Some(counted) = counted(&outcome, target.is_some()) {
        metrics::sign_in(counted);
    }
    let anonymous = Actor {
        user_id: None,
        username: String::new(),
        ip: ip.clone(),
    };
    let refused = |reason: &str| {
        let reason = reason.to_string();
        let anonymous = &anonymous;
        async move { audit::record(&state.db, anonymous, target, action::LOGIN_FAILED, reason).await }
    };
    match outcome {
        Ok(signed_in) => {
            audit_recovery_code(state, &signed_in, &ip).await?;
            Ok(signed_in)
        }
        Err(err @ Error::MfaRequired) => {
            // The password was right and no code was tried: no guess to count.
            throttle::not_a_guess(&state.db, keys).await?;
            Err(err)
        }
        Err(
            err
            @ (Error::IncorrectMfa | Error::IncorrectCredentials | Error::PasskeyNotAccepted(_)),
        ) => {
            throttle::failed(&state.db, &state.config.throttle, keys).await?;
            refused(match err {
                Error::IncorrectMfa => "incorrect second factor",
                Error::PasskeyNotAccepted(_) => "passkey not accepted",
                _ => "incorrect credentials",
            })
            .await?;
            Err(err)
        }
        Err(
            err @ (Error::TempPasswordExpired
            | Error::AccountDisabled
            | Error::PasswordAuthDisabled),
        ) => {
            // The proof was right: this is no guessing, so it does not count against anyone.
            throttle::succeeded(&state.db, keys).await?;
            refused(match err {
                Error::TempPasswordExpired => "temporary password expired",
                Error::AccountDisabled => "account disabled",
                _ => "password sign-in turned off (passkey)",
            })
            .await?;
            Err(err)
        }
        Err(err) => Err(err),
    }
}

/// Records a sign-in whose proof was right, in one transaction: the login time and address,
/// the attempt taken back from the throttle, the audit entry. `None` (nothing recorded) when a
/// reset or change committed during the check: what was checked may no longer be the user's
/// (the stamp check of `record_login`).
async fn signed_in(
    state: &AppState,
    keys: &Keys,
    user: &user_entity::Model,
    ip: &str,
    target: Option<(i32, &str)>,
    detail: &str,
) -> Result<Option<user_entity::Model>> {
    let txn = crate::accounts::transaction::begin(&state.db).await?;
    let Some(user) = users::record_login(&txn, user, ip).await? else {
        return Ok(None);
    };
    throttle::succeeded(&txn, keys).await?;
    let actor = Actor::user(&user, ip.to_string());
    audit::record(&txn, &actor, target, action::LOGIN, detail.to_string()).await?;
    txn.commit().await?;
    Ok(Some(user))
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
