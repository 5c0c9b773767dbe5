//! SPEC §3a from the attacker's side: what an API key may do to its owner's account, and
//! who may skip `current_password` during a forced change.

use axum::http::StatusCode;
use passgate::accounts::credentials::ResetOptions;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::json;

use crate::helpers::*;

const ATTACKER_CHOSEN: &str = "Attacker-Chosen-Pass-991!";

async fn login(app: &TestApp, username: &str, password: &str) -> ApiResponse {
    app.api(
        "POST",
        "/api/v2/auth/login",
        None,
        Some(json!({"username": username, "password": password})),
    )
    .await
}

/// The reported hole: a read-only monitoring key of a superuser, left in place by an admin
/// reset, tried to set a password of its choosing on the flagged account.
#[tokio::test]
async fn a_leftover_monitoring_key_cannot_take_over_a_reset_superuser() {
    let app = spawn_app().await;
    app.user("root", STRONG, true).await;
    let boss = app.user("boss2", STRONG, true).await;
    let monitor = app.api_key(&boss, &[], false).await;
    app.reset("boss2", STRONG_2, ResetOptions::default()).await;

    let patch = app
        .api(
            "PATCH",
            "/api/v2/users/@me",
            Some(&monitor),
            Some(json!({"password": ATTACKER_CHOSEN})),
        )
        .await;
    patch.assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    // Even knowing the temporary password, a narrow key does not change the password.
    let with_current = app
        .api(
            "PATCH",
            "/api/v2/users/@me",
            Some(&monitor),
            Some(json!({"password": ATTACKER_CHOSEN, "current_password": STRONG_2})),
        )
        .await;
    with_current.assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");

    login(&app, "boss2", ATTACKER_CHOSEN)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_CREDENTIALS");
    let boss = app.find("boss2").await;
    assert!(boss.require_password_change, "still flagged");
    // The temporary password still works and still leads to the forced change.
    let data = login(&app, "boss2", STRONG_2).await;
    assert_eq!(data.assert_ok()["require_password_change"], true);
}

#[tokio::test]
async fn a_full_access_key_needs_the_temporary_password_to_finish_a_forced_change() {
    let app = spawn_app().await;
    app.user("root", STRONG, true).await;
    let bob = app.user("bob", STRONG, false).await;
    let key = app.api_key(&bob, &[], true).await;
    app.reset("bob", STRONG_2, ResetOptions::default()).await;

    let without = app
        .api(
            "PATCH",
            "/api/v2/users/@me",
            Some(&key),
            Some(json!({"password": ATTACKER_CHOSEN})),
        )
        .await;
    without.assert_error(StatusCode::BAD_REQUEST, "INCORRECT_CURRENT_PASSWORD");
    let wrong = app
        .api(
            "PATCH",
            "/api/v2/users/@me",
            Some(&key),
            Some(json!({"password": ATTACKER_CHOSEN, "current_password": STRONG})),
        )
        .await;
    wrong.assert_error(StatusCode::BAD_REQUEST, "INCORRECT_CURRENT_PASSWORD");
    assert!(app.find("bob").await.require_password_change);

    let right = app
        .api(
            "PATCH",
            "/api/v2/users/@me",
            Some(&key),
            Some(json!({"password": STRONG_3, "current_password": STRONG_2})),
        )
        .await;
    right.assert_ok();
    let bob = app.find("bob").await;
    assert!(!bob.require_password_change);
    login(&app, "bob", STRONG_3).await.assert_ok();
}

#[tokio::test]
async fn a_sign_in_with_the_temporary_password_skips_current_password() {
    let app = spawn_app().await;
    app.user("bob", STRONG, false).await;
    app.reset("bob", STRONG_2, ResetOptions::default()).await;
    let token = app.token("bob", STRONG_2).await;
    let response = app
        .api(
            "PATCH",
            "/api/v2/users/@me",
            Some(&token),
            Some(json!({"password": STRONG_3})),
        )
        .await;
    let data = response.assert_ok();
    assert!(data["token"].is_string(), "a fresh token: {data}");
    login(&app, "bob", STRONG_3).await.assert_ok();
}

/// A token from a sign-in made before the flag was set (as a later "require a change at next
/// sign-in" that keeps the password would do) proves nothing about a temporary password.
#[tokio::test]
async fn a_sign_in_from_before_the_flag_must_still_give_the_current_password() {
    let app = spawn_app().await;
    let bob = app.user("bob", STRONG, false).await;
    let token = app.token("bob", STRONG).await;
    let mut flagged: passgate::entities::users::ActiveModel = app.find("bob").await.into();
    flagged.require_password_change = Set(true);
    flagged.update(&app.db).await.expect("flag");

    let without = app
        .api(
            "PATCH",
            "/api/v2/users/@me",
            Some(&token),
            Some(json!({"password": STRONG_3})),
        )
        .await;
    without.assert_error(StatusCode::BAD_REQUEST, "INCORRECT_CURRENT_PASSWORD");
    let with_current = app
        .api(
            "PATCH",
            "/api/v2/users/@me",
            Some(&token),
            Some(json!({"password": STRONG_3, "current_password": STRONG})),
        )
        .await;
    with_current.assert_ok();
    assert!(!app.find("bob").await.require_password_change);
    assert_ne!(app.find("bob").await.security_stamp, bob.security_stamp);
}

#[tokio::test]
async fn a_narrow_key_cannot_change_its_owners_identity_keys_or_sessions() {
    let app = spawn_app().await;
    let bob = app.user("bob", STRONG, false).await;
    let holder = app.user_with("carol", STRONG, false, None, Some(-1)).await;
    for (owner, permissions) in [(&bob, &[][..]), (&holder, &["USER_CONFIG"][..])] {
        let key = app.api_key(owner, permissions, false).await;
        let other_key = app.api_key(owner, &[], false).await;
        let other_id = other_key
            .trim_start_matches("pgk_")
            .split('_')
            .next()
            .unwrap_or_default()
            .to_string();
        let stamp = app.find(&owner.username).await.security_stamp;
        let refused = [
            (
                "PATCH",
                "/api/v2/users/@me".to_string(),
                json!({"password": ATTACKER_CHOSEN, "current_password": STRONG}),
            ),
            (
                "PATCH",
                "/api/v2/users/@me".to_string(),
                json!({"username": "taken_over"}),
            ),
            (
                "PATCH",
                "/api/v2/users/@me".to_string(),
                json!({"email": "attacker@example.com"}),
            ),
            (
                "POST",
                "/api/v2/users/@me/key".to_string(),
                json!({"name": "mine", "permissions": [], "full_access": false}),
            ),
            (
                "DELETE",
                format!("/api/v2/users/@me/key/{other_id}"),
                json!({}),
            ),
            (
                "POST",
                "/api/v2/auth/invalidate_tokens".to_string(),
                json!({}),
            ),
        ];
        for (method, path, body) in refused {
            let response = app.api(method, &path, Some(&key), Some(body.clone())).await;
            response.assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
        }
        let after = app.find(&owner.username).await;
        assert_eq!(after.username, owner.username);
        assert_eq!(after.email, owner.email);
        assert_eq!(after.security_stamp, stamp, "no session ended");
        let keys = app
            .api("GET", "/api/v2/users/@me/key", Some(&key), None)
            .await;
        assert_eq!(
            keys.assert_ok().as_array().map(Vec::len),
            Some(2),
            "listing still works"
        );
        // What the key may still do to its owner: the language.
        app.api(
            "PATCH",
            "/api/v2/users/@me",
            Some(&key),
            Some(json!({"lang": "de"})),
        )
        .await
        .assert_ok();
    }
}

#[tokio::test]
async fn a_full_access_key_may_change_its_owners_identity_and_keys() {
    let app = spawn_app().await;
    let bob = app.user("bob", STRONG, false).await;
    let key = app.api_key(&bob, &[], true).await;
    app.api(
        "PATCH",
        "/api/v2/users/@me",
        Some(&key),
        Some(json!({"email": "bob@example.com"})),
    )
    .await
    .assert_ok();
    app.api(
        "POST",
        "/api/v2/users/@me/key",
        Some(&key),
        Some(json!({"name": "second", "permissions": [], "full_access": false})),
    )
    .await
    .assert_ok();
    app.api(
        "POST",
        "/api/v2/auth/invalidate_tokens",
        Some(&key),
        Some(json!({})),
    )
    .await
    .assert_ok();
}
