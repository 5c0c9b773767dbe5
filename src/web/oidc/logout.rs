//! `GET /oauth2/logout` (RP-initiated logout): the request is checked (a page at passgate
//! when it is wrong, never a redirect), then a signed-in browser confirms with a plain form
//! (`POST /oauth2/logout/confirm`, CSRF-protected). Signing out ends this browser's session
//! and the app sign-ins made in it (their `sid`; `web::login::sign_out`), then goes to the app's registered
//! post-logout URI with `state`, or to a page saying so. Other devices stay signed in.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use tower_sessions::Session;

use crate::accounts::oidc::Oidc;
use crate::accounts::oidc::logout::{self, LogoutError, LogoutParams, LogoutRequest};
use crate::auth::client_ip::ClientIp;
use crate::auth::{csrf, session};
use crate::i18n::Lang;
use crate::state::AppState;
use crate::views::layout::PageContext;
use crate::views::oidc::{LogoutForm, Refused, logout_page, refused_page, signed_out_page};
use crate::web::form::Form;
use crate::web::{PageError, PageResult, VisitorLang};

fn params_of(pairs: &[(String, String)]) -> LogoutParams {
    let get = |name| super::first(pairs, name).map(str::to_string);
    LogoutParams {
        id_token_hint: get("id_token_hint"),
        client_id: get("client_id"),
        post_logout_redirect_uri: get("post_logout_redirect_uri"),
        state: get("state"),
    }
}

/// The request checked, or the page that refuses it.
async fn checked(
    state: &AppState,
    oidc: &Oidc,
    lang: Lang,
    params: &LogoutParams,
) -> Result<LogoutRequest, PageError> {
    let fail = |err| PageError::visitor(lang, err);
    match logout::check(&state.db, &oidc.issuer, params)
        .await
        .map_err(fail)?
    {
        Ok(request) => Ok(request),
        Err(why) => {
            let refused = match why {
                LogoutError::InvalidHint => Refused::InvalidHint,
                LogoutError::ClientMismatch => Refused::ClientMismatch,
                LogoutError::UnknownClient | LogoutError::UnregisteredUri => {
                    Refused::UnregisteredLogoutUri
                }
            };
            let ctx = PageContext {
                lang,
                csrf: "",
                nav: None,
            };
            Err((StatusCode::BAD_REQUEST, refused_page(&ctx, refused))
                .into_response()
                .into())
        }
    }
}

/// Where the browser goes when there is (no longer) anyone to sign out.
fn afterwards(request: &LogoutRequest, lang: Lang) -> Response {
    match &request.redirect {
        Some(uri) => Redirect::to(uri).into_response(),
        None => signed_out_page(lang).into_response(),
    }
}

pub async fn show(
    State(state): State<AppState>,
    VisitorLang(visitor): VisitorLang,
    session: Session,
    Query(pairs): Query<Vec<(String, String)>>,
) -> PageResult {
    let oidc = super::provider(&state, visitor)?;
    let params = params_of(&pairs);
    let request = checked(&state, oidc, visitor, &params).await?;
    let fail = |err: crate::error::Error| PageError::visitor(visitor, err);
    let Some(signed_in) =
        session::current_user(&session, &state.db, state.config.session_max_lifetime)
            .await
            .map_err(fail)?
    else {
        return Ok(afterwards(&request, visitor));
    };
    let lang = Lang::from_code(&signed_in.user.lang);
    let csrf = csrf::token(&session).await.map_err(fail)?;
    let app = match &request.client {
        Some(client) => crate::accounts::apps::for_sign_in(&state.db, client.app_id)
            .await
            .map_err(|e| fail(e.into()))?
            .map(|app| app.name),
        None => None,
    };
    let ctx = PageContext {
        lang,
        csrf: &csrf,
        nav: None,
    };
    let form = LogoutForm {
        username: &signed_in.user.username,
        app: app.as_deref(),
        id_token_hint: params.id_token_hint.as_deref(),
        client_id: params.client_id.as_deref(),
        post_logout_redirect_uri: params.post_logout_redirect_uri.as_deref(),
        state: params.state.as_deref(),
    };
    let mut response = logout_page(&ctx, &form).into_response();
    // The confirmation's form ends at the app's registered post-logout URI.
    let allowed = request
        .redirect
        .as_deref()
        .and_then(crate::web::csp::origin_of)
        .and_then(|origin| crate::web::csp::allowing_form_targets(&state.config, &[origin]));
    if let Some(policy) = allowed {
        response
            .headers_mut()
            .insert(axum::http::header::CONTENT_SECURITY_POLICY, policy);
    }
    Ok(response)
}

pub async fn confirm(
    State(state): State<AppState>,
    VisitorLang(visitor): VisitorLang,
    ip: ClientIp,
    headers: HeaderMap,
    session: Session,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let oidc = super::provider(&state, visitor)?;
    let request = checked(&state, oidc, visitor, &params_of(&pairs)).await?;
    crate::web::login::sign_out(&state, &session, &headers, ip)
        .await
        .map_err(|err| PageError::visitor(visitor, err))?;
    let mut response = afterwards(&request, visitor);
    crate::web::login::clear_sign_in_cookies(&state, &mut response);
    Ok(response)
}
