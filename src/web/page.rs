//! The shape of a web handler: `Result<Response, PageError>`. A refusal or failure becomes a
//! page inside the viewer's layout ([`Viewer::fail`]), so a handler reads top to bottom with
//! `?` instead of a dozen early returns.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::Error;
use crate::i18n::Lang;
use crate::web::Viewer;

/// What a handler answers instead of what it was asked: already rendered for the viewer
/// (boxed: the error path is the rare one, and `Result`s stay small).
pub struct PageError(Box<Response>);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        *self.0
    }
}

/// What a panel handler returns.
pub type PageResult = Result<Response, PageError>;

impl Viewer {
    /// `err` as the page to answer with (`.map_err(|e| viewer.fail(e))?`).
    pub fn fail(&self, err: impl Into<Error>) -> PageError {
        PageError(Box::new(self.error(err)))
    }

    /// A refusal with its own message, as the page to answer with.
    pub fn refusal(&self, status: StatusCode, message: &str) -> PageError {
        PageError(Box::new(self.refuse(status, message)))
    }
}

impl PageError {
    /// `err` as the small page a visitor who is not signed in gets (in their language).
    pub fn visitor(lang: Lang, err: impl Into<Error>) -> Self {
        PageError(Box::new(err.into().into_response_html(lang)))
    }
}

impl From<Response> for PageError {
    /// A response a handler already rendered (e.g. a form with its errors) ends it early.
    fn from(response: Response) -> Self {
        PageError(Box::new(response))
    }
}
