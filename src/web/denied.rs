//! `GET /denied?rd=`: a signed-in user whom an application refuses (its roles or its policy,
//! SPEC §15.2) lands here at the end of the sign-in walk, or from nginx's `error_page 403`:
//! "You do not have access to *app*", with the way to sign in as someone else. Answers 403.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use crate::auth::{csrf, session};
use crate::i18n::Lang;
use crate::state::AppState;
use crate::views::access::{DeniedView, denied_page};
use crate::web::{PageError, PageResult, VisitorLang, walk};

pub async fn show(
    State(state): State<AppState>,
    VisitorLang(lang): VisitorLang,
    headers: HeaderMap,
    session: Session,
    Query(query): Query<walk::RdField>,
) -> PageResult {
    let fail = |err| PageError::visitor(lang, err);
    let signed_in = session::current_user(&session, &state.db, state.config.session_max_lifetime)
        .await
        .map_err(fail)?;
    let destination = walk::destination(&state, query.rd.as_deref());
    let app = walk::app_name(&state, &destination).await;
    let lang = signed_in
        .as_ref()
        .map_or(lang, |s| Lang::from_code(&s.user.lang));
    let (token, set_cookie) = csrf::form_token(
        &session,
        &state.signing_key,
        &headers,
        state.config.cookie_secure,
    )
    .await
    .map_err(fail)?;
    let view = DeniedView {
        app: app.as_deref(),
        username: signed_in.as_ref().map(|s| s.user.username.as_str()),
        base: "",
        csrf: Some(&token),
        rd: destination.rd(),
    };
    let mut response: Response = (StatusCode::FORBIDDEN, denied_page(lang, &view)).into_response();
    if let Some(cookie) = set_cookie {
        response
            .headers_mut()
            .append(axum::http::header::SET_COOKIE, cookie);
    }
    Ok(response)
}
