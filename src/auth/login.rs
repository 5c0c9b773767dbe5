//! The one login path, used by the web form and the API: throttle, verify, record.

use crate::accounts::audit::{self, Actor, action};
use crate::accounts::login::authenticate;
use crate::accounts::secret::Secret;
use crate::accounts::users;
use crate::auth::client_ip::ClientIp;
use crate::auth::throttle::{self, Keys};
use crate::entities::users as user_entity;
use crate::error::{Error, Result};
use crate::state::AppState;
use sea_orm::TransactionTrait;

/// Checks the throttle, then the credentials. A throttled attempt authenticates nobody.
/// Successes and failures are audited (never with the password).
pub async fn login(
    state: &AppState,
    ip: ClientIp,
    username: &str,
    password: &Secret,
) -> Result<user_entity::Model> {
    let ip_text = ip.to_string();
    let keys = Keys::login(&state.signing_key, ip.0, username);
    throttle::reserve(&state.db, &state.config.throttle, &keys).await?;
    let attempted = users::find_by_username(&state.db, username).await?;
    let target = attempted.as_ref().map(|u| (u.user_id, u.username.clone()));
    let target = target.as_ref().map(|(id, name)| (*id, name.as_str()));
    let outcome = match authenticate(&state.hasher, attempted, password).await {
        Ok(user) => signed_in(state, &keys, &user, &ip_text, target)
            .await?
            .ok_or(Error::IncorrectCredentials),
        Err(err) => Err(err),
    };
    let anonymous = Actor {
        user_id: None,
        username: String::new(),
        ip: ip_text.clone(),
    };
    match outcome {
        Ok(user) => Ok(user),
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
        Err(err @ (Error::TempPasswordExpired | Error::AccountDisabled)) => {
            // The password was right: this is no guessing, so it does not count against anyone.
            throttle::succeeded(&state.db, &keys).await?;
            let reason = if matches!(err, Error::TempPasswordExpired) {
                "temporary password expired"
            } else {
                "account disabled"
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
