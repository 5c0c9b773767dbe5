//! GET /panel/dashboard.

use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use crate::accounts::clock;
use crate::auth::csrf;
use crate::auth::session::CurrentUser;
use crate::i18n::Lang;
use crate::views::dashboard::{DashboardView, dashboard_page};
use crate::web::{Hx, paths, redirect};

pub async fn show(CurrentUser(user): CurrentUser, session: Session) -> Response {
    let lang = Lang::from_code(&user.lang);
    let token = match csrf::token(&session).await {
        Ok(token) => token,
        Err(err) => return err.into_response_html(lang),
    };
    let view = DashboardView {
        username: &user.username,
        email: user.email.as_deref(),
        superuser: user.superuser,
        last_login: user.last_login.map(clock::rfc3339),
        lang_code: &user.lang,
        notice: None,
    };
    dashboard_page(lang, &token, &view).into_response()
}

pub async fn to_dashboard() -> Response {
    redirect(Hx(false), paths::DASHBOARD)
}
