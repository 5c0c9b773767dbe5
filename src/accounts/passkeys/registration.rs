//! Registering a passkey for oneself: the options (a ceremony), then the browser's answer.
//! A passkey is registered as discoverable (`residentKey: preferred`, the user's random
//! handle), so that it signs in with nothing typed; one registered before that can be
//! registered again in its place.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
    TransactionSession, TransactionTrait,
};
use serde_json::Value;
use webauthn_rs::prelude::{PasskeyRegistration, RegisterPublicKeyCredential};

use super::ceremony::{self, Purpose};
use super::handle::handle_of;
use super::{Passkeys, credential_key, own_row, rows_of};
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
/// excluded (an authenticator is registered once) — except `replaces`, one of theirs to be
/// registered again in its place, which the same authenticator must be free to answer (the
/// caller has made sure that the user may remove it: on the web, their current password).
pub async fn start_registration(
    conn: &impl ConnectionTrait,
    passkeys: &Passkeys,
    caller: &Caller,
    user: &user_entity::Model,
    replaces: Option<i32>,
) -> Result<(String, Value)> {
    permissions::can_enrol(caller, &target_of(user))?;
    let webauthn = passkeys.webauthn()?;
    let rows = rows_of(conn, user.user_id).await?;
    if replaces.is_some_and(|id| !rows.iter().any(|row| row.id == id)) {
        return Err(Error::NotFound);
    }
    let existing = rows
        .iter()
        .filter(|row| Some(row.id) != replaces)
        .filter_map(|row| stored(row).ok())
        .map(|key| key.cred_id().clone())
        .collect::<Vec<_>>();
    let handle = handle_of(conn, user).await?;
    let (options, state) = webauthn
        .start_passkey_registration(
            handle,
            &user.username,
            &user.username,
            Some(existing).filter(|ids| !ids.is_empty()),
        )
        .map_err(|e| Error::Internal(anyhow::anyhow!("passkey registration options: {e}")))?;
    let ceremony_state = Registering { state, replaces };
    let id = ceremony::store(conn, Purpose::Register, Some(user.user_id), &ceremony_state).await?;
    let mut options =
        serde_json::to_value(options.public_key).map_err(|e| Error::Internal(e.into()))?;
    // `webauthn-rs` asks for no resident key; a discoverable one is what lets the user sign
    // in without typing a name. Preferred, not required: a security key that cannot keep one
    // still registers (and then needs the name typed). The answer is checked the same way.
    options["authenticatorSelection"]["residentKey"] = Value::from("preferred");
    options["authenticatorSelection"]["requireResidentKey"] = Value::from(false);
    Ok((id, options))
}

/// A registration ceremony's state: `webauthn-rs`'s, and the passkey being registered again.
#[derive(serde::Serialize, serde::Deserialize)]
struct Registering {
    state: PasskeyRegistration,
    replaces: Option<i32>,
}

/// A finished registration.
pub struct Registered {
    pub passkey: passkeys::Model,
    /// The user as they are now (a new stamp).
    pub user: user_entity::Model,
    /// The passkey it was registered in place of.
    pub replaced: Option<i32>,
}

/// What finishes a registration: which ceremony, the passkey's name, the browser's answer.
#[derive(Clone, Copy)]
pub struct RegistrationAnswer<'a> {
    pub ceremony_id: &'a str,
    pub name: &'a str,
    pub credential: &'a RegisterPublicKeyCredential,
}

/// Finishes one's own registration with the browser's answer to the ceremony `ceremony_id`:
/// the passkey is stored (in place of the one the ceremony was started to replace, whose name
/// it keeps; `NotFound` if that one is gone meanwhile), the stamp rotated
/// (other sessions and tokens end) and the change audited with the passkey's name, in one
/// transaction. An unknown, expired, used or someone else's ceremony, or an answer that does
/// not verify, is `PasskeyVerificationFailed` and stores nothing.
pub async fn finish_registration<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    passkeys: &Passkeys,
    actor: &Actor,
    caller: &Caller,
    user: &user_entity::Model,
    answer: RegistrationAnswer<'_>,
) -> Result<Registered> {
    let RegistrationAnswer {
        ceremony_id,
        name,
        credential: answer,
    } = answer;
    permissions::can_enrol(caller, &target_of(user))?;
    let webauthn = passkeys.webauthn()?;
    let taken = ceremony::take(db, ceremony_id, &[Purpose::Register], Some(user.user_id))
        .await?
        .ok_or(Error::PasskeyVerificationFailed)?;
    let Registering { state, replaces } = taken.state()?;
    let key = webauthn
        .finish_passkey_registration(answer, &state)
        .map_err(|e| {
            tracing::info!(error = %e, "a passkey registration did not verify");
            Error::PasskeyVerificationFailed
        })?;
    let credential = serde_json::to_string(&key).map_err(|e| Error::Internal(e.into()))?;
    let credential_id = credential_key(key.cred_id().as_ref());
    // The browser says whether the authenticator kept a discoverable credential (unsigned: it
    // only decides what the security page says). Without an answer, it was asked to.
    let discoverable = answer
        .extensions
        .cred_props
        .as_ref()
        .and_then(|props| props.rk)
        != Some(false);
    let txn = crate::accounts::transaction::begin(db).await?;
    // An authenticator already registered (here or by another user) is refused.
    if passkeys::Entity::find()
        .filter(passkeys::Column::CredentialId.eq(credential_id.as_str()))
        .count(&txn)
        .await?
        > 0
    {
        return Err(Error::PasskeyVerificationFailed);
    }
    let replaced = match replaces {
        Some(id) => {
            let old = own_row(&txn, user.user_id, id).await?;
            passkeys::Entity::delete_by_id(old.id).exec(&txn).await?;
            Some(old)
        }
        None => None,
    };
    let row = passkeys::ActiveModel {
        user_id: Set(user.user_id),
        credential_id: Set(credential_id),
        name: Set(replaced
            .as_ref()
            .map_or_else(|| name.to_string(), |old| old.name.clone())),
        credential: Set(credential),
        created: Set(clock::now()),
        last_used: Set(None),
        discoverable: Set(discoverable),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    rotate_stamp(&txn, user.user_id).await?;
    let replaced = replaced.map(|old| old.id);
    let replaced_pair = replaced.map_or_else(String::new, |id| format!("replaced={id} "));
    audit::record(
        &txn,
        actor,
        Some((user.user_id, &user.username)),
        action::PASSKEY_ADDED,
        format!(
            "passkey={} discoverable={discoverable} {replaced_pair}{}",
            row.id,
            audit::trailing_name(&row.name)
        ),
    )
    .await?;
    let user = users::get(&txn, user.user_id).await?;
    txn.commit().await?;
    Ok(Registered {
        passkey: row,
        user,
        replaced,
    })
}

/// The stored `Passkey` of a row.
pub(super) fn stored(row: &passkeys::Model) -> Result<webauthn_rs::prelude::Passkey> {
    serde_json::from_str(&row.credential).map_err(|e| Error::Internal(e.into()))
}
