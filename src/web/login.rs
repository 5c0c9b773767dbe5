//! GET/POST /login and GET/POST /logout. `GET /login?rd=` is also the resume point of the
//! sign-in walk (`web::walk`): a signed-in user is not asked again but sent on.

use crate::web::form::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

use crate::accounts::audit::{self, Actor, action};
use crate::accounts::oidc::grants;
use crate::accounts::secret::Secret;
use crate::accounts::sso::Destination;
use crate::auth::client_ip::ClientIp;
use crate::auth::ended::EndReason;
use crate::auth::{csrf, login, pending, session, sign_in_id, sso};
use crate::error::Error;
use crate::i18n::Lang;
use crate::paths;
use crate::state::AppState;
use crate::views::access::logout_confirm_page;
use crate::views::layout::{Nav, PageContext};
use crate::views::login::{LoginForm, login_box, login_page};
use crate::web::page_or_fragment;
use crate::web::walk::{self, Arrival, Reply};
use crate::web::{Hx, PageError, PageResult, VisitorLang, redirect, second_factor};

/// `?ended=REASON`: why the previous session ended (see `auth::ended`); `?rd=` (and Authelia's
/// `rm`, accepted and not needed): where the walk ends.
#[derive(Deserialize, Default)]
pub struct LoginQuery {
    ended: Option<String>,
    rd: Option<String>,
    /// `again=1`: sign in afresh even if signed in (OpenID Connect's `prompt=login` and
    /// `max_age`, SPEC §16).
    again: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    VisitorLang(lang): VisitorLang,
    ip: ClientIp,
    headers: HeaderMap,
    session: Session,
    Query(query): Query<LoginQuery>,
) -> PageResult {
    let fail = |err| PageError::visitor(lang, err);
    let destination = walk::destination(&state, query.rd.as_deref());
    let signed_in = session::current_user(&session, &state.db, state.config.session_max_lifetime)
        .await
        .map_err(fail)?;
    let again = query.again.as_deref() == Some("1");
    if let Some(signed_in) = signed_in.as_ref().filter(|_| !again) {
        // Single sign-on: a signed-in user is not asked again, but sent on (through the
        // steps the walk still misses).
        let to = walk::next_url(
            &state,
            &session,
            &headers,
            ip,
            &signed_in.user,
            &destination,
        )
        .await
        .map_err(fail)?;
        return Ok(redirect(Hx(false), &to));
    }
    let notice = query
        .ended
        .as_deref()
        .and_then(EndReason::from_code)
        .map(|reason| lang.t(reason.message_key()));
    let app = walk::app_name(&state, &destination).await;
    // Who to sign in as: the one signed in (asked again), or the app's `login_hint`.
    let hint = match &signed_in {
        Some(signed_in) => Some(signed_in.user.username.clone()),
        None => walk::login_hint(&destination),
    };
    let form = LoginForm {
        username: hint.as_deref().unwrap_or(""),
        notice,
        passkeys: state.passkeys.enabled(),
        rd: destination.rd(),
        app: app.as_deref(),
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
    Form(fields): Form<LoginFields>,
) -> PageResult {
    let fail = |err| PageError::visitor(lang, err);
    let password = Secret::new(fields.password);
    let destination = walk::destination(&state, fields.rd.as_deref());
    let signed_in = match login::login(&state, ip, &fields.username, &password).await {
        Ok(signed_in) => signed_in,
        Err(Error::MfaRequired) => {
            // The password was right and the user has a second factor: the code page,
            // reachable for five minutes through the pending cookie (nothing signed in yet).
            let pending = Pending {
                username: &fields.username,
                destination: &destination,
            };
            return to_second_factor(&state, lang, hx, &session, &headers, pending)
                .await
                .map_err(fail);
        }
        Err(err) if err.status().is_server_error() => return Err(fail(err)),
        Err(err) => {
            let typed = &fields.username;
            let refusal = Refusal {
                typed_username: typed,
                err,
                destination: &destination,
            };
            return Ok(refused(&state, lang, hx, &session, &headers, refusal).await);
        }
    };
    let arrival = Arrival {
        destination: &destination,
        headers: &headers,
        ip,
    };
    walk::signed_in(&state, &session, Reply::Page(hx), signed_in, arrival)
        .await
        .map_err(fail)
}

/// Who passed the password, and where their walk ends.
struct Pending<'a> {
    username: &'a str,
    destination: &'a Destination,
}

/// After a right password of a user with a second factor: the pending cookie, and the code
/// box in place (htmx) or a 303 to the code page.
async fn to_second_factor(
    state: &AppState,
    lang: Lang,
    hx: Hx,
    session: &Session,
    headers: &HeaderMap,
    pending: Pending<'_>,
) -> crate::error::Result<Response> {
    let user =
        crate::accounts::users::find_by_username(&state.db, &pending.username.to_ascii_lowercase())
            .await?
            .ok_or(Error::IncorrectCredentials)?;
    let cookie = pending::start(&state.signing_key, &user, state.config.cookie_secure)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("pending cookie")))?;
    let rd = pending.destination.rd();
    let mut response = if hx.0 {
        second_factor::swap_in(state, session, headers, lang, &user, rd).await?
    } else {
        redirect(hx, &paths::with_rd(paths::SECOND_FACTOR, rd))
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

/// A refused sign-in: what was typed as the username, why, and where the walk was going.
struct Refusal<'a> {
    typed_username: &'a str,
    err: Error,
    destination: &'a Destination,
}

/// The sign-in form again, with the reason and the status of the refusal, the username
/// when it is well-formed ([`username_again`]), and the walk's destination.
async fn refused(
    state: &AppState,
    lang: Lang,
    hx: Hx,
    session: &Session,
    headers: &HeaderMap,
    refusal: Refusal<'_>,
) -> Response {
    let Refusal {
        typed_username,
        err,
        destination,
    } = refusal;
    let app = walk::app_name(state, destination).await;
    let username = username_again(typed_username);
    let form = LoginForm {
        username: &username,
        error: Some(lang.t(err.message_key())),
        notice: None,
        passkeys: state.passkeys.enabled(),
        rd: destination.rd(),
        app: app.as_deref(),
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

/// `GET /logout?rd=`: a confirmation page with a plain form (a link must not sign anyone out,
/// and an application links here to sign out everywhere).
pub async fn logout_page(
    State(state): State<AppState>,
    VisitorLang(lang): VisitorLang,
    headers: HeaderMap,
    session: Session,
    Query(query): Query<walk::RdField>,
) -> PageResult {
    let fail = |err| PageError::visitor(lang, err);
    let signed_in = session::current_user(&session, &state.db, state.config.session_max_lifetime)
        .await
        .map_err(fail)?;
    let destination = walk::destination(&state, query.rd.as_deref());
    let lang = signed_in
        .as_ref()
        .map_or(lang, |s| Lang::from_code(&s.user.lang));
    with_form_token(&state, &session, &headers, |token| {
        let ctx = PageContext {
            lang,
            csrf: token,
            nav: signed_in.as_ref().map(|s| Nav {
                username: &s.user.username,
                restricted: true,
                users: false,
                roles: false,
                audit: false,
            }),
        };
        logout_confirm_page(&ctx, destination.rd()).into_response()
    })
    .await
    .map_err(fail)
}

/// `POST /logout`: ends this browser's panel session, its SSO session and the app sign-ins
/// made in it ([`sign_out`]), clears the cookies, and goes on to `rd` when it passes
/// SPEC §15.4 (else the sign-in page).
pub async fn logout(
    State(state): State<AppState>,
    hx: Hx,
    ip: ClientIp,
    headers: HeaderMap,
    session: Session,
    Form(fields): Form<walk::RdField>,
) -> Response {
    if let Err(err) = sign_out(&state, &session, &headers, ip).await {
        let _ = err.public_message();
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let to = match walk::destination(&state, fields.rd.as_deref()) {
        Destination::App(to) => to.as_str().to_string(),
        Destination::Dashboard | Destination::Authorize(_) => paths::LOGIN.to_string(),
    };
    let mut response = redirect(hx, &to);
    clear_sign_in_cookies(&state, &mut response);
    response
}

/// Signs this browser out (SPEC §15.3, §16): audited; what its session still had to show,
/// the session, its SSO session, and the OpenID Connect grants made in this sign-in (its
/// `sid`) end. Other devices stay signed in. The one path of `/logout` and `/oauth2/logout`.
pub async fn sign_out(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    ip: ClientIp,
) -> crate::error::Result<()> {
    if let Some(session::SignedIn { user, .. }) =
        session::current_user(session, &state.db, state.config.session_max_lifetime).await?
    {
        let actor = Actor::user(&user, ip.to_string());
        let target = Some((user.user_id, user.username.as_str()));
        audit::record(&state.db, &actor, target, action::LOGOUT, String::new()).await?;
        if let Some(sid) = sign_in_id::get(session).await? {
            grants::revoke_sign_in(&state.db, user.user_id, &sid).await?;
        }
    }
    crate::auth::one_time::forget(&state.db, session).await?;
    session::end(session).await?;
    if let Some(token) = sso::token_in(headers) {
        sso::end(&state.db, &token).await?;
    }
    Ok(())
}

/// Signed out: the next visitor of this browser is told nothing about the session (the
/// hint, the pending sign-in and the SSO cookie cleared).
pub fn clear_sign_in_cookies(state: &AppState, response: &mut Response) {
    let cookies = response.headers_mut();
    cookies.append(header::SET_COOKIE, crate::auth::ended::clear_hint());
    cookies.append(header::SET_COOKIE, pending::clear());
    if let Some(clear) = state
        .config
        .sso
        .as_ref()
        .and_then(|sso_config| sso::clear_cookie(&state.config, sso_config))
    {
        cookies.append(header::SET_COOKIE, clear);
    }
}
