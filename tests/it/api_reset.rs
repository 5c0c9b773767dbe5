//! POST /api/v2/users/{id}/reset-password (SPEC §4).

use axum::http::StatusCode;
use serde_json::json;

use crate::helpers::*;

fn path(id: i32) -> String {
    format!("/api/v2/users/{id}/reset-password")
}

#[tokio::test]
async fn superuser_reset_generates_a_password_shown_once_and_ends_the_targets_tokens() {
    let app = spawn_app().await;
    app.user("admin_a", STRONG, true).await;
    let bob = app.user("bob", STRONG_2, false).await;
    let admin = app.token("admin_a", STRONG).await;
    let bob_token = app.token("bob", STRONG_2).await;
    let mut bob_browser = app.client();
    bob_browser.login("bob", STRONG_2).await;

    let response = app
        .api(
            "POST",
            &path(bob.user_id),
            Some(&admin),
            Some(json!({"expires_hours": 24})),
        )
        .await;
    let data = response.assert_ok();
    assert_eq!(data["user_id"], json!(bob.user_id.to_string()));
    assert_eq!(data["require_password_change"], true);
    let expires = data["password_expires"].as_str().unwrap();
    let expires =
        time::OffsetDateTime::parse(expires, &time::format_description::well_known::Rfc3339)
            .unwrap();
    let hours = (expires - time::OffsetDateTime::now_utc()).whole_minutes() as f64 / 60.0;
    assert!((23.9..=24.0).contains(&hours), "{hours}");
    let password = data["password"].as_str().unwrap().to_string();
    assert_eq!(password.chars().count(), 16);

    app.api("GET", "/api/v2/users/@me", Some(&bob_token), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    bob_browser
        .get("/panel/dashboard")
        .await
        .assert_redirect("/login");
    let login = app
        .api(
            "POST",
            "/api/v2/auth/login",
            None,
            Some(json!({"username": "bob", "password": password})),
        )
        .await;
    assert_eq!(login.assert_ok()["require_password_change"], true);
    // The old password is gone.
    app.api(
        "POST",
        "/api/v2/auth/login",
        None,
        Some(json!({"username": "bob", "password": STRONG_2})),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_CREDENTIALS");
}

#[tokio::test]
async fn a_chosen_password_is_not_echoed_and_defaults_apply() {
    let app = spawn_app().await;
    app.user("admin_a", STRONG, true).await;
    let bob = app.user("bob", STRONG_2, false).await;
    let admin = app.token("admin_a", STRONG).await;
    let response = app
        .api(
            "POST",
            &path(bob.user_id),
            Some(&admin),
            Some(json!({"password": STRONG_3})),
        )
        .await;
    let data = response.assert_ok();
    assert!(data.get("password").is_none());
    assert!(data["password_expires"].is_null());
    assert_eq!(data["require_password_change"], true);
    app.token("bob", STRONG_3).await;
    let no_flag = app
        .api(
            "POST",
            &path(bob.user_id),
            Some(&admin),
            Some(json!({"length": 32, "require_password_change": false})),
        )
        .await;
    let data = no_flag.assert_ok();
    assert_eq!(data["password"].as_str().unwrap().chars().count(), 32);
    assert_eq!(data["require_password_change"], false);
}

#[tokio::test]
async fn malformed_bodies_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    app.user("admin_a", STRONG, true).await;
    let bob = app.user("bob", STRONG_2, false).await;
    let admin = app.token("admin_a", STRONG).await;
    let cases = [
        json!({"length": 7}),
        json!({"length": 129}),
        json!({"length": "16"}),
        json!({"expires_hours": 0}),
        json!({"expires_hours": -2}),
        json!({"expires_hours": 8761}),
        json!({"password": "Sh0rt!x"}),
        json!({"password": "x".repeat(129)}),
        json!({"require_password_change": "yes"}),
        json!({"revoke_api_keys": 1}),
        json!({"unexpected": true}),
    ];
    for body in cases {
        let response = app
            .api("POST", &path(bob.user_id), Some(&admin), Some(body.clone()))
            .await;
        response.assert_error(StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
        assert!(
            !response.json["error_data"].as_str().unwrap().is_empty(),
            "{body}"
        );
    }
    let raw = app
        .api_raw(
            "POST",
            &path(bob.user_id),
            &[("authorization", &format!("Bearer {admin}"))],
            b"{\"length\": ".to_vec(),
        )
        .await;
    raw.assert_error(StatusCode::BAD_REQUEST, "INVALID_JSON");
    app.api(
        "POST",
        &path(bob.user_id),
        Some(&admin),
        Some(json!({"password": "password1234"})),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "PASSWORD_POLICY");
    let after = app.find("bob").await;
    assert_eq!(after.password, bob.password);
    assert_eq!(after.security_stamp, bob.security_stamp);
    assert!(!after.require_password_change);
}

#[tokio::test]
async fn the_unknown_field_is_named() {
    let app = spawn_app().await;
    app.user("admin_a", STRONG, true).await;
    let bob = app.user("bob", STRONG_2, false).await;
    let admin = app.token("admin_a", STRONG).await;
    let response = app
        .api(
            "POST",
            &path(bob.user_id),
            Some(&admin),
            Some(json!({"expire_hours": 5})),
        )
        .await;
    assert!(
        response.json["error_data"]
            .as_str()
            .unwrap()
            .contains("expire_hours")
    );
}

#[tokio::test]
async fn nobody_resets_their_own_password_this_way() {
    let app = spawn_app().await;
    let admin = app.user("admin_a", STRONG, true).await;
    let token = app.token("admin_a", STRONG).await;
    for id in [admin.user_id.to_string(), "@me".to_string()] {
        app.api(
            "POST",
            &format!("/api/v2/users/{id}/reset-password"),
            Some(&token),
            Some(json!({})),
        )
        .await
        .assert_error(StatusCode::BAD_REQUEST, "SELF_RESET_NOT_ALLOWED");
    }
}

#[tokio::test]
async fn who_may_reset_whom() {
    let app = spawn_app().await;
    let root = app.user("root_admin", STRONG, true).await;
    let other_admin = app.user("other_admin", STRONG, true).await;
    let manager = app
        .user_with("manager", STRONG, false, None, Some(-1))
        .await;
    let managed = app
        .user_with("managed", STRONG, false, Some(manager.user_id), None)
        .await;
    let stranger = app.user("stranger", STRONG, false).await;
    let plain = app.user("plain", STRONG, false).await;
    let _ = (root, plain);
    let manager_token = app.token("manager", STRONG).await;
    let plain_token = app.token("plain", STRONG).await;

    app.api(
        "POST",
        &path(managed.user_id),
        Some(&manager_token),
        Some(json!({})),
    )
    .await
    .assert_ok();
    app.api(
        "POST",
        &path(other_admin.user_id),
        Some(&manager_token),
        Some(json!({})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    app.api(
        "POST",
        &path(stranger.user_id),
        Some(&manager_token),
        Some(json!({})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    app.api(
        "POST",
        &path(managed.user_id),
        Some(&plain_token),
        Some(json!({})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    app.api("POST", &path(9999), Some(&manager_token), Some(json!({})))
        .await
        .assert_error(StatusCode::NOT_FOUND, "USER_NOT_FOUND");
    // Refusals changed nothing.
    assert!(!app.find("other_admin").await.require_password_change);
    assert!(!app.find("stranger").await.require_password_change);
}

#[tokio::test]
async fn api_keys_need_user_config_or_full_access() {
    let app = spawn_app().await;
    let root = app.user("root_admin", STRONG, true).await;
    let manager = app
        .user_with("manager", STRONG, false, None, Some(-1))
        .await;
    let managed = app
        .user_with("managed", STRONG, false, Some(manager.user_id), None)
        .await;
    let with = app.api_key(&manager, &["USER_CONFIG"], false).await;
    let without = app.api_key(&manager, &[], false).await;
    let root_full = app.api_key(&root, &[], true).await;
    let root_limited = app.api_key(&root, &[], false).await;
    app.api("POST", &path(managed.user_id), Some(&with), Some(json!({})))
        .await
        .assert_ok();
    app.api(
        "POST",
        &path(managed.user_id),
        Some(&without),
        Some(json!({})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    app.api(
        "POST",
        &path(manager.user_id),
        Some(&root_full),
        Some(json!({})),
    )
    .await
    .assert_ok();
    app.api(
        "POST",
        &path(managed.user_id),
        Some(&root_limited),
        Some(json!({})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
}

#[tokio::test]
async fn revoke_api_keys_deletes_the_targets_keys() {
    let app = spawn_app().await;
    app.user("admin_a", STRONG, true).await;
    let bob = app.user("bob", STRONG_2, false).await;
    let admin = app.token("admin_a", STRONG).await;
    let key = app.api_key(&bob, &[], false).await;
    app.api("POST", &path(bob.user_id), Some(&admin), Some(json!({})))
        .await
        .assert_ok();
    app.api("GET", "/api/v2/users/@me", Some(&key), None)
        .await
        .assert_ok();
    app.api(
        "POST",
        &path(bob.user_id),
        Some(&admin),
        Some(json!({"revoke_api_keys": true})),
    )
    .await
    .assert_ok();
    app.api("GET", "/api/v2/users/@me", Some(&key), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
}

#[tokio::test]
async fn the_reset_is_audited_without_the_password() {
    let app = spawn_app().await;
    app.user("admin_a", STRONG, true).await;
    let bob = app.user("bob", STRONG_2, false).await;
    let admin = app.token("admin_a", STRONG).await;
    let response = app
        .api(
            "POST",
            &path(bob.user_id),
            Some(&admin),
            Some(json!({"expires_hours": 2})),
        )
        .await;
    let password = response.assert_ok()["password"]
        .as_str()
        .unwrap()
        .to_string();
    use sea_orm::EntityTrait;
    let entries = passgate::entities::audit_log::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    let reset = entries
        .iter()
        .find(|e| e.action == "password_reset")
        .unwrap();
    assert_eq!(reset.actor_name.as_deref(), Some("admin_a"));
    assert_eq!(reset.target_name.as_deref(), Some("bob"));
    assert_eq!(reset.source_ip, "127.0.0.1");
    assert!(reset.detail.contains("generated=true"));
    assert!(reset.detail.contains("require_password_change=true"));
    assert!(entries.iter().all(|e| !e.detail.contains(&password)));
}
