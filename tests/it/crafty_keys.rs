//! Crafty's API keys (SPEC §12): made with `PATCH /users/{id}/key` and masks, listed with
//! Crafty's names, never handed out again; and `passgate key create` at the console.

use axum::http::StatusCode;
use passgate::cli::{Command, KeyCommand, run_admin};
use passgate::config::Config;
use serde_json::{Value, json};

use crate::crafty::{crafty, world};
use crate::helpers::*;

// ------------------------------------------------------------------ API keys

fn crafty_key(name: &str, crafty_mask: &str, full_access: bool) -> Value {
    json!({
        "name": name,
        "server_permissions_mask": "11111111",
        "crafty_permissions_mask": crafty_mask,
        "full_access": full_access,
    })
}

#[tokio::test]
async fn a_key_made_with_crafty_masks_works_and_is_listed_with_crafty_names() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let mgr = app.token("mgr", STRONG).await;
    let made = crafty(
        &app,
        "PATCH",
        "/api/v2/users/@me/key/",
        Some(&mgr),
        Some(crafty_key("automation", "010", false)),
    )
    .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.json);
    let data = made.assert_ok();
    let id = data["id"].as_i64().expect("Crafty's id is a number");
    let token = data["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("pgk_"));

    // The key uses USER_CONFIG: it sees the managed user and may reset her.
    let seen = crafty(&app, "GET", "/api/v2/users/?ids=true", Some(&token), None).await;
    let mut ids: Vec<i64> = serde_json::from_value(seen.assert_ok().clone()).unwrap();
    ids.sort_unstable();
    let mut expected = vec![i64::from(w.mgr), i64::from(w.alice)];
    expected.sort_unstable();
    assert_eq!(ids, expected);

    let listed = crafty(&app, "GET", "/api/v2/users/@me/key", Some(&mgr), None).await;
    let row = &listed.assert_ok()[0];
    assert_eq!(row["id"], json!(id));
    assert_eq!(row["key_id"], json!(id.to_string()));
    assert_eq!(row["name"], "automation");
    assert_eq!(row["crafty_permissions"], "010");
    assert_eq!(
        row["server_permissions"], "00000000",
        "the server mask is ignored"
    );
    assert_eq!(row["full_access"], false);
    assert_eq!(row["permissions"][0]["name"], "USER_CONFIG");

    // Its secret is never handed out again.
    crafty(
        &app,
        "GET",
        &format!("/api/v2/users/@me/key/{id}"),
        Some(&mgr),
        None,
    )
    .await
    .assert_error(StatusCode::GONE, "KEY_NOT_RETRIEVABLE");
    for missing in ["999", "abc"] {
        crafty(
            &app,
            "GET",
            &format!("/api/v2/users/@me/key/{missing}"),
            Some(&mgr),
            None,
        )
        .await
        .assert_error(StatusCode::NOT_FOUND, "NOT_FOUND");
    }
    // Another user's key, asked for under one's own id.
    let bob = app.token("bob", STRONG).await;
    crafty(
        &app,
        "GET",
        &format!("/api/v2/users/@me/key/{id}"),
        Some(&bob),
        None,
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "NOT_FOUND");
    crafty(
        &app,
        "GET",
        &format!("/api/v2/users/{}/key/{id}", w.mgr),
        Some(&bob),
        None,
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
}

#[tokio::test]
async fn mask_places_passgate_does_not_have_grant_nothing() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let bob = app.token("bob", STRONG).await;
    // SERVER_CREATION is Crafty's; bob gets a key with no permission.
    let made = crafty(
        &app,
        "PATCH",
        "/api/v2/users/@me/key",
        Some(&bob),
        Some(crafty_key("servers", "100", false)),
    )
    .await;
    let token = made.assert_ok()["token"].as_str().unwrap().to_string();
    let listed = crafty(&app, "GET", "/api/v2/users/@me/key", Some(&bob), None).await;
    assert_eq!(listed.assert_ok()[0]["crafty_permissions"], "000");
    assert_eq!(listed.assert_ok()[0]["permissions"], json!([]));
    crafty(
        &app,
        "GET",
        &format!("/api/v2/users/{}", w.alice),
        Some(&token),
        None,
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    // USER_CONFIG and ROLES_CONFIG, which bob does not hold, are refused, even with the
    // other places set.
    for mask in ["010", "001", "101", "111"] {
        crafty(
            &app,
            "PATCH",
            "/api/v2/users/@me/key",
            Some(&bob),
            Some(crafty_key("more", mask, false)),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    }
}

#[tokio::test]
async fn crafty_key_bodies_of_the_wrong_shape_are_refused_naming_the_field() {
    let app = spawn_app().await;
    world(&app).await;
    let bob = app.token("bob", STRONG).await;
    let cases = [
        (
            json!({"name": "k", "crafty_permissions_mask": "0100"}),
            "crafty_permissions_mask",
        ),
        (
            json!({"name": "k", "crafty_permissions_mask": "01"}),
            "crafty_permissions_mask",
        ),
        (
            json!({"name": "k", "crafty_permissions_mask": "0x0"}),
            "crafty_permissions_mask",
        ),
        (
            json!({"name": "k", "crafty_permissions_mask": 10}),
            "crafty_permissions_mask",
        ),
        (
            json!({"name": "k", "server_permissions_mask": "1"}),
            "server_permissions_mask",
        ),
        (json!({"name": "k", "full_access": "yes"}), "full_access"),
        (json!({"name": 5}), "name"),
        (json!({"name": "   "}), "name"),
        (json!({"crafty_permissions_mask": "000"}), "name"),
        (json!({"name": "k", "token": "pgk_1_x"}), "token"),
    ];
    for (body, field) in cases {
        let answer = crafty(
            &app,
            "PATCH",
            "/api/v2/users/@me/key",
            Some(&bob),
            Some(body.clone()),
        )
        .await;
        answer.assert_error(StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
        let message = answer.json["error_data"].as_str().unwrap();
        assert!(message.contains(field), "{body}: {message}");
    }
    let bob_id = app.find("bob").await.user_id;
    assert!(
        passgate::accounts::api_keys::list(&app.db, bob_id)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn a_key_without_full_access_cannot_mint_a_full_access_key_through_patch() {
    let app = spawn_app().await;
    world(&app).await;
    let admin = app.find("admin").await;
    let mgr = app.find("mgr").await;
    let cases = [
        (admin.clone(), app.api_key(&admin, &[], false).await),
        (
            mgr.clone(),
            app.api_key(&mgr, &["USER_CONFIG"], false).await,
        ),
    ];
    for (owner, key) in cases {
        for mask in ["000", "010"] {
            crafty(
                &app,
                "PATCH",
                "/api/v2/users/@me/key/",
                Some(&key),
                Some(crafty_key("escalate", mask, true)),
            )
            .await
            .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
        }
        let keys = passgate::accounts::api_keys::list(&app.db, owner.user_id)
            .await
            .unwrap();
        assert!(keys.iter().all(|k| !k.full_access), "{}", owner.username);
    }
    // A user without superuser rights cannot make a key for somebody else.
    let mgr_token = app.token("mgr", STRONG).await;
    crafty(
        &app,
        "PATCH",
        &format!("/api/v2/users/{}/key", admin.user_id),
        Some(&mgr_token),
        Some(crafty_key("theirs", "000", true)),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
}

// ------------------------------------------------------------------ the console

fn key_create(username: &str, full_access: bool, user_config: bool) -> Command {
    Command::Key(KeyCommand::Create {
        username: username.into(),
        name: "console".into(),
        full_access,
        user_config,
    })
}

fn token_in(output: &str) -> String {
    output
        .split_whitespace()
        .find(|word| word.starts_with("pgk_"))
        .expect("the output shows the token")
        .to_string()
}

#[tokio::test]
async fn passgate_key_create_prints_a_key_that_works() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let config = Config::for_database(&app.database_url);

    let output = run_admin(&config, key_create("MGR", false, true))
        .await
        .expect("key create works");
    let token = token_in(&output);
    let seen = crafty(
        &app,
        "GET",
        &format!("/api/v2/users/{}", w.alice),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(seen.assert_ok()["username"], "alice");
    let keys = passgate::accounts::api_keys::list(&app.db, w.mgr)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].name, "console");
    assert!(!keys[0].full_access);

    let output = run_admin(&config, key_create("admin", true, false))
        .await
        .expect("a full-access key");
    let admin_key = token_in(&output);
    crafty(
        &app,
        "GET",
        &format!("/api/v2/users/{}", w.bob),
        Some(&admin_key),
        None,
    )
    .await
    .assert_ok();
}

#[tokio::test]
async fn passgate_key_create_refuses_what_the_user_does_not_hold() {
    let app = spawn_app().await;
    world(&app).await;
    let config = Config::for_database(&app.database_url);
    let err = run_admin(&config, key_create("bob", false, true))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("USER_CONFIG"), "{err}");
    let err = run_admin(&config, key_create("nobody", false, false))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no user named 'nobody'"), "{err}");
    let bob = app.find("bob").await;
    assert!(
        passgate::accounts::api_keys::list(&app.db, bob.user_id)
            .await
            .unwrap()
            .is_empty()
    );
}
