//! The web gate for `/panel/*`: sign-in required, and while a password change is pending only
//! the change-password page answers. Decided on the route the router matched. A session that
//! no longer stands is sent to the sign-in page with the reason (see `auth::ended`).
//!
//! A user who must have a second factor and has none (`accounts::mfa::required`, SPEC §9)
//! reaches only the pages that set one up, after any pending password change — the flow
//! sign-in → code → forced change → enrolment → dashboard, asked of the walk's one state
//! machine (`accounts::sso::walk`), with the walk's destination (`rd`) carried to the step.
//! (The *second factor pending* state before the code is no session at all: see
//! `auth::pending`.)

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use crate::accounts::mfa;
use crate::accounts::sso::{Standing, Step, next_step};
use crate::auth::ended;
use crate::auth::session::{current_user, session_error};
use crate::auth::session_store::USER_ID_KEY;
use crate::paths;
use crate::state::AppState;
use crate::web::{self, Hx, walk};

/// Whether the signed-in user is held at enrolment (the navigation then offers only sign-out).
#[derive(Clone, Copy, Debug, Default)]
pub struct HeldAtEnrolment(pub bool);

/// The routes a user held at enrolment may reach: setting up an authenticator app (its
/// result page shows the key and then the recovery codes) or a passkey.
fn enrolment_allows(route: Option<&str>) -> bool {
    matches!(
        route,
        Some(
            paths::TOTP_SETUP
                | paths::TOTP_START
                | paths::TOTP_VERIFY_ROUTE
                | paths::RESULT_ROUTE
                | paths::SECURITY
                | paths::PASSKEY_REGISTER_OPTIONS
                | paths::PASSKEY_REGISTER
        )
    )
}

/// Middleware on the panel router (a route layer, so the matched route is known).
pub async fn panel_gate(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let hx = Hx::from_headers(request.headers());
    let lang = web::request_lang(request.headers());
    let hinted = ended::hinted_user(&state.signing_key, request.headers());
    // Read before the check, which empties a session that no longer stands.
    let bound = match session.get::<i32>(USER_ID_KEY).await {
        Ok(bound) => bound,
        Err(err) => return session_error(err).into_response_html(lang),
    };
    let signed_in = match current_user(&session, &state.db, state.config.session_max_lifetime).await
    {
        Ok(Some(signed_in)) => signed_in,
        Ok(None) => {
            let Some(user_id) = bound.or(hinted) else {
                return web::redirect(hx, paths::LOGIN);
            };
            let reason = match ended::reason(&state.db, user_id).await {
                Ok(reason) => reason,
                Err(err) => return err.into_response_html(lang),
            };
            let mut response =
                web::redirect(hx, &format!("{}?ended={}", paths::LOGIN, reason.code()));
            if hinted.is_some() {
                response
                    .headers_mut()
                    .append(header::SET_COOKIE, ended::clear_hint());
            }
            return response;
        }
        Err(err) => return err.into_response_html(lang),
    };
    let user_id = signed_in.user.user_id;
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    // Held at enrolment: a factor is required (the user's flag, the policy, a role) and
    // missing — read with the session, so a role's `mfa_required` reaches a signed-in member
    // on their next request; queries only when it was not read.
    let held = match signed_in.status {
        Some(status) => mfa::factor_missing(state.mfa.policy, &signed_in.user, &status),
        None => match factor_missing_now(&state, &signed_in.user).await {
            Ok(missing) => missing,
            Err(err) => return crate::error::Error::from(err).into_response_html(lang),
        },
    };
    let standing = Standing {
        require_password_change: signed_in.user.require_password_change,
        must_have_factor: held,
        has_factor: !held,
        // The panel itself needs no second factor of the session.
        session_passed_factor: false,
    };
    // The walk's next step, with its destination (`rd`) carried on.
    let rd = request
        .uri()
        .query()
        .and_then(|q| serde_urlencoded::from_str::<walk::RdField>(q).ok())
        .and_then(|field| field.rd);
    let destination = walk::destination(&state, rd.as_deref());
    let missing = match next_step(&standing, false) {
        Step::ChangePassword if route.as_deref() != Some(paths::CHANGE_PASSWORD) => {
            Some(Step::ChangePassword)
        }
        Step::Enrol if !enrolment_allows(route.as_deref()) => Some(Step::Enrol),
        _ => None,
    };
    let mut response = if let Some(step) = missing {
        web::redirect(hx, &walk::step_url(step, &destination))
    } else {
        request.extensions_mut().insert(signed_in);
        request.extensions_mut().insert(HeldAtEnrolment(held));
        next.run(request).await.into_response()
    };
    if hinted != Some(user_id)
        && let Some(cookie) =
            ended::set_hint(&state.signing_key, user_id, state.config.cookie_secure)
    {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Whether a factor is required and missing, read now (a session loaded without its user's
/// status).
async fn factor_missing_now(
    state: &AppState,
    user: &crate::entities::users::Model,
) -> crate::accounts::Result<bool> {
    Ok(!mfa::has_factor(&state.db, user.user_id).await?
        && mfa::required_of(&state.db, state.mfa.policy, user).await?)
}
