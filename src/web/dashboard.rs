//! GET /panel/dashboard.

use axum::response::{IntoResponse, Response};

use crate::accounts::clock;
use crate::paths;
use crate::views::dashboard::{DashboardView, dashboard_page};
use crate::web::{Hx, Viewer, redirect};

#[derive(serde::Deserialize, Default)]
pub struct DashboardQuery {
    #[serde(default)]
    recovery_codes_left: Option<u64>,
}

pub async fn show(
    viewer: Viewer,
    axum::extract::Query(query): axum::extract::Query<DashboardQuery>,
) -> Response {
    let user = &viewer.user;
    let view = DashboardView {
        user_id: user.user_id,
        username: &user.username,
        email: user.email.as_deref(),
        superuser: user.superuser,
        last_login: user
            .last_login
            .map(|at| format!("{} UTC", clock::display(at))),
        lang_code: &user.lang,
        manages_users: viewer.caller.is_superuser() || viewer.caller.has_user_config(),
        sees_audit: viewer.caller.is_superuser(),
        recovery_codes_left: query.recovery_codes_left,
    };
    dashboard_page(&viewer.context(), &view).into_response()
}

pub async fn to_dashboard() -> Response {
    redirect(Hx(false), paths::DASHBOARD)
}
