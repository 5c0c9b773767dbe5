//! POST /panel/users/bulk: a bulk action on the users selected in the table (SPEC §11), through
//! `accounts::bulk`; the report is a one-time result, so a reload repeats nothing.

use crate::web::form::Form;
use axum::extract::State;
use axum::http::StatusCode;

use crate::accounts::audit::Actor;
use crate::accounts::bulk::{self, BulkAction, Skipped};
use crate::auth::client_ip::ClientIp;
use crate::state::AppState;
use crate::web::one_time::{self, BulkShown, OneTime};
use crate::web::{Hx, PageResult, Viewer};

/// More ids than this in one form are refused (a page of the table has 50 rows).
const MAX_SELECTED: usize = 500;

pub async fn submit_bulk_action(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    ip: ClientIp,
    Form(fields): Form<Vec<(String, String)>>,
) -> PageResult {
    let lang = viewer.lang;
    let action = fields
        .iter()
        .find(|(name, _)| name == "action")
        .map(|(_, value)| value.as_str());
    let what = match action {
        Some("require_change") => BulkAction::RequireChange,
        Some("end_sessions") => BulkAction::EndSessions,
        _ => {
            return Err(viewer.refusal(StatusCode::BAD_REQUEST, lang.t("panelConfig.bulkUnknown")));
        }
    };
    let selected: Vec<&str> = fields
        .iter()
        .filter(|(name, _)| name == "user")
        .map(|(_, value)| value.as_str())
        .collect();
    if selected.is_empty() {
        return Err(viewer.refusal(StatusCode::BAD_REQUEST, lang.t("panelConfig.bulkNone")));
    }
    if selected.len() > MAX_SELECTED {
        return Err(viewer.refusal(StatusCode::BAD_REQUEST, lang.t("panelConfig.bulkTooMany")));
    }
    // A value that is not an id names no user: counted as unknown, like a deleted one.
    let ids: Vec<i32> = selected.iter().filter_map(|v| v.parse().ok()).collect();
    let not_ids = selected.len() - ids.len();
    let actor = Actor::user(&viewer.user, ip.to_string());
    let report = bulk::apply(&state.db, &actor, &viewer.caller, what, &ids)
        .await
        .map_err(|e| viewer.fail(e))?;
    let shown = BulkShown {
        action: action.unwrap_or_default().to_string(),
        applied: report.applied,
        skipped: report
            .skipped
            .into_iter()
            .map(|(name, why)| {
                let why = match why {
                    Skipped::Yourself => "yourself",
                    Skipped::NotAllowed => "not_allowed",
                };
                (name, why.to_string())
            })
            .collect(),
        unknown: report.unknown + not_ids,
    };
    let id = one_time::put(&state, &viewer, OneTime::Bulk(shown))
        .await
        .map_err(|e| viewer.fail(e))?;
    Ok(one_time::redirect_to(hx, &id, one_time::Back::Users))
}
