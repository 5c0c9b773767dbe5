//! Passwordless sign-in with a passkey (SPEC §13), for the API and the web page alike: verify
//! the browser's answer, then record the sign-in as a password sign-in is recorded.
//!
//! Not throttled like passwords: an answer is a signature over a fresh, single-use challenge
//! of the server's, so there is nothing to guess; every failure is audited.

use sea_orm::TransactionTrait;
use webauthn_rs::prelude::PublicKeyCredential;

use crate::accounts::audit::{self, Actor, action};
use crate::accounts::passkeys;
use crate::accounts::{self, users};
use crate::auth::client_ip::ClientIp;
use crate::entities::users as user_entity;
use crate::error::Result;
use crate::state::AppState;

/// Signs in the owner of the passkey that answered ceremony `ceremony_id`.
pub async fn sign_in_with_passkey(
    state: &AppState,
    ip: ClientIp,
    ceremony_id: &str,
    answer: &PublicKeyCredential,
) -> Result<user_entity::Model> {
    let ip = ip.to_string();
    match passkeys::finish_sign_in(&state.db, &state.passkeys, ceremony_id, answer, None).await {
        Ok(user) => {
            let txn = state.db.begin().await?;
            // `None`: a reset committed in between; the passkey stays valid, the stamp read
            // again is the current one.
            let user = match users::record_login(&txn, &user, &ip).await? {
                Some(user) => user,
                None => users::get(&txn, user.user_id).await?,
            };
            let actor = Actor::user(&user, ip);
            audit::record(
                &txn,
                &actor,
                Some((user.user_id, &user.username)),
                action::LOGIN,
                "passkey".into(),
            )
            .await?;
            txn.commit().await?;
            crate::metrics::sign_in(crate::metrics::SignIn::Passkey);
            Ok(user)
        }
        Err(err @ (accounts::Error::IncorrectCredentials | accounts::Error::AccountDisabled)) => {
            crate::metrics::sign_in(if matches!(err, accounts::Error::AccountDisabled) {
                crate::metrics::SignIn::Disabled
            } else {
                crate::metrics::SignIn::PasskeyRefused
            });
            let anonymous = Actor {
                user_id: None,
                username: String::new(),
                ip,
            };
            let reason = if matches!(err, accounts::Error::AccountDisabled) {
                "account disabled (passkey)"
            } else {
                "passkey not accepted"
            };
            audit::record(
                &state.db,
                &anonymous,
                None,
                action::LOGIN_FAILED,
                reason.into(),
            )
            .await?;
            Err(err.into())
        }
        Err(err) => Err(err.into()),
    }
}
