//! The web gate for `/panel/*`: sign-in required, and while a password change is pending only
//! the change-password page answers. Decided on the route the router matched. A session that
//! no longer stands is sent to the sign-in page with the reason (see `auth::ended`).

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use crate::auth::ended;
use crate::auth::session::{current_user, session_error};
use crate::auth::session_store::USER_ID_KEY;
use crate::state::AppState;
use crate::web::{self, Hx, paths};

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
    let signed_in = match current_user(&session, &state.db).await {
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
    let mut response = if signed_in.user.require_password_change
        && route.as_deref() != Some(paths::CHANGE_PASSWORD)
    {
        web::redirect(hx, paths::CHANGE_PASSWORD)
    } else {
        request.extensions_mut().insert(signed_in);
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
