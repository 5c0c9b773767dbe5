//! Request bodies: strict JSON (unknown fields rejected) with errors in the envelope.

use axum::body::to_bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::config::MAX_BODY_BYTES;
use crate::error::Error;

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
                let message = without_values(&err.into_inner().to_string());
                Error::InvalidJsonSchema(if path == "." {
                    message
                } else {
                    format!("{path}: {message}")
                })
            })
    }
}

/// serde's message with the offending value left out: `invalid type: integer `12345678`,
/// expected a string` becomes `invalid type: integer, expected a string`. The value may be a
/// password sent with the wrong type, and an error never echoes a secret (SPEC §3a); the
/// field is named by the caller.
fn without_values(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: ", "unknown variant "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let (unexpected, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
            let kind = unexpected
                .split(['`', '"'])
                .next()
                .unwrap_or_default()
                .trim();
            let mut cleaned = format!("{prefix}{kind}").trim_end().to_string();
            if !expected.is_empty() {
                cleaned.push_str(", expected ");
                cleaned.push_str(expected);
            }
            return cleaned;
        }
    }
    message.to_string()
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

#[cfg(test)]
mod tests {
    use super::without_values;

    #[test]
    fn serde_messages_lose_their_values_but_keep_the_shape() {
        let cases = [
            (
                "invalid type: integer `12345678`, expected a string",
                "invalid type: integer, expected a string",
            ),
            (
                "invalid type: string \"hunter2hunter2\", expected i64",
                "invalid type: string, expected i64",
            ),
            (
                "invalid type: floating point `1.5`, expected a string",
                "invalid type: floating point, expected a string",
            ),
            (
                "invalid value: integer `-5`, expected u32",
                "invalid value: integer, expected u32",
            ),
            (
                "invalid type: sequence, expected a string",
                "invalid type: sequence, expected a string",
            ),
            (
                "unknown variant `s3cret`, expected `a` or `b`",
                "unknown variant, expected `a` or `b`",
            ),
            ("missing field `username`", "missing field `username`"),
            (
                "unknown field `pasword`, expected one of `password`",
                "unknown field `pasword`, expected one of `password`",
            ),
        ];
        for (given, cleaned) in cases {
            assert_eq!(without_values(given), cleaned);
        }
    }
}
