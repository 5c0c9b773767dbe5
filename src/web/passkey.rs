//! The web side of passkeys (SPEC §13), called by `assets/passkey.js` with JSON (the
//! browser's WebAuthn API needs script): sign in on the sign-in page — with nothing typed, from
//! the username field's autofill, or for the name typed — or as the second step after a
//! password, and register one of one's own (or one from before again) on the security page.
//! Every request carries the CSRF header; the answers are `{challenge_id, options}`, then
//! `{redirect}` or `{message}`. A sign-in ends in the sign-in walk (`web::walk`).

use crate::web::form::Form;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_sessions::Session;

use crate::accounts::audit::Actor;
use crate::accounts::edit::{UserUpdate, update_user};
use crate::accounts::passkeys::{self, RegistrationAnswer, SignInFor};
use crate::accounts::{self, PasskeyRefusal};
use crate::auth::client_ip::ClientIp;
use crate::auth::passkey_login::{second_factor_passkey, sign_in_with_passkey};
use crate::auth::session;
use crate::error::Error;
use crate::i18n::Lang;
use crate::state::AppState;

use crate::accounts::sso::Destination;
use crate::paths;
use crate::web::security::{after_factor_change, with_current_password};
use crate::web::walk::{self, Arrival, Reply};
use crate::web::{PageResult, Viewer, VisitorLang};

/// An error as the script shows it: the translated message, the error's status.
fn failure(lang: Lang, err: impl Into<Error>) -> Response {
    let err = err.into();
    let _ = err.public_message(); // logs internal errors
    let message = match err {
        Error::PasskeyNotAccepted(PasskeyRefusal::Expired) => lang.t("passkeyUse.expired"),
        Error::PasskeyNotAccepted(PasskeyRefusal::Unknown) => lang.t("passkeyUse.unknown"),
        Error::PasskeyNotAccepted(PasskeyRefusal::Invalid)
        | Error::PasskeyVerificationFailed
        | Error::InvalidJsonSchema(_)
        | Error::InvalidJson => lang.t("passkey.verificationFailed"),
        Error::IncorrectCurrentPassword => lang.t("validators.incorrectCurrentPassword"),
        ref other => lang.t(other.message_key()),
    };
    let mut response = (err.status(), Json(json!({"message": message}))).into_response();
    err.apply_headers(&mut response);
    response
}

fn parse<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, Error> {
    serde_json::from_value(value)
        .map_err(|_| Error::InvalidJsonSchema("credential: not a WebAuthn credential".into()))
}

fn options_answer(started: Result<(String, Value), impl Into<Error>>, lang: Lang) -> Response {
    match started {
        Ok((id, options)) => Json(json!({"challenge_id": id, "options": options})).into_response(),
        Err(err) => failure(lang, err),
    }
}

#[derive(Deserialize)]
pub struct SignInOptions {
    #[serde(default)]
    username: Option<String>,
}

/// `POST /login/passkey/options`: options for the name typed, or — nothing typed — for any
/// discoverable passkey (the button, and the username field's autofill).
pub async fn sign_in_options(
    State(state): State<AppState>,
    VisitorLang(lang): VisitorLang,
    Json(body): Json<SignInOptions>,
) -> Response {
    let who = SignInFor::typed(body.username.as_deref());
    options_answer(
        passkeys::start_sign_in(&state.db, &state.passkeys, who).await,
        lang,
    )
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

/// `POST /login/passkey`: signs the passkey's owner in through the sign-in walk and names the
/// page to go to.
pub async fn sign_in(
    State(state): State<AppState>,
    VisitorLang(lang): VisitorLang,
    ip: ClientIp,
    headers: axum::http::HeaderMap,
    session: Session,
    Json(body): Json<Finish>,
) -> Response {
    let destination = walk::destination(&state, body.rd.as_deref());
    let signed_in = async {
        let answer = parse(body.credential)?;
        let signed_in = sign_in_with_passkey(&state, ip, &body.challenge_id, &answer).await?;
        let arrival = Arrival {
            destination: &destination,
            headers: &headers,
            ip,
        };
        walk::signed_in(&state, &session, Reply::Script, signed_in, arrival).await
    };
    signed_in.await.unwrap_or_else(|err| failure(lang, err))
}

#[derive(Deserialize, Default)]
pub struct RegisterOptions {
    /// One of the viewer's passkeys to register again in its place (from before passkeys
    /// signed in without a name): needs the current password, as removing one does.
    #[serde(default)]
    replaces: Option<i32>,
    #[serde(default)]
    current_password: Option<String>,
}

/// `POST /panel/security/passkeys/options`: options to register a passkey for oneself.
pub async fn register_options(
    State(state): State<AppState>,
    viewer: Viewer,
    body: Option<Json<RegisterOptions>>,
) -> Response {
    let Json(body) = body.unwrap_or_default();
    let start = passkeys::start_registration(
        &state.db,
        &state.passkeys,
        &viewer.caller,
        &viewer.user,
        body.replaces,
    );
    let started = match body.replaces {
        Some(_) => {
            let password = body.current_password.unwrap_or_default();
            with_current_password(&state, &viewer, password, start).await
        }
        None => start.await.map_err(Error::from),
    };
    options_answer(started, viewer.lang)
}

/// `POST /panel/security/passkeys`: stores the new passkey (in place of the one it was started
/// to replace); every other session ends, this browser gets a fresh one.
pub async fn register(
    State(state): State<AppState>,
    viewer: Viewer,
    ip: ClientIp,
    Json(body): Json<Finish>,
) -> Response {
    let registered = async {
        let name = passkeys::passkey_name(body.name.as_deref())?;
        let answer = parse(body.credential)?;
        let registered = passkeys::finish_registration(
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
            &registered.user,
            session::Proof::SecondFactor,
        )
        .await?;
        session::set_amr(&viewer.session, &amr).await?;
        Ok::<_, Error>(registered)
    }
    .await;
    match registered {
        Ok(registered) => {
            let to = match walk::destination(&state, body.rd.as_deref()) {
                Destination::Dashboard => {
                    let done = match (registered.replaced, registered.passkey.discoverable) {
                        (_, false) => "added_needs_name",
                        (Some(_), true) => "registered_again",
                        (None, true) => "added",
                    };
                    format!("{}?done={done}", paths::SECURITY)
                }
                // Set up during the sign-in walk: on to its next step.
                destination => walk::resume_url(&destination),
            };
            Json(json!({ "redirect": to })).into_response()
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
/// count in the user's throttle bucket); this browser keeps a fresh session. Removing the last
/// passkey of a user who had turned password sign-in off turns it on again, and says so.
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
    let removed = with_current_password(&state, &viewer, fields.current_password, remove).await;
    let done = match &removed {
        Ok(removed) if removed.password_sign_in_back_on => "removed_password_on",
        _ => "removed",
    };
    let removed = removed.map(|removed| removed.user);
    after_factor_change(&viewer, removed, done).await
}

#[derive(Deserialize)]
pub struct PasswordSignInFields {
    disable: String,
}

/// `POST /panel/security/password_sign_in`: turns password sign-in off (with a passkey) or on,
/// through the same update as `PATCH /users/@me {"disable_password_auth"}`. Turning it off
/// without a passkey (a form from before the last one was removed) says why it cannot be.
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
        Err(accounts::Error::Invalid {
            field: "disable_password_auth",
            ..
        }) => Ok(Redirect::to(&format!("{}?refused=no_passkey", paths::SECURITY)).into_response()),
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
    options_answer(started.await, lang)
}

/// `POST /login/second_factor/passkey`: finishes the pending sign-in with the passkey, through
/// the sign-in walk.
pub async fn second_factor(
    State(state): State<AppState>,
    VisitorLang(lang): VisitorLang,
    ip: ClientIp,
    headers: axum::http::HeaderMap,
    session: Session,
    Json(body): Json<Finish>,
) -> Response {
    let destination = walk::destination(&state, body.rd.as_deref());
    let finished = async {
        let user = crate::web::second_factor::pending_user(&state, &headers)
            .await?
            .ok_or(Error::Unauthenticated)?;
        let answer = parse(body.credential)?;
        let signed_in =
            second_factor_passkey(&state, ip, &user, &body.challenge_id, &answer).await?;
        let arrival = Arrival {
            destination: &destination,
            headers: &headers,
            ip,
        };
        walk::signed_in(&state, &session, Reply::Script, signed_in, arrival).await
    };
    finished.await.unwrap_or_else(|err| failure(lang, err))
}
