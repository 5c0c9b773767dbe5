//! The OpenID Connect provider (SPEC §16), tested with an independent relying party: the
//! `openidconnect` crate, whose HTTP requests are handed to the app in-process. The library
//! checks what a real client checks (discovery, the ID token's signature with the JWKS, its
//! issuer, audience, expiry and nonce, PKCE); the tests add what an attacker would try.

mod attacks;
pub mod authorize;
mod clients;
mod code_flow;
mod discovery;
mod library_attacks;
mod logout;
mod panel;
mod panel_confirm;
mod roles;
mod walk;

use std::sync::atomic::{AtomicI32, Ordering};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, ClientId, ClientSecret, EmptyExtraTokenFields, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IdTokenFields, IssuerUrl, RedirectUrl, StandardErrorResponse,
    StandardTokenResponse,
};
use passgate::accounts::apps::{self, AppFields, Policy};
use passgate::accounts::audit::Actor;
use passgate::accounts::oidc::clients::{ClientChanges, ClientSettings};
use passgate::accounts::oidc::grants::{self, NewGrant};
use passgate::accounts::oidc::request::{AuthorizationRequest, Prompt};
use passgate::accounts::oidc::{Alg, Amr};
use passgate::accounts::permissions::Caller;
use passgate::entities::users as user_entity;
use serde::{Deserialize, Serialize};

use crate::helpers::{TestApp, spawn_app_with};

/// The issuer of every provider under test.
pub const ISSUER: &str = "https://passgate.example";
/// Where the test relying party receives its codes.
pub const REDIRECT: &str = "https://wiki.example.org/oauth2/callback";

/// An app with OpenID Connect on (`PASSGATE_PUBLIC_URL` set).
pub async fn provider() -> TestApp {
    spawn_app_with(|raw| raw.public_url = Some(ISSUER.into())).await
}

/// The claims passgate adds beyond the library's standard set.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct Extra {
    pub groups: Option<Vec<String>>,
    pub sid: Option<String>,
}
impl AdditionalClaims for Extra {}

pub type TokenResponse = StandardTokenResponse<
    IdTokenFields<
        Extra,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

/// The relying party, configured from passgate's discovery document.
pub type Rp = openidconnect::Client<
    Extra,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The relying party's HTTP client: each request goes to `app`'s router, from `peer`.
#[derive(Clone)]
pub struct Http {
    router: axum::Router,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

impl Http {
    pub fn to(app: &TestApp) -> Self {
        Http {
            router: app.router.clone(),
        }
    }

    /// The function the library calls (it implements `AsyncHttpClient`).
    pub fn client(
        &self,
    ) -> impl Fn(
        openidconnect::HttpRequest,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<openidconnect::HttpResponse, HttpError>>>,
    > {
        let router = self.router.clone();
        move |request| {
            let router = router.clone();
            Box::pin(async move { send(router, request).await })
        }
    }
}

async fn send(
    router: axum::Router,
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, HttpError> {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let (parts, body) = request.into_parts();
    let url: url::Url = parts
        .uri
        .to_string()
        .parse()
        .map_err(|e| HttpError(format!("{e}")))?;
    if url.origin().ascii_serialization() != ISSUER {
        return Err(HttpError(format!("the relying party called {url}")));
    }
    let path = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_string(),
    };
    let mut builder = Request::builder().method(parts.method).uri(path);
    for (name, value) in &parts.headers {
        builder = builder.header(name, value);
    }
    let mut request = builder
        .body(Body::from(body))
        .map_err(|e| HttpError(e.to_string()))?;
    request
        .extensions_mut()
        .insert(ConnectInfo(std::net::SocketAddr::from((
            [10, 0, 0, 9],
            40000,
        ))));
    let response = router
        .oneshot(request)
        .await
        .map_err(|e| HttpError(e.to_string()))?;
    let (parts, body) = response.into_parts();
    let bytes = body
        .collect()
        .await
        .map_err(|e| HttpError(e.to_string()))?
        .to_bytes();
    Ok(openidconnect::HttpResponse::from_parts(
        parts,
        bytes.to_vec(),
    ))
}

/// A registered client.
#[derive(Clone, Debug)]
pub struct Registered {
    pub app_id: i32,
    pub client_id: String,
    pub secret: Option<String>,
}

/// Registers an application named `name` with `settings` as its client, as the API and the
/// CLI do.
pub async fn register_named(app: &TestApp, name: &str, settings: ClientSettings) -> Registered {
    let saved = apps::create(
        &app.db,
        &app.state.apps,
        &Actor::cli(),
        &Caller::operator(),
        AppFields {
            name: name.into(),
            description: String::new(),
            hosts: Vec::new(),
            public_paths: Vec::new(),
            allowed_roles: Vec::new(),
            policy: Policy::OneFactor,
            oidc: Some(ClientChanges {
                redirect_uris: Some(settings.redirect_uris),
                post_logout_redirect_uris: Some(settings.post_logout_redirect_uris),
                public: Some(settings.public),
                alg: Some(settings.alg),
            }),
        },
    )
    .await
    .expect("register a client");
    Registered {
        app_id: saved.app.app_id,
        client_id: saved.app.oidc.expect("a client").client_id,
        secret: saved.client_secret.map(|s| s.expose().to_string()),
    }
}

static NEXT_APP: AtomicI32 = AtomicI32::new(1);

/// Registers a client with `settings` (an application of its own, named by a counter).
pub async fn register(app: &TestApp, settings: ClientSettings) -> Registered {
    let n = NEXT_APP.fetch_add(1, Ordering::Relaxed);
    register_named(app, &format!("App {n}"), settings).await
}

/// A confidential client redirecting to [`REDIRECT`], signing with `alg`.
pub fn confidential(alg: Alg) -> ClientSettings {
    ClientSettings {
        redirect_uris: vec![REDIRECT.into()],
        post_logout_redirect_uris: vec!["https://wiki.example.org/signed-out".into()],
        public: false,
        alg,
    }
}

/// A public (native) client with a loopback redirect URI.
pub fn public_native() -> ClientSettings {
    ClientSettings {
        redirect_uris: vec!["http://127.0.0.1/callback".into()],
        post_logout_redirect_uris: vec![],
        public: true,
        alg: Alg::Rs256,
    }
}

/// The relying party for `client`, configured by discovery (which also fetches the JWKS).
pub async fn rp(app: &TestApp, client: &Registered, redirect: &str) -> Rp {
    let http = Http::to(app);
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(ISSUER.into()).expect("issuer"),
        &http.client(),
    )
    .await
    .expect("discovery");
    Rp::from_provider_metadata(
        metadata,
        ClientId::new(client.client_id.clone()),
        client.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(redirect.into()).expect("redirect"))
}

/// What an authorization request asks, for [`code_for`].
pub struct Ask<'a> {
    pub scope: &'a str,
    pub nonce: Option<&'a str>,
    pub challenge: Option<&'a str>,
    pub redirect_uri: &'a str,
    pub amr: &'a [&'a str],
}

impl Default for Ask<'_> {
    fn default() -> Self {
        Ask {
            scope: "openid profile email groups offline_access",
            nonce: Some("n-0S6_WzA2Mj"),
            challenge: None,
            redirect_uri: REDIRECT,
            amr: &["pwd"],
        }
    }
}

/// A code issued to `client` for `user` as the end of a sign-in walk issues it.
pub async fn code_for(
    app: &TestApp,
    client: &Registered,
    user: &user_entity::Model,
    ask: Ask<'_>,
) -> String {
    let request = AuthorizationRequest {
        client_id: client.client_id.clone(),
        app_id: client.app_id,
        redirect_uri: ask.redirect_uri.into(),
        scope: ask.scope.into(),
        state: Some("st".into()),
        nonce: ask.nonce.map(str::to_string),
        code_challenge: ask.challenge.map(str::to_string),
        prompt: Prompt::Default,
        max_age: None,
        login_hint: None,
        received_at: 0,
    };
    let user = app.find(&user.username).await;
    grants::issue_code(
        &app.db,
        &Actor::user(&user, "127.0.0.1"),
        NewGrant {
            request: &request,
            user: &user,
            auth_time: passgate::accounts::clock::now(),
            amr: &Amr::of(ask.amr),
            sid: "sid-test",
            lifetime: app.state.config.session_max_lifetime,
        },
    )
    .await
    .expect("issue a code")
    .expose()
    .to_string()
}

/// A raw form post to a protocol endpoint, with optional Basic credentials.
pub async fn post_form(
    app: &TestApp,
    path: &str,
    basic: Option<(&str, &str)>,
    fields: &[(&str, &str)],
) -> (StatusCode, serde_json::Value, axum::http::HeaderMap) {
    let mut headers = vec![(
        "content-type".to_string(),
        "application/x-www-form-urlencoded".to_string(),
    )];
    if let Some((id, secret)) = basic {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        headers.push(("authorization".into(), format!("Basic {encoded}")));
    }
    let header_refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let body = serde_urlencoded::to_string(fields).expect("form");
    raw(app, "POST", path, &header_refs, body.into_bytes()).await
}

/// Any request; the answer's JSON (`null` when the body is not JSON).
pub async fn raw(
    app: &TestApp,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (StatusCode, serde_json::Value, axum::http::HeaderMap) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut builder = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let mut request = builder.body(Body::from(body)).expect("request");
    request
        .extensions_mut()
        .insert(ConnectInfo(std::net::SocketAddr::from((
            [10, 0, 0, 9],
            40000,
        ))));
    let response = app
        .router
        .clone()
        .oneshot(request)
        .await
        .expect("infallible");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (parts.status, json, parts.headers)
}

/// Exchanges `code` at the token endpoint as `client` (secret in the Basic header).
pub async fn exchange(
    app: &TestApp,
    client: &Registered,
    code: &str,
    extra: &[(&str, &str)],
) -> (StatusCode, serde_json::Value) {
    let mut fields = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
    ];
    fields.extend_from_slice(extra);
    let (status, json, _) = match &client.secret {
        Some(secret) => {
            post_form(
                app,
                "/oauth2/token",
                Some((&client.client_id, secret)),
                &fields,
            )
            .await
        }
        None => {
            fields.push(("client_id", &client.client_id));
            post_form(app, "/oauth2/token", None, &fields).await
        }
    };
    (status, json)
}

/// Uses `refresh_token` as `client`.
pub async fn refresh(
    app: &TestApp,
    client: &Registered,
    refresh_token: &str,
) -> (StatusCode, serde_json::Value) {
    let fields = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    let secret = client.secret.as_deref().expect("a confidential client");
    let (status, json, _) = post_form(
        app,
        "/oauth2/token",
        Some((&client.client_id, secret)),
        &fields,
    )
    .await;
    (status, json)
}

/// `GET /oauth2/userinfo` with `token` as the bearer.
pub async fn userinfo(app: &TestApp, token: &str) -> (StatusCode, serde_json::Value) {
    let auth = format!("Bearer {token}");
    let (status, json, _) = raw(
        app,
        "GET",
        "/oauth2/userinfo",
        &[("authorization", auth.as_str())],
        Vec::new(),
    )
    .await;
    (status, json)
}
