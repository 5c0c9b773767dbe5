//! CSRF tokens (the guard that checks them is `web::csrf`): a per-session token that every unsafe web request must carry, as the
//! `csrf_token` form field or the `X-CSRF-Token` header (which htmx sends).
//!
//! A visitor who has not signed in has no session (no row is stored for them, SPEC §3a): the
//! sign-in form is protected by a signed double-submit cookie instead. The cookie holds a
//! random nonce with its keyed signature; the form carries the same value; a request passes
//! when both are equal and the signature is the server's. Cross-site requests that say so
//! (`Sec-Fetch-Site: cross-site`) are refused on that path as well.

use axum::http::header;
use base64::Engine;
use rand::RngExt;
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use axum::http::{HeaderMap, HeaderValue};

use crate::auth::tokens::SigningKey;
use crate::error::{Error, Result};

pub const CSRF_KEY: &str = "csrf";
pub const FIELD: &str = "csrf_token";
pub const HEADER: &str = "x-csrf-token";
/// Largest form body read while looking for the token (the whole app refuses larger ones).
pub const MAX_FORM_BYTES: usize = 64 * 1024;

fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The signed-in session's token, created on first use (for a session that predates it).
pub async fn token(session: &Session) -> Result<String> {
    let existing = session_token(session).await?;
    match existing {
        Some(token) => Ok(token),
        None => rotate(session).await,
    }
}

/// The session's token if it has one, without creating one (an anonymous visitor's session
/// stays empty).
pub async fn session_token(session: &Session) -> Result<Option<String>> {
    session
        .get::<String>(CSRF_KEY)
        .await
        .map_err(crate::auth::session::session_error)
}

/// The cookie of the anonymous double-submit token.
pub const ANON_COOKIE: &str = "passgate_csrf";
const ANON_PURPOSE: &str = "csrf-anonymous";

/// A signed anonymous token: `nonce.signature`.
fn new_anonymous(key: &SigningKey) -> String {
    let nonce = new_token();
    let signature = key.keyed_hash(ANON_PURPOSE, nonce.as_bytes());
    format!("{nonce}.{signature}")
}

/// Whether `value` is an anonymous token this server signed.
fn anonymous_is_genuine(key: &SigningKey, value: &str) -> bool {
    let Some((nonce, signature)) = value.split_once('.') else {
        return false;
    };
    let expected = key.keyed_hash(ANON_PURPOSE, nonce.as_bytes());
    !nonce.is_empty() && bool::from(expected.as_bytes().ct_eq(signature.as_bytes()))
}

/// The value of cookie `name` in the request.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The token a form page embeds: the session's when the visitor is signed in, otherwise the
/// anonymous double-submit token (the visitor's cookie when it is genuine, else a new one,
/// returned with the `Set-Cookie` value to send). Writes nothing to the session.
pub async fn form_token(
    session: &Session,
    key: &SigningKey,
    headers: &HeaderMap,
    secure: bool,
) -> Result<(String, Option<HeaderValue>)> {
    if let Some(token) = session_token(session).await? {
        return Ok((token, None));
    }
    if let Some(existing) = cookie(headers, ANON_COOKIE).filter(|v| anonymous_is_genuine(key, v)) {
        return Ok((existing.to_string(), None));
    }
    let token = new_anonymous(key);
    let secure = if secure { "; Secure" } else { "" };
    let set_cookie = HeaderValue::from_str(&format!(
        "{ANON_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}"
    ))
    .map_err(|e| Error::Internal(e.into()))?;
    Ok((token, Some(set_cookie)))
}

/// Replaces the token (at login, so a token seen before authentication is worthless after).
pub async fn rotate(session: &Session) -> Result<String> {
    let token = new_token();
    session
        .insert(CSRF_KEY, &token)
        .await
        .map_err(crate::auth::session::session_error)?;
    Ok(token)
}

/// Whether `given` is the expected token (compared in constant time; nothing is expected of
/// a request that has no token to expect). The one check behind the web guard and the API's
/// cookie check.
pub fn verify(expected: &str, given: &str) -> bool {
    !expected.is_empty() && expected.as_bytes().ct_eq(given.as_bytes()).into()
}

/// The token field of a url-encoded form body.
pub fn form_field(body: &[u8]) -> Option<String> {
    form_urlencoded_pairs(body)
        .find(|(k, _)| k == FIELD)
        .map(|(_, v)| v)
}

fn form_urlencoded_pairs(body: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .unwrap_or_default()
        .into_iter()
}

/// What an unsafe request's token must equal: the session's token, or for a visitor without
/// one, their genuine anonymous cookie (unless the browser says the request is cross-site).
pub fn expected_token(
    session_token: Option<String>,
    key: &SigningKey,
    headers: &HeaderMap,
) -> String {
    if let Some(token) = session_token {
        return token;
    }
    let cross_site = headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site");
    match cookie(headers, ANON_COOKIE) {
        Some(value) if !cross_site && anonymous_is_genuine(key, value) => value.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookie_value: &str, fetch_site: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("other=1; {ANON_COOKIE}={cookie_value}")).unwrap(),
        );
        if let Some(site) = fetch_site {
            headers.insert("sec-fetch-site", HeaderValue::from_str(site).unwrap());
        }
        headers
    }

    #[test]
    fn an_anonymous_token_is_expected_only_when_this_server_signed_it() {
        let key = SigningKey::from_bytes(vec![1; 32]);
        let other = SigningKey::from_bytes(vec![2; 32]);
        let genuine = new_anonymous(&key);
        assert_eq!(
            expected_token(None, &key, &headers(&genuine, None)),
            genuine
        );
        assert_eq!(
            expected_token(None, &key, &headers(&genuine, Some("same-origin"))),
            genuine
        );
        // Planted by someone else, tampered, or sent cross-site: nothing is expected, so
        // nothing matches.
        let foreign = new_anonymous(&other);
        assert_eq!(expected_token(None, &key, &headers(&foreign, None)), "");
        let (nonce, _) = genuine.split_once('.').unwrap();
        let forged = format!("{nonce}.{}", "0".repeat(64));
        assert_eq!(expected_token(None, &key, &headers(&forged, None)), "");
        assert_eq!(expected_token(None, &key, &headers("no-dot", None)), "");
        assert_eq!(
            expected_token(None, &key, &headers(&genuine, Some("cross-site"))),
            ""
        );
        assert!(!verify("", ""));
        // A signed-in session's own token always wins over a cookie.
        assert_eq!(
            expected_token(Some("session-token".into()), &key, &headers(&genuine, None)),
            "session-token"
        );
    }
}
