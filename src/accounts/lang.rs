//! The languages a user may choose.

use crate::accounts::error::{Error, Result};

pub use crate::i18n::SUPPORTED;

/// Accepts `en`/`de` (and Crafty-style `en_EN`, `de_DE`); returns the stored code.
pub fn validate(code: &str) -> Result<String> {
    let primary = code
        .trim()
        .split(['_', '-'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if SUPPORTED.contains(&primary.as_str()) {
        Ok(primary)
    } else {
        Err(Error::invalid("lang", "lang: one of en, de"))
    }
}
