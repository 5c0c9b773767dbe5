//! The authorization request (SPEC §16 "Authorize"), checked once: an unknown client or an
//! unregistered redirect URI is an error *page* (never a redirect: the URI may be an
//! attacker's); every other fault goes back to the registered redirect URI with `error`,
//! `error_description` and `state`. What passes is an [`AuthorizationRequest`], the value the
//! sign-in walk carries to its end.

use serde::{Deserialize, Serialize};

use crate::accounts::oidc::clients::Client;
use crate::accounts::oidc::{OAuthError, Scopes, code};

/// Longest `state` carried (bytes); it goes back to the client unchanged.
pub const STATE_MAX: usize = 2048;
/// Longest `nonce` kept (bytes).
pub const NONCE_MAX: usize = 512;
/// Longest `login_hint` used (bytes).
pub const LOGIN_HINT_MAX: usize = 64;

/// The parameters of `/oauth2/authorize`, as sent (query or form), each at most once.
#[derive(Clone, Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Params(pairs)
    }

    /// The value of `name` if it was sent once; `Err` if it was sent more than once (RFC 6749
    /// §3.1: parameters must not repeat).
    fn one(&self, name: &str) -> Result<Option<&str>, ()> {
        let mut values = self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
        let first = values.next();
        if values.next().is_some() {
            return Err(());
        }
        Ok(first.map(String::as_str).filter(|v| !v.is_empty()))
    }
}

/// Why a request cannot go back to its client: the page passgate shows instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageError {
    /// No `client_id`, or none registered with it.
    UnknownClient,
    /// No `redirect_uri`, or one the client did not register.
    UnregisteredRedirectUri,
}

/// The outcome of checking a request that could not be accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    Page(PageError),
    /// Sent back to `redirect_uri` (with `state`, when there was one).
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: OAuthError,
    },
}

/// `prompt` as understood: `none` (never a page) or `login` (sign in again); `consent` and
/// `select_account` are accepted and need nothing (no consent page, one account per browser).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Prompt {
    #[default]
    Default,
    None,
    Login,
}

/// An authorization request that passed every check: what the walk carries and the code is
/// bound to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub app_id: i32,
    pub redirect_uri: String,
    /// Space-separated understood scopes (always with `openid`).
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// The PKCE `S256` challenge.
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    /// Seconds since the sign-in beyond which the user must sign in again.
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    /// When the request arrived (Unix seconds): `prompt=login` wants a sign-in after this.
    pub received_at: i64,
}

impl AuthorizationRequest {
    pub fn scopes(&self) -> Scopes {
        Scopes::parse(&self.scope)
    }

    /// The refusal that sends `error` back to this request's client.
    pub fn refuse(&self, code: &'static str, description: impl Into<String>) -> Refusal {
        Refusal::Redirect {
            redirect_uri: self.redirect_uri.clone(),
            state: self.state.clone(),
            error: OAuthError::new(code, description),
        }
    }
}

/// The client a request names (`client_id`), to look up before [`check`]; a repeated
/// `client_id` names none.
pub fn client_id(params: &Params) -> Result<&str, Refusal> {
    params
        .one("client_id")
        .ok()
        .flatten()
        .ok_or(Refusal::Page(PageError::UnknownClient))
}

/// Checks a request against its client (`None`: no such client), in the order of RFC 6749
/// §4.1.2.1: client and redirect URI first (faults there are pages), then the rest.
pub fn check(
    params: &Params,
    client: Option<&Client>,
    received_at: i64,
) -> Result<AuthorizationRequest, Refusal> {
    let client = client.ok_or(Refusal::Page(PageError::UnknownClient))?;
    let redirect_uri = params
        .one("redirect_uri")
        .ok()
        .flatten()
        .filter(|uri| client.redirect_uri_matches(uri))
        .ok_or(Refusal::Page(PageError::UnregisteredRedirectUri))?
        .to_string();
    // From here on, faults go back to the client; `state` with them if it can be read.
    let state = params
        .one("state")
        .ok()
        .flatten()
        .filter(|s| s.len() <= STATE_MAX)
        .map(str::to_string);
    let refuse = |code: &'static str, description: &str| Refusal::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        error: OAuthError::new(code, description),
    };
    let one = |name: &str| {
        params.one(name).map_err(|()| {
            refuse(
                code::INVALID_REQUEST,
                &format!("the parameter {name} is repeated"),
            )
        })
    };
    let state_given = one("state")?;
    if state_given.is_some_and(|s| s.len() > STATE_MAX) {
        return Err(refuse(code::INVALID_REQUEST, "state is too long"));
    }
    if one("request")?.is_some() {
        return Err(refuse(
            "request_not_supported",
            "request objects are not supported",
        ));
    }
    if one("request_uri")?.is_some() {
        return Err(refuse(
            "request_uri_not_supported",
            "request_uri is not supported",
        ));
    }
    match one("response_type")? {
        None => return Err(refuse(code::INVALID_REQUEST, "response_type is missing")),
        Some("code") => {}
        Some(_) => {
            return Err(refuse(
                code::UNSUPPORTED_RESPONSE_TYPE,
                "only response_type=code is supported",
            ));
        }
    }
    if one("response_mode")?.is_some_and(|mode| mode != "query") {
        return Err(refuse(
            code::INVALID_REQUEST,
            "only response_mode=query is supported",
        ));
    }
    let scopes = Scopes::parse(one("scope")?.unwrap_or(""));
    if !scopes.has("openid") {
        return Err(refuse(code::INVALID_SCOPE, "scope must contain openid"));
    }
    let code_challenge = match (one("code_challenge")?, one("code_challenge_method")?) {
        (None, None) => None,
        (Some(challenge), Some("S256")) if is_s256_challenge(challenge) => {
            Some(challenge.to_string())
        }
        (Some(_), Some("S256")) => {
            return Err(refuse(
                code::INVALID_REQUEST,
                "code_challenge must be 43 characters of base64url (S256)",
            ));
        }
        (None, Some(_)) => {
            return Err(refuse(
                code::INVALID_REQUEST,
                "code_challenge_method without code_challenge",
            ));
        }
        // No method means `plain` (RFC 7636 §4.3), which is refused like any other.
        (Some(_), _) => {
            return Err(refuse(
                code::INVALID_REQUEST,
                "only code_challenge_method=S256 is supported",
            ));
        }
    };
    if code_challenge.is_none() && !client.is_confidential() {
        return Err(refuse(
            code::INVALID_REQUEST,
            "a public client must use PKCE (code_challenge with S256)",
        ));
    }
    let nonce = one("nonce")?;
    if nonce.is_some_and(|n| n.len() > NONCE_MAX) {
        return Err(refuse(code::INVALID_REQUEST, "nonce is too long"));
    }
    let prompt = parse_prompt(one("prompt")?).map_err(|why| refuse(code::INVALID_REQUEST, why))?;
    let max_age = match one("max_age")? {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .ok()
                .filter(|age| *age >= 0)
                .ok_or_else(|| {
                    refuse(
                        code::INVALID_REQUEST,
                        "max_age must be a whole number of seconds",
                    )
                })?,
        ),
    };
    let login_hint = one("login_hint")?
        .filter(|hint| hint.len() <= LOGIN_HINT_MAX)
        .map(str::to_string);
    Ok(AuthorizationRequest {
        client_id: client.client_id.clone(),
        app_id: client.app_id,
        redirect_uri,
        scope: scopes.to_text(),
        state,
        nonce: nonce.map(str::to_string),
        code_challenge,
        prompt,
        max_age,
        login_hint,
        received_at,
    })
}

fn parse_prompt(value: Option<&str>) -> Result<Prompt, &'static str> {
    let Some(value) = value else {
        return Ok(Prompt::Default);
    };
    let words: Vec<&str> = value.split(' ').filter(|w| !w.is_empty()).collect();
    if words
        .iter()
        .any(|w| !matches!(*w, "none" | "login" | "consent" | "select_account"))
    {
        return Err("prompt may only hold none, login, consent and select_account");
    }
    if words.contains(&"none") {
        if words.len() > 1 {
            return Err("prompt=none cannot be combined with other values");
        }
        return Ok(Prompt::None);
    }
    Ok(if words.contains(&"login") {
        Prompt::Login
    } else {
        Prompt::Default
    })
}

/// An S256 challenge: the base64url (no padding) of a SHA-256, 43 characters.
fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests;
