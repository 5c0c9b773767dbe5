//! API sign-in and tokens: POST /auth/login, bearer tokens, invalidate_tokens.

use axum::http::StatusCode;
use passgate::accounts::credentials::ResetOptions;
use serde_json::json;

use crate::helpers::*;

async fn login(app: &TestApp, username: &str, password: &str) -> ApiResponse {
    app.api_login(username, password).await
}

#[tokio::test]
async fn login_returns_a_token_that_authenticates() {
    let app = spawn_app().await;
    let user = app.user("alice", STRONG, false).await;
    let response = login(&app, "alice", STRONG).await;
    let data = response.assert_ok();
    assert_eq!(data["user_id"], json!(user.user_id.to_string()));
    assert_eq!(data["page"], "/panel/dashboard");
    assert_eq!(data["require_password_change"], false);
    let token = data["token"].as_str().unwrap();
    let me = app.api("GET", "/api/v2/users/@me", Some(token), None).await;
    assert_eq!(me.assert_ok()["username"], "alice");
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let wrong = login(&app, "alice", "Wrong-Password-99").await;
    let unknown = login(&app, "nobody", "Wrong-Password-99").await;
    wrong.assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_CREDENTIALS");
    assert_eq!(wrong.json, unknown.json);
    assert_eq!(wrong.status, unknown.status);
}

#[tokio::test]
async fn flagged_login_points_to_the_change_page() {
    let app = spawn_app().await;
    app.user("bob", STRONG, false).await;
    app.reset("bob", STRONG_2, ResetOptions::default()).await;
    let response = login(&app, "bob", STRONG_2).await;
    let data = response.assert_ok();
    assert_eq!(data["require_password_change"], true);
    assert_eq!(data["page"], "/panel/change_password");
}

#[tokio::test]
async fn expired_temp_password_is_refused_at_api_login() {
    let app = spawn_app().await;
    app.user("bob", STRONG, false).await;
    app.reset(
        "bob",
        STRONG_2,
        ResetOptions {
            expires_hours: 1,
            ..Default::default()
        },
    )
    .await;
    expire_temp_password(&app, "bob").await;
    login(&app, "bob", STRONG_2)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "TEMP_PASSWORD_EXPIRED");
    // The wrong password reveals nothing about the expiry.
    login(&app, "bob", "Wrong-Password-99")
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_CREDENTIALS");
}

#[tokio::test]
async fn disabled_account_is_refused_after_a_correct_password() {
    let app = spawn_app().await;
    let admin = app.user("root_admin", STRONG, true).await;
    let _ = admin;
    app.user("carol", STRONG_2, false).await;
    let admin_token = app.token("root_admin", STRONG).await;
    let carol = app.find("carol").await;
    app.api(
        "PATCH",
        &format!("/api/v2/users/{}", carol.user_id),
        Some(&admin_token),
        Some(json!({"enabled": false})),
    )
    .await
    .assert_ok();
    login(&app, "carol", STRONG_2)
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCOUNT_DISABLED");
    login(&app, "carol", "Wrong-Password-99")
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_CREDENTIALS");
}

#[tokio::test]
async fn api_and_web_share_the_throttle() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    for _ in 0..3 {
        login(&app, "alice", "Wrong-Password-99").await;
    }
    for i in 0..2 {
        app.client_from(&format!("10.7.0.{i}:1"))
            .login("alice", "Wrong-Password-99")
            .await;
    }
    let refused = login(&app, "alice", STRONG).await;
    refused.assert_error(StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_ATTEMPTS");
    assert!(refused.headers.get("retry-after").is_some());
    assert!(
        refused.json["data"].is_null(),
        "no token for a throttled attempt"
    );
}

#[tokio::test]
async fn tokens_are_refused_after_invalidate_tokens() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let first = app.token("alice", STRONG).await;
    let second = app.token("alice", STRONG).await;
    let mut browser = app.client();
    browser.login("alice", STRONG).await;
    app.api("POST", "/api/v2/auth/invalidate_tokens", Some(&first), None)
        .await
        .assert_ok();
    for token in [&first, &second] {
        app.api("GET", "/api/v2/users/@me", Some(token), None)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    }
    browser
        .get("/panel/dashboard")
        .await
        .assert_redirect("/login");
    let fresh = app.token("alice", STRONG).await;
    app.api("GET", "/api/v2/users/@me", Some(&fresh), None)
        .await
        .assert_ok();
}

#[tokio::test]
async fn a_token_from_one_instance_works_on_another() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    let other = app.second_instance().await;
    other
        .api("GET", "/api/v2/users/@me", Some(&token), None)
        .await
        .assert_ok();
}

#[tokio::test]
async fn login_is_audited_without_the_password() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    login(&app, "alice", "Wrong-Password-99").await;
    login(&app, "alice", STRONG).await;
    use sea_orm::EntityTrait;
    let entries = passgate::entities::audit_log::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.action == "login_failed" && e.target_name.as_deref() == Some("alice"))
    );
    assert!(
        entries
            .iter()
            .any(|e| e.action == "login" && e.source_ip == "127.0.0.1")
    );
    for e in &entries {
        assert!(!e.detail.contains(STRONG) && !e.detail.contains("Wrong-Password-99"));
    }
}

/// Moves a user's temporary-password expiry into the past.
pub async fn expire_temp_password(app: &TestApp, name: &str) {
    use passgate::entities::users;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    users::Entity::update_many()
        .col_expr(
            users::Column::PasswordExpires,
            Expr::value(Some(
                passgate::accounts::clock::now() - time::Duration::minutes(1),
            )),
        )
        .filter(users::Column::Username.eq(name))
        .exec(&app.db)
        .await
        .unwrap();
}
