//! Signing in with a passkey: with nothing typed (a discoverable passkey names its user by
//! the handle it carries), for the username typed, or as the second step after a correct
//! password. This checks the passkey alone; the rules every sign-in meets (a disabled
//! account, an expired temporary password, the throttle, the audit) are the sign-in walk's
//! (`auth::login`).

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, PasskeyAuthentication, PublicKeyCredential,
    RequestChallengeResponse,
};

use super::ceremony::{self, DECOY, Purpose};
use super::registration::stored;
use super::{Passkeys, credential_key, decoy, handle, rows_of};
use crate::accounts::clock;
use crate::accounts::error::{Error, PasskeyRefusal, Result};
use crate::accounts::users;
use crate::entities::{passkeys, users as user_entity};

/// Whose passkeys a sign-in asks for.
#[derive(Clone, Copy)]
pub enum SignInFor<'a> {
    /// Nothing typed: any discoverable passkey of this site (an empty `allowCredentials`;
    /// the browser may offer it in the username field's autofill).
    Anyone,
    /// The username typed (Crafty's options take it optionally).
    Username(&'a str),
    /// The second step of `user`, whose password was right.
    SecondFactor(&'a user_entity::Model),
}

impl<'a> SignInFor<'a> {
    /// `Anyone` for a missing or blank name, else that name.
    pub fn typed(name: Option<&'a str>) -> Self {
        match name.map(str::trim).filter(|name| !name.is_empty()) {
            Some(name) => SignInFor::Username(name),
            None => SignInFor::Anyone,
        }
    }
}

/// The `publicKey` options for `navigator.credentials.get` and the ceremony's id.
///
/// With a name, the options list the credential ids of that user's passkeys; a name that is
/// unknown, disabled or without passkeys gets options of the same shape (`decoy`): a list of
/// ids, the same for the same name, in a ceremony that can never finish — the answer tells
/// nobody whether the account exists or has a passkey. No list carries transport hints, so
/// that the shape of a real one tells nothing either.
pub async fn start_sign_in(
    conn: &impl ConnectionTrait,
    passkeys: &Passkeys,
    who: SignInFor<'_>,
) -> Result<(String, Value)> {
    let webauthn = passkeys.webauthn()?;
    let internal = |e: webauthn_rs::prelude::WebauthnError| {
        Error::Internal(anyhow::anyhow!("passkey sign-in options: {e}"))
    };
    let (purpose, user, name) = match who {
        SignInFor::Anyone => {
            let (options, state) = webauthn
                .start_discoverable_authentication()
                .map_err(internal)?;
            let id = ceremony::store(conn, Purpose::Discoverable, None, &state).await?;
            return Ok((id, options_json(options)?));
        }
        SignInFor::Username(name) => {
            let name = name.trim().to_ascii_lowercase();
            let user = users::find_by_username(conn, &name)
                .await?
                .filter(|u| u.enabled);
            (Purpose::Login, user, name)
        }
        SignInFor::SecondFactor(user) => (
            Purpose::SecondFactor,
            Some(user.clone()),
            user.username.clone(),
        ),
    };
    let keys = match &user {
        Some(user) => rows_of(conn, user.user_id)
            .await?
            .iter()
            .filter_map(|row| stored(row).ok())
            .collect::<Vec<_>>(),
        None => Vec::new(),
    };
    let (options, state) = webauthn
        .start_passkey_authentication(&keys)
        .map_err(internal)?;
    let options = options_json(options)?;
    if keys.is_empty() {
        let options = decoy::with_decoys(options, &passkeys.decoy_key, &name)?;
        let id = ceremony::store_raw(conn, purpose, None, DECOY.to_string()).await?;
        return Ok((id, options));
    }
    let user_id = user.map(|u| u.user_id);
    let id = ceremony::store(conn, purpose, user_id, &state).await?;
    Ok((id, options))
}

/// The `publicKey` options as sent: without the transport hints of each credential, which a
/// decoy could only guess. (The mediation, for the autofill, is the page's to choose.)
fn options_json(options: RequestChallengeResponse) -> Result<Value> {
    let mut options =
        serde_json::to_value(options.public_key).map_err(|e| Error::Internal(e.into()))?;
    if let Some(allowed) = options["allowCredentials"].as_array_mut() {
        for credential in allowed.iter_mut().filter_map(Value::as_object_mut) {
            credential.remove("transports");
        }
    }
    Ok(options)
}

/// The owner of the passkey that answered (found by the credential id, unique across users),
/// before anything is checked: whose throttle bucket the attempt counts in. `None` for a
/// credential id registered to nobody.
pub async fn owner_of(
    conn: &impl ConnectionTrait,
    answer: &PublicKeyCredential,
) -> Result<Option<user_entity::Model>> {
    match row_of(conn, answer).await? {
        Some(row) => users::find_by_id(conn, row.user_id).await,
        None => Ok(None),
    }
}

async fn row_of(
    conn: &impl ConnectionTrait,
    answer: &PublicKeyCredential,
) -> Result<Option<passkeys::Model>> {
    Ok(passkeys::Entity::find()
        .filter(passkeys::Column::CredentialId.eq(credential_key(answer.get_credential_id())))
        .one(conn)
        .await?)
}

/// Finishes a sign-in with the browser's answer to ceremony `ceremony_id`: the owner of the
/// passkey that signed its challenge. A passwordless ceremony (typed name or none) is finished
/// with `second_factor_of = None`; the second step only with its user's own ceremony.
///
/// The passkey's counter and last use are stored. Nobody is signed in, with the cause
/// (`PasskeyNotAccepted`), when the ceremony is unknown, expired, used or a decoy, when the
/// passkey is not the named user's (or, with nothing typed, its handle does not name its
/// owner), when the signature does not verify, or when the counter did not move forward
/// (a cloned authenticator or a replayed answer).
pub async fn finish_sign_in(
    conn: &impl ConnectionTrait,
    passkeys: &Passkeys,
    ceremony_id: &str,
    answer: &PublicKeyCredential,
    second_factor_of: Option<i32>,
) -> Result<user_entity::Model> {
    let refused = |why| Error::PasskeyNotAccepted(why);
    let webauthn = passkeys.webauthn()?;
    let purposes: &[Purpose] = if second_factor_of.is_some() {
        &[Purpose::SecondFactor]
    } else {
        &[Purpose::Login, Purpose::Discoverable]
    };
    let taken = ceremony::take(conn, ceremony_id, purposes, second_factor_of)
        .await?
        .ok_or(refused(PasskeyRefusal::Expired))?;
    // A decoy was offered for a name without passkeys: no passkey is that account's.
    if taken.state == DECOY {
        return Err(refused(PasskeyRefusal::Unknown));
    }
    let row = row_of(conn, answer)
        .await?
        .ok_or(refused(PasskeyRefusal::Unknown))?;
    let owner = users::get(conn, row.user_id).await?;
    let key = stored(&row)?;
    let verified = match taken.purpose {
        Purpose::Discoverable => {
            let (handle, _) = webauthn
                .identify_discoverable_authentication(answer)
                .map_err(|_| refused(PasskeyRefusal::Invalid))?;
            if !handle::names_owner(handle, &owner, !row.discoverable) {
                return Err(refused(PasskeyRefusal::Unknown));
            }
            let state: DiscoverableAuthentication = taken.state()?;
            webauthn.finish_discoverable_authentication_v2(answer, state, &key)
        }
        _ => {
            if taken.user_id != Some(row.user_id) {
                return Err(refused(PasskeyRefusal::Unknown));
            }
            let state: PasskeyAuthentication = taken.state()?;
            webauthn.finish_passkey_authentication(answer, &state)
        }
    };
    let result = verified.map_err(|e| {
        tracing::info!(error = %e, "a passkey sign-in did not verify");
        refused(PasskeyRefusal::Invalid)
    })?;
    // The row holds the latest counter. An authenticator's counter only moves forward: one at
    // or below the stored value is a cloned authenticator or a replay of an older answer.
    let stored_counter = serde_json::from_str::<Value>(&row.credential)
        .ok()
        .and_then(|v| v["cred"]["counter"].as_u64())
        .unwrap_or(0);
    let counter = u64::from(result.counter());
    if (counter > 0 || stored_counter > 0) && counter <= stored_counter {
        tracing::info!("a passkey answered with a counter that did not move forward");
        return Err(refused(PasskeyRefusal::Invalid));
    }
    let mut key = key;
    key.update_credential(&result);
    let credential = serde_json::to_string(&key).map_err(|e| Error::Internal(e.into()))?;
    // Conditional on the credential read above: of two answers racing with the same
    // authenticator, one moves the counter and the other finds it moved.
    let updated = passkeys::Entity::update_many()
        .col_expr(passkeys::Column::Credential, Expr::value(credential))
        .col_expr(passkeys::Column::LastUsed, Expr::value(Some(clock::now())))
        .filter(passkeys::Column::Id.eq(row.id))
        .filter(passkeys::Column::Credential.eq(row.credential.as_str()))
        .exec(conn)
        .await?;
    if updated.rows_affected != 1 {
        return Err(refused(PasskeyRefusal::Invalid));
    }
    users::get(conn, row.user_id).await
}
