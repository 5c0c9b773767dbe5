//! The web side of passkeys (SPEC §13), called by `assets/passkey.js` with JSON (the
//! browser's WebAuthn API needs script): sign in without a password on the sign-in page, and
//! register one of one's own on the security page. Every request carries the CSRF header; the
//! answers are `{challenge_id, options}`, then `{redirect}` or `{message}`.

use crate::web::form::Form;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_sessions::Session;

use crate::accounts::audit::Actor;
use crate::accounts::edit::{UserUpdate, update_user};
use crate::accounts::passkeys::{self, RegistrationAnswer, SignInFor};
use crate::auth::client_ip::ClientIp;
use crate::auth::passkey_login::sign_in_with_passkey;
use crate::auth::session;
use crate::error::Error;
use crate::i18n::Lang;
use crate::state::AppState;

use crate::accounts::sso::Destination;
use crate::paths;
use crate::web::security::remove_with_password;
use crate::web::{PageResult, Viewer, VisitorLang, walk};

/// An error as the script shows it: the translated message, the error's status.
fn failure(lang: Lang, err: impl Into<Error>) -> Response {
    let err = err.into();
    let _ = err.public_message(); // logs internal errors
    let message = match err {
        Error::PasskeysDisabled => lang.t("passkey.disabled"),
        Error::PasskeyVerificationFailed => lang.t("passkey.verificationFailed"),
        Error::InvalidJsonSchema(_) | Error::InvalidJson => lang.t("passkey.verificationFailed"),
        ref other => lang.t(other.message_key()),
    };
    (err.status(), Json(json!({"message": message}))).into_response()
}

fn parse<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, Error> {
    serde_json::from_value(value)
        .map_err(|_| Error::InvalidJsonSchema("credential: not a WebAuthn credential".into()))
}

#[derive(Deserialize)]
pub struct SignInOptions {
    #[serde(default)]
    username: Option<String>,
}

/// `POST /login/passkey/options`.
pub async fn sign_in_options(
    State(state): State<AppState>,
    VisitorLang(lang): VisitorLang,
    Json(body): Json<SignInOptions>,
) -> Response {
    let username = body
        .username
        .as_deref()
        .map(str::trim)
        .filter(|name| !name.is_empty() && name.len() <= 20);
    match passkeys::start_sign_in(&state.db, &state.passkeys, SignInFor::Username(username)).await {
        Ok((id, options)) => Json(json!({"challenge_id": id, "options": options})).into_response(),
        Err(err) => failure(lang, err),
    }
}

#[derive(Deserialize)]
pub struct Finish {
    challenge_id: String,
    credential: Value,
    #[serde(default)]
    name: Option<String>,
    /// Where the sign-in walk ends (the page's `rd`, sent by `assets/passkey.js`).
    #[serde(default)]
    rd: Option<String>,
}

/// `POST /login/passkey`: signs the passkey's owner in (a fresh session id) and names the
/// page to go to.
pub async fn sign_in(
    State(state): State<AppState>,
    VisitorLang(lang): VisitorLang,
    ip: ClientIp,
    session: Session,
    Json(body): Json<Finish>,
) -> Response {
    let rd = body.rd.clone();
    let signed_in = async {
        let answer = parse(body.credential)?;
        let user = sign_in_with_passkey(&state, ip, &body.challenge_id, &answer).await?;
        session::establish(
            &session,
            &user,
            state.config.session_max_lifetime,
            session::Proof::SecondFactor,
        )
        .await?;
        session::set_amr(&session, "hwk").await?;
        Ok::<_, Error>(user)
    }
    .await;
    match signed_in {
        Ok(user) => {
            let to = walk::after_sign_in(&user, &walk::destination(&state, rd.as_deref()));
            Json(json!({"redirect": to})).into_response()
        }
        Err(err) => failure(lang, err),
    }
}

/// `POST /panel/security/passkeys/options`: options to register a passkey for oneself.
pub async fn register_options(State(state): State<AppState>, viewer: Viewer) -> Response {
    match passkeys::start_registration(&state.db, &state.passkeys, &viewer.caller, &viewer.user)
        .await
    {
        Ok((id, options)) => Json(json!({"challenge_id": id, "options": options})).into_response(),
        Err(err) => failure(viewer.lang, err),
    }
}

/// `POST /panel/security/passkeys`: stores the new passkey; every other session ends, this
/// browser gets a fresh one.
pub async fn register(
    State(state): State<AppState>,
    viewer: Viewer,
    ip: ClientIp,
    Json(body): Json<Finish>,
) -> Response {
    let registered = async {
        let name = passkeys::passkey_name(body.name.as_deref())?;
        let answer = parse(body.credential)?;
        let (_, updated) = passkeys::finish_registration(
            &state.db,
            &state.passkeys,
            &Actor::user(&viewer.user, ip.to_string()),
            &viewer.caller,
            &viewer.user,
            RegistrationAnswer {
                ceremony_id: &body.challenge_id,
                name: &name,
                credential: &answer,
            },
        )
        .await?;
        // The sign-in's methods so far, and now a passkey proved in it.
        let amr = format!("{} hwk", session::amr(&viewer.session).await?);
        session::establish(
            &viewer.session,
            &updated,
            state.config.session_max_lifetime,
            session::Proof::SecondFactor,
        )
        .await?;
        session::set_amr(&viewer.session, &amr).await?;
        Ok::<_, Error>(())
    }
    .await;
    match registered {
        Ok(()) => {
            let to = match walk::destination(&state, body.rd.as_deref()) {
                Destination::Dashboard => format!("{}?done=added", paths::SECURITY),
                destination => walk::resume_url(&destination),
            };
            (StatusCode::OK, Json(json!({"redirect": to}))).into_response()
        }
        Err(err) => failure(viewer.lang, err),
    }
}

#[derive(Deserialize)]
pub struct RemoveFields {
    #[serde(default)]
    current_password: String,
}

/// `POST /panel/security/passkeys/{id}/remove`: needs the current password (wrong guesses
/// count in the user's throttle bucket); this browser keeps a fresh session.
pub async fn remove(
    State(state): State<AppState>,
    viewer: Viewer,
    ip: ClientIp,
    axum::extract::Path(id): axum::extract::Path<String>,
    Form(fields): Form<RemoveFields>,
) -> PageResult {
    let passkey_id = id
        .parse::<i32>()
        .map_err(|_| viewer.fail(Error::NotFound))?;
    let actor = Actor::user(&viewer.user, ip.to_string());
    let remove = passkeys::remove_passkey(
        &state.db,
        &state.mfa,
        &actor,
        &viewer.caller,
        &viewer.user,
        passkey_id,
    );
    remove_with_password(&state, &viewer, fields.current_password, "removed", remove).await
}

#[derive(Deserialize)]
pub struct PasswordSignInFields {
    disable: String,
}

/// `POST /panel/security/password_sign_in`: turns password sign-in off (with a passkey) or on,
/// through the same update as `PATCH /users/@me {"disable_password_auth"}`.
pub async fn password_sign_in(
    State(state): State<AppState>,
    viewer: Viewer,
    ip: ClientIp,
    Form(fields): Form<PasswordSignInFields>,
) -> PageResult {
    let disable = fields.disable == "true";
    let update = UserUpdate {
        disable_password_auth: Some(disable),
        ..UserUpdate::default()
    };
    let updated = update_user(
        &state.db,
        &state.hasher,
        &state.config.policy,
        &Actor::user(&viewer.user, ip.to_string()),
        &viewer.caller,
        &viewer.user,
        update,
    )
    .await;
    match updated {
        Ok(_) => Ok(Redirect::to(paths::SECURITY).into_response()),
        Err(crate::accounts::Error::Invalid { .. }) => {
            Ok(Redirect::to(&format!("{}?refused=none", paths::SECURITY)).into_response())
        }
        Err(err) => Err(viewer.fail(err)),
    }
}

/// `POST /login/second_factor/passkey/options`: the passkey as the second step, for the user
/// of the pending sign-in only.
pub async fn second_factor_options(
    State(state): State<AppState>,
    VisitorLang(lang): VisitorLang,
    headers: axum::http::HeaderMap,
) -> Response {
    let started = async {
        let user = crate::web::second_factor::pending_user(&state, &headers)
            .await?
            .ok_or(Error::Unauthenticated)?;
        Ok::<_, Error>(
            passkeys::start_sign_in(&state.db, &state.passkeys, SignInFor::SecondFactor(&user))
                .await?,
        )
    };
    match started.await {
        Ok((id, options)) => Json(json!({"challenge_id": id, "options": options})).into_response(),
        Err(err) => failure(lang, err),
    }
}

/// `POST /login/second_factor/passkey`: finishes the pending sign-in with the passkey.
pub async fn second_factor(
    State(state): State<AppState>,
    VisitorLang(lang): VisitorLang,
    ip: ClientIp,
    headers: axum::http::HeaderMap,
    session: Session,
    Json(body): Json<Finish>,
) -> Response {
    let rd = body.rd.clone();
    let finished = async {
        let user = crate::web::second_factor::pending_user(&state, &headers)
            .await?
            .ok_or(Error::Unauthenticated)?;
        let answer = parse(body.credential)?;
        let user = passkeys::finish_sign_in(
            &state.db,
            &state.passkeys,
            &body.challenge_id,
            &answer,
            Some(user.user_id),
        )
        .await?;
        let user = crate::auth::login::second_factor_passkey(&state, ip, &user).await?;
        session::establish(
            &session,
            &user,
            state.config.session_max_lifetime,
            session::Proof::SecondFactor,
        )
        .await?;
        session::set_amr(&session, "pwd hwk").await?;
        Ok::<_, Error>(user)
    };
    match finished.await {
        Ok(user) => {
            let to = walk::after_sign_in(&user, &walk::destination(&state, rd.as_deref()));
            let mut response = Json(json!({"redirect": to})).into_response();
            response.headers_mut().append(
                axum::http::header::SET_COOKIE,
                crate::auth::pending::clear(),
            );
            response
        }
        Err(err) => failure(lang, err),
    }
}
