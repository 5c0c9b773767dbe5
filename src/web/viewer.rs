//! The signed-in user of a panel page, with what every page needs about them.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

use crate::accounts::permissions::Caller;
use crate::auth::csrf;
use crate::auth::session::SignedIn;
use crate::entities::users;
use crate::error::Error;
use crate::i18n::Lang;
use crate::state::AppState;
use crate::views::layout::{Nav, PageContext};

pub struct Viewer {
    pub user: users::Model,
    pub caller: Caller,
    pub lang: Lang,
    pub csrf: String,
    pub session: Session,
    /// A second factor is required and missing: only setting one up is reachable.
    pub held_at_enrolment: bool,
}

impl Viewer {
    pub fn nav(&self) -> Nav<'_> {
        Nav {
            username: &self.user.username,
            restricted: self.user.require_password_change || self.held_at_enrolment,
            users: self.caller.is_superuser() || self.caller.has_user_config(),
            roles: self.caller.is_superuser() || self.caller.has_roles_config(),
            audit: self.caller.is_superuser(),
        }
    }

    pub fn context(&self) -> PageContext<'_> {
        PageContext {
            lang: self.lang,
            csrf: &self.csrf,
            nav: Some(self.nav()),
        }
    }

    /// Renders an error as a page in the viewer's language, inside the normal layout.
    pub fn error(&self, err: impl Into<Error>) -> Response {
        let err = err.into();
        let status = err.status();
        if status.is_server_error() {
            return err.into_response_html(self.lang);
        }
        let mut response = self.refuse(status, self.lang.t(err.message_key()));
        err.apply_headers(&mut response);
        response
    }

    /// A refusal that says what and why, inside the normal layout with its navigation.
    pub fn refuse(&self, status: StatusCode, message: &str) -> Response {
        let page = crate::views::error::error_page_in(&self.context(), status, message);
        (status, page).into_response()
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let fallback = crate::web::request_lang(&parts.headers);
        let SignedIn { user, grants, .. } = parts
            .extensions
            .get::<SignedIn>()
            .cloned()
            .ok_or_else(|| Error::Unauthenticated.into_response_html(fallback))?;
        let lang = Lang::from_code(&user.lang);
        let session = parts.extensions.get::<Session>().cloned().ok_or_else(|| {
            Error::Internal(anyhow::anyhow!("no session layer")).into_response_html(lang)
        })?;
        let csrf = csrf::token(&session)
            .await
            .map_err(|e| e.into_response_html(lang))?;
        let proved_temporary = crate::auth::session::proved_temporary(&session)
            .await
            .map_err(|e| e.into_response_html(lang))?;
        let caller = Caller::signed_in(&user, &grants, proved_temporary);
        let held_at_enrolment = parts
            .extensions
            .get::<crate::web::gate::HeldAtEnrolment>()
            .is_some_and(|held| held.0);
        Ok(Viewer {
            user,
            caller,
            lang,
            csrf,
            session,
            held_at_enrolment,
        })
    }
}
