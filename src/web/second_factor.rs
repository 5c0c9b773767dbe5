//! The second step of a web sign-in (SPEC §9): `GET|POST /login/second_factor` while the
//! *second factor pending* cookie (`auth::pending`) is valid — a TOTP code, a recovery code,
//! or (with script) the passkey. Success signs in with a fresh session id and goes on to the
//! forced change or the dashboard.

use crate::web::form::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

use crate::accounts::mfa::{self, FactorInput};
use crate::accounts::{passkeys, users};
use crate::auth::client_ip::ClientIp;
use crate::auth::{csrf, login, pending};
use crate::entities::users as user_entity;
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::paths;
use crate::state::AppState;
use crate::views::second_factor::{
    SecondFactorView, second_factor_box, second_factor_page, second_factor_swap,
};
use crate::web::page_or_fragment;
use crate::web::walk::{self, Reply};
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

#[derive(Deserialize, Default)]
pub struct CodeQuery {
    #[serde(default)]
    recovery: Option<String>,
}

async fn view_of<'a>(
    state: &AppState,
    user: &'a user_entity::Model,
    recovery: bool,
    error: Option<&'a str>,
) -> Result<SecondFactorView<'a>> {
    Ok(SecondFactorView {
        username: &user.username,
        recovery,
        totp: mfa::has_totp(&state.db, user.user_id).await?,
        passkey: state.passkeys.enabled() && passkeys::count(&state.db, user.user_id).await? > 0,
        error,
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
) -> Result<Response> {
    let view = view_of(state, user, false, None).await?;
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
        let Some(user) = pending_user(&state, &headers).await? else {
            return Ok(redirect(hx, paths::LOGIN));
        };
        let view = view_of(&state, &user, query.recovery.is_some(), None).await?;
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
        let Some(user) = pending_user(&state, &headers).await? else {
            return Ok(redirect(hx, paths::LOGIN));
        };
        let recovery = fields.recovery_code.is_some();
        let factor = FactorInput {
            totp: fields.code.as_deref().map(str::trim),
            backup_code: fields.recovery_code.as_deref(),
        };
        match login::second_factor(&state, ip, &user, factor).await {
            Ok(signed_in) => walk::signed_in(&state, &session, Reply::Page(hx), signed_in).await,
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
                let view = view_of(&state, &user, recovery, Some(message)).await?;
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
