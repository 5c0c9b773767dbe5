//! What the single sign-on tests share: an app with single sign-on on (cookie domain
//! `passgate.test`, passgate at `http://auth.passgate.test`, the proxy at 127.0.0.1),
//! applications registered through the domain, and the proxy's question asked as nginx or
//! Traefik would ask it.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use passgate::accounts::apps::{self, AppFields, Policy};
use passgate::accounts::audit::Actor;
use passgate::accounts::permissions::Caller;
use tower::ServiceExt;

use crate::helpers::*;

pub const PUBLIC: &str = "http://auth.passgate.test";
pub const HTML: &str = "text/html,application/xhtml+xml,*/*;q=0.8";

/// passgate with single sign-on on; the proxy is 127.0.0.1.
pub async fn sso_app() -> TestApp {
    spawn_app_with(|raw| {
        raw.public_url = Some(PUBLIC.into());
        raw.sso_cookie_domain = Some("passgate.test".into());
        raw.trusted_proxies = Some("127.0.0.1".into());
    })
    .await
}

/// Registers an application as the operator would.
pub async fn register(
    app: &TestApp,
    name: &str,
    hosts: &[&str],
    public_paths: &[&str],
    policy: Policy,
) -> i32 {
    let fields = AppFields {
        name: name.into(),
        description: String::new(),
        hosts: hosts.iter().map(|h| h.to_string()).collect(),
        public_paths: public_paths.iter().map(|p| p.to_string()).collect(),
        allowed_roles: Vec::new(),
        policy,
        oidc: None,
    };
    apps::create(
        &app.db,
        &app.state.apps,
        &Actor::cli(),
        &Caller::operator(),
        fields,
    )
    .await
    .expect("register the app")
    .app
    .app_id
}

/// The proxy's question: which endpoint, the original request's method and URL, the
/// browser's cookie (`passgate_sso=…`) and any other header, from `peer`.
pub struct Ask<'a> {
    pub endpoint: &'a str,
    pub method: &'a str,
    pub url: &'a str,
    pub cookie: Option<String>,
    pub headers: Vec<(&'a str, String)>,
    pub peer: &'a str,
}

impl<'a> Ask<'a> {
    /// nginx's `auth_request` for a browser loading `url`.
    pub fn nginx(url: &'a str) -> Self {
        Ask {
            endpoint: "/api/authz/auth-request",
            method: "GET",
            url,
            cookie: None,
            headers: vec![("accept", HTML.into())],
            peer: "127.0.0.1:40000",
        }
    }

    /// Traefik's or Caddy's `forwardAuth` for a browser loading `url`.
    pub fn traefik(url: &'a str) -> Self {
        Ask {
            endpoint: "/api/authz/forward-auth",
            ..Ask::nginx(url)
        }
    }

    pub fn with_cookie(mut self, browser: &Client<'_>) -> Self {
        self.cookie = browser
            .cookies
            .get("passgate_sso")
            .map(|token| format!("passgate_sso={token}"));
        self
    }

    pub fn header(mut self, name: &'a str, value: &str) -> Self {
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.to_string()));
        self
    }

    pub fn method(mut self, method: &'a str) -> Self {
        self.method = method;
        self
    }

    pub fn from(mut self, peer: &'a str) -> Self {
        self.peer = peer;
        self
    }

    /// The request as the proxy sends it.
    pub fn request(&self) -> Request<Body> {
        let mut builder = Request::builder().method("GET").uri(self.endpoint);
        if self.endpoint.ends_with("auth-request") {
            builder = builder
                .header("x-original-method", self.method)
                .header("x-original-url", self.url);
        } else {
            let parsed = url::Url::parse(self.url).expect("a URL");
            let host = match parsed.port() {
                Some(port) => format!("{}:{port}", parsed.host_str().unwrap()),
                None => parsed.host_str().unwrap().to_string(),
            };
            let path = self.url.splitn(4, '/').nth(3).unwrap_or("");
            builder = builder
                .header("x-forwarded-method", self.method)
                .header("x-forwarded-proto", parsed.scheme())
                .header("x-forwarded-host", host)
                .header("x-forwarded-uri", format!("/{path}"));
        }
        if let Some(cookie) = &self.cookie {
            builder = builder.header("cookie", cookie);
        }
        for (name, value) in &self.headers {
            builder = builder.header(*name, value);
        }
        let mut request = builder.body(Body::empty()).expect("request");
        let peer: SocketAddr = self.peer.parse().expect("peer");
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    }

    pub async fn send(&self, app: &TestApp) -> TestResponse {
        send(app, self.request()).await
    }
}

pub async fn send(app: &TestApp, request: Request<Body>) -> TestResponse {
    let response = app
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    TestResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// The four identity headers of an answer, in the order Remote-User, -Groups, -Name, -Email
/// (`None` for a header the answer lacks).
pub fn identity(response: &TestResponse) -> [Option<String>; 4] {
    [
        "remote-user",
        "remote-groups",
        "remote-name",
        "remote-email",
    ]
    .map(|name| response.header(name).map(str::to_string))
}

/// The sign-in URL the decision names for `url` (`rm` = `method`).
pub fn sign_in_url(url: &str, method: &str) -> String {
    format!(
        "{PUBLIC}/login?rm={method}&rd={}",
        passgate::paths::url_encode(url)
    )
}

/// A browser signed in through the sign-in page with `rd`, ending at `rd`.
pub async fn signed_in_to<'a>(
    app: &'a TestApp,
    name: &str,
    password: &str,
    rd: &str,
) -> Client<'a> {
    let mut browser = app.client();
    let login = format!("/login?rd={}", passgate::paths::url_encode(rd));
    let page = browser.get(&login).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let done = browser
        .post(
            "/login",
            &[("username", name), ("password", password), ("rd", rd)],
        )
        .await;
    done.assert_redirect(rd);
    assert!(
        browser.cookies.contains_key("passgate_sso"),
        "an SSO cookie"
    );
    browser
}
