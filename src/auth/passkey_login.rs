//! Signing in with a passkey (SPEC §13), for the API and the web pages alike: the passkey is
//! the proof, everything else is the sign-in walk of `auth::login` — the throttle (the
//! address's bucket and the bucket of the passkey's owner), the rules every sign-in meets, the
//! record and the audit.

use webauthn_rs::prelude::PublicKeyCredential;

use crate::accounts::login::may_sign_in;
use crate::accounts::mfa::FactorUsed;
use crate::accounts::passkeys;
use crate::auth::client_ip::ClientIp;
use crate::auth::login::{Proved, SignIn, conclude};
use crate::auth::throttle::Keys;
use crate::entities::users as user_entity;
use crate::error::Result;
use crate::state::AppState;

/// Signs in the owner of the passkey that answered ceremony `ceremony_id` (with a typed name
/// or none). The user is known from the answer before anything is checked, so a locked
/// bucket refuses the attempt before the passkey counts.
pub async fn sign_in_with_passkey(
    state: &AppState,
    ip: ClientIp,
    ceremony_id: &str,
    answer: &PublicKeyCredential,
) -> Result<SignIn> {
    let owner = passkeys::owner_of(&state.db, answer).await?;
    let keys = Keys::passkey(
        &state.signing_key,
        ip.0,
        owner.as_ref().map(|user| user.username.as_str()),
    );
    super::login::reserve(state, &keys).await?;
    let checked =
        passkeys::finish_sign_in(&state.db, &state.passkeys, ceremony_id, answer, None).await;
    let proved = proved_by_passkey(checked, false);
    let target = owner
        .as_ref()
        .map(|user| (user.user_id, user.username.as_str()));
    conclude(state, &keys, ip, target, proved, "passkey").await
}

/// The second step of `user`'s sign-in (their password was right) answered by one of their
/// passkeys, throttled in the user's bucket as a code is.
pub async fn second_factor_passkey(
    state: &AppState,
    ip: ClientIp,
    user: &user_entity::Model,
    ceremony_id: &str,
    answer: &PublicKeyCredential,
) -> Result<SignIn> {
    let keys = Keys::user(&state.signing_key, &user.username);
    super::login::reserve(state, &keys).await?;
    let checked = passkeys::finish_sign_in(
        &state.db,
        &state.passkeys,
        ceremony_id,
        answer,
        Some(user.user_id),
    )
    .await;
    let proved = proved_by_passkey(checked, true);
    let target = Some((user.user_id, user.username.as_str()));
    conclude(state, &keys, ip, target, proved, "").await
}

/// The passkey's owner, once the rules every sign-in meets let them in (`password`: their
/// password was proved before, in this sign-in).
fn proved_by_passkey(
    checked: crate::accounts::Result<user_entity::Model>,
    password: bool,
) -> Result<Proved> {
    let user = checked.and_then(may_sign_in)?;
    Ok(Proved {
        user,
        factor: FactorUsed::Passkey,
        password,
    })
}
