//! The user API (SPEC §5): who sees, creates, edits and deletes whom; API keys; the audit
//! trail of all of it.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use passgate::accounts::credentials::ResetOptions;
use passgate::accounts::users;
use passgate::entities::{api_keys, audit_log, users as user_entity};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::helpers::*;

const ROW_FIELDS: [&str; 11] = [
    "user_id",
    "username",
    "email",
    "enabled",
    "superuser",
    "manager",
    "lang",
    "created",
    "last_login",
    "require_password_change",
    "password_expires",
];

/// admin (superuser), mgr (USER_CONFIG, no cap), alice (managed by mgr), bob (plain).
struct World {
    admin: user_entity::Model,
    mgr: user_entity::Model,
    alice: user_entity::Model,
    bob: user_entity::Model,
}

async fn world(app: &TestApp) -> World {
    let admin = app.user("admin", STRONG, true).await;
    let mgr = app.user_with("mgr", STRONG, false, None, Some(-1)).await;
    let alice = app
        .user_with("alice", STRONG, false, Some(mgr.user_id), None)
        .await;
    let bob = app.user("bob", STRONG, false).await;
    World {
        admin,
        mgr,
        alice,
        bob,
    }
}

fn user_path(id: i32) -> String {
    format!("/api/v2/users/{id}")
}

async fn user_count(app: &TestApp) -> u64 {
    users::count(&app.db).await.expect("count users")
}

fn usernames(rows: &Value) -> BTreeSet<String> {
    rows.as_array()
        .expect("a list of users")
        .iter()
        .map(|row| row["username"].as_str().expect("username").to_string())
        .collect()
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// No serialized answer may carry any user's hash or stamp.
async fn assert_no_secrets(app: &TestApp, text: &str) {
    assert!(!text.contains("$argon2"), "a password hash leaked: {text}");
    assert!(!text.contains("security_stamp"), "{text}");
    assert!(!text.contains("\"password\""), "{text}");
    for user in user_entity::Entity::find().all(&app.db).await.unwrap() {
        assert!(
            !text.contains(&user.security_stamp),
            "the stamp of {} leaked: {text}",
            user.username
        );
        assert!(
            !text.contains(&user.password),
            "the hash of {} leaked",
            user.username
        );
    }
}

// ---------------------------------------------------------------- GET /users

#[tokio::test]
async fn superuser_lists_every_user() {
    let app = spawn_app().await;
    world(&app).await;
    let admin = app.token("admin", STRONG).await;
    let list = app.api("GET", "/api/v2/users", Some(&admin), None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        usernames(list.assert_ok()),
        names(&["admin", "mgr", "alice", "bob"])
    );
}

#[tokio::test]
async fn user_config_holder_lists_themselves_and_the_users_they_manage_only() {
    let app = spawn_app().await;
    world(&app).await;
    let mgr = app.token("mgr", STRONG).await;
    let list = app.api("GET", "/api/v2/users", Some(&mgr), None).await;
    assert_eq!(usernames(list.assert_ok()), names(&["mgr", "alice"]));
}

#[tokio::test]
async fn plain_user_lists_only_themselves() {
    let app = spawn_app().await;
    world(&app).await;
    let bob = app.token("bob", STRONG).await;
    let list = app.api("GET", "/api/v2/users", Some(&bob), None).await;
    assert_eq!(usernames(list.assert_ok()), names(&["bob"]));
    // A managed user does not see their manager either.
    let alice = app.token("alice", STRONG).await;
    let list = app.api("GET", "/api/v2/users", Some(&alice), None).await;
    assert_eq!(usernames(list.assert_ok()), names(&["alice"]));
}

#[tokio::test]
async fn user_rows_carry_the_crafty_fields_and_never_the_hash_or_stamp() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let admin = app.token("admin", STRONG).await;
    let list = app.api("GET", "/api/v2/users", Some(&admin), None).await;
    let rows = list.assert_ok().as_array().unwrap().clone();
    assert_eq!(rows.len(), 4);
    for row in &rows {
        let keys: BTreeSet<&str> = row
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for field in ROW_FIELDS {
            assert!(keys.contains(field), "row lacks {field}: {row}");
        }
        assert!(!keys.contains("password"), "{row}");
        assert!(!keys.contains("security_stamp"), "{row}");
    }
    let alice = rows.iter().find(|r| r["username"] == "alice").unwrap();
    assert_eq!(alice["manager"], json!(w.mgr.user_id));
    assert_eq!(alice["superuser"], json!(false));
    assert_eq!(alice["enabled"], json!(true));
    assert_eq!(alice["lang"], json!("en"));
    assert_eq!(alice["require_password_change"], json!(false));
    assert!(alice["password_expires"].is_null());
    let admin_row = rows.iter().find(|r| r["username"] == "admin").unwrap();
    assert_eq!(admin_row["superuser"], json!(true));
    assert!(
        admin_row["last_login"].is_string(),
        "admin just signed in: {admin_row}"
    );
    assert_no_secrets(&app, &list.json.to_string()).await;

    // One user's page neither.
    let one = app
        .api("GET", &user_path(w.bob.user_id), Some(&admin), None)
        .await;
    let data = one.assert_ok();
    for field in ROW_FIELDS {
        assert!(
            data.get(field).is_some(),
            "GET /users/{{id}} lacks {field}: {data}"
        );
    }
    assert_no_secrets(&app, &one.json.to_string()).await;
}

// ---------------------------------------------------------------- GET /users/{id}

#[tokio::test]
async fn anyone_reads_themselves_by_id_and_by_me() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let bob = app.token("bob", STRONG).await;
    let by_id = app
        .api("GET", &user_path(w.bob.user_id), Some(&bob), None)
        .await;
    assert_eq!(by_id.assert_ok()["username"], "bob");
    let me = app.api("GET", "/api/v2/users/@me", Some(&bob), None).await;
    assert_eq!(me.assert_ok()["username"], "bob");
    assert_eq!(me.json["data"]["user_id"], by_id.json["data"]["user_id"]);
}

#[tokio::test]
async fn superuser_and_managing_holder_read_a_user_and_others_are_denied() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let admin = app.token("admin", STRONG).await;
    let mgr = app.token("mgr", STRONG).await;
    let bob = app.token("bob", STRONG).await;
    let alice = app.token("alice", STRONG).await;

    for id in [w.mgr.user_id, w.alice.user_id, w.bob.user_id] {
        app.api("GET", &user_path(id), Some(&admin), None)
            .await
            .assert_ok();
    }
    let managed = app
        .api("GET", &user_path(w.alice.user_id), Some(&mgr), None)
        .await;
    assert_eq!(managed.assert_ok()["username"], "alice");

    // The holder may not read users they do not manage, nor a superuser.
    app.api("GET", &user_path(w.bob.user_id), Some(&mgr), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    app.api("GET", &user_path(w.admin.user_id), Some(&mgr), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    // Plain users read nobody else, not even their own manager.
    app.api("GET", &user_path(w.alice.user_id), Some(&bob), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    app.api("GET", &user_path(w.mgr.user_id), Some(&alice), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
}

#[tokio::test]
async fn unknown_or_non_numeric_user_id_is_not_found() {
    let app = spawn_app().await;
    app.user("admin", STRONG, true).await;
    let admin = app.token("admin", STRONG).await;
    app.api("GET", "/api/v2/users/99999", Some(&admin), None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "USER_NOT_FOUND");
    for id in ["abc", "me", "1x", "-"] {
        let answer = app
            .api("GET", &format!("/api/v2/users/{id}"), Some(&admin), None)
            .await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{id}: {}",
            answer.json
        );
        assert_eq!(answer.json["status"], "error");
    }
}

// ---------------------------------------------------------------- POST /users

#[tokio::test]
async fn superuser_creates_a_user_who_can_sign_in() {
    let app = spawn_app().await;
    app.user("admin", STRONG, true).await;
    let admin = app.token("admin", STRONG).await;
    let created = app
        .api(
            "POST",
            "/api/v2/users",
            Some(&admin),
            Some(json!({"username": "carol", "password": STRONG_2, "email": "carol@example.com", "lang": "de"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let id = created.assert_ok()["user_id"]
        .as_str()
        .expect("user_id is a string");
    let id: i32 = id.parse().expect("a numeric id");
    assert!(
        created.json["data"].get("password").is_none(),
        "a chosen password is not echoed"
    );

    let shown = app.api("GET", &user_path(id), Some(&admin), None).await;
    let row = shown.assert_ok();
    assert_eq!(row["username"], "carol");
    assert_eq!(row["email"], "carol@example.com");
    assert_eq!(row["lang"], "de");
    assert_eq!(row["require_password_change"], false);
    assert!(
        row["manager"].is_null(),
        "a superuser's creation has no manager unless named"
    );

    let login = app
        .api(
            "POST",
            "/api/v2/auth/login",
            None,
            Some(json!({"username": "carol", "password": STRONG_2})),
        )
        .await;
    assert_eq!(login.assert_ok()["user_id"], json!(id.to_string()));
    assert_eq!(login.json["data"]["require_password_change"], false);
}

#[tokio::test]
async fn onboarding_flags_make_the_new_user_change_password_at_first_login() {
    let app = spawn_app().await;
    app.user("admin", STRONG, true).await;
    let admin = app.token("admin", STRONG).await;
    let created = app
        .api(
            "POST",
            "/api/v2/users",
            Some(&admin),
            Some(json!({"username": "carol", "password": STRONG_2, "require_password_change": true, "expires_hours": 48})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let id = created.json["data"]["user_id"]
        .as_str()
        .unwrap()
        .to_string();

    let login = app
        .api(
            "POST",
            "/api/v2/auth/login",
            None,
            Some(json!({"username": "carol", "password": STRONG_2})),
        )
        .await;
    let data = login.assert_ok();
    assert_eq!(data["require_password_change"], true);
    assert_eq!(data["page"], "/panel/change_password");

    let row = app
        .api("GET", &format!("/api/v2/users/{id}"), Some(&admin), None)
        .await;
    let row = row.assert_ok();
    assert_eq!(row["require_password_change"], true);
    assert!(
        row["password_expires"].is_string(),
        "an expiry was asked for: {row}"
    );
}

#[tokio::test]
async fn create_without_password_answers_a_generated_one_that_signs_in() {
    let app = spawn_app().await;
    app.user("admin", STRONG, true).await;
    let admin = app.token("admin", STRONG).await;
    let created = app
        .api(
            "POST",
            "/api/v2/users",
            Some(&admin),
            Some(json!({"username": "carol"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let password = created.assert_ok()["password"]
        .as_str()
        .expect("a generated password")
        .to_string();
    assert_eq!(password.chars().count(), 16);
    app.token("carol", &password).await;
}

#[tokio::test]
async fn user_config_holder_creates_within_quota_and_becomes_the_manager() {
    let app = spawn_app().await;
    let admin = app.user("admin", STRONG, true).await;
    let holder = app.user_with("holder", STRONG, false, None, Some(1)).await;
    let token = app.token("holder", STRONG).await;

    // The body names another manager; the creator becomes the manager anyway.
    let created = app
        .api(
            "POST",
            "/api/v2/users",
            Some(&token),
            Some(json!({"username": "carol", "password": STRONG_2, "manager": admin.user_id})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let id: i32 = created.json["data"]["user_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let row = app.api("GET", &user_path(id), Some(&token), None).await;
    assert_eq!(row.assert_ok()["manager"], json!(holder.user_id));
    assert_eq!(app.find("carol").await.manager, Some(holder.user_id));

    // The quota of 1 is used up.
    let before = user_count(&app).await;
    app.api(
        "POST",
        "/api/v2/users",
        Some(&token),
        Some(json!({"username": "dave", "password": STRONG_2})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    assert_eq!(user_count(&app).await, before);
    assert!(
        users::find_by_username(&app.db, "dave")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn only_superusers_create_superusers_or_grant_permissions() {
    let app = spawn_app().await;
    world(&app).await;
    let mgr = app.token("mgr", STRONG).await;
    let bob = app.token("bob", STRONG).await;
    let before = user_count(&app).await;
    let refused = [
        (
            &mgr,
            json!({"username": "carol", "password": STRONG_2, "superuser": true}),
        ),
        (
            &mgr,
            json!({"username": "carol", "password": STRONG_2,
                   "permissions": [{"name": "USER_CONFIG", "quantity": -1, "enabled": true}]}),
        ),
        (&bob, json!({"username": "carol", "password": STRONG_2})),
        (
            &bob,
            json!({"username": "carol", "password": STRONG_2, "superuser": true}),
        ),
    ];
    for (token, body) in refused {
        app.api("POST", "/api/v2/users", Some(token), Some(body.clone()))
            .await
            .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    }
    assert_eq!(user_count(&app).await, before);
    assert!(
        users::find_by_username(&app.db, "carol")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn duplicate_username_in_any_case_is_user_exists() {
    let app = spawn_app().await;
    world(&app).await;
    let admin = app.token("admin", STRONG).await;
    let before = user_count(&app).await;
    for name in ["bob", "BOB", "Bob", " bob "] {
        app.api(
            "POST",
            "/api/v2/users",
            Some(&admin),
            Some(json!({"username": name, "password": STRONG_2})),
        )
        .await
        .assert_error(StatusCode::BAD_REQUEST, "USER_EXISTS");
    }
    assert_eq!(user_count(&app).await, before);
    // bob's password is untouched.
    app.token("bob", STRONG).await;
}

#[tokio::test]
async fn invalid_username_is_a_schema_error() {
    let app = spawn_app().await;
    app.user("admin", STRONG, true).await;
    let admin = app.token("admin", STRONG).await;
    let before = user_count(&app).await;
    let too_long = "a".repeat(21);
    for name in [
        "ab",
        "",
        "has space",
        "dash-ed",
        "émile",
        "bob@example",
        too_long.as_str(),
    ] {
        let answer = app
            .api(
                "POST",
                "/api/v2/users",
                Some(&admin),
                Some(json!({"username": name, "password": STRONG_2})),
            )
            .await;
        answer.assert_error(StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
        assert!(
            answer.json["error_data"]
                .as_str()
                .unwrap()
                .contains("username"),
            "{name:?}: {}",
            answer.json
        );
    }
    assert_eq!(user_count(&app).await, before);
}

#[tokio::test]
async fn weak_or_common_password_is_refused_by_the_policy() {
    let app = spawn_app().await;
    app.user("admin", STRONG, true).await;
    let admin = app.token("admin", STRONG).await;
    let before = user_count(&app).await;
    for (name, password) in [
        ("carol", "password123"),
        ("carol", "PASSWORD123"),
        ("carol", "aaaaaaaaaaaa"),
        ("caroline_x", "caroline_x"),
    ] {
        app.api(
            "POST",
            "/api/v2/users",
            Some(&admin),
            Some(json!({"username": name, "password": password})),
        )
        .await
        .assert_error(StatusCode::BAD_REQUEST, "PASSWORD_POLICY");
    }
    assert_eq!(user_count(&app).await, before);
}

#[tokio::test]
async fn unknown_create_field_is_a_schema_error_naming_the_field() {
    let app = spawn_app().await;
    app.user("admin", STRONG, true).await;
    let admin = app.token("admin", STRONG).await;
    let before = user_count(&app).await;
    let answer = app
        .api(
            "POST",
            "/api/v2/users",
            Some(&admin),
            Some(json!({"username": "carol", "password": STRONG_2, "favourite_colour": "red"})),
        )
        .await;
    answer.assert_error(StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
    assert!(
        answer.json["error_data"]
            .as_str()
            .unwrap()
            .contains("favourite_colour"),
        "{}",
        answer.json
    );
    assert_eq!(user_count(&app).await, before);
}

// ---------------------------------------------------------------- PATCH /users/{id}

#[tokio::test]
async fn user_changes_own_email_and_language() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let bob = app.token("bob", STRONG).await;
    let patched = app
        .api(
            "PATCH",
            "/api/v2/users/@me",
            Some(&bob),
            Some(json!({"email": "bob@example.com", "lang": "de"})),
        )
        .await;
    let data = patched.assert_ok();
    assert_eq!(data["email"], "bob@example.com");
    assert_eq!(data["lang"], "de");
    assert!(
        data.get("token").is_none(),
        "no password change, no new token: {data}"
    );
    // By id works the same, and the old token still works (no credential changed).
    app.api(
        "PATCH",
        &user_path(w.bob.user_id),
        Some(&bob),
        Some(json!({"email": "b@example.org"})),
    )
    .await
    .assert_ok();
    let me = app.api("GET", "/api/v2/users/@me", Some(&bob), None).await;
    assert_eq!(me.assert_ok()["email"], "b@example.org");
    assert_eq!(me.json["data"]["lang"], "de");
}

#[tokio::test]
async fn own_password_change_needs_the_current_password_and_returns_a_fresh_token() {
    let app = spawn_app().await;
    app.user("bob", STRONG, false).await;
    let old = app.token("bob", STRONG).await;

    app.api(
        "PATCH",
        "/api/v2/users/@me",
        Some(&old),
        Some(json!({"password": STRONG_2})),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "INCORRECT_CURRENT_PASSWORD");
    app.api(
        "PATCH",
        "/api/v2/users/@me",
        Some(&old),
        Some(json!({"password": STRONG_2, "current_password": STRONG_3})),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "INCORRECT_CURRENT_PASSWORD");
    // Refusals changed nothing: the old token and password still work.
    app.api("GET", "/api/v2/users/@me", Some(&old), None)
        .await
        .assert_ok();
    app.token("bob", STRONG).await;

    let changed = app
        .api(
            "PATCH",
            "/api/v2/users/@me",
            Some(&old),
            Some(json!({"password": STRONG_2, "current_password": STRONG})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.json);
    let fresh = changed.assert_ok()["token"]
        .as_str()
        .expect("a fresh token")
        .to_string();
    assert_ne!(fresh, old);

    app.api("GET", "/api/v2/users/@me", Some(&old), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    let me = app
        .api("GET", "/api/v2/users/@me", Some(&fresh), None)
        .await;
    assert_eq!(me.assert_ok()["username"], "bob");
    app.api(
        "POST",
        "/api/v2/auth/login",
        None,
        Some(json!({"username": "bob", "password": STRONG})),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_CREDENTIALS");
    app.token("bob", STRONG_2).await;
}

#[tokio::test]
async fn nobody_disables_themselves() {
    let app = spawn_app().await;
    let w = world(&app).await;
    app.user("root2", STRONG, true).await;
    for (name, user) in [("bob", &w.bob), ("mgr", &w.mgr), ("admin", &w.admin)] {
        let token = app.token(name, STRONG).await;
        app.api(
            "PATCH",
            "/api/v2/users/@me",
            Some(&token),
            Some(json!({"enabled": false})),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
        app.api(
            "PATCH",
            &user_path(user.user_id),
            Some(&token),
            Some(json!({"enabled": false})),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
        assert!(app.find(name).await.enabled, "{name} is still enabled");
        app.api("GET", "/api/v2/users/@me", Some(&token), None)
            .await
            .assert_ok();
    }
}

#[tokio::test]
async fn non_superuser_cannot_promote_themselves_or_grant_themselves_permissions() {
    let app = spawn_app().await;
    world(&app).await;
    for name in ["bob", "mgr"] {
        let token = app.token(name, STRONG).await;
        let before = app
            .api("GET", "/api/v2/users/@me", Some(&token), None)
            .await
            .json["data"]
            .clone();
        app.api(
            "PATCH",
            "/api/v2/users/@me",
            Some(&token),
            Some(json!({"superuser": true})),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
        app.api(
            "PATCH",
            "/api/v2/users/@me",
            Some(&token),
            Some(
                json!({"permissions": [{"name": "USER_CONFIG", "quantity": -1, "enabled": true}]}),
            ),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
        // Mixed with an allowed field, the whole request is refused.
        app.api(
            "PATCH",
            "/api/v2/users/@me",
            Some(&token),
            Some(json!({"email": "x@example.com", "superuser": true})),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
        let after = app
            .api("GET", "/api/v2/users/@me", Some(&token), None)
            .await
            .json["data"]
            .clone();
        assert_eq!(after, before, "{name} unchanged");
        assert!(!app.find(name).await.superuser);
    }
    // bob still holds no permission, mgr still exactly their own.
    let admin = app.token("admin", STRONG).await;
    let bob = app.find("bob").await;
    let row = app
        .api("GET", &user_path(bob.user_id), Some(&admin), None)
        .await;
    assert_eq!(row.assert_ok()["permissions"], json!([]));
}

/// The last enabled superuser can neither demote nor disable themselves. Through the API
/// the only caller able to target the last enabled superuser is that superuser (a second
/// enabled superuser would not make it the last), so this is the path tested, with a login
/// token and with a full-access key; disabling the other superuser first is allowed.
#[tokio::test]
async fn last_enabled_superuser_cannot_be_demoted_or_disabled() {
    let app = spawn_app().await;
    let admin = app.user("admin", STRONG, true).await;
    let root2 = app.user("root2", STRONG, true).await;
    let token = app.token("admin", STRONG).await;

    // With two enabled superusers, one may disable the other.
    let disabled = app
        .api(
            "PATCH",
            &user_path(root2.user_id),
            Some(&token),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(disabled.assert_ok()["enabled"], false);

    let key = app.api_key(&admin, &[], true).await;
    for credential in [&token, &key] {
        for body in [json!({"superuser": false}), json!({"enabled": false})] {
            for path in ["/api/v2/users/@me".to_string(), user_path(admin.user_id)] {
                app.api("PATCH", &path, Some(credential), Some(body.clone()))
                    .await
                    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
            }
        }
    }
    let now = app.find("admin").await;
    assert!(now.superuser && now.enabled, "nothing changed");
    app.api("GET", "/api/v2/users", Some(&token), None)
        .await
        .assert_ok();
}

#[tokio::test]
async fn superuser_setting_a_password_clears_the_temp_flags_and_ends_the_users_tokens() {
    let app = spawn_app().await;
    let w = world(&app).await;
    app.reset(
        "bob",
        STRONG_2,
        ResetOptions {
            expires_hours: 24,
            ..Default::default()
        },
    )
    .await;
    let flagged = app.find("bob").await;
    assert!(flagged.require_password_change && flagged.password_expires.is_some());
    let bob = app.token("bob", STRONG_2).await;

    let admin = app.token("admin", STRONG).await;
    let patched = app
        .api(
            "PATCH",
            &user_path(w.bob.user_id),
            Some(&admin),
            Some(json!({"password": STRONG_3})),
        )
        .await;
    let data = patched.assert_ok();
    assert_eq!(data["require_password_change"], false);
    assert!(data["password_expires"].is_null());
    assert!(
        data.get("token").is_none(),
        "only one's own change answers a token: {data}"
    );

    let now = app.find("bob").await;
    assert!(!now.require_password_change);
    assert!(now.password_expires.is_none());
    app.api("POST", "/api/v2/auth/invalidate_tokens", Some(&bob), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    let login = app
        .api(
            "POST",
            "/api/v2/auth/login",
            None,
            Some(json!({"username": "bob", "password": STRONG_3})),
        )
        .await;
    assert_eq!(login.assert_ok()["require_password_change"], false);
    // The admin's own token is unaffected.
    app.api("GET", "/api/v2/users/@me", Some(&admin), None)
        .await
        .assert_ok();
}

#[tokio::test]
async fn manager_edits_managed_users_but_not_superusers_or_strangers() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let boss = app
        .user_with("boss", STRONG, true, Some(w.mgr.user_id), None)
        .await;
    let mgr = app.token("mgr", STRONG).await;

    let patched = app
        .api(
            "PATCH",
            &user_path(w.alice.user_id),
            Some(&mgr),
            Some(json!({"email": "alice@example.com"})),
        )
        .await;
    assert_eq!(patched.assert_ok()["email"], "alice@example.com");
    assert_eq!(
        app.find("alice").await.email.as_deref(),
        Some("alice@example.com")
    );

    for target in [&boss, &w.bob, &w.admin] {
        app.api(
            "PATCH",
            &user_path(target.user_id),
            Some(&mgr),
            Some(json!({"email": "x@example.com"})),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
        assert_eq!(
            app.find(&target.username).await.email,
            None,
            "{} unchanged",
            target.username
        );
    }
    // Nor may the manager make a managed user a superuser or grant them permissions.
    app.api(
        "PATCH",
        &user_path(w.alice.user_id),
        Some(&mgr),
        Some(json!({"superuser": true})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    app.api(
        "PATCH",
        &user_path(w.alice.user_id),
        Some(&mgr),
        Some(json!({"permissions": [{"name": "USER_CONFIG", "quantity": -1, "enabled": true}]})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    assert!(!app.find("alice").await.superuser);
}

#[tokio::test]
async fn disabling_a_user_ends_their_token_and_their_login_is_account_disabled() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let bob = app.token("bob", STRONG).await;
    let admin = app.token("admin", STRONG).await;
    let patched = app
        .api(
            "PATCH",
            &user_path(w.bob.user_id),
            Some(&admin),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(patched.assert_ok()["enabled"], false);
    app.api("GET", "/api/v2/users/@me", Some(&bob), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    app.api(
        "POST",
        "/api/v2/auth/login",
        None,
        Some(json!({"username": "bob", "password": STRONG})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCOUNT_DISABLED");
    // A manager may disable a managed user too.
    let alice = app.token("alice", STRONG).await;
    let mgr = app.token("mgr", STRONG).await;
    app.api(
        "PATCH",
        &user_path(w.alice.user_id),
        Some(&mgr),
        Some(json!({"enabled": false})),
    )
    .await
    .assert_ok();
    app.api("GET", "/api/v2/users/@me", Some(&alice), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
}

#[tokio::test]
async fn superuser_grants_permissions_in_crafty_shape() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let admin = app.token("admin", STRONG).await;
    let grant = json!([{"name": "USER_CONFIG", "quantity": -1, "enabled": true}]);
    app.api(
        "PATCH",
        &user_path(w.bob.user_id),
        Some(&admin),
        Some(json!({"permissions": grant})),
    )
    .await
    .assert_ok();
    let row = app
        .api("GET", &user_path(w.bob.user_id), Some(&admin), None)
        .await;
    assert_eq!(row.assert_ok()["permissions"], grant);
    // bob now holds USER_CONFIG: he may create a user, who is then his.
    let bob = app.token("bob", STRONG).await;
    let created = app
        .api(
            "POST",
            "/api/v2/users",
            Some(&bob),
            Some(json!({"username": "dave", "password": STRONG_2})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    assert_eq!(app.find("dave").await.manager, Some(w.bob.user_id));
    // An empty list takes the permission away again.
    app.api(
        "PATCH",
        &user_path(w.bob.user_id),
        Some(&admin),
        Some(json!({"permissions": []})),
    )
    .await
    .assert_ok();
    let row = app
        .api("GET", &user_path(w.bob.user_id), Some(&admin), None)
        .await;
    assert_eq!(row.assert_ok()["permissions"], json!([]));
}

// ---------------------------------------------------------------- DELETE /users/{id}

#[tokio::test]
async fn nobody_deletes_themselves() {
    let app = spawn_app().await;
    let w = world(&app).await;
    app.user("root2", STRONG, true).await;
    let before = user_count(&app).await;
    for (name, user) in [("bob", &w.bob), ("mgr", &w.mgr), ("admin", &w.admin)] {
        let token = app.token(name, STRONG).await;
        for path in ["/api/v2/users/@me".to_string(), user_path(user.user_id)] {
            app.api("DELETE", &path, Some(&token), None)
                .await
                .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
        }
    }
    assert_eq!(user_count(&app).await, before);
}

#[tokio::test]
async fn superuser_deletes_a_user_whose_token_then_fails() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let bob = app.token("bob", STRONG).await;
    let admin = app.token("admin", STRONG).await;
    let before = user_count(&app).await;
    app.api("DELETE", &user_path(w.bob.user_id), Some(&admin), None)
        .await
        .assert_ok();
    assert_eq!(user_count(&app).await, before - 1);
    app.api("GET", &user_path(w.bob.user_id), Some(&admin), None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "USER_NOT_FOUND");
    app.api("GET", "/api/v2/users/@me", Some(&bob), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    // Deleting again: not found.
    app.api("DELETE", &user_path(w.bob.user_id), Some(&admin), None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "USER_NOT_FOUND");
}

#[tokio::test]
async fn manager_deletes_managed_users_only() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let mgr = app.token("mgr", STRONG).await;
    let bob = app.token("bob", STRONG).await;
    app.api("DELETE", &user_path(w.bob.user_id), Some(&mgr), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    app.api("DELETE", &user_path(w.admin.user_id), Some(&mgr), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    // A plain user deletes nobody.
    app.api("DELETE", &user_path(w.alice.user_id), Some(&bob), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    assert!(
        users::find_by_username(&app.db, "alice")
            .await
            .unwrap()
            .is_some()
    );

    app.api("DELETE", &user_path(w.alice.user_id), Some(&mgr), None)
        .await
        .assert_ok();
    assert!(
        users::find_by_username(&app.db, "alice")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        users::find_by_username(&app.db, "bob")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        users::find_by_username(&app.db, "admin")
            .await
            .unwrap()
            .is_some()
    );
}

/// "Never the last enabled superuser": superuser A may delete superuser B while both are
/// enabled, and may delete a disabled superuser while A is the only enabled one; A itself,
/// then the last enabled superuser, cannot be deleted (the only caller able to target it is
/// A, by login token or full-access key).
#[tokio::test]
async fn the_last_enabled_superuser_cannot_be_deleted() {
    let app = spawn_app().await;
    let a = app.user("admin", STRONG, true).await;
    let b = app.user("root2", STRONG, true).await;
    let c = app.user("root3", STRONG, true).await;
    let token = app.token("admin", STRONG).await;

    app.api("DELETE", &user_path(b.user_id), Some(&token), None)
        .await
        .assert_ok();
    app.api(
        "PATCH",
        &user_path(c.user_id),
        Some(&token),
        Some(json!({"enabled": false})),
    )
    .await
    .assert_ok();
    // A disabled superuser is not "the last enabled" one.
    app.api("DELETE", &user_path(c.user_id), Some(&token), None)
        .await
        .assert_ok();

    let key = app.api_key(&a, &[], true).await;
    for credential in [&token, &key] {
        app.api("DELETE", &user_path(a.user_id), Some(credential), None)
            .await
            .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    }
    let still = app.find("admin").await;
    assert!(still.superuser && still.enabled);
    assert_eq!(user_count(&app).await, 1);
}

#[tokio::test]
async fn deleting_a_manager_leaves_their_users_unmanaged() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let admin = app.token("admin", STRONG).await;
    app.api("DELETE", &user_path(w.mgr.user_id), Some(&admin), None)
        .await
        .assert_ok();
    let row = app
        .api("GET", &user_path(w.alice.user_id), Some(&admin), None)
        .await;
    assert!(row.assert_ok()["manager"].is_null(), "{}", row.json);
    app.token("alice", STRONG).await;
}

// ---------------------------------------------------------------- API keys

#[tokio::test]
async fn own_key_is_shown_once_listed_without_its_secret_and_authenticates() {
    let app = spawn_app().await;
    app.user("bob", STRONG, false).await;
    let bob = app.token("bob", STRONG).await;
    let created = app
        .api(
            "POST",
            "/api/v2/users/@me/key",
            Some(&bob),
            Some(json!({"name": "ci"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let data = created.assert_ok();
    let key_id = data["key_id"]
        .as_str()
        .expect("key_id is a string")
        .to_string();
    let token = data["token"].as_str().expect("token").to_string();
    assert!(token.starts_with("pgk_"), "{token}");

    let listed = app
        .api("GET", "/api/v2/users/@me/key", Some(&bob), None)
        .await;
    let keys = listed.assert_ok().as_array().expect("a list").clone();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["key_id"], json!(key_id));
    assert_eq!(keys[0]["name"], "ci");
    assert_eq!(keys[0]["full_access"], false);
    assert_eq!(keys[0]["permissions"], json!([]));
    let text = listed.json.to_string();
    // pgk_<id>_<secret>; the secret itself may contain '_'.
    let secret = token.splitn(3, '_').nth(2).unwrap();
    let stored = api_keys::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(
        !text.contains(secret),
        "the secret is shown only once: {text}"
    );
    assert!(
        !text.contains(&stored[0].token_hash),
        "the hash never shows: {text}"
    );
    assert!(
        keys[0].get("token").is_none() && keys[0].get("token_hash").is_none(),
        "{text}"
    );
    assert!(
        !stored[0].token_hash.contains(secret),
        "stored only as a hash"
    );

    let me = app
        .api("GET", "/api/v2/users/@me", Some(&token), None)
        .await;
    assert_eq!(me.assert_ok()["username"], "bob");
}

#[tokio::test]
async fn deleting_a_key_ends_it() {
    let app = spawn_app().await;
    app.user("bob", STRONG, false).await;
    let bob = app.token("bob", STRONG).await;
    let created = app
        .api(
            "POST",
            "/api/v2/users/@me/key",
            Some(&bob),
            Some(json!({"name": "ci"})),
        )
        .await;
    let key_id = created.json["data"]["key_id"].as_str().unwrap().to_string();
    let token = created.json["data"]["token"].as_str().unwrap().to_string();
    app.api("GET", "/api/v2/users/@me", Some(&token), None)
        .await
        .assert_ok();

    let deleted = app
        .api(
            "DELETE",
            &format!("/api/v2/users/@me/key/{key_id}"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.json);
    app.api("GET", "/api/v2/users/@me", Some(&token), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    let listed = app
        .api("GET", "/api/v2/users/@me/key", Some(&bob), None)
        .await;
    assert_eq!(listed.assert_ok(), &json!([]));
    app.api(
        "DELETE",
        &format!("/api/v2/users/@me/key/{key_id}"),
        Some(&bob),
        None,
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "NOT_FOUND");
}

#[tokio::test]
async fn another_users_key_id_through_ones_own_path_is_not_found() {
    let app = spawn_app().await;
    world(&app).await;
    let alice = app.token("alice", STRONG).await;
    let bob = app.token("bob", STRONG).await;
    let created = app
        .api(
            "POST",
            "/api/v2/users/@me/key",
            Some(&alice),
            Some(json!({"name": "hers"})),
        )
        .await;
    let key_id = created.json["data"]["key_id"].as_str().unwrap().to_string();
    let token = created.json["data"]["token"].as_str().unwrap().to_string();

    app.api(
        "DELETE",
        &format!("/api/v2/users/@me/key/{key_id}"),
        Some(&bob),
        None,
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "NOT_FOUND");
    let me = app
        .api("GET", "/api/v2/users/@me", Some(&token), None)
        .await;
    assert_eq!(
        me.assert_ok()["username"],
        "alice",
        "alice's key still works"
    );
}

#[tokio::test]
async fn plain_user_cannot_manage_another_users_keys_but_a_superuser_can() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let alice_key = app.api_key(&w.alice, &[], false).await;
    let bob = app.token("bob", STRONG).await;
    let mgr = app.token("mgr", STRONG).await;
    let keys_of_alice = format!("/api/v2/users/{}/key", w.alice.user_id);
    let alice_key_id: i32 = alice_key.split('_').nth(1).unwrap().parse().unwrap();

    for token in [&bob, &mgr] {
        app.api("GET", &keys_of_alice, Some(token), None)
            .await
            .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
        app.api(
            "POST",
            &keys_of_alice,
            Some(token),
            Some(json!({"name": "mine now"})),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
        app.api(
            "DELETE",
            &format!("{keys_of_alice}/{alice_key_id}"),
            Some(token),
            None,
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    }
    assert_eq!(
        api_keys::Entity::find().all(&app.db).await.unwrap().len(),
        1
    );
    app.api("GET", "/api/v2/users/@me", Some(&alice_key), None)
        .await
        .assert_ok();

    let admin = app.token("admin", STRONG).await;
    let listed = app.api("GET", &keys_of_alice, Some(&admin), None).await;
    assert_eq!(listed.assert_ok().as_array().unwrap().len(), 1);
    let created = app
        .api(
            "POST",
            &keys_of_alice,
            Some(&admin),
            Some(json!({"name": "for alice"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let token = created.json["data"]["token"].as_str().unwrap().to_string();
    let me = app
        .api("GET", "/api/v2/users/@me", Some(&token), None)
        .await;
    assert_eq!(me.assert_ok()["username"], "alice", "the key is alice's");
    app.api(
        "DELETE",
        &format!("{keys_of_alice}/{alice_key_id}"),
        Some(&admin),
        None,
    )
    .await
    .assert_ok();
    app.api("GET", "/api/v2/users/@me", Some(&alice_key), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
}

#[tokio::test]
async fn superuser_key_without_full_access_acts_as_a_plain_user() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let key = app.api_key(&w.admin, &[], false).await;

    let list = app.api("GET", "/api/v2/users", Some(&key), None).await;
    assert_eq!(usernames(list.assert_ok()), names(&["admin"]));
    app.api("GET", &user_path(w.bob.user_id), Some(&key), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    app.api(
        "POST",
        &format!("/api/v2/users/{}/reset-password", w.bob.user_id),
        Some(&key),
        Some(json!({})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    app.api(
        "PATCH",
        &user_path(w.bob.user_id),
        Some(&key),
        Some(json!({"enabled": false})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    app.api("DELETE", &user_path(w.bob.user_id), Some(&key), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    let before = user_count(&app).await;
    app.api(
        "POST",
        "/api/v2/users",
        Some(&key),
        Some(json!({"username": "carol", "password": STRONG_2})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    assert_eq!(user_count(&app).await, before);
    app.token("bob", STRONG).await;

    // The same owner's full-access key does act as superuser.
    let full = app.api_key(&w.admin, &[], true).await;
    let list = app.api("GET", "/api/v2/users", Some(&full), None).await;
    assert_eq!(list.assert_ok().as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn a_key_cannot_mint_a_key_with_more_than_it_has() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let admin_key = app.api_key(&w.admin, &[], false).await;
    let mgr_key = app.api_key(&w.mgr, &[], false).await;
    let before = api_keys::Entity::find().all(&app.db).await.unwrap().len();
    let user_config = json!([{"name": "USER_CONFIG", "quantity": -1, "enabled": true}]);

    let refused = [
        (&admin_key, json!({"name": "more", "full_access": true})),
        (
            &admin_key,
            json!({"name": "more", "permissions": user_config}),
        ),
        (&mgr_key, json!({"name": "more", "full_access": true})),
        (
            &mgr_key,
            json!({"name": "more", "permissions": user_config}),
        ),
    ];
    for (key, body) in refused {
        app.api(
            "POST",
            "/api/v2/users/@me/key",
            Some(key),
            Some(body.clone()),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    }
    // Nor can a user give a key a permission they do not hold.
    let bob = app.token("bob", STRONG).await;
    app.api(
        "POST",
        "/api/v2/users/@me/key",
        Some(&bob),
        Some(json!({"name": "more", "permissions": user_config})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    assert_eq!(
        api_keys::Entity::find().all(&app.db).await.unwrap().len(),
        before
    );

    // A narrow key mints none at all (SPEC §3a); a full_access key mints within its owner.
    let scoped = app.api_key(&w.mgr, &["USER_CONFIG"], false).await;
    app.api(
        "POST",
        "/api/v2/users/@me/key",
        Some(&scoped),
        Some(json!({"name": "same", "permissions": user_config})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    let full = app.api_key(&w.mgr, &[], true).await;
    let minted = app
        .api(
            "POST",
            "/api/v2/users/@me/key",
            Some(&full),
            Some(json!({"name": "same", "permissions": user_config})),
        )
        .await;
    assert_eq!(minted.status, StatusCode::CREATED, "{}", minted.json);
    let mgr = app.token("mgr", STRONG).await;
    let listed = app
        .api("GET", "/api/v2/users/@me/key", Some(&mgr), None)
        .await;
    let same = listed
        .assert_ok()
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "same")
        .expect("the minted key is listed")
        .clone();
    assert_eq!(same["permissions"], user_config);
    assert_eq!(same["full_access"], false);
}

// ---------------------------------------------------------------- audit

#[tokio::test]
async fn user_and_key_changes_are_audited_with_actor_target_and_ip_and_no_secret() {
    let app = spawn_app().await;
    let admin_user = app.user("admin", STRONG, true).await;
    let admin = app.token("admin", STRONG).await;

    let created = app
        .api(
            "POST",
            "/api/v2/users",
            Some(&admin),
            Some(json!({"username": "carol"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let generated = created.json["data"]["password"]
        .as_str()
        .unwrap()
        .to_string();
    let carol_id: i32 = created.json["data"]["user_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    app.api(
        "PATCH",
        &user_path(carol_id),
        Some(&admin),
        Some(json!({"password": STRONG_2, "email": "carol@example.com"})),
    )
    .await
    .assert_ok();
    let key = app
        .api(
            "POST",
            &format!("/api/v2/users/{carol_id}/key"),
            Some(&admin),
            Some(json!({"name": "ci"})),
        )
        .await;
    assert_eq!(key.status, StatusCode::CREATED, "{}", key.json);
    let key_id = key.json["data"]["key_id"].as_str().unwrap().to_string();
    let key_token = key.json["data"]["token"].as_str().unwrap().to_string();
    app.api(
        "DELETE",
        &format!("/api/v2/users/{carol_id}/key/{key_id}"),
        Some(&admin),
        None,
    )
    .await
    .assert_ok();
    app.api("DELETE", &user_path(carol_id), Some(&admin), None)
        .await
        .assert_ok();

    let entries = audit_log::Entity::find().all(&app.db).await.unwrap();
    for action in [
        "user_created",
        "user_updated",
        "api_key_created",
        "api_key_deleted",
        "user_deleted",
    ] {
        let entry = entries
            .iter()
            .find(|e| e.action == action && e.target_id == Some(carol_id))
            .unwrap_or_else(|| panic!("no {action} entry for carol: {entries:#?}"));
        assert_eq!(entry.actor_id, Some(admin_user.user_id), "{entry:?}");
        assert_eq!(entry.actor_name.as_deref(), Some("admin"), "{entry:?}");
        assert_eq!(entry.target_name.as_deref(), Some("carol"), "{entry:?}");
        assert_eq!(entry.source_ip, "127.0.0.1", "{entry:?}");
    }
    let key_secret = key_token.splitn(3, '_').nth(2).unwrap();
    for entry in &entries {
        let all = format!("{entry:?}");
        for secret in [
            STRONG,
            STRONG_2,
            generated.as_str(),
            key_token.as_str(),
            key_secret,
            admin.as_str(),
        ] {
            assert!(
                !all.contains(secret),
                "an audit entry holds a secret: {entry:?}"
            );
        }
        assert!(!all.contains("$argon2"), "{entry:?}");
    }
}

// ---------------------------------------------------------------- concurrent requests

/// The quota caps how many users a holder may create, also when their requests arrive
/// together (a provisioning script running in parallel).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quota_holds_against_concurrent_creates() {
    let app = spawn_app().await;
    let holder = app.user_with("holder", STRONG, false, None, Some(1)).await;
    let token = app.token("holder", STRONG).await;
    let create = |name: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            app.api(
                "POST",
                "/api/v2/users",
                Some(&token),
                Some(json!({"username": name, "password": STRONG_2})),
            )
            .await
            .status
        }
    };
    let (a, b, c, d) = tokio::join!(
        create("carol"),
        create("dave"),
        create("erin"),
        create("frank")
    );
    let created = [a, b, c, d]
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let managed = users::count_managed(&app.db, holder.user_id).await.unwrap();
    assert!(
        created <= 1 && managed <= 1,
        "quota 1, yet {created} creates succeeded and {managed} users are managed ({a} {b} {c} {d})"
    );
}

/// Two superusers, the only two, each acting on the other at the same moment.
async fn superusers_act_on_each_other(method: &str, body: Option<Value>) -> Option<String> {
    for round in 0..5 {
        let app = spawn_app().await;
        let a = app.user("admin", STRONG, true).await;
        let b = app.user("root2", STRONG, true).await;
        let a_token = app.token("admin", STRONG).await;
        let b_token = app.token("root2", STRONG).await;
        let (path_a, path_b) = (user_path(a.user_id), user_path(b.user_id));
        let (x, y) = tokio::join!(
            app.api(method, &path_b, Some(&a_token), body.clone()),
            app.api(method, &path_a, Some(&b_token), body.clone()),
        );
        let left = passgate::accounts::users::enabled_superusers(&app.db)
            .await
            .unwrap();
        if left == 0 {
            return Some(format!(
                "round {round}: both {method}s answered {} and {}; no enabled superuser is left",
                x.status, y.status
            ));
        }
    }
    None
}

/// Two superusers deleting each other at the same moment must not leave the panel without
/// an enabled superuser ("never the last enabled superuser").
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_superusers_deleting_each_other_leave_one() {
    if let Some(failure) = superusers_act_on_each_other("DELETE", None).await {
        panic!("{failure}");
    }
}

/// The same for disabling each other.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_superusers_disabling_each_other_leave_one() {
    if let Some(failure) =
        superusers_act_on_each_other("PATCH", Some(json!({"enabled": false}))).await
    {
        panic!("{failure}");
    }
}

#[tokio::test]
async fn renaming_to_an_existing_username_in_any_case_is_user_exists() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let admin = app.token("admin", STRONG).await;
    for name in ["alice", "ALICE", "Alice"] {
        app.api(
            "PATCH",
            &user_path(w.bob.user_id),
            Some(&admin),
            Some(json!({"username": name})),
        )
        .await
        .assert_error(StatusCode::BAD_REQUEST, "USER_EXISTS");
    }
    assert_eq!(app.find("bob").await.user_id, w.bob.user_id);
    let renamed = app
        .api(
            "PATCH",
            &user_path(w.bob.user_id),
            Some(&admin),
            Some(json!({"username": "Robert"})),
        )
        .await;
    assert_eq!(renamed.assert_ok()["username"], "robert");
    app.token("robert", STRONG).await;
}
