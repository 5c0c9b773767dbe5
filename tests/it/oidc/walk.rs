//! `/oauth2/authorize` through the sign-in walk (SPEC §16 with §15.4): a signed-out browser
//! is sent to the sign-in with the request as `rd`, walks the steps it still misses (the
//! forced change, the second factor) and comes back to the same request, which then issues a
//! code the relying party (the `openidconnect` crate) redeems and verifies.

use axum::http::StatusCode;
use openidconnect::core::CoreAuthenticationFlow;
use openidconnect::{
    AuthorizationCode, CsrfToken, Nonce, PkceCodeChallenge, PkceCodeVerifier, Scope,
    TokenResponse as _,
};
use passgate::accounts::credentials::ResetOptions;
use passgate::accounts::oidc::Alg;

use super::authorize::{on_issuer, param, signed_in};
use super::{Http, REDIRECT, Registered, Rp, confidential, provider, register_named, rp};
use crate::helpers::{Client, STRONG, STRONG_2, STRONG_3, TestApp};

/// An authorization request of `rp` as the library builds it (`openid profile`, a further
/// `scope` in `extra` added): its path on passgate, the state, nonce and PKCE verifier to
/// check the answer with.
pub fn request(rp: &Rp, extra: &[(&str, &str)]) -> (String, CsrfToken, Nonce, PkceCodeVerifier) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut builder = rp
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge);
    for (k, v) in extra {
        builder = match *k {
            "scope" => builder.add_scope(Scope::new(v.to_string())),
            _ => builder.add_extra_param(*k, *v),
        };
    }
    let (url, state, nonce) = builder.url();
    (on_issuer(url.as_str()), state, nonce, verifier)
}

/// The value of the hidden `rd` field of a page, unescaped.
fn rd_in(body: &str) -> Option<String> {
    let marker = r#"name="rd" value=""#;
    let start = body.find(marker)? + marker.len();
    let end = body[start..].find('"')? + start;
    Some(body[start..end].replace("&amp;", "&"))
}

/// Follows the answer of the resumed request to the client, and redeems its code as the
/// library does: the verified ID token's `amr` and `auth_time`.
async fn redeem(
    app: &TestApp,
    rp: &Rp,
    browser: &mut Client<'_>,
    path: &str,
    state: &CsrfToken,
    nonce: &Nonce,
    verifier: PkceCodeVerifier,
) -> (Vec<String>, i64) {
    let answer = browser.get(path).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let location = answer.location().unwrap().to_string();
    assert!(location.starts_with(&format!("{REDIRECT}?")), "{location}");
    assert_eq!(
        param(&location, "state").as_deref(),
        Some(state.secret().as_str())
    );
    let code = param(&location, "code").expect("a code");
    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&Http::to(app).client())
        .await
        .expect("the library redeems the code");
    let claims = tokens
        .id_token()
        .expect("an ID token")
        .claims(&rp.id_token_verifier(), nonce)
        .expect("verified by the library")
        .clone();
    let amr = claims
        .auth_method_refs()
        .unwrap()
        .iter()
        .map(|m| m.as_str().to_string())
        .collect();
    (amr, claims.auth_time().unwrap().timestamp())
}

async fn wiki(app: &TestApp) -> (Registered, Rp) {
    let client = register_named(app, "Wiki", confidential(Alg::Rs256)).await;
    let rp = rp(app, &client, REDIRECT).await;
    (client, rp)
}

#[tokio::test]
async fn a_signed_out_user_signs_in_and_the_request_resumes_with_a_code() {
    let app = provider().await;
    app.user("alice", STRONG, false).await;
    let (_, rp) = wiki(&app).await;
    let (path, state, nonce, verifier) = request(&rp, &[("login_hint", "alice")]);
    let mut browser = app.client();
    let answer = browser.get(&path).await;
    let to_login = answer.location().expect("to the sign-in").to_string();
    assert!(to_login.starts_with("/login?"), "{to_login}");
    assert_eq!(param(&to_login, "rd").as_deref(), Some(path.as_str()));
    // The sign-in names the app, pre-fills the hint and carries the request.
    let page = browser.get(&to_login).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Wiki"), "names the app");
    assert!(
        page.body.contains(r#"value="alice""#),
        "login_hint pre-fills"
    );
    assert_eq!(rd_in(&page.body).as_deref(), Some(path.as_str()));
    let signed = browser
        .post(
            "/login",
            &[("username", "alice"), ("password", STRONG), ("rd", &path)],
        )
        .await;
    signed.assert_redirect(&path);
    let (amr, _) = redeem(&app, &rp, &mut browser, &path, &state, &nonce, verifier).await;
    assert_eq!(amr, ["pwd"]);
}

#[tokio::test]
async fn a_forced_change_happens_mid_flow_before_any_code() {
    let app = provider().await;
    let (_, rp) = wiki(&app).await;
    for hx in [false, true] {
        let name = if hx { "carol" } else { "bob" };
        app.user(name, STRONG, false).await;
        app.reset(name, STRONG_2, ResetOptions::default()).await;
        let (path, state, nonce, verifier) = request(&rp, &[]);
        let mut browser = app.client();
        browser.get(&path).await;
        browser
            .get(&format!("/login?rd={}", urlencoding(&path)))
            .await;
        let fields = [
            ("username", name),
            ("password", STRONG_2),
            ("rd", path.as_str()),
        ];
        let change = format!("/panel/change_password?rd={}", urlencoding(&path));
        if hx {
            let swapped = browser.hx_post("/login", &fields).await;
            assert_eq!(rd_in(&swapped.body).as_deref(), Some(path.as_str()));
        } else {
            // The sign-in hands back to the request, which asks the walk: the change.
            browser.post("/login", &fields).await.assert_redirect(&path);
        }
        // Before the change the request issues nothing: it sends back to the change.
        let early = browser.get(&path).await;
        early.assert_redirect(&change);
        let page = browser.get(&change).await;
        assert_eq!(rd_in(&page.body).as_deref(), Some(path.as_str()));
        let new = [
            ("new_password", STRONG_3),
            ("confirm_password", STRONG_3),
            ("rd", path.as_str()),
        ];
        if hx {
            let changed = browser.hx_post("/panel/change_password", &new).await;
            assert_eq!(changed.header("hx-redirect"), Some(path.as_str()), "{name}");
        } else {
            browser
                .post("/panel/change_password", &new)
                .await
                .assert_redirect(&path);
        }
        let (amr, _) = redeem(&app, &rp, &mut browser, &path, &state, &nonce, verifier).await;
        assert_eq!(amr, ["pwd"], "{name}");
    }
}

#[tokio::test]
async fn a_second_factor_is_asked_before_the_code_and_named_in_amr() {
    let app = provider().await;
    app.user("erin", STRONG, false).await;
    let (secret, _) = crate::sso_walk::enrol_totp(&app, "erin", STRONG).await;
    let (_, rp) = wiki(&app).await;
    let (path, state, nonce, verifier) = request(&rp, &[]);
    let mut browser = app.client();
    browser
        .get(&format!("/login?rd={}", urlencoding(&path)))
        .await;
    let second = format!("/login/second_factor?rd={}", urlencoding(&path));
    browser
        .post(
            "/login",
            &[("username", "erin"), ("password", STRONG), ("rd", &path)],
        )
        .await
        .assert_redirect(&second);
    // Half signed in: the request still sends to the sign-in, never issues.
    let early = browser.get(&path).await;
    assert!(early.location().unwrap().starts_with("/login?"));
    browser.get(&second).await;
    browser
        .post(
            "/login/second_factor",
            &[("code", &crate::sso_walk::code(&secret, 0)), ("rd", &path)],
        )
        .await
        .assert_redirect(&path);
    let (amr, _) = redeem(&app, &rp, &mut browser, &path, &state, &nonce, verifier).await;
    assert_eq!(amr, ["pwd", "otp", "mfa"]);
}

#[tokio::test]
async fn prompt_login_shows_the_sign_in_to_a_signed_in_user_and_then_issues() {
    let app = provider().await;
    app.user("alice", STRONG, false).await;
    let (_, rp) = wiki(&app).await;
    let mut browser = signed_in(&app, "alice", STRONG).await;
    let (path, state, nonce, verifier) = request(&rp, &[("prompt", "login")]);
    let answer = browser.get(&path).await;
    let login = answer.location().unwrap().to_string();
    // The sign-in form, not a pass-through, although the browser is signed in.
    let page = browser.get(&login).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(r#"value="alice""#));
    let resume = rd_in(&page.body).expect("the request, carried");
    assert!(!resume.contains("prompt="), "{resume}");
    // Without the password the resumed request cannot be had for the original one: the
    // library's request still says prompt=login.
    let again = browser.get(&path).await;
    assert!(again.location().unwrap().starts_with("/login?"));
    let signed = browser
        .post(
            "/login",
            &[("username", "alice"), ("password", STRONG), ("rd", &resume)],
        )
        .await;
    signed.assert_redirect(&resume);
    let (amr, _) = redeem(&app, &rp, &mut browser, &resume, &state, &nonce, verifier).await;
    assert_eq!(amr, ["pwd"]);
}

#[tokio::test]
async fn an_rd_that_only_looks_like_an_authorization_request_is_not_followed() {
    let app = provider().await;
    app.user("alice", STRONG, false).await;
    for rd in [
        "/oauth2/authorize/../../panel/users?x=1",
        "/oauth2/authorizex?client_id=1",
        "//evil.example/oauth2/authorize?x=1",
        "/oauth2/authorize?x=1#@evil.example",
        "/oauth2/authorize?x=\\evil.example",
        "https://evil.example/oauth2/authorize?x=1",
    ] {
        let mut browser = app.client();
        browser.get("/login").await;
        let signed = browser
            .post(
                "/login",
                &[("username", "alice"), ("password", STRONG), ("rd", rd)],
            )
            .await;
        assert_eq!(signed.location(), Some("/panel/dashboard"), "{rd}");
    }
}

fn urlencoding(text: &str) -> String {
    serde_urlencoded::to_string([("x", text)]).unwrap()[2..].to_string()
}

#[tokio::test]
async fn the_walks_forms_may_end_at_the_clients_registered_origin_only() {
    let app = provider().await;
    let (client, rp) = wiki(&app).await;
    let (path, ..) = request(&rp, &[]);
    let mut browser = app.client();
    let csp_of = |answer: &crate::helpers::TestResponse| {
        answer
            .header("content-security-policy")
            .expect("a policy")
            .to_string()
    };
    // A step of the walk towards the client: its last redirect goes to the client's origin.
    let page = browser
        .get(&format!("/login?rd={}", urlencoding(&path)))
        .await;
    let policy = csp_of(&page);
    assert!(
        policy.contains("form-action 'self' https://wiki.example.org;"),
        "{policy}"
    );
    // A request naming an unregistered redirect URI, or no passgate request at all: nothing
    // beyond passgate itself.
    let forged = super::authorize::authorize_path(
        &client.client_id,
        &[("redirect_uri", "https://evil.example/cb")],
    );
    for rd in [forged.as_str(), "https://evil.example/", "/panel/users"] {
        let page = browser.get(&format!("/login?rd={}", urlencoding(rd))).await;
        let policy = csp_of(&page);
        assert!(policy.contains("form-action 'self';"), "{rd}: {policy}");
        assert!(!policy.contains("evil"), "{rd}: {policy}");
    }
}
