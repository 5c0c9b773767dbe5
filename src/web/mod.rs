//! HTML handlers: pages and htmx fragments, every one also reachable without JavaScript.

mod assets;
mod audit;
mod bulk;
mod change_password;
mod dashboard;
mod edit_user;
pub mod generated;
mod link_dialog;
mod login;
pub mod one_time;
mod passkey;
mod reset;
mod reset_link;
mod result;
mod second_factor;
pub(crate) mod security;
mod session_details;
mod sessions;
mod totp;
mod user_form;
mod users;
mod viewer;

pub use viewer::Viewer;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::auth::{csrf, gate};
use crate::error::Error;
use crate::i18n::Lang;
use crate::state::AppState;

pub use assets::asset_url;

/// Paths the pages link to.
pub mod paths {
    pub const LOGIN: &str = "/login";
    pub const LOGOUT: &str = "/logout";
    pub const DASHBOARD: &str = "/panel/dashboard";
    pub const CHANGE_PASSWORD: &str = "/panel/change_password";
    pub const USERS: &str = "/panel/panel_config";
    pub const NEW_USER: &str = "/panel/users/new";
    pub const EDIT_USER: &str = "/panel/edit_user";
    pub const DELETE_USER: &str = "/panel/delete_user";
    pub const AUDIT: &str = "/panel/audit";
    pub const CHANGE_PASSWORD_DIALOG: &str = "/panel/change_password/dialog";
    pub const SECURITY: &str = "/panel/security";
    /// One's own sessions (SPEC §11), and ending one or all others.
    pub const SESSIONS: &str = "/panel/sessions";
    pub const SESSIONS_END: &str = "/panel/sessions/end";
    pub const SESSIONS_END_OTHERS: &str = "/panel/sessions/end_others";
    /// Authenticator apps (SPEC §9).
    pub const TOTP_SETUP: &str = "/panel/security/totp/setup";
    pub const TOTP_START: &str = "/panel/security/totp";
    pub const TOTP_RENEW: &str = "/panel/security/totp/renew";
    pub const TOTP_VERIFY_ROUTE: &str = "/panel/security/totp/{id}/verify";
    pub const RESULT_ROUTE: &str = "/panel/result/{id}";

    pub fn totp_verify(enrolment_id: i32) -> String {
        format!("/panel/security/totp/{enrolment_id}/verify")
    }

    pub fn totp_remove(device_id: i32) -> String {
        format!("/panel/security/totp/{device_id}/remove")
    }

    pub fn totp_rename(device_id: i32) -> String {
        format!("/panel/security/totp/{device_id}/rename")
    }
    /// The code page of a sign-in (second factor pending).
    pub const SECOND_FACTOR: &str = "/login/second_factor";
    pub const SECOND_FACTOR_PASSKEY_OPTIONS: &str = "/login/second_factor/passkey/options";
    pub const SECOND_FACTOR_PASSKEY: &str = "/login/second_factor/passkey";
    /// Passkeys (JSON, for `assets/passkey.js`).
    pub const PASSKEY_SIGN_IN_OPTIONS: &str = "/login/passkey/options";
    pub const PASSKEY_SIGN_IN: &str = "/login/passkey";
    pub const PASSKEY_REGISTER_OPTIONS: &str = "/panel/security/passkeys/options";
    pub const PASSKEY_REGISTER: &str = "/panel/security/passkeys";
    pub const PASSKEY_PASSWORD_SIGN_IN: &str = "/panel/security/password_sign_in";

    /// Removing one of one's passkeys (a form with the current password).
    pub fn passkey_remove(passkey_id: i32) -> String {
        format!("/panel/security/passkeys/{passkey_id}/remove")
    }

    /// The reset dialog of one user (a page of its own without JavaScript).
    pub fn reset(user_id: i32) -> String {
        format!("/panel/users/{user_id}/reset_password")
    }

    /// The reset dialog's link choice: GET shows it, POST makes a link (SPEC §10).
    pub fn reset_link(user_id: i32) -> String {
        format!("/panel/users/{user_id}/reset_link")
    }

    /// Revokes a user's pending reset link.
    pub fn reset_link_revoke(user_id: i32) -> String {
        format!("/panel/users/{user_id}/reset_link/revoke")
    }

    /// A one-time result (shown once, see `web::one_time`).
    pub fn result(id: &str) -> String {
        format!("/panel/result/{id}")
    }

    /// Bulk actions on the users selected in the table (SPEC §11).
    pub const BULK: &str = "/panel/users/bulk";
    /// Ends every session and login token of a user (the edit page's button).
    pub fn end_sessions(user_id: i32) -> String {
        format!("{END_SESSIONS}?id={user_id}")
    }
    pub const END_SESSIONS: &str = "/panel/users/end_sessions";

    pub fn edit(user_id: i32) -> String {
        format!("{EDIT_USER}?id={user_id}")
    }
}

/// Whether the request came from htmx (`HX-Request: true`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hx(pub bool);

impl Hx {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Hx(headers
            .get("hx-request")
            .is_some_and(|v| v.as_bytes() == b"true"))
    }
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
            NotFound | UserNotFound | KeyNotRetrievable => "error.notFound",
            Unauthenticated | AccessDenied | PasswordChangeRequired | MfaSetupRequired => {
                "error.accessDenied"
            }
            LastSuperuser => "error.lastSuperuser",
            PasswordAuthDisabled => "passkey.passwordAuthDisabled",
            PasskeysDisabled => "passkey.disabled",
            PasskeyVerificationFailed => "passkey.verificationFailed",
            DatabaseUnavailable => "error.databaseUnavailable",
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
        .route(paths::USERS, get(users::list))
        .route(
            paths::NEW_USER,
            get(user_form::new_form).post(user_form::create),
        )
        .route(
            paths::EDIT_USER,
            get(edit_user::edit_form).post(edit_user::save),
        )
        .route(paths::BULK, axum::routing::post(bulk::apply))
        .route(
            paths::END_SESSIONS,
            axum::routing::post(edit_user::end_sessions),
        )
        .route(
            paths::DELETE_USER,
            get(edit_user::delete_form).post(edit_user::delete),
        )
        .route(
            "/panel/users/{id}/reset_password",
            get(reset::show).post(reset::submit),
        )
        .route(
            "/panel/users/{id}/reset_link",
            get(link_dialog::show).post(link_dialog::make),
        )
        .route(
            "/panel/users/{id}/reset_link/revoke",
            axum::routing::post(link_dialog::revoke),
        )
        .route(paths::AUDIT, get(audit::show))
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
        .route(paths::TOTP_SETUP, get(totp::setup))
        .route(paths::TOTP_START, axum::routing::post(totp::start))
        .route(paths::TOTP_RENEW, axum::routing::post(totp::renew))
        .route(paths::TOTP_VERIFY_ROUTE, axum::routing::post(totp::verify))
        .route(
            "/panel/security/totp/{id}/remove",
            axum::routing::post(totp::remove),
        )
        .route(
            "/panel/security/totp/{id}/rename",
            axum::routing::post(totp::rename),
        )
        .route(
            "/panel/security/passkeys/{id}/remove",
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
        .route(paths::LOGOUT, axum::routing::post(login::logout))
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
            "/reset/{token}",
            get(reset_link::show).post(reset_link::submit),
        )
        .merge(panel)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            session_details::record,
        ))
        .layer(middleware::from_fn_with_state(state, csrf::guard))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            crate::server::MAX_BODY_BYTES,
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
