//! GET/POST /reset/{token}: the page a reset link opens (SPEC §10). GET shows the form and
//! consumes nothing (link previewers fetch URLs); POST sets the password, which uses up the
//! link, ends every session and token of the user, and signs this browser in.

use crate::web::form::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tower_sessions::Session;

use crate::accounts;
use crate::accounts::reset_links::{self, LinkProblem, Used};
use crate::accounts::secret::Secret;
use crate::auth::client_ip::ClientIp;
use crate::auth::{csrf, session};
use crate::i18n::Lang;
use crate::paths;
use crate::state::AppState;
use crate::views::reset_link::{
    SetPasswordErrors, SetPasswordView, link_not_valid_page, set_password_page,
};
use crate::web::change_password::policy_message;
use crate::web::{Hx, PageError, PageResult, VisitorLang, redirect};

/// The page of a link that does not work (410 Gone: it will not work again).
fn not_valid(lang: Lang, problem: LinkProblem) -> Response {
    (StatusCode::GONE, link_not_valid_page(lang, problem.code())).into_response()
}

/// What every rendering of the form needs from the request.
struct Request<'a> {
    state: &'a AppState,
    session: &'a Session,
    headers: &'a HeaderMap,
    token: &'a str,
}

/// The form, with the anonymous CSRF cookie when it is new.
async fn form(
    request: &Request<'_>,
    lang: Lang,
    status: StatusCode,
    live: &reset_links::LiveLink,
    errors: SetPasswordErrors,
) -> PageResult {
    let Request {
        state,
        session,
        headers,
        token,
    } = *request;
    let (csrf_token, set_cookie) = csrf::form_token(
        session,
        &state.signing_key,
        headers,
        state.config.cookie_secure,
    )
    .await
    .map_err(|err| PageError::visitor(lang, err))?;
    let action = paths::reset_page(token);
    let view = SetPasswordView {
        action: &action,
        username: &live.user.username,
        setup: live.link.purpose == reset_links::Purpose::Setup.as_str(),
        min_length: state.config.policy.min_length,
        errors,
    };
    let mut response = (status, set_password_page(lang, &csrf_token, &view)).into_response();
    if let Some(cookie) = set_cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

pub async fn show(
    State(state): State<AppState>,
    VisitorLang(lang): VisitorLang,
    headers: HeaderMap,
    session: Session,
    Path(token): Path<String>,
) -> PageResult {
    let looked_up = reset_links::look_up(&state.db, &token)
        .await
        .map_err(|err| PageError::visitor(lang, err))?;
    match looked_up {
        Ok(live) => {
            let lang = Lang::from_code(&live.user.lang);
            let request = Request {
                state: &state,
                session: &session,
                headers: &headers,
                token: &token,
            };
            form(
                &request,
                lang,
                StatusCode::OK,
                &live,
                SetPasswordErrors::default(),
            )
            .await
        }
        Err(problem) => Ok(not_valid(lang, problem)),
    }
}

#[derive(Deserialize)]
pub struct SetPasswordFields {
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

pub async fn submit(
    State(state): State<AppState>,
    VisitorLang(lang): VisitorLang,
    ip: ClientIp,
    headers: HeaderMap,
    session: Session,
    Path(token): Path<String>,
    Form(fields): Form<SetPasswordFields>,
) -> PageResult {
    let fail = |err| PageError::visitor(lang, err);
    let outcome = reset_links::consume(
        &state.db,
        &state.hasher,
        &state.config.policy,
        &token,
        Secret::new(fields.new_password),
        Secret::new(fields.confirm_password),
        &ip.to_string(),
    )
    .await;
    match outcome {
        Ok(Used::Done(user)) => {
            // The link proves the password only: a user who still has a second factor signs
            // in with it (SPEC §9), so no session here.
            if crate::accounts::mfa::has_factor(&state.db, user.user_id)
                .await
                .map_err(|err| fail(err.into()))?
            {
                return Ok(redirect(Hx(false), paths::LOGIN));
            }
            // Every session of the user ended with the change; this browser starts afresh.
            session::establish(&session, &user, session::Proof::Password)
                .await
                .map_err(fail)?;
            // A plain form (no htmx on this page): 303 to the dashboard.
            Ok(redirect(Hx(false), paths::DASHBOARD))
        }
        Ok(Used::NotValid(problem)) => Ok(not_valid(lang, problem)),
        Err(err @ (accounts::Error::PasswordMismatch | accounts::Error::Policy(_))) => {
            let Ok(Ok(live)) = reset_links::look_up(&state.db, &token).await else {
                return Ok(not_valid(lang, LinkProblem::Unknown));
            };
            let lang = Lang::from_code(&live.user.lang);
            let mut errors = SetPasswordErrors::default();
            match err {
                accounts::Error::Policy(violation) => {
                    errors.new = Some(policy_message(lang, violation))
                }
                _ => errors.confirm = Some(lang.t("validators.passwordMismatch").to_string()),
            }
            let request = Request {
                state: &state,
                session: &session,
                headers: &headers,
                token: &token,
            };
            form(&request, lang, StatusCode::BAD_REQUEST, &live, errors).await
        }
        Err(err) => Err(fail(err.into())),
    }
}
