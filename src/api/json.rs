//! Request bodies: strict JSON (unknown fields rejected) with errors in the envelope.

use axum::body::to_bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::server::MAX_BODY_BYTES;

/// A JSON body: malformed JSON is `INVALID_JSON`; a wrong type, range or unknown field is
/// `INVALID_JSON_SCHEMA` naming the field. An empty body reads as `{}`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(request: Request, _: &S) -> Result<Self, Self::Rejection> {
        let bytes = to_bytes(request.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| Error::PayloadTooLarge)?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        let value: serde_json::Value =
            serde_json::from_slice(text).map_err(|_| Error::InvalidJson)?;
        if !value.is_object() {
            return Err(Error::InvalidJsonSchema(
                "the body must be a JSON object".into(),
            ));
        }
        serde_path_to_error::deserialize(value)
            .map(ApiJson)
            .map_err(|err| {
                let path = err.path().to_string();
                let message = err.into_inner().to_string();
                Error::InvalidJsonSchema(if path == "." {
                    message
                } else {
                    format!("{path}: {message}")
                })
            })
    }
}

/// Distinguishes a field sent as `null` (`Some(None)`) from a missing one (`None`).
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}

/// Checks a string's length in characters.
pub fn check_length(field: &str, value: &str, min: usize, max: usize) -> Result<(), Error> {
    let length = value.chars().count();
    if (min..=max).contains(&length) {
        Ok(())
    } else {
        Err(Error::InvalidJsonSchema(format!(
            "{field}: {min} to {max} characters"
        )))
    }
}
