//! Registering a passkey for oneself: the options (a ceremony), then the browser's answer.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
    TransactionSession, TransactionTrait,
};
use serde_json::Value;
use webauthn_rs::prelude::{PasskeyRegistration, RegisterPublicKeyCredential};

use super::ceremony::{self, Purpose};
use super::{Passkeys, credential_key, rows_of, user_handle};
use crate::accounts::audit::{self, Actor, action};
use crate::accounts::clock;
use crate::accounts::credentials::rotate_stamp;
use crate::accounts::error::{Error, Result};
use crate::accounts::permissions::target_of;
use crate::accounts::permissions::{self, Caller};
use crate::accounts::users;
use crate::entities::{passkeys, users as user_entity};

/// Starts registering a passkey for oneself: the `publicKey` options for
/// `navigator.credentials.create` and the ceremony's id. The user's existing passkeys are
/// excluded (an authenticator is registered once).
pub async fn start_registration(
    conn: &impl ConnectionTrait,
    passkeys: &Passkeys,
    caller: &Caller,
    user: &user_entity::Model,
) -> Result<(String, Value)> {
    permissions::can_enrol(caller, &target_of(user))?;
    let webauthn = passkeys.webauthn()?;
    let existing = rows_of(conn, user.user_id)
        .await?
        .iter()
        .filter_map(|row| stored(row).ok())
        .map(|key| key.cred_id().clone())
        .collect::<Vec<_>>();
    let (options, state) = webauthn
        .start_passkey_registration(
            user_handle(user.user_id),
            &user.username,
            &user.username,
            Some(existing).filter(|ids| !ids.is_empty()),
        )
        .map_err(|e| Error::Internal(anyhow::anyhow!("passkey registration options: {e}")))?;
    let id = ceremony::store(conn, Purpose::Register, Some(user.user_id), &state).await?;
    let options =
        serde_json::to_value(options.public_key).map_err(|e| Error::Internal(e.into()))?;
    Ok((id, options))
}

/// What finishes a registration: which ceremony, the passkey's name, the browser's answer.
#[derive(Clone, Copy)]
pub struct RegistrationAnswer<'a> {
    pub ceremony_id: &'a str,
    pub name: &'a str,
    pub credential: &'a RegisterPublicKeyCredential,
}

/// Finishes one's own registration with the browser's answer to the ceremony `ceremony_id`:
/// the passkey is stored, the stamp rotated (other sessions and tokens end) and the change
/// audited, in one transaction. An unknown, expired, used or someone else's ceremony, or an
/// answer that does not verify, is `PasskeyVerificationFailed` and stores nothing.
pub async fn finish_registration<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    passkeys: &Passkeys,
    actor: &Actor,
    caller: &Caller,
    user: &user_entity::Model,
    answer: RegistrationAnswer<'_>,
) -> Result<(passkeys::Model, user_entity::Model)> {
    let RegistrationAnswer {
        ceremony_id,
        name,
        credential: answer,
    } = answer;
    permissions::can_enrol(caller, &target_of(user))?;
    let webauthn = passkeys.webauthn()?;
    let taken = ceremony::take(db, ceremony_id, Purpose::Register, Some(user.user_id))
        .await?
        .ok_or(Error::PasskeyVerificationFailed)?;
    let state: PasskeyRegistration = taken.state()?;
    let key = webauthn
        .finish_passkey_registration(answer, &state)
        .map_err(|e| {
            tracing::info!(error = %e, "a passkey registration did not verify");
            Error::PasskeyVerificationFailed
        })?;
    let credential = serde_json::to_string(&key).map_err(|e| Error::Internal(e.into()))?;
    let credential_id = credential_key(key.cred_id().as_ref());
    let txn = db.begin().await?;
    // An authenticator already registered (here or by another user) is refused.
    if passkeys::Entity::find()
        .filter(passkeys::Column::CredentialId.eq(credential_id.as_str()))
        .count(&txn)
        .await?
        > 0
    {
        return Err(Error::PasskeyVerificationFailed);
    }
    let row = passkeys::ActiveModel {
        user_id: Set(user.user_id),
        credential_id: Set(credential_id),
        name: Set(name.to_string()),
        credential: Set(credential),
        created: Set(clock::now()),
        last_used: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    rotate_stamp(&txn, user.user_id).await?;
    audit::record(
        &txn,
        actor,
        Some((user.user_id, &user.username)),
        action::PASSKEY_ADDED,
        format!("passkey={}", row.id),
    )
    .await?;
    let user = users::get(&txn, user.user_id).await?;
    txn.commit().await?;
    Ok((row, user))
}

/// The stored `Passkey` of a row.
pub(super) fn stored(row: &passkeys::Model) -> Result<webauthn_rs::prelude::Passkey> {
    serde_json::from_str(&row.credential).map_err(|e| Error::Internal(e.into()))
}
