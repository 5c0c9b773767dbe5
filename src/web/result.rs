//! GET /panel/result/{id}: a one-time result (see `web::one_time`), shown once; a second
//! visit says it was already shown.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::html;

use crate::paths;
use crate::state::AppState;
use crate::views::link_dialog::{LinkResultView, link_result_dialog, link_result_page};
use crate::views::reset::{
    BackLink, ResetResultView, already_shown_dialog, already_shown_page, reset_result_dialog,
    reset_result_page,
};
use crate::views::user_form::created_page;
use crate::views::users::user_row_oob;
use crate::web::one_time::{self, OneTime};
use crate::web::{Hx, PageResult, Viewer, users, walk};

/// Whether the htmx request comes from the users table (only there is a row to swap).
pub(super) fn from_users_table(headers: &HeaderMap) -> bool {
    headers
        .get("hx-current-url")
        .and_then(|v| v.to_str().ok())
        .and_then(|url| url.parse::<axum::http::Uri>().ok())
        .is_some_and(|uri| uri.path() == paths::USERS)
}

/// A dialog answered to htmx, with the target's row swapped out of band when the request
/// comes from the users table (the table behind the dialog shows the new status at once).
pub(super) async fn dialog_with_row(
    state: &AppState,
    viewer: &Viewer,
    headers: &HeaderMap,
    target_id: i32,
    dialog: maud::Markup,
) -> Response {
    let row = if from_users_table(headers) {
        match users::fresh_row(state, viewer, target_id).await {
            Ok(row) => row,
            Err(err) => return viewer.error(err),
        }
    } else {
        None
    };
    html! {
        (dialog)
        @if let Some(row) = &row { (user_row_oob(viewer.lang, row)) }
    }
    .into_response()
}

/// The result page's query: where it leads back to (`one_time::Back`).
#[derive(serde::Deserialize)]
pub struct ResultQuery {
    back: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    hx: Hx,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<ResultQuery>,
) -> PageResult {
    let lang = viewer.lang;
    let (back_href, back_label) = one_time::Back::parse(query.back.as_deref()).link();
    let back = BackLink {
        href: &back_href,
        label: back_label,
    };
    let taken = one_time::take(&state, &viewer, &id)
        .await
        .map_err(|e| viewer.fail(e))?;
    Ok(match taken {
        Some(OneTime::Reset(shown)) => {
            let view = ResetResultView {
                target_name: shown.target_name,
                password: Some(shown.password),
                expires: shown.expires,
                require_change: shown.require_change,
            };
            if !hx.0 {
                return Ok(reset_result_page(&viewer.context(), &view).into_response());
            }
            let dialog = reset_result_dialog(lang, &view);
            dialog_with_row(&state, &viewer, &headers, shown.target_id, dialog).await
        }
        Some(OneTime::Link(shown)) => {
            let title = lang
                .t("resetLink.madeTitle")
                .replace("{user}", &shown.target_name);
            let view = LinkResultView {
                title: &title,
                url: &shown.url,
                expires: &shown.expires,
                back: paths::USERS,
            };
            if !hx.0 {
                return Ok(link_result_page(&viewer.context(), &view).into_response());
            }
            let dialog = link_result_dialog(lang, &view);
            dialog_with_row(&state, &viewer, &headers, shown.target_id, dialog).await
        }
        Some(OneTime::Created(created)) => {
            let link = created.link.as_ref().map(|link| LinkResultView {
                title: "",
                url: &link.url,
                expires: &link.expires,
                back: paths::USERS,
            });
            created_page(
                &viewer.context(),
                &created.username,
                created.user_id,
                created.password.as_deref(),
                link.as_ref(),
                created.require_change,
            )
            .into_response()
        }
        Some(OneTime::Enrolment(shown)) => {
            crate::web::totp::show_enrolment(&state, &viewer, &shown)
        }
        Some(OneTime::Bulk(shown)) => crate::views::bulk::bulk_report_page(
            &viewer.context(),
            &crate::views::bulk::BulkReportView {
                action: &shown.action,
                applied: &shown.applied,
                skipped: &shown.skipped,
                unknown: shown.unknown,
            },
        )
        .into_response(),
        Some(OneTime::ClientSecret(shown)) => {
            return crate::web::apps::client::show_secret(&state, &viewer, hx, &shown);
        }
        Some(OneTime::RecoveryCodes { codes, rd }) => {
            let then = walk::resume_url(&walk::destination(&state, rd.as_deref()));
            crate::views::totp::codes_page(&viewer.context(), &codes, &then).into_response()
        }
        // Drafts are taken by their own forms; here they count as already shown.
        None | Some(OneTime::ResetDraft(_) | OneTime::UserDraft(_)) if hx.0 => {
            already_shown_dialog(lang, &back).into_response()
        }
        None | Some(OneTime::ResetDraft(_) | OneTime::UserDraft(_)) => {
            already_shown_page(&viewer.context(), &back).into_response()
        }
    })
}
