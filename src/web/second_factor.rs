//! The second step of a web sign-in (SPEC §9): `GET|POST /login/second_factor` while the
//! *second factor pending* cookie (`auth::pending`) is valid — a TOTP code, a recovery code,
//! or (with script) the passkey. Success signs in with a fresh session id and goes on to the
//! forced change or the dashboard (or the walk's next step, `rd`).
//!
//! The same page proves a factor in a session that has none yet, when an application that
//! needs `two_factor` asks for it (SPEC §15.2; e.g. after a sign-in through a reset link):
//! the signed-in user with a factor enters a code, and the session is established again as
//! one that passed a second factor.

use crate::web::form::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

use crate::accounts::mfa::{self, FactorInput};
use crate::accounts::{passkeys, users};
use crate::auth::client_ip::ClientIp;
use crate::auth::{csrf, login, pending, session};
use crate::entities::users as user_entity;
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::state::AppState;
use crate::views::second_factor::{
    SecondFactorView, second_factor_box, second_factor_page, second_factor_swap,
};
use crate::web::page_or_fragment;
use crate::web::walk::{self, Arrival, Reply};
use crate::web::{Hx, PageError, PageResult, VisitorLang, redirect};

/// The user of a valid pending state, as they are now; `None` sends the browser back to the
/// sign-in page (expired, forged, or the account changed since the password).
pub async fn pending_user(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<user_entity::Model>> {
    let Some((pending, tag)) = pending::read(&state.signing_key, headers) else {
        return Ok(None);
    };
    Ok(users::find_by_id(&state.db, pending.user_id)
        .await?
        .filter(|user| pending::still_valid(&state.signing_key, &tag, user)))
}

/// Who proves a code on this page: the pending sign-in's user, or a signed-in user with a
/// factor whose session has not passed one (an application needs it).
pub async fn proving_user(
    state: &AppState,
    headers: &HeaderMap,
    session: &Session,
) -> Result<Option<user_entity::Model>> {
    if let Some(user) = pending_user(state, headers).await? {
        return Ok(Some(user));
    }
    let Some(signed_in) =
        session::current_user(session, &state.db, state.config.session_max_lifetime).await?
    else {
        return Ok(None);
    };
    if session::passed_second_factor(session).await?
        || !mfa::has_factor(&state.db, signed_in.user.user_id).await?
    {
        return Ok(None);
    }
    Ok(Some(signed_in.user))
}

#[derive(Deserialize, Default)]
pub struct CodeQuery {
    #[serde(default)]
    recovery: Option<String>,
    #[serde(default)]
    rd: Option<String>,
}

async fn view_of<'a>(
    state: &AppState,
    user: &'a user_entity::Model,
    recovery: bool,
    error: Option<&'a str>,
    rd: Option<&'a str>,
) -> Result<SecondFactorView<'a>> {
    Ok(SecondFactorView {
        username: &user.username,
        recovery,
        totp: mfa::has_totp(&state.db, user.user_id).await?,
        passkey: state.passkeys.enabled() && passkeys::count(&state.db, user.user_id).await? > 0,
        error,
        rd,
    })
}

/// Renders the code page (or its box for htmx) with the visitor's CSRF token.
async fn render(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    lang: Lang,
    hx: Hx,
    status: StatusCode,
    view: &SecondFactorView<'_>,
) -> Result<Response> {
    let (token, set_cookie) = csrf::form_token(
        session,
        &state.signing_key,
        headers,
        state.config.cookie_secure,
    )
    .await?;
    let markup = page_or_fragment(
        hx,
        || second_factor_box(lang, &token, view),
        || second_factor_page(lang, &token, view),
    );
    let mut response = (status, markup).into_response();
    if let Some(cookie) = set_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// Right after the password with htmx: the code box in place of the sign-in form, the header
/// saying who is signing in, and the pending cookie.
pub async fn swap_in(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    lang: Lang,
    user: &user_entity::Model,
    rd: Option<&str>,
) -> Result<Response> {
    let view = view_of(state, user, false, None, rd).await?;
    let (token, set_cookie) = csrf::form_token(
        session,
        &state.signing_key,
        headers,
        state.config.cookie_secure,
    )
    .await?;
    let mut response = (StatusCode::OK, second_factor_swap(lang, &token, &view)).into_response();
    if let Some(cookie) = set_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

pub async fn show(
    State(state): State<AppState>,
    VisitorLang(lang): VisitorLang,
    hx: Hx,
    headers: HeaderMap,
    session: Session,
    Query(query): Query<CodeQuery>,
) -> PageResult {
    let shown = async {
        let destination = walk::destination(&state, query.rd.as_deref());
        let Some(user) = proving_user(&state, &headers, &session).await? else {
            return Ok(redirect(hx, &walk::login_url(&destination)));
        };
        let rd = destination.rd();
        let view = view_of(&state, &user, query.recovery.is_some(), None, rd).await?;
        render(&state, &session, &headers, lang, hx, StatusCode::OK, &view).await
    };
    shown.await.map_err(|err| PageError::visitor(lang, err))
}

#[derive(Deserialize)]
pub struct CodeFields {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    recovery_code: Option<String>,
    #[serde(default)]
    rd: Option<String>,
}

pub async fn submit(
    State(state): State<AppState>,
    VisitorLang(lang): VisitorLang,
    hx: Hx,
    ip: ClientIp,
    headers: HeaderMap,
    session: Session,
    Form(fields): Form<CodeFields>,
) -> PageResult {
    let submitted = async {
        let destination = walk::destination(&state, fields.rd.as_deref());
        let Some(user) = proving_user(&state, &headers, &session).await? else {
            return Ok(redirect(hx, &walk::login_url(&destination)));
        };
        let recovery = fields.recovery_code.is_some();
        let factor = FactorInput {
            totp: fields.code.as_deref().map(str::trim),
            backup_code: fields.recovery_code.as_deref(),
        };
        match login::second_factor(&state, ip, &user, factor).await {
            Ok(signed_in) => {
                let arrival = Arrival {
                    destination: &destination,
                    headers: &headers,
                    ip,
                };
                walk::signed_in(&state, &session, Reply::Page(hx), signed_in, arrival).await
            }
            Err(
                err @ (Error::IncorrectMfa
                | Error::MfaRequired
                | Error::MfaUnavailable
                | Error::TooManyAttempts { .. }),
            ) => {
                let message = match err {
                    Error::TooManyAttempts { .. } | Error::MfaUnavailable => {
                        lang.t(err.message_key())
                    }
                    _ => lang.t("login.incorrectCode"),
                };
                let view =
                    view_of(&state, &user, recovery, Some(message), destination.rd()).await?;
                let mut response =
                    render(&state, &session, &headers, lang, hx, err.status(), &view).await?;
                err.apply_headers(&mut response);
                Ok(response)
            }
            Err(err) => Err(err),
        }
    };
    submitted.await.map_err(|err| PageError::visitor(lang, err))
}
