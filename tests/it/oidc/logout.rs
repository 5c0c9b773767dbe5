//! RP-initiated logout (`/oauth2/logout`, SPEC §16) and the apps on `/panel/sessions`: a
//! confirm page, then this browser's sessions and the app sign-ins made in it end (other
//! devices stay); a hint of another client, an unregistered return address or a forged
//! token gets a page at passgate and changes nothing.

use axum::http::StatusCode;
use passgate::accounts::oidc::Alg;

use super::authorize::{authorize_path, param, signed_in};
use super::{REDIRECT, Registered, confidential, exchange, provider, refresh, register, userinfo};
use crate::helpers::{Client, STRONG, TestApp};

const SIGNED_OUT: &str = "https://wiki.example.org/signed-out";

/// Tokens for `client` from a sign-in in `browser` (with a refresh token).
async fn tokens(app: &TestApp, browser: &mut Client<'_>, client: &Registered) -> serde_json::Value {
    let path = authorize_path(
        &client.client_id,
        &[("scope", "openid profile offline_access")],
    );
    let answer = browser.get(&path).await;
    let location = answer.location().expect("back to the client").to_string();
    assert!(location.starts_with(REDIRECT), "{location}");
    let code = param(&location, "code").expect("a code");
    let (status, json) = exchange(app, client, &code, &[]).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    json
}

fn logout_path(pairs: &[(&str, &str)]) -> String {
    format!(
        "/oauth2/logout?{}",
        serde_urlencoded::to_string(pairs).unwrap()
    )
}

/// Whether the browser still reaches the panel.
async fn in_panel(browser: &mut Client<'_>) -> bool {
    browser.get("/panel/dashboard").await.status == StatusCode::OK
}

#[tokio::test]
async fn logout_confirms_then_ends_this_browsers_sign_in_and_its_apps_only() {
    let app = provider().await;
    app.user("alice", STRONG, false).await;
    let client = register(&app, confidential(Alg::Rs256)).await;
    let mut laptop = signed_in(&app, "alice", STRONG).await;
    let mut phone = signed_in(&app, "alice", STRONG).await;
    let here = tokens(&app, &mut laptop, &client).await;
    let there = tokens(&app, &mut phone, &client).await;
    let hint = here["id_token"].as_str().unwrap();
    let pairs = [
        ("id_token_hint", hint),
        ("post_logout_redirect_uri", SIGNED_OUT),
        ("state", "bye-1"),
    ];
    // The page asks first; nothing has ended yet.
    let page = laptop.get(&logout_path(&pairs)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("alice"));
    let policy = page.header("content-security-policy").unwrap_or_default();
    assert!(
        policy.contains("form-action 'self' https://wiki.example.org;"),
        "the form may end at the app: {policy}"
    );
    assert!(in_panel(&mut laptop).await);
    // A confirmation without the page's CSRF token changes nothing.
    let forged = laptop
        .post_without_csrf("/oauth2/logout/confirm", &pairs)
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(in_panel(&mut laptop).await);
    let done = laptop.post("/oauth2/logout/confirm", &pairs).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let location = done.location().unwrap();
    assert!(
        location.starts_with(&format!("{SIGNED_OUT}?")),
        "{location}"
    );
    assert_eq!(param(location, "state").as_deref(), Some("bye-1"));
    assert!(!in_panel(&mut laptop).await, "signed out here");
    let (status, json) = refresh(&app, &client, here["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    let (status, _) = userinfo(&app, here["access_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The phone's sign-in and its app stay.
    assert!(in_panel(&mut phone).await);
    let (status, json) = refresh(&app, &client, there["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{json}");
}

#[tokio::test]
async fn the_panels_own_sign_out_ends_the_apps_signed_in_to_from_this_browser_only() {
    let app = provider().await;
    app.user("alice", STRONG, false).await;
    let client = register(&app, confidential(Alg::Rs256)).await;
    let mut laptop = signed_in(&app, "alice", STRONG).await;
    let mut phone = signed_in(&app, "alice", STRONG).await;
    let here = tokens(&app, &mut laptop, &client).await;
    let there = tokens(&app, &mut phone, &client).await;
    // The panel's menu signs out with POST /logout (no app involved).
    assert!(in_panel(&mut laptop).await);
    let done = laptop.post("/logout", &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(!in_panel(&mut laptop).await, "signed out here");
    let (status, json) = refresh(&app, &client, here["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "the app's refresh token from this browser's sign-in ended with it"
    );
    let (status, _) = userinfo(&app, here["access_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The phone's sign-in and its app stay.
    assert!(in_panel(&mut phone).await);
    let (status, _) = userinfo(&app, there["access_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, json) = refresh(&app, &client, there["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{json}");
}

#[tokio::test]
async fn a_hint_of_another_client_or_an_unregistered_address_gets_a_page_and_changes_nothing() {
    let app = provider().await;
    app.user("alice", STRONG, false).await;
    let wiki = register(&app, confidential(Alg::Rs256)).await;
    let other = register(&app, confidential(Alg::Rs256)).await;
    let mut browser = signed_in(&app, "alice", STRONG).await;
    let issued = tokens(&app, &mut browser, &wiki).await;
    let hint = issued["id_token"].as_str().unwrap();
    // A token passgate did not sign: this one with its signature cut off and replaced.
    let (unsigned, _) = hint.rsplit_once('.').unwrap();
    let forged = format!("{unsigned}.AAAA");
    for pairs in [
        vec![
            ("id_token_hint", hint),
            ("client_id", other.client_id.as_str()),
        ],
        vec![
            ("id_token_hint", hint),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ],
        vec![
            ("id_token_hint", hint),
            (
                "post_logout_redirect_uri",
                "https://wiki.example.org/signed-out/../evil",
            ),
        ],
        vec![
            ("id_token_hint", forged.as_str()),
            ("post_logout_redirect_uri", SIGNED_OUT),
        ],
        vec![
            ("client_id", "no-such-client"),
            ("post_logout_redirect_uri", SIGNED_OUT),
        ],
    ] {
        let page = browser.get(&logout_path(&pairs)).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{pairs:?}");
        assert!(page.location().is_none(), "{pairs:?}: redirected");
        assert!(!page.body.contains("evil.example"), "{pairs:?}: echoed");
        // The same posted with a valid CSRF token (a page of the panel's).
        assert!(in_panel(&mut browser).await);
        let posted = browser.post("/oauth2/logout/confirm", &pairs).await;
        assert_eq!(posted.status, StatusCode::BAD_REQUEST, "{pairs:?}");
        assert!(in_panel(&mut browser).await, "{pairs:?}: still signed in");
    }
    let (status, _) = refresh(&app, &wiki, issued["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "the app's sign-in stands");
}

#[tokio::test]
async fn the_sessions_page_lists_the_apps_and_ends_one() {
    let app = provider().await;
    app.user("alice", STRONG, false).await;
    app.user("mallory", STRONG, false).await;
    let client = super::register_named(&app, "Team wiki", confidential(Alg::Rs256)).await;
    let mut browser = signed_in(&app, "alice", STRONG).await;
    let issued = tokens(&app, &mut browser, &client).await;
    let page = browser.get("/panel/sessions").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Team wiki"), "lists the app");
    let grant = grant_in(&page.body).expect("an end button");
    // Someone else cannot end it.
    let mut mallory = signed_in(&app, "mallory", STRONG).await;
    mallory.get("/panel/sessions").await;
    mallory
        .post("/panel/sessions/end_app", &[("grant", &grant)])
        .await
        .assert_redirect("/panel/sessions?ended=app");
    let (status, json) = refresh(&app, &client, issued["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let fresh = json;
    // Its user can.
    browser
        .post("/panel/sessions/end_app", &[("grant", &grant)])
        .await
        .assert_redirect("/panel/sessions?ended=app");
    let (status, _) = refresh(&app, &client, fresh["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = userinfo(&app, fresh["access_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let page = browser.get("/panel/sessions?ended=app").await;
    assert!(!page.body.contains("Team wiki"), "no longer listed");
    super::attacks::assert_audited(&app, "oidc_revoked", "reason=ended_by_user").await;
}

/// The grant id of the first app's end button.
fn grant_in(body: &str) -> Option<String> {
    let marker = r#"name="grant" value=""#;
    let start = body.find(marker)? + marker.len();
    let end = body[start..].find('"')? + start;
    Some(body[start..end].to_string())
}
