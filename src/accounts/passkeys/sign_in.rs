//! Signing in with a passkey: passwordless (the passkey proves possession and, with user
//! verification, a second factor), or as the second step after a correct password.

use base64::Engine;
use rand::RngExt;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use webauthn_rs::fake::{FakePasskeyDistribution, WebauthnFakeCredentialGenerator};
use webauthn_rs::prelude::{PasskeyAuthentication, PublicKeyCredential};

use super::ceremony::{self, DECOY, Purpose};
use super::registration::stored;
use super::{Passkeys, credential_key, rows_of};
use crate::accounts::clock;
use crate::accounts::error::{Error, Result};
use crate::accounts::users;
use crate::entities::{passkeys, users as user_entity};

/// Whose passkeys a sign-in asks for.
#[derive(Clone, Copy)]
pub enum SignInFor<'a> {
    /// Passwordless, for the username typed (Crafty's options take it optionally).
    Username(Option<&'a str>),
    /// The second step of `user`, whose password was right.
    SecondFactor(&'a user_entity::Model),
}

/// The `publicKey` options for `navigator.credentials.get` and the ceremony's id. A username
/// that is unknown, disabled or without passkeys gets options of the same shape (decoy
/// credential ids, the same for the same name), so the answer tells nobody whether the account
/// exists or has a passkey; such a ceremony can never finish.
pub async fn start_sign_in(
    conn: &impl ConnectionTrait,
    passkeys: &Passkeys,
    who: SignInFor<'_>,
) -> Result<(String, Value)> {
    let webauthn = passkeys.webauthn()?;
    let (purpose, user) = match who {
        SignInFor::Username(Some(name)) => (
            Purpose::Login,
            users::find_by_username(conn, &name.to_ascii_lowercase())
                .await?
                .filter(|u| u.enabled),
        ),
        SignInFor::Username(None) => (Purpose::Login, None),
        SignInFor::SecondFactor(user) => (Purpose::SecondFactor, Some(user.clone())),
    };
    let keys = match &user {
        Some(user) => rows_of(conn, user.user_id)
            .await?
            .iter()
            .filter_map(|row| stored(row).ok())
            .collect::<Vec<_>>(),
        None => Vec::new(),
    };
    if keys.is_empty() {
        let name = match who {
            SignInFor::Username(name) => name.unwrap_or("").to_ascii_lowercase(),
            SignInFor::SecondFactor(user) => user.username.clone(),
        };
        let options = decoy_options(passkeys, &name)?;
        let id = ceremony::store_raw(conn, purpose, None, DECOY.to_string()).await?;
        return Ok((id, options));
    }
    let (options, state) = webauthn
        .start_passkey_authentication(&keys)
        .map_err(|e| Error::Internal(anyhow::anyhow!("passkey sign-in options: {e}")))?;
    let user_id = user.map(|u| u.user_id);
    let id = ceremony::store(conn, purpose, user_id, &state).await?;
    let options =
        serde_json::to_value(options.public_key).map_err(|e| Error::Internal(e.into()))?;
    Ok((id, options))
}

/// Options shaped like a real sign-in's, with the decoy credential ids of `name`.
fn decoy_options(passkeys: &Passkeys, name: &str) -> Result<Value> {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let generator =
        WebauthnFakeCredentialGenerator::<FakePasskeyDistribution>::new(&passkeys.decoy_key[..])
            .map_err(|e| Error::Internal(anyhow::anyhow!("decoy credentials: {e}")))?;
    let ids = generator
        .generate(name.as_bytes())
        .map_err(|e| Error::Internal(anyhow::anyhow!("decoy credentials: {e}")))?;
    let allow: Vec<Value> = ids
        .iter()
        .map(|id| json!({"type": "public-key", "id": engine.encode::<&[u8]>(id.as_ref())}))
        .collect();
    Ok(json!({
        "challenge": engine.encode(rand::rng().random::<[u8; 32]>()),
        "timeout": 300_000,
        "rpId": passkeys.rp_id,
        "allowCredentials": allow,
        "userVerification": "required",
    }))
}

/// Finishes a sign-in with the browser's answer: the user whose passkey signed the
/// ceremony's challenge (for a second factor, only `second_factor_of`'s own ceremony counts).
/// The passkey's counter and last use are stored; a counter that did not move forward (a
/// cloned authenticator), a wrong signature, an unknown, expired, used or decoy ceremony are
/// all `IncorrectCredentials` and sign nobody in. A disabled account is `AccountDisabled`
/// (after the passkey verified: it tells only the passkey's owner).
pub async fn finish_sign_in(
    conn: &impl ConnectionTrait,
    passkeys: &Passkeys,
    ceremony_id: &str,
    answer: &PublicKeyCredential,
    second_factor_of: Option<i32>,
) -> Result<user_entity::Model> {
    let webauthn = passkeys.webauthn()?;
    let purpose = if second_factor_of.is_some() {
        Purpose::SecondFactor
    } else {
        Purpose::Login
    };
    let taken = ceremony::take(conn, ceremony_id, purpose, second_factor_of)
        .await?
        .ok_or(Error::IncorrectCredentials)?;
    let Some(user_id) = taken.user_id.filter(|_| taken.state != DECOY) else {
        return Err(Error::IncorrectCredentials);
    };
    let row = passkeys::Entity::find()
        .filter(passkeys::Column::UserId.eq(user_id))
        .filter(passkeys::Column::CredentialId.eq(credential_key(answer.get_credential_id())))
        .one(conn)
        .await?
        .ok_or(Error::IncorrectCredentials)?;
    let state: PasskeyAuthentication = taken.state()?;
    let result = webauthn
        .finish_passkey_authentication(answer, &state)
        .map_err(|e| {
            tracing::info!(error = %e, "a passkey sign-in did not verify");
            Error::IncorrectCredentials
        })?;
    // The state above holds the counter of when the ceremony started; the row holds the
    // latest. An authenticator's counter only moves forward: one at or below the stored value
    // is a cloned authenticator or a replay of an older answer.
    let stored_counter = serde_json::from_str::<Value>(&row.credential)
        .ok()
        .and_then(|v| v["cred"]["counter"].as_u64())
        .unwrap_or(0);
    let counter = u64::from(result.counter());
    if (counter > 0 || stored_counter > 0) && counter <= stored_counter {
        tracing::info!("a passkey answered with a counter that did not move forward");
        return Err(Error::IncorrectCredentials);
    }
    let mut key = stored(&row)?;
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
        return Err(Error::IncorrectCredentials);
    }
    let user = users::get(conn, user_id).await?;
    if !user.enabled {
        return Err(Error::AccountDisabled);
    }
    Ok(user)
}
