//! The browser pages of the OpenID Connect provider (SPEC §16): the authorization endpoint
//! (`authorize`), sign-out for an app (RP-initiated logout, `logout`) and the apps section of
//! `/panel/sessions` (`sign_ins`).
//! The protocol's machine endpoints are the top-level `oauth` module.

pub mod authorize;
pub mod logout;
pub mod sign_ins;

use crate::accounts::oidc::Oidc;
use crate::error::Error;
use crate::i18n::Lang;
use crate::state::AppState;
use crate::web::PageError;

/// The provider, or the not-found page while OpenID Connect is off.
fn provider(state: &AppState, lang: Lang) -> Result<&Oidc, PageError> {
    state
        .oidc
        .as_ref()
        .ok_or_else(|| PageError::visitor(lang, Error::NotFound))
}

/// The first value of each parameter (a repeated one counts once).
fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}
