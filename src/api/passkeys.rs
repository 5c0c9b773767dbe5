//! Passkey routes (Crafty's, SPEC §13): sign-in options and verify under /auth/passkey/login;
//! a user's passkeys under /users/{id}/passkeys (list, start a registration, finish it,
//! remove one). Thin: the rules are in `accounts::passkeys`.

use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::accounts::clock;
use crate::accounts::passkeys::{self, SignInFor};
use crate::api::auth::signed_in_data;
use crate::api::caller::ApiCaller;
use crate::api::mfa::with_fresh_token;
use crate::api::openapi::{
    ListPasskeysErrors, PasskeyOptionsErrors, PasskeySignInErrors, RegisterPasskeyErrors,
    RemovePasskeyErrors, StartPasskeyErrors,
};
use crate::api::schemas::{Envelope, LoginData, TokenOnly, UserId, UserPasskeyId};
use crate::api::users::resolve;
use crate::api::{ApiJson, ok};
use crate::auth::client_ip::ClientIp;
use crate::auth::passkey_login::sign_in_with_passkey;
use crate::error::{Error, Result};
use crate::paths;
use crate::state::AppState;

/// A WebAuthn answer as the browser's `PublicKeyCredential.toJSON()` gives it.
fn credential<T: DeserializeOwned>(value: Value) -> Result<T> {
    serde_json::from_value(value).map_err(|_| {
        Error::InvalidJsonSchema("credential: not a WebAuthn credential of this ceremony".into())
    })
}

fn options_answer(challenge_id: String, options: Value) -> Response {
    ok(json!({"options": options, "challenge_id": challenge_id}))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptionsBody {
    /// The account to sign in to (Crafty's field; optional there). Unknown names, and names
    /// without passkeys, get options of the same shape (decoy credential ids), so the answer
    /// does not tell whether the account exists or has one. Without it, the options ask for
    /// any discoverable passkey of this site (an empty `allowCredentials`): the user is found
    /// from the passkey.
    #[schema(pattern = "^[A-Za-z0-9_-]{3,20}$", example = "alice")]
    username: Option<String>,
}

/// Options for a passwordless sign-in, for the `username` given or (without one) for any
/// discoverable passkey: `options` for `navigator.credentials.get` (`publicKey`), and the
/// `challenge_id` to send back with the answer within five minutes.
#[utoipa::path(
    post,
    path = paths::api::PASSKEY_LOGIN_OPTIONS,
    tag = "passkeys",
    operation_id = "passkey_login_options",
    request_body = OptionsBody,
    responses((status = 200, description = "Options", body = Envelope<Object>), PasskeyOptionsErrors)
)]
pub async fn login_options(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<OptionsBody>,
) -> Result<Response> {
    if let Some(name) = &body.username {
        crate::api::json::check_length("username", name, 3, 20)?;
    }
    let who = SignInFor::typed(body.username.as_deref());
    let (id, options) = passkeys::start_sign_in(&state.db, &state.passkeys, who).await?;
    Ok(options_answer(id, options))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInBody {
    /// The `challenge_id` of the options.
    challenge_id: String,
    /// The browser's answer (`PublicKeyCredential`, as JSON).
    #[schema(value_type = Object)]
    credential: Value,
}

/// Signs in with a passkey: a login token (with the `mfa` claim: a verified passkey is two
/// factors in one), as `POST /auth/login` answers.
#[utoipa::path(
    post,
    path = paths::api::PASSKEY_LOGIN_VERIFY,
    tag = "passkeys",
    operation_id = "passkey_login_verify",
    request_body = SignInBody,
    responses((status = 200, description = "Signed in", body = Envelope<LoginData>), PasskeySignInErrors)
)]
pub async fn login_verify(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(body): ApiJson<SignInBody>,
) -> Result<Response> {
    let answer = credential(body.credential)?;
    let signed_in = sign_in_with_passkey(&state, ip, &body.challenge_id, &answer).await?;
    Ok(ok(signed_in_data(&state, &signed_in)))
}

/// A user's passkeys (name and dates): oneself, a superuser, or the manager holding
/// `USER_CONFIG`.
#[utoipa::path(
    get,
    path = paths::api::PASSKEYS,
    tag = "passkeys",
    operation_id = "list_passkeys",
    params(UserId),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "The passkeys", body = Envelope<Vec<Object>>), ListPasskeysErrors)
)]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response> {
    let user = resolve(&state, &caller, &id).await?;
    let rows: Vec<Value> = passkeys::list(&state.db, &caller.rules(), &user)
        .await?
        .iter()
        .map(|p| {
            json!({
                "id": p.id.to_string(),
                "name": p.name,
                "created_at": clock::rfc3339(p.created),
                "last_used_at": p.last_used.map(clock::rfc3339),
                "discoverable": p.discoverable,
            })
        })
        .collect();
    Ok(ok(rows))
}

/// Starts registering a passkey for oneself: `options` for `navigator.credentials.create`
/// (`publicKey`) and the `challenge_id` to finish with. Nobody registers for someone else.
#[utoipa::path(
    post,
    path = paths::api::PASSKEYS,
    tag = "passkeys",
    operation_id = "start_passkey",
    params(UserId),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "Options", body = Envelope<Object>), StartPasskeyErrors)
)]
pub async fn start(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response> {
    let user = resolve(&state, &caller, &id).await?;
    let (challenge_id, options) =
        passkeys::start_registration(&state.db, &state.passkeys, &caller.rules(), &user, None)
            .await?;
    Ok(options_answer(challenge_id, options))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    /// The passkey's name (1 to 64 characters; default "Passkey").
    #[schema(max_length = 64, example = "Laptop")]
    name: Option<String>,
    /// The browser's answer (`PublicKeyCredential` of `create`, as JSON).
    #[schema(value_type = Object)]
    credential: Value,
}

/// Finishes one's own registration (`{passkey_id}` is the `challenge_id` of the options, as
/// in Crafty). Other sessions and tokens end; the caller gets a fresh `token`.
#[utoipa::path(
    post,
    path = paths::api::PASSKEY_VERIFY,
    tag = "passkeys",
    operation_id = "verify_passkey",
    params(UserPasskeyId),
    request_body = RegisterBody,
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "Registered", body = Envelope<Object>), RegisterPasskeyErrors)
)]
pub async fn verify(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, challenge_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<Response> {
    let user = resolve(&state, &caller, &id).await?;
    let name = passkeys::passkey_name(body.name.as_deref())?;
    let answer = credential(body.credential)?;
    let registered = passkeys::finish_registration(
        &state.db,
        &state.passkeys,
        &caller.actor(),
        &caller.rules(),
        &user,
        passkeys::RegistrationAnswer {
            ceremony_id: &challenge_id,
            name: &name,
            credential: &answer,
        },
    )
    .await?;
    let row = &registered.passkey;
    let data = json!({
        "id": row.id.to_string(),
        "name": row.name,
        "discoverable": row.discoverable,
    });
    Ok(ok(with_fresh_token(
        &state,
        &caller,
        &registered.user,
        true,
        data,
    )))
}

/// Removes a passkey: its owner, or whoever may reset the user. The owner cannot remove their
/// last second factor while one is required.
#[utoipa::path(
    delete,
    path = paths::api::PASSKEY,
    tag = "passkeys",
    operation_id = "delete_passkey",
    params(UserPasskeyId),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "Removed", body = Envelope<TokenOnly>), RemovePasskeyErrors)
)]
pub async fn remove(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, passkey_id)): Path<(String, String)>,
) -> Result<Response> {
    let target = resolve(&state, &caller, &id).await?;
    let passkey_id: i32 = passkey_id.parse().map_err(|_| Error::NotFound)?;
    let removed = passkeys::remove_passkey(
        &state.db,
        &state.mfa,
        &caller.actor(),
        &caller.rules(),
        &target,
        passkey_id,
    )
    .await?;
    Ok(ok(with_fresh_token(
        &state,
        &caller,
        &removed.user,
        false,
        json!({}),
    )))
}
