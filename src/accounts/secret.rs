//! A password or key held in memory: never printed in clear, wiped when dropped.

use std::fmt;

use serde::Deserialize;
use zeroize::Zeroize;

/// A secret string (password, temporary password, API key).
///
/// `Debug` prints `Secret(***)` and there is no `Display`, so a secret cannot slip into a log
/// line or an error message by formatting; the bytes are zeroized on drop (copies made with
/// `Clone` are wiped by their own drop). Read the value only through [`Secret::expose`].
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Takes ownership of `value`; its buffer is wiped when the `Secret` is dropped.
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The secret in clear, for hashing, comparing or handing to the user exactly once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_content() {
        let secret = Secret::new("hunter2-correct-horse".to_owned());
        let printed = format!("{secret:?} {:#?}", secret);
        assert_eq!(printed, "Secret(***) Secret(***)");
        assert!(!printed.contains("hunter2"));
    }

    #[test]
    fn expose_returns_the_value() {
        let secret = Secret::from("s3cret value".to_owned());
        assert_eq!(secret.expose(), "s3cret value");
        assert_eq!(secret.clone().expose(), "s3cret value");
    }

    #[test]
    fn deserializes_from_a_plain_string() {
        #[derive(Deserialize)]
        struct Form {
            password: Secret,
        }
        let form: Form = serde_json::from_str(r#"{"password":"pässwörd"}"#).unwrap();
        assert_eq!(form.password.expose(), "pässwörd");
        assert_eq!(format!("{:?}", form.password), "Secret(***)");
    }
}
