//! How a decision is answered, as the proxies expect (Authelia's contract, SPEC §15.2):
//! 200 with the four `Remote-*` headers always present; the sign-in (or the missing step) as
//! 302/303 for a page load and 401 otherwise from `forward-auth`, and always 401 with the
//! `Location` from `auth-request` (nginx turns it into the redirect); 403 as an HTML page for
//! a page load of a known application, the bare status otherwise.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::accounts::apps::App;
use crate::accounts::sso::{Decision, Identity, Step};
use crate::config::Config;
use crate::forward_auth::Forwarded;
use crate::i18n::Lang;
use crate::paths;
use crate::views::access::{DeniedView, denied_page};

/// Which endpoint was asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// `/api/authz/forward-auth` (Traefik, Caddy).
    ForwardAuth,
    /// `/api/authz/auth-request` (nginx).
    AuthRequest,
}

const REMOTE_USER: HeaderName = HeaderName::from_static("remote-user");
const REMOTE_GROUPS: HeaderName = HeaderName::from_static("remote-groups");
const REMOTE_NAME: HeaderName = HeaderName::from_static("remote-name");
const REMOTE_EMAIL: HeaderName = HeaderName::from_static("remote-email");

pub fn render(
    config: &Config,
    flavour: Flavour,
    forwarded: &Forwarded,
    headers: &HeaderMap,
    decision: &Decision<'_>,
) -> Response {
    match decision {
        Decision::Public => with_identity(None),
        Decision::Allow { identity, .. } => with_identity(Some(identity)),
        Decision::SignIn { .. } => to_step(config, flavour, forwarded, headers, None),
        Decision::Step { step, .. } => to_step(config, flavour, forwarded, headers, Some(*step)),
        Decision::Forbidden { app, user } => forbidden(config, headers, Some(app), user.as_ref()),
        Decision::UnknownHost => forbidden(config, headers, None, None),
    }
}

/// 200 with all four identity headers (empty on a public path): Traefik copies only the
/// headers an answer has, so an absent one would let a client's own header through.
fn with_identity(identity: Option<&Identity>) -> Response {
    let value = |text: &str| {
        HeaderValue::from_bytes(text.as_bytes()).unwrap_or(HeaderValue::from_static(""))
    };
    let (user, groups, email) = match identity {
        Some(identity) => (
            identity.username.as_str(),
            identity
                .roles
                .iter()
                .map(|(_, name)| name.as_str())
                .collect::<Vec<_>>()
                .join(","),
            identity.email.as_deref().unwrap_or(""),
        ),
        None => ("", String::new(), ""),
    };
    let mut response = StatusCode::OK.into_response();
    let out = response.headers_mut();
    out.insert(REMOTE_USER, value(user));
    out.insert(REMOTE_GROUPS, value(&groups));
    // No display names in passgate: the username.
    out.insert(REMOTE_NAME, value(user));
    out.insert(REMOTE_EMAIL, value(email));
    response
}

/// Whether the browser is loading a page: `Accept` names `text/html` and the request is not
/// an `XMLHttpRequest` (no `Accept`, or `*/*` alone, is not a page load).
pub fn is_page_load(headers: &HeaderMap) -> bool {
    let accepts_html = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|range| range.split(';').next())
        .any(|range| range.trim().eq_ignore_ascii_case("text/html"));
    let xhr = headers
        .get("x-requested-with")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("XMLHttpRequest"));
    accepts_html && !xhr
}

/// Where the browser goes: the sign-in page (`None`) or the page of the missing step, on
/// `PASSGATE_PUBLIC_URL`, carrying the target as `rd` (and the method as `rm`).
pub fn step_url(config: &Config, forwarded: &Forwarded, step: Option<Step>) -> String {
    let path = match step {
        None | Some(Step::Arrive) => {
            format!(
                "{}?rm={}",
                paths::LOGIN,
                paths::url_encode(&forwarded.method)
            )
        }
        Some(Step::ChangePassword) => paths::CHANGE_PASSWORD.to_string(),
        Some(Step::Enrol) => paths::TOTP_SETUP.to_string(),
        Some(Step::SecondFactor) => paths::SECOND_FACTOR.to_string(),
    };
    format!(
        "{}{}",
        config.link_base(),
        paths::with_rd(&path, Some(&forwarded.url))
    )
}

fn to_step(
    config: &Config,
    flavour: Flavour,
    forwarded: &Forwarded,
    headers: &HeaderMap,
    step: Option<Step>,
) -> Response {
    let location = step_url(config, forwarded, step);
    let status = match flavour {
        Flavour::AuthRequest => StatusCode::UNAUTHORIZED,
        Flavour::ForwardAuth if !is_page_load(headers) => StatusCode::UNAUTHORIZED,
        Flavour::ForwardAuth => match forwarded.method.as_str() {
            "GET" | "HEAD" | "OPTIONS" => StatusCode::FOUND,
            _ => StatusCode::SEE_OTHER,
        },
    };
    let mut response = if status == StatusCode::UNAUTHORIZED {
        let code = match step {
            None | Some(Step::Arrive) => "ACCESS_DENIED",
            Some(Step::ChangePassword) => "PASSWORD_CHANGE_REQUIRED",
            Some(Step::Enrol) => "MFA_SETUP_REQUIRED",
            Some(Step::SecondFactor) => "MFA_REQUIRED",
        };
        let body = json!({"status": "error", "error": code, "error_data": "sign in first"});
        (status, axum::Json(body)).into_response()
    } else {
        let link = maud::html! { a href=(location) { (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) } };
        (status, link).into_response()
    };
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// 403: for a page load of a known application, passgate's page saying so (with the user's
/// name and a way to sign out); for anything else, the envelope and nothing more.
fn forbidden(
    config: &Config,
    headers: &HeaderMap,
    app: Option<&App>,
    user: Option<&Identity>,
) -> Response {
    let Some(app) = app.filter(|_| is_page_load(headers)) else {
        let body =
            json!({"status": "error", "error": "ACCESS_DENIED", "error_data": "access denied"});
        return (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
    };
    let lang = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(Lang::negotiate)
        .unwrap_or_default();
    let base = config.link_base();
    let view = DeniedView {
        app: Some(&app.name),
        username: user.map(|u| u.username.as_str()),
        base: &base,
        csrf: None,
        rd: None,
    };
    let mut response = (StatusCode::FORBIDDEN, denied_page(lang, &view)).into_response();
    // Shown at the application's address: its styles and links are passgate's, by URL.
    let origin = url::Url::parse(&base)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let csp = format!(
        "default-src 'none'; style-src {origin}; img-src {origin} data:; form-action 'none'; \
         frame-ancestors 'none'; base-uri 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: Option<&str>, xhr: bool) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = value {
            headers.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        }
        if xhr {
            headers.insert(
                "x-requested-with",
                HeaderValue::from_static("XMLHttpRequest"),
            );
        }
        headers
    }

    #[test]
    fn a_page_load_accepts_html_and_is_no_xhr() {
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(is_page_load(&accept(Some(browser), false)));
        assert!(is_page_load(&accept(Some("TEXT/HTML; q=1"), false)));
        assert!(!is_page_load(&accept(Some(browser), true)));
        assert!(!is_page_load(&accept(None, false)));
        assert!(!is_page_load(&accept(Some("*/*"), false)));
        assert!(!is_page_load(&accept(Some("application/json"), false)));
        assert!(!is_page_load(&accept(Some("text/htmlx"), false)));
    }
}
