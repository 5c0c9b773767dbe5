//! The form extractor of the web handlers: axum's `Form`, except that a body it cannot read
//! (another content type, a field given twice, bytes that are not UTF-8) gets the error page
//! in the visitor's language — 400, or 415 for a content type that is not a form — rather
//! than axum's plain-text rejection. Nothing is changed either way.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::web::request_lang;

pub struct Form<T>(pub T);

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let lang = request_lang(request.headers());
        match axum::Form::<T>::from_request(request, state).await {
            Ok(axum::Form(fields)) => Ok(Form(fields)),
            Err(rejection) => {
                let status = match rejection.status() {
                    StatusCode::UNSUPPORTED_MEDIA_TYPE => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
                    _ => StatusCode::BAD_REQUEST,
                };
                tracing::debug!(%status, reason = %rejection.body_text(), "unreadable form");
                let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
                    lang.t("error.tooLarge")
                } else {
                    lang.t("error.badRequest")
                };
                let page = crate::views::error::error_page(lang, status, message);
                Err((status, page).into_response())
            }
        }
    }
}
