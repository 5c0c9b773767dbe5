//! GET /panel/dashboard: the greeting, and for administrators the overview (SPEC §18).

use axum::extract::State;
use axum::response::{IntoResponse, Response};

use crate::accounts::clock;
use crate::accounts::overview::{self, Overview, UserStatus};
use crate::paths;
use crate::state::AppState;
use crate::views::dashboard::{DashboardView, dashboard_page};
use crate::views::overview::{AppView, CountView, DayView, OverviewView};
use crate::web::{Hx, PageResult, Viewer, redirect};

#[derive(serde::Deserialize, Default)]
pub struct DashboardQuery {
    #[serde(default)]
    recovery_codes_left: Option<u64>,
}

/// The coverage's parts (the cards are SPEC §18's states, in [`UserStatus::ALL`]'s order).
const COVERAGE: [UserStatus; 3] = [UserStatus::Totp, UserStatus::Passkey, UserStatus::NoMfa];

fn overview_view(overview: Overview, everyone: bool, now: time::PrimitiveDateTime) -> OverviewView {
    let count = |status: UserStatus| CountView {
        status: status.as_str(),
        count: overview.counts.of(status),
        href: paths::users_in_status(status.as_str()),
    };
    OverviewView {
        everyone,
        as_of: clock::display(now),
        cards: UserStatus::ALL
            .into_iter()
            .filter(|s| s.is_card())
            .map(count)
            .collect(),
        enabled: overview.counts.enabled,
        coverage: COVERAGE.into_iter().map(count).collect(),
        days: overview
            .days
            .iter()
            .map(|d| DayView {
                date: d.date,
                signed_in: d.signed_in,
                failed: d.failed,
                resets: d.resets,
            })
            .collect(),
        apps: overview
            .apps
            .into_iter()
            .map(|app| AppView {
                name: app.name,
                users: app.users,
            })
            .collect(),
    }
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    axum::extract::Query(query): axum::extract::Query<DashboardQuery>,
) -> PageResult {
    let overview = if overview::has_overview(&viewer.caller) {
        let now = clock::now();
        let found = overview::overview(&state.db, &viewer.caller, state.mfa.policy, now)
            .await
            .map_err(|e| viewer.fail(e))?;
        Some(overview_view(found, viewer.caller.is_superuser(), now))
    } else {
        None
    };
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
        overview,
    };
    Ok(dashboard_page(&viewer.context(), &view).into_response())
}

pub async fn to_dashboard() -> Response {
    redirect(Hx(false), paths::DASHBOARD)
}
