//! The pages' Content Security Policy, and the one way it widens: `form-action` names, besides
//! passgate itself, the place a walk's form ends up at. Chromium applies `form-action` to every
//! redirect that follows a form's submission, so the last form of a sign-in walk (`rd`: an
//! application's URL, or an OpenID Connect request that answers with a redirect to the
//! client) and the sign-out confirmation of an app (its registered post-logout URI) would
//! otherwise be stopped at the last hop. Only origins passgate itself would redirect to are
//! added: the single sign-on domain (every `rd` to an application is inside it) and a
//! client's registered redirect URI.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::accounts::sso::Destination;
use crate::config::Config;
use crate::state::AppState;

/// Every page's policy (set by `server` where a handler did not set its own). With single
/// sign-on on, `form-action` also names the cookie domain: the sign-in walk's last POST
/// answers 303 to the app (`rd`, SPEC §15.4), which is inside that domain.
pub fn policy(config: &Config) -> String {
    let form_action = match &config.sso {
        Some(sso) => format!("'self' {}", sso.form_action_sources(config.cookie_secure)),
        None => "'self'".to_string(),
    };
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; form-action {form_action}; frame-ancestors 'none'; \
         base-uri 'none'; object-src 'none'"
    )
}

/// [`policy`] with `form-action` also allowing `origins` (serialised origins: scheme, host,
/// port — no character that could end the directive).
pub fn allowing_form_targets(config: &Config, origins: &[String]) -> Option<HeaderValue> {
    let extra: Vec<&str> = origins
        .iter()
        .map(String::as_str)
        .filter(|o| {
            !o.is_empty()
                && o.bytes()
                    .all(|b| b.is_ascii_graphic() && b != b';' && b != b',')
        })
        .collect();
    if extra.is_empty() {
        return None;
    }
    let policy = policy(config).replace(
        "form-action 'self'",
        &format!("form-action 'self' {}", extra.join(" ")),
    );
    HeaderValue::from_str(&policy).ok()
}

/// The origin of an absolute URL (`None` for an opaque one).
pub fn origin_of(url: &str) -> Option<String> {
    let origin = url::Url::parse(url).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// Middleware for the pages: a `GET` whose `rd` is a destination passgate follows gets a
/// policy whose `form-action` allows where that destination finally redirects.
pub async fn walk_targets(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let origins = if request.method() == Method::GET {
        targets(&state, request.uri().query()).await
    } else {
        Vec::new()
    };
    let mut response = next.run(request).await;
    if !response
        .headers()
        .contains_key(header::CONTENT_SECURITY_POLICY)
        && let Some(policy) = allowing_form_targets(&state.config, &origins)
    {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}

async fn targets(state: &AppState, query: Option<&str>) -> Vec<String> {
    let Some(query) = query.filter(|q| q.contains("rd=")) else {
        return Vec::new();
    };
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    let Some((_, rd)) = pairs.iter().find(|(k, _)| k == "rd") else {
        return Vec::new();
    };
    match crate::web::walk::destination(state, Some(rd)) {
        // An application's URL is inside the SSO domain, which [`policy`] already names.
        Destination::Dashboard | Destination::App(_) => Vec::new(),
        Destination::Authorize(path) => crate::web::oidc::authorize::redirect_origin(state, &path)
            .await
            .into_iter()
            .collect(),
    }
}
