//! The web gate for `/panel/*`: sign-in required, and while a password change is pending only
//! the change-password page answers. Decided on the route the router matched.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use crate::auth::session::{CurrentUser, current_user};
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
    let user = match current_user(&session, &state.db).await {
        Ok(Some(user)) => user,
        Ok(None) => return web::redirect(hx, paths::LOGIN),
        Err(err) => return err.into_response_html(web::request_lang(request.headers())),
    };
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    if user.require_password_change && route.as_deref() != Some(paths::CHANGE_PASSWORD) {
        return web::redirect(hx, paths::CHANGE_PASSWORD);
    }
    request.extensions_mut().insert(CurrentUser(user));
    next.run(request).await.into_response()
}
