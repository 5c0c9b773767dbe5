//! HTML handlers: pages and htmx fragments, every one also reachable without JavaScript.

mod apps;
mod assets;
mod audit;
mod change_password;
pub mod csp;
mod csrf;
mod dashboard;
mod denied;
mod form;
mod gate;
pub mod generated;
mod login;
mod oidc;
pub mod one_time;
mod page;
mod passkey;
mod reset_link;
mod result;
mod roles;
mod second_factor;
pub(crate) mod security;
mod session_details;
mod sessions;
mod totp;
mod users;
mod viewer;
pub(crate) mod walk;

pub use page::{PageError, PageResult};
pub use viewer::Viewer;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::error::Error;
use crate::i18n::Lang;
use crate::paths;
use crate::state::AppState;

/// Whether the request came from htmx (`HX-Request: true`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hx(pub bool);

impl Hx {
    /// An htmx request, except a history restore (the back button after `hx-push-url`, with
    /// no cached page): that one asks for the whole page.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let flag = |name: &str| headers.get(name).is_some_and(|v| v.as_bytes() == b"true");
        Hx(flag("hx-request") && !flag("hx-history-restore-request"))
    }
}

/// The one place an answer becomes a fragment or a page: htmx swaps the fragment in; a
/// browser without JavaScript (or a reload, or the back button) gets the same content inside
/// the whole page.
pub fn page_or_fragment(
    hx: Hx,
    fragment: impl FnOnce() -> maud::Markup,
    page: impl FnOnce() -> maud::Markup,
) -> maud::Markup {
    if hx.0 { fragment() } else { page() }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Hx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Hx::from_headers(&parts.headers))
    }
}

/// A redirect that works with and without htmx: `HX-Redirect` for htmx (a full page load of
/// the target), otherwise 303 See Other.
pub fn redirect(hx: Hx, to: &str) -> Response {
    if hx.0 {
        let mut response = StatusCode::OK.into_response();
        if let Ok(value) = HeaderValue::from_str(to) {
            response.headers_mut().insert("hx-redirect", value);
        }
        response
    } else {
        Redirect::to(to).into_response()
    }
}

/// The language of a visitor who is not signed in: from `Accept-Language`.
pub fn request_lang(headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::negotiate)
        .unwrap_or_default()
}

/// The `Accept-Language` language as an extractor.
pub struct VisitorLang(pub Lang);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for VisitorLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(VisitorLang(request_lang(&parts.headers)))
    }
}

impl Error {
    /// The translation key of the message shown for this error on a page.
    pub fn message_key(&self) -> &'static str {
        use Error::*;
        match self {
            IncorrectCredentials => "login.incorrect",
            TempPasswordExpired => "login.tempPasswordExpired",
            AccountDisabled => "login.accountDisabled",
            TooManyAttempts { .. } => "login.tooManyAttempts",
            MfaRequired | IncorrectMfa => "login.mfaRequired",
            CsrfRejected => "error.csrf",
            PayloadTooLarge => "error.tooLarge",
            NotFound | UserNotFound | KeyNotRetrievable | RoleNotFound => "error.notFound",
            Unauthenticated | AccessDenied | PasswordChangeRequired | MfaSetupRequired => {
                "error.accessDenied"
            }
            LastSuperuser => "error.lastSuperuser",
            PasswordAuthDisabled => "passkey.passwordAuthDisabled",
            PasskeysDisabled => "passkey.disabled",
            PasskeyVerificationFailed => "passkey.verificationFailed",
            DatabaseUnavailable => "error.databaseUnavailable",
            MfaUnavailable => "operator.mfaUnavailable",
            _ if self.status().is_server_error() => "error.internal",
            _ => "error.badRequest",
        }
    }

    /// A small full page for failures outside a form (CSRF, body size, internal errors).
    pub fn into_response_html(self, lang: Lang) -> Response {
        let status = self.status();
        let _ = self.public_message(); // logs internal errors
        let page = crate::views::error::error_page(lang, status, lang.t(self.message_key()));
        let mut response = (status, page).into_response();
        self.apply_headers(&mut response);
        response
    }
}

/// The HTML side of the app: pages, the panel behind its gate, assets, health.
pub fn router(state: AppState) -> Router<AppState> {
    let panel = Router::new()
        .route(paths::DASHBOARD, get(dashboard::show))
        .route(
            paths::CHANGE_PASSWORD,
            get(change_password::show).post(change_password::submit),
        )
        .route(paths::CHANGE_PASSWORD_DIALOG, get(change_password::dialog))
        .route(paths::USERS, get(users::list_users))
        .route(
            paths::NEW_USER,
            get(users::new::new_user_form).post(users::new::submit_new_user),
        )
        .route(
            paths::EDIT_USER,
            get(users::edit::edit_user_form).post(users::edit::submit_edit_user),
        )
        .route(
            paths::BULK,
            axum::routing::post(users::bulk::submit_bulk_action),
        )
        .route(
            paths::END_SESSIONS,
            axum::routing::post(users::edit::end_user_sessions),
        )
        .route(
            paths::DELETE_USER,
            get(users::delete::delete_user_form).post(users::delete::submit_delete_user),
        )
        .route(
            paths::RESET_ROUTE,
            get(users::reset::reset_password_dialog).post(users::reset::submit_reset_password),
        )
        .route(
            paths::RESET_LINK_ROUTE,
            get(users::link::reset_link_dialog).post(users::link::submit_reset_link),
        )
        .route(
            paths::RESET_LINK_REVOKE_ROUTE,
            axum::routing::post(users::link::revoke_reset_link),
        )
        .route(paths::AUDIT, get(audit::show))
        .route(paths::APPS, get(apps::list_apps))
        .route(
            paths::NEW_APP,
            get(apps::new_app_form).post(apps::submit_new_app),
        )
        .route(
            paths::EDIT_APP_ROUTE,
            get(apps::edit_app_form).post(apps::submit_edit_app),
        )
        .route(
            paths::DELETE_APP_ROUTE,
            get(apps::delete_app_form).post(apps::submit_delete_app),
        )
        .route(
            paths::APP_SECRET_ROUTE,
            get(apps::client::regenerate_form).post(apps::client::submit_regenerate),
        )
        .route(paths::ROLES, get(roles::list_roles))
        .route(
            paths::NEW_ROLE,
            get(roles::edit::new_role_form).post(roles::edit::submit_new_role),
        )
        .route(
            paths::ROLE_ROUTE,
            get(roles::edit::role_page_view).post(roles::edit::submit_role),
        )
        .route(
            paths::ROLE_MEMBERS_ROUTE,
            axum::routing::post(roles::members::submit_members),
        )
        .route(
            paths::ROLE_DELETE_ROUTE,
            get(roles::delete::delete_role_form).post(roles::delete::submit_delete_role),
        )
        .route(
            paths::PASSKEY_REGISTER_OPTIONS,
            axum::routing::post(passkey::register_options),
        )
        .route(
            paths::PASSKEY_REGISTER,
            axum::routing::post(passkey::register),
        )
        .route(paths::SECURITY, get(security::show))
        .route(paths::SESSIONS, get(sessions::show))
        .route(paths::SESSIONS_END, axum::routing::post(sessions::end_one))
        .route(
            paths::SESSIONS_END_OTHERS,
            axum::routing::post(sessions::end_others),
        )
        .route(
            paths::SESSIONS_END_APP,
            axum::routing::post(oidc::sign_ins::end),
        )
        .route(paths::TOTP_SETUP, get(totp::setup))
        .route(paths::TOTP_START, axum::routing::post(totp::start))
        .route(paths::TOTP_RENEW, axum::routing::post(totp::renew))
        .route(paths::TOTP_VERIFY_ROUTE, axum::routing::post(totp::verify))
        .route(paths::TOTP_REMOVE_ROUTE, axum::routing::post(totp::remove))
        .route(paths::TOTP_RENAME_ROUTE, axum::routing::post(totp::rename))
        .route(
            paths::PASSKEY_REMOVE_ROUTE,
            axum::routing::post(passkey::remove),
        )
        .route(
            paths::PASSKEY_PASSWORD_SIGN_IN,
            axum::routing::post(passkey::password_sign_in),
        )
        .route(paths::RESULT_ROUTE, get(result::show))
        .route("/panel", get(dashboard::to_dashboard))
        .route("/panel/{*rest}", get(panel_not_found).post(panel_not_found))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            gate::panel_gate,
        ));
    Router::new()
        .route("/", get(dashboard::to_dashboard))
        .route(paths::LOGIN, get(login::show).post(login::submit))
        .route(paths::LOGOUT, get(login::logout_page).post(login::logout))
        .route(paths::DENIED, get(denied::show))
        .route(
            paths::SECOND_FACTOR,
            get(second_factor::show).post(second_factor::submit),
        )
        .route(
            paths::SECOND_FACTOR_PASSKEY_OPTIONS,
            axum::routing::post(passkey::second_factor_options),
        )
        .route(
            paths::SECOND_FACTOR_PASSKEY,
            axum::routing::post(passkey::second_factor),
        )
        .route(
            paths::PASSKEY_SIGN_IN_OPTIONS,
            axum::routing::post(passkey::sign_in_options),
        )
        .route(
            paths::PASSKEY_SIGN_IN,
            axum::routing::post(passkey::sign_in),
        )
        .route(
            paths::RESET_PAGE_ROUTE,
            get(reset_link::show).post(reset_link::submit),
        )
        .route(paths::oidc::AUTHORIZE, get(oidc::authorize::authorize))
        .route(paths::oidc::LOGOUT, get(oidc::logout::show))
        .route(
            paths::oidc::LOGOUT_CONFIRM,
            axum::routing::post(oidc::logout::confirm),
        )
        .merge(panel)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session_details::record,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            csp::walk_targets,
        ))
        .layer(middleware::from_fn_with_state(state, csrf::guard))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            crate::config::MAX_BODY_BYTES,
        ))
        .merge(assets::router())
}

/// An unknown page inside the panel: a page of the panel, with its navigation.
async fn panel_not_found(viewer: Viewer) -> Response {
    viewer.error(Error::NotFound)
}

/// The answer for paths that lead nowhere: JSON for anything that looks like the API (also
/// spelled `//api/…` or `/API/…`), a page otherwise.
pub async fn not_found(VisitorLang(lang): VisitorLang, uri: axum::http::Uri) -> Response {
    let path = uri.path().trim_start_matches('/').to_ascii_lowercase();
    if path == "api" || path.starts_with("api/") {
        return Error::NotFound.into_response();
    }
    Error::NotFound.into_response_html(lang)
}
