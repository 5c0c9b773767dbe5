//! `/oauth2/authorize` from a browser (SPEC §16): codes for a signed-in user, the error page
//! for what cannot go back to its client, error redirects for the rest, `prompt=none`.

use axum::http::{Method, StatusCode};
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{
    AuthorizationCode, CsrfToken, Nonce, OAuth2TokenResponse, PkceCodeChallenge, Scope,
    TokenResponse as _,
};
use passgate::accounts::oidc::Alg;
use serde_json::json;

use super::{ISSUER, REDIRECT, confidential, provider, public_native, register, rp};
use crate::helpers::{Client, STRONG, TestApp};

/// The query of a redirect `Location` as pairs.
pub fn query_of(location: &str) -> Vec<(String, String)> {
    let query = location.split_once('?').map_or("", |(_, q)| q);
    serde_urlencoded::from_str(query).expect("a query")
}

pub fn param(location: &str, name: &str) -> Option<String> {
    query_of(location)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The path and query of an absolute URL on the issuer.
pub fn on_issuer(url: &str) -> String {
    url.strip_prefix(ISSUER)
        .unwrap_or_else(|| panic!("{url} is not on the issuer"))
        .to_string()
}

/// A browser signed in as `username`.
pub async fn signed_in<'a>(app: &'a TestApp, username: &str, password: &str) -> Client<'a> {
    let mut browser = app.client();
    let response = browser.login(username, password).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    browser
}

pub fn authorize_path(client_id: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("scope", "openid profile"),
        ("state", "xyz-state"),
        ("nonce", "n-1"),
    ];
    for (k, v) in extra {
        pairs.retain(|(name, _)| name != k);
        pairs.push((k, v));
    }
    format!(
        "/oauth2/authorize?{}",
        serde_urlencoded::to_string(pairs).unwrap()
    )
}

#[tokio::test]
async fn a_signed_in_user_is_sent_back_with_a_code_the_library_redeems() {
    let app = provider().await;
    app.user("alice", STRONG, false).await;
    let client = register(&app, confidential(Alg::Rs256)).await;
    let rp = rp(&app, &client, REDIRECT).await;
    let http = super::Http::to(&app);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("offline_access".into()))
        .set_pkce_challenge(challenge)
        .url();
    let mut browser = signed_in(&app, "alice", STRONG).await;
    let answer = browser.get(&on_issuer(url.as_str())).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let location = answer.location().unwrap().to_string();
    assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
    assert_eq!(
        param(&location, "state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(param(&location, "iss").as_deref(), Some(ISSUER));
    let code = param(&location, "code").expect("a code");
    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http.client())
        .await
        .expect("exchange");
    let claims = tokens
        .id_token()
        .unwrap()
        .claims(&rp.id_token_verifier(), &nonce)
        .expect("verified");
    assert_eq!(claims.preferred_username().unwrap().as_str(), "alice");
    let amr: Vec<&str> = claims
        .auth_method_refs()
        .unwrap()
        .iter()
        .map(|m| m.as_str())
        .collect();
    assert_eq!(amr, ["pwd"]);
    assert!(tokens.refresh_token().is_some());
    // auth_time is the browser's sign-in, not the moment of the code.
    let auth_time = claims.auth_time().unwrap().timestamp();
    assert!(auth_time <= claims.issue_time().timestamp());
    super::attacks::assert_audited(&app, "oidc_granted", &client.client_id).await;
}

#[tokio::test]
async fn the_form_post_of_an_authorization_request_is_read_as_its_query() {
    let app = provider().await;
    app.user("alice", STRONG, false).await;
    let client = register(&app, confidential(Alg::Rs256)).await;
    let mut browser = signed_in(&app, "alice", STRONG).await;
    let path = authorize_path(&client.client_id, &[]);
    let form = path.split_once('?').unwrap().1.to_string();
    let posted = browser
        .request(Method::POST, "/oauth2/authorize", Some(form.clone()), false)
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.body);
    let location = posted.location().unwrap().to_string();
    assert_eq!(query_of(&location), query_of(&path));
    let answer = browser.get(&location).await;
    assert!(param(answer.location().unwrap(), "code").is_some());
}

#[tokio::test]
async fn an_unknown_client_or_unregistered_redirect_uri_gets_a_page_never_a_redirect() {
    let app = provider().await;
    app.user("alice", STRONG, false).await;
    let client = register(&app, confidential(Alg::Rs256)).await;
    let mut browser = signed_in(&app, "alice", STRONG).await;
    let cases = [
        authorize_path("no-such-client", &[]),
        authorize_path("", &[]),
        authorize_path(
            &client.client_id,
            &[("redirect_uri", "https://evil.example/cb")],
        ),
        authorize_path(
            &client.client_id,
            &[(
                "redirect_uri",
                "https://wiki.example.org/oauth2/callback/../../evil",
            )],
        ),
        authorize_path(
            &client.client_id,
            &[("redirect_uri", "https://wiki.example.org/oauth2/callbackx")],
        ),
        authorize_path(
            &client.client_id,
            &[(
                "redirect_uri",
                "https://wiki.example.org.evil.example/oauth2/callback",
            )],
        ),
        authorize_path(
            &client.client_id,
            &[("redirect_uri", "//evil.example/oauth2/callback")],
        ),
        authorize_path(&client.client_id, &[("redirect_uri", "")]),
        format!(
            "{}&redirect_uri=https%3A%2F%2Fevil.example%2Fcb",
            authorize_path(&client.client_id, &[])
        ),
        "/oauth2/authorize?%zz".to_string(),
    ];
    for path in cases {
        let answer = browser.get(&path).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(answer.location().is_none(), "{path}: redirected");
        assert!(!answer.body.contains("evil.example"), "{path}: echoed");
    }
    let answer = browser
        .get(&authorize_path(
            &client.client_id,
            &[("redirect_uri", "https://evil.example/cb")],
        ))
        .await;
    assert!(
        answer.body.contains("not registered"),
        "says why: {}",
        answer.body
    );
}

#[tokio::test]
async fn other_faults_go_back_to_the_client_with_error_and_state() {
    let app = provider().await;
    app.user("alice", STRONG, false).await;
    let client = register(&app, confidential(Alg::Rs256)).await;
    let public = register(&app, public_native()).await;
    let mut browser = signed_in(&app, "alice", STRONG).await;
    for (extra, error) in [
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (vec![("scope", "profile")], "invalid_scope"),
        (
            vec![
                (
                    "code_challenge",
                    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                ),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
        ),
        (vec![("prompt", "none login")], "invalid_request"),
    ] {
        let answer = browser
            .get(&authorize_path(&client.client_id, &extra))
            .await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{extra:?}");
        let location = answer.location().unwrap();
        assert!(location.starts_with(REDIRECT), "{location}");
        assert_eq!(
            param(location, "error").as_deref(),
            Some(error),
            "{extra:?}"
        );
        assert!(param(location, "error_description").is_some());
        assert_eq!(param(location, "state").as_deref(), Some("xyz-state"));
        assert!(param(location, "code").is_none());
    }
    // A public client without PKCE.
    let path = format!(
        "/oauth2/authorize?{}",
        serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", public.client_id.as_str()),
            ("redirect_uri", "http://127.0.0.1:4000/callback"),
            ("scope", "openid"),
            ("state", "s"),
        ])
        .unwrap()
    );
    let answer = browser.get(&path).await;
    let location = answer.location().unwrap();
    assert!(
        location.starts_with("http://127.0.0.1:4000/callback?"),
        "{location}"
    );
    assert_eq!(param(location, "error").as_deref(), Some("invalid_request"));
}

#[tokio::test]
async fn without_a_sign_in_the_browser_goes_to_the_sign_in_page_and_prompt_none_does_not() {
    let app = provider().await;
    let client = register(&app, confidential(Alg::Rs256)).await;
    let mut browser = app.client();
    let path = authorize_path(&client.client_id, &[]);
    let answer = browser.get(&path).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let location = answer.location().unwrap();
    assert!(location.starts_with("/login?"), "{location}");
    assert_eq!(param(location, "rd").as_deref(), Some(path.as_str()));
    let quiet = browser
        .get(&authorize_path(&client.client_id, &[("prompt", "none")]))
        .await;
    let location = quiet.location().unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(param(location, "error").as_deref(), Some("login_required"));
    assert_eq!(param(location, "state").as_deref(), Some("xyz-state"));
}

#[tokio::test]
async fn prompt_none_never_shows_a_page_while_a_step_is_pending() {
    let app = provider().await;
    app.user("alice", STRONG, false).await;
    app.reset(
        "alice",
        crate::helpers::STRONG_2,
        passgate::accounts::credentials::ResetOptions::default(),
    )
    .await;
    let client = register(&app, confidential(Alg::Rs256)).await;
    let mut browser = app.client();
    browser.login("alice", crate::helpers::STRONG_2).await;
    let quiet = browser
        .get(&authorize_path(&client.client_id, &[("prompt", "none")]))
        .await;
    let location = quiet.location().unwrap();
    assert_eq!(
        param(location, "error").as_deref(),
        Some("interaction_required"),
        "{location}"
    );
    assert!(param(location, "code").is_none());
    // Without prompt=none the forced change comes first, carrying the request.
    let path = authorize_path(&client.client_id, &[]);
    let answer = browser.get(&path).await;
    let location = answer.location().unwrap();
    assert!(
        location.starts_with("/panel/change_password?"),
        "{location}"
    );
    assert_eq!(param(location, "rd").as_deref(), Some(path.as_str()));
}

#[tokio::test]
async fn an_application_set_to_deny_answers_access_denied() {
    let app = provider().await;
    app.user("root", STRONG, true).await;
    let token = app.token("root", STRONG).await;
    let client = register(&app, confidential(Alg::Rs256)).await;
    app.api(
        "PATCH",
        &format!("/api/v2/apps/{}", client.app_id),
        Some(&token),
        Some(json!({"policy": "deny"})),
    )
    .await
    .assert_ok();
    let mut browser = signed_in(&app, "root", STRONG).await;
    let answer = browser.get(&authorize_path(&client.client_id, &[])).await;
    let location = answer.location().unwrap();
    assert_eq!(param(location, "error").as_deref(), Some("access_denied"));
    super::attacks::assert_audited(&app, "oidc_refused", "access_denied").await;
    // Without a sign-in too: nothing to sign in for.
    let answer = app
        .client()
        .get(&authorize_path(&client.client_id, &[]))
        .await;
    assert_eq!(
        param(answer.location().unwrap(), "error").as_deref(),
        Some("access_denied")
    );
}

#[tokio::test]
async fn prompt_login_and_an_exceeded_max_age_ask_for_the_password_again() {
    let app = provider().await;
    app.user("alice", STRONG, false).await;
    let client = register(&app, confidential(Alg::Rs256)).await;
    let mut browser = signed_in(&app, "alice", STRONG).await;
    for extra in [vec![("prompt", "login")], vec![("max_age", "0")]] {
        let answer = browser
            .get(&authorize_path(&client.client_id, &extra))
            .await;
        let location = answer.location().unwrap();
        assert!(location.starts_with("/login?"), "{extra:?}: {location}");
        assert_eq!(param(location, "again").as_deref(), Some("1"));
        // The request resumes without what the fresh sign-in satisfies.
        let rd = param(location, "rd").unwrap();
        assert!(!rd.contains("prompt=") && !rd.contains("max_age="), "{rd}");
        assert!(rd.contains("state=xyz-state"), "{rd}");
    }
    // A max_age the sign-in is within issues at once.
    let answer = browser
        .get(&authorize_path(&client.client_id, &[("max_age", "3600")]))
        .await;
    assert!(param(answer.location().unwrap(), "code").is_some());
}

#[tokio::test]
async fn authorize_and_logout_are_off_without_a_public_url() {
    let app = crate::helpers::spawn_app().await;
    let mut browser = app.client();
    for path in ["/oauth2/authorize?client_id=x", "/oauth2/logout"] {
        assert_eq!(
            browser.get(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let posted = browser
        .request(
            Method::POST,
            "/oauth2/authorize",
            Some("client_id=x".into()),
            false,
        )
        .await;
    assert_eq!(posted.status, StatusCode::NOT_FOUND);
}
