//! GET/POST /login and POST /logout.

use crate::web::form::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

use crate::accounts::audit::{self, Actor, action};
use crate::accounts::secret::Secret;
use crate::auth::client_ip::ClientIp;
use crate::auth::ended::EndReason;
use crate::auth::{csrf, login, pending, session};
use crate::error::Error;
use crate::i18n::Lang;
use crate::paths;
use crate::state::AppState;
use crate::views::login::{LoginForm, login_box, login_page};
use crate::web::page_or_fragment;
use crate::web::walk::{self, Reply};
use crate::web::{Hx, PageError, PageResult, VisitorLang, redirect, second_factor};

/// `?ended=REASON`: why the previous session ended (see `auth::ended`).
#[derive(Deserialize, Default)]
pub struct EndedQuery {
    ended: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    VisitorLang(lang): VisitorLang,
    headers: HeaderMap,
    session: Session,
    Query(query): Query<EndedQuery>,
) -> PageResult {
    let fail = |err| PageError::visitor(lang, err);
    if let Some(signed_in) =
        session::current_user(&session, &state.db, state.config.session_max_lifetime)
            .await
            .map_err(fail)?
    {
        return Ok(redirect(
            Hx(false),
            paths::home(signed_in.user.require_password_change),
        ));
    }
    let notice = query
        .ended
        .as_deref()
        .and_then(EndReason::from_code)
        .map(|reason| lang.t(reason.message_key()));
    let form = LoginForm {
        notice,
        passkeys: state.passkeys.enabled(),
        ..LoginForm::default()
    };
    with_form_token(&state, &session, &headers, |token| {
        (StatusCode::OK, login_page(lang, token, &form)).into_response()
    })
    .await
    .map_err(fail)
}

/// Renders a sign-in form with its CSRF token (the visitor has no session: the anonymous
/// double-submit token, whose cookie is set on the response when it is new).
async fn with_form_token(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    render: impl FnOnce(&str) -> Response,
) -> crate::error::Result<Response> {
    let (token, set_cookie) = csrf::form_token(
        session,
        &state.signing_key,
        headers,
        state.config.cookie_secure,
    )
    .await?;
    let mut response = render(&token);
    if let Some(cookie) = set_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

#[derive(Deserialize)]
pub struct LoginFields {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

pub async fn submit(
    State(state): State<AppState>,
    VisitorLang(lang): VisitorLang,
    hx: Hx,
    ip: ClientIp,
    headers: HeaderMap,
    session: Session,
    Form(fields): Form<LoginFields>,
) -> PageResult {
    let fail = |err| PageError::visitor(lang, err);
    let password = Secret::new(fields.password);
    let signed_in = match login::login(&state, ip, &fields.username, &password).await {
        Ok(signed_in) => signed_in,
        Err(Error::MfaRequired) => {
            // The password was right and the user has a second factor: the code page,
            // reachable for five minutes through the pending cookie (nothing signed in yet).
            return to_second_factor(&state, lang, hx, &session, &headers, &fields.username)
                .await
                .map_err(fail);
        }
        Err(err) if err.status().is_server_error() => return Err(fail(err)),
        Err(err) => {
            let typed = &fields.username;
            return Ok(refused(&state, lang, hx, &session, &headers, typed, err).await);
        }
    };
    walk::signed_in(&state, &session, Reply::Page(hx), signed_in)
        .await
        .map_err(fail)
}

/// After a right password of a user with a second factor: the pending cookie, and the code
/// box in place (htmx) or a 303 to the code page.
async fn to_second_factor(
    state: &AppState,
    lang: Lang,
    hx: Hx,
    session: &Session,
    headers: &HeaderMap,
    username: &str,
) -> crate::error::Result<Response> {
    let user = crate::accounts::users::find_by_username(&state.db, &username.to_ascii_lowercase())
        .await?
        .ok_or(Error::IncorrectCredentials)?;
    let cookie = pending::start(&state.signing_key, &user, state.config.cookie_secure)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("pending cookie")))?;
    let mut response = if hx.0 {
        second_factor::swap_in(state, session, headers, lang, &user).await?
    } else {
        redirect(hx, paths::SECOND_FACTOR)
    };
    response.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(response)
}

/// What the username field shows again: the name in its stored form when it is one that
/// `user create` would accept, so a mistyped password costs only the password. Anything
/// else may be a password typed into the wrong field (SPEC §3a) and never comes back in a
/// page.
fn username_again(typed: &str) -> String {
    crate::accounts::users::normalize_username(typed).unwrap_or_default()
}

/// The sign-in form again, with the reason and the status of the refusal, and the username
/// when it is well-formed ([`username_again`]).
async fn refused(
    state: &AppState,
    lang: Lang,
    hx: Hx,
    session: &Session,
    headers: &HeaderMap,
    typed_username: &str,
    err: Error,
) -> Response {
    let username = username_again(typed_username);
    let form = LoginForm {
        username: &username,
        error: Some(lang.t(err.message_key())),
        notice: None,
        passkeys: state.passkeys.enabled(),
    };
    let rendered = with_form_token(state, session, headers, |token| {
        let markup = page_or_fragment(
            hx,
            || login_box(lang, token, &form),
            || login_page(lang, token, &form),
        );
        (err.status(), markup).into_response()
    })
    .await;
    match rendered {
        Ok(mut response) => {
            err.apply_headers(&mut response);
            response
        }
        Err(failure) => failure.into_response_html(lang),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    hx: Hx,
    ip: ClientIp,
    session: Session,
) -> Response {
    if let Ok(Some(session::SignedIn { user, .. })) =
        session::current_user(&session, &state.db, state.config.session_max_lifetime).await
    {
        let actor = Actor::user(&user, ip.to_string());
        let target = Some((user.user_id, user.username.as_str()));
        if let Err(err) =
            audit::record(&state.db, &actor, target, action::LOGOUT, String::new()).await
        {
            let _ = crate::error::Error::from(err).public_message();
        }
    }
    // What this session still had to show goes with it.
    if let Err(err) = crate::auth::one_time::forget(&state.db, &session).await {
        let _ = err.public_message();
    }
    if let Err(err) = session::end(&session).await {
        let _ = err.public_message();
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    // Signed out here: the next visitor of this browser is told nothing about this session.
    let mut response = redirect(hx, paths::LOGIN);
    response
        .headers_mut()
        .append(header::SET_COOKIE, crate::auth::ended::clear_hint());
    response
        .headers_mut()
        .append(header::SET_COOKIE, pending::clear());
    response
}
