//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0, SPEC §16 "Logout"): the
//! request checked once. An `id_token_hint` must be one of passgate's ID tokens (its
//! signature and issuer; an expired one is still a hint); a `client_id` beside it must be one
//! of its audiences (an ID token of one client presented by another is refused); a
//! `post_logout_redirect_uri` must be registered by that client. Anything wrong is a page at
//! passgate, never a redirect.

use sea_orm::ConnectionTrait;
use serde_json::Value;

use crate::accounts::error::Result;
use crate::accounts::oidc::clients::{self, Client};
use crate::accounts::oidc::id_token::Issuer;
use crate::accounts::oidc::keys::KeyRing;
use crate::accounts::oidc::request::STATE_MAX;

/// The parameters of `/oauth2/logout`.
#[derive(Clone, Debug, Default)]
pub struct LogoutParams {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}

/// Why a logout request is refused (shown on passgate's page).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogoutError {
    /// The hint is not an ID token passgate signed.
    InvalidHint,
    /// `client_id` is not an audience of the hint.
    ClientMismatch,
    /// No such client (or none could be told from the request, with a redirect URI).
    UnknownClient,
    /// The redirect URI is not one the client registered.
    UnregisteredUri,
}

/// A checked logout request.
#[derive(Clone, Debug)]
pub struct LogoutRequest {
    /// The client that asked, if one could be told.
    pub client: Option<Client>,
    /// Where to send the browser afterwards (registered), with `state` already added.
    pub redirect: Option<String>,
}

/// Checks a logout request.
pub async fn check(
    conn: &impl ConnectionTrait,
    issuer: &Issuer,
    params: &LogoutParams,
) -> Result<std::result::Result<LogoutRequest, LogoutError>> {
    let audiences = match &params.id_token_hint {
        None => None,
        Some(hint) => match KeyRing::verify(conn, hint).await {
            Some(claims) if claims["iss"] == issuer.as_str() => Some(audiences_of(&claims)),
            _ => return Ok(Err(LogoutError::InvalidHint)),
        },
    };
    let client_id = match (&params.client_id, &audiences) {
        (Some(id), Some(auds)) if !auds.contains(id) => {
            return Ok(Err(LogoutError::ClientMismatch));
        }
        (Some(id), _) => Some(id.clone()),
        (None, Some(auds)) => auds.first().cloned(),
        (None, None) => None,
    };
    let client = match &client_id {
        Some(id) => match clients::find(conn, id).await? {
            Some(client) => Some(client),
            None => return Ok(Err(LogoutError::UnknownClient)),
        },
        None => None,
    };
    let redirect = match (&params.post_logout_redirect_uri, &client) {
        (None, _) => None,
        (Some(_), None) => return Ok(Err(LogoutError::UnknownClient)),
        (Some(uri), Some(client)) if client.post_logout_uri_matches(uri) => {
            Some(with_state(uri, params.state.as_deref()))
        }
        (Some(_), Some(_)) => return Ok(Err(LogoutError::UnregisteredUri)),
    };
    Ok(Ok(LogoutRequest { client, redirect }))
}

/// `aud` as a list (a string or an array of strings).
fn audiences_of(claims: &Value) -> Vec<String> {
    match &claims["aud"] {
        Value::String(aud) => vec![aud.clone()],
        Value::Array(auds) => auds
            .iter()
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// `uri` with `state` added to its query, form-encoded.
pub fn with_state(uri: &str, state: Option<&str>) -> String {
    match state.filter(|s| !s.is_empty() && s.len() <= STATE_MAX) {
        None => uri.to_string(),
        Some(state) => {
            let separator = if uri.contains('?') { '&' } else { '?' };
            let encoded = serde_urlencoded::to_string([("state", state)]).unwrap_or_default();
            format!("{uri}{separator}{encoded}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn audiences_are_read_from_a_string_or_an_array() {
        assert_eq!(audiences_of(&json!({"aud": "wiki"})), ["wiki"]);
        assert_eq!(audiences_of(&json!({"aud": ["wiki", "x"]})), ["wiki", "x"]);
        assert!(audiences_of(&json!({})).is_empty());
    }

    #[test]
    fn state_is_added_to_the_query_encoded() {
        assert_eq!(
            with_state("https://a.example/out", Some("a b&c")),
            "https://a.example/out?state=a+b%26c"
        );
        assert_eq!(
            with_state("https://a.example/out?x=1", Some("s")),
            "https://a.example/out?x=1&state=s"
        );
        assert_eq!(
            with_state("https://a.example/out", None),
            "https://a.example/out"
        );
    }
}
