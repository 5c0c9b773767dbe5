//! The API gate: a flagged user's session or login token reaches nothing but the change.

use axum::http::StatusCode;
use passgate::accounts::credentials::ResetOptions;
use serde_json::json;

use crate::api_auth::expire_temp_password;
use crate::helpers::*;

/// A flagged user `bob` (temporary password STRONG_2) and his login token.
async fn flagged(app: &TestApp) -> String {
    app.user("bob", STRONG, false).await;
    app.reset(
        "bob",
        STRONG_2,
        ResetOptions {
            expires_hours: 24,
            ..Default::default()
        },
    )
    .await;
    app.token("bob", STRONG_2).await
}

#[tokio::test]
async fn every_route_refuses_a_flagged_token_but_the_two_allowed_calls() {
    let app = spawn_app().await;
    let token = flagged(&app).await;
    let bob = app.find("bob").await.user_id;
    let refused = [
        ("GET", "/api/v2/users".to_string(), None),
        (
            "POST",
            "/api/v2/users".to_string(),
            Some(json!({"username": "evil_user", "password": STRONG_3})),
        ),
        ("GET", "/api/v2/users/@me".to_string(), None),
        ("GET", format!("/api/v2/users/{bob}"), None),
        (
            "PATCH",
            format!("/api/v2/users/{bob}"),
            Some(json!({"password": STRONG_3})),
        ),
        ("DELETE", "/api/v2/users/@me".to_string(), None),
        (
            "POST",
            "/api/v2/users/1/reset-password".to_string(),
            Some(json!({})),
        ),
        ("GET", "/api/v2/users/@me/key".to_string(), None),
        (
            "POST",
            "/api/v2/users/@me/key".to_string(),
            Some(json!({"name": "k"})),
        ),
        ("DELETE", "/api/v2/users/@me/key/1".to_string(), None),
        // Crafty's routes (SPEC §12).
        ("GET", "/api/v2/users?ids=true".to_string(), None),
        ("GET", "/api/v2/users/@me/public".to_string(), None),
        ("GET", "/api/v2/users/@me/pfp".to_string(), None),
        ("GET", "/api/v2/users/@me/permissions".to_string(), None),
        (
            "PATCH",
            "/api/v2/users/@me/key".to_string(),
            Some(json!({"name": "k", "crafty_permissions_mask": "000"})),
        ),
        ("GET", "/api/v2/users/@me/key/1".to_string(), None),
    ];
    for (method, path, body) in refused {
        app.api(method, &path, Some(&token), body)
            .await
            .assert_error(StatusCode::FORBIDDEN, "PASSWORD_CHANGE_REQUIRED");
    }
    // Nothing was created or changed along the way.
    assert!(
        passgate::accounts::users::find_by_username(&app.db, "evil_user")
            .await
            .unwrap()
            .is_none()
    );
    assert!(app.find("bob").await.require_password_change);
}

#[tokio::test]
async fn odd_spellings_of_the_path_never_slip_past() {
    let app = spawn_app().await;
    let token = flagged(&app).await;
    let auth = format!("Bearer {token}");
    let spellings = [
        ("GET", "/api/v2/users/@me/"),
        ("GET", "//api/v2/users/@me"),
        ("GET", "/api/v2//users/@me"),
        ("GET", "/api/v2/users/%40me"),
        ("GET", "/api/v2/users/%40ME"),
        ("GET", "/API/V2/users/@me"),
        ("GET", "/api/v2/users/@me/../@me"),
        ("GET", "/api/v2/auth/invalidate_tokens"),
        ("PATCH", "/api/v2/users/@me/key"),
        ("GET", "/api/v2/users/@me?method=PATCH"),
    ];
    for (method, path) in spellings {
        let response = app
            .api_raw(method, path, &[("authorization", &auth)], Vec::new())
            .await;
        assert!(
            !response.status.is_success(),
            "{method} {path} got {}",
            response.status
        );
        assert_eq!(response.json["status"], "error");
    }
    // A method-override header does not turn a GET into the allowed PATCH.
    for header in [
        "x-http-method-override",
        "x-http-method",
        "x-method-override",
    ] {
        let response = app
            .api_raw(
                "GET",
                "/api/v2/users/@me",
                &[("authorization", &auth), (header, "PATCH")],
                Vec::new(),
            )
            .await;
        response.assert_error(StatusCode::FORBIDDEN, "PASSWORD_CHANGE_REQUIRED");
        let response = app
            .api_raw(
                "POST",
                "/api/v2/users/@me",
                &[("authorization", &auth), (header, "PATCH")],
                json!({"password": STRONG_3}).to_string().into_bytes(),
            )
            .await;
        assert!(!response.status.is_success());
    }
    assert!(app.find("bob").await.require_password_change);
}

#[tokio::test]
async fn patch_me_may_only_set_the_password() {
    let app = spawn_app().await;
    let token = flagged(&app).await;
    for body in [
        json!({"password": STRONG_3, "email": "bob@example.com"}),
        json!({"password": STRONG_3, "superuser": true}),
        json!({"email": "bob@example.com"}),
        json!({"lang": "de"}),
        json!({}),
    ] {
        app.api(
            "PATCH",
            "/api/v2/users/@me",
            Some(&token),
            Some(body.clone()),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "PASSWORD_CHANGE_REQUIRED");
    }
    let bob = app.find("bob").await;
    assert!(bob.email.is_none() && !bob.superuser && bob.require_password_change);
}

#[tokio::test]
async fn forced_change_through_patch_me_returns_a_fresh_token() {
    let app = spawn_app().await;
    let old = flagged(&app).await;
    app.api(
        "PATCH",
        "/api/v2/users/@me",
        Some(&old),
        Some(json!({"password": STRONG_2})),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "PASSWORD_POLICY");
    app.api(
        "PATCH",
        "/api/v2/users/@me",
        Some(&old),
        Some(json!({"password": "password123"})),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "PASSWORD_POLICY");
    let response = app
        .api(
            "PATCH",
            "/api/v2/users/@me",
            Some(&old),
            Some(json!({"password": STRONG_3})),
        )
        .await;
    let data = response.assert_ok();
    assert_eq!(data["require_password_change"], false);
    assert!(data["password_expires"].is_null());
    let fresh = data["token"].as_str().unwrap().to_string();
    app.api("GET", "/api/v2/users/@me", Some(&old), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    app.api("GET", "/api/v2/users", Some(&fresh), None)
        .await
        .assert_ok();
    let bob = app.find("bob").await;
    assert!(!bob.require_password_change && bob.password_expires.is_none());
    app.token("bob", STRONG_3).await;
}

#[tokio::test]
async fn flagged_user_may_invalidate_their_tokens() {
    let app = spawn_app().await;
    let token = flagged(&app).await;
    app.api("POST", "/api/v2/auth/invalidate_tokens", Some(&token), None)
        .await
        .assert_ok();
    app.api(
        "PATCH",
        "/api/v2/users/@me",
        Some(&token),
        Some(json!({"password": STRONG_3})),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
}

#[tokio::test]
async fn api_keys_are_exempt_from_the_gate() {
    let app = spawn_app().await;
    let bob = app.user("bob", STRONG, false).await;
    let key = app.api_key(&bob, &[], false).await;
    app.reset("bob", STRONG_2, ResetOptions::default()).await;
    app.api("GET", "/api/v2/users/@me", Some(&key), None)
        .await
        .assert_ok();
    let token = app.token("bob", STRONG_2).await;
    app.api("GET", "/api/v2/users/@me", Some(&token), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "PASSWORD_CHANGE_REQUIRED");
}

#[tokio::test]
async fn an_open_token_ends_when_the_temp_password_expires() {
    let app = spawn_app().await;
    let token = flagged(&app).await;
    expire_temp_password(&app, "bob").await;
    app.api(
        "PATCH",
        "/api/v2/users/@me",
        Some(&token),
        Some(json!({"password": STRONG_3})),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "TEMP_PASSWORD_EXPIRED");
    assert!(app.find("bob").await.require_password_change);
}

#[tokio::test]
async fn the_gate_holds_for_a_flagged_session_on_the_api_too() {
    let app = spawn_app().await;
    flagged(&app).await;
    let mut browser = app.client();
    browser.login("bob", STRONG_2).await;
    browser.get("/panel/change_password").await;
    let cookie = format!("passgate_session={}", browser.session_cookie().unwrap());
    app.api_raw("GET", "/api/v2/users", &[("cookie", &cookie)], Vec::new())
        .await
        .assert_error(StatusCode::FORBIDDEN, "PASSWORD_CHANGE_REQUIRED");
}
