//! The web gate for `/panel/*`: sign-in required, and while a password change is pending only
//! the change-password page answers. Decided on the route the router matched.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use crate::auth::session::current_user;
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
    let signed_in = match current_user(&session, &state.db).await {
        Ok(Some(signed_in)) => signed_in,
        Ok(None) => return web::redirect(hx, paths::LOGIN),
        Err(err) => return err.into_response_html(web::request_lang(request.headers())),
    };
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    if signed_in.user.require_password_change && route.as_deref() != Some(paths::CHANGE_PASSWORD) {
        return web::redirect(hx, paths::CHANGE_PASSWORD);
    }
    request.extensions_mut().insert(signed_in);
    next.run(request).await.into_response()
}
