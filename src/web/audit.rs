//! GET /panel/audit: the audit log, for superusers.

use axum::extract::{Query, State};
use axum::response::IntoResponse;
use serde::Deserialize;

use crate::accounts::{audit, clock};
use crate::error::Error;
use crate::state::AppState;
use crate::views::audit::{AuditRow, AuditView, audit_page, detail_sentence};
use crate::web::{PageResult, Viewer};

pub const PER_PAGE: u64 = 50;

#[derive(Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    user: String,
    page: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(query): Query<AuditQuery>,
) -> PageResult {
    if !viewer.caller.is_superuser() {
        return Err(viewer.fail(Error::AccessDenied));
    }
    let page = query
        .page
        .as_deref()
        .and_then(|p| p.parse().ok())
        .unwrap_or(1);
    let (entries, page, pages) = audit::page(&state.db, Some(&query.user), page, PER_PAGE)
        .await
        .map_err(|e| viewer.fail(e))?;
    let rows = entries
        .into_iter()
        .map(|e| AuditRow {
            when: clock::display(e.created),
            actor: e
                .actor_name
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "—".into()),
            action: action_name(viewer.lang, &e.action),
            target: e.target_name.unwrap_or_else(|| "—".into()),
            ip: e.source_ip,
            detail: detail_sentence(viewer.lang, &e.action, &e.detail),
        })
        .collect();
    let view = AuditView {
        rows,
        user: query.user,
        page,
        pages,
    };
    Ok(audit_page(&viewer.context(), &view).into_response())
}

/// The translated name of an audit action (the stable code when there is none).
fn action_name(lang: crate::i18n::Lang, action: &str) -> String {
    let key = format!("audit.actions.{action}");
    let text = lang.t(&key);
    if text == key {
        action.to_string()
    } else {
        text.to_string()
    }
}
