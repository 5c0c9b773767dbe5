//! Reset links (SPEC §10) from both sides: the administrator who makes one, the user who uses
//! it, and whoever tries a link that should not work.

use axum::http::StatusCode;
use passgate::entities::{api_keys, audit_log, reset_links};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use crate::helpers::*;

const PUBLIC: &str = "https://passgate.example.org";

async fn app_with_public_url() -> TestApp {
    spawn_app_with(|raw| raw.public_url = Some(format!("{PUBLIC}/"))).await
}

/// Makes a link for `username` as `token`'s holder; returns the path `/reset/…`.
async fn make_link(app: &TestApp, token: &str, user_id: i32, body: serde_json::Value) -> String {
    let response = app
        .api(
            "POST",
            &format!("/api/v2/users/{user_id}/reset-link"),
            Some(token),
            Some(body),
        )
        .await;
    let data = response.assert_ok();
    let url = data["url"].as_str().expect("url").to_string();
    assert!(data["expires"].is_string());
    url.strip_prefix(PUBLIC)
        .unwrap_or_else(|| panic!("the link starts with the public URL: {url}"))
        .to_string()
}

async fn link_rows(app: &TestApp) -> Vec<reset_links::Model> {
    reset_links::Entity::find().all(&app.db).await.unwrap()
}

#[tokio::test]
async fn a_link_lets_the_user_choose_a_password_the_admin_never_sees() {
    let app = app_with_public_url().await;
    app.user("root", STRONG, true).await;
    let bob = app.user("bob", STRONG, false).await;
    let root = app.token("root", STRONG).await;
    let bobs_token = app.token("bob", STRONG).await;
    let mut bobs_browser = app.client_from("10.20.0.1:1");
    bobs_browser.login("bob", STRONG).await;

    let path = make_link(&app, &root, bob.user_id, json!({})).await;
    let token = path.strip_prefix("/reset/").expect("/reset/ path");
    assert_eq!(token.len(), 43, "32 random bytes, base64url");
    // Making the link changes nothing else: bob still signs in, his sessions stand.
    let after_make = app.find("bob").await;
    assert_eq!(after_make.password, bob.password);
    assert_eq!(after_make.security_stamp, bob.security_stamp);
    assert_eq!(
        bobs_browser.get("/panel/dashboard").await.status,
        StatusCode::OK
    );
    // Only the hash is stored.
    let rows = link_rows(&app).await;
    assert_eq!(rows.len(), 1);
    assert!(!rows[0].token_hash.contains(token));

    // Opening it (as a link previewer would, twice) consumes nothing.
    let mut user = app.client_from("10.20.0.2:1");
    for _ in 0..2 {
        let page = user.get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("bob"), "names the account");
        assert!(page.body.contains("Set your password") && !page.body.contains("Welcome"));
        assert!(page.body.contains("name=\"new_password\""));
    }
    assert_eq!(link_rows(&app).await[0].state, "live");

    // Setting the password signs the user in and ends everything else.
    user.post(
        &path,
        &[("new_password", STRONG_3), ("confirm_password", STRONG_3)],
    )
    .await
    .assert_redirect("/panel/dashboard");
    assert_eq!(user.get("/panel/dashboard").await.status, StatusCode::OK);
    // (The sign-in page says the password was changed elsewhere.)
    bobs_browser
        .get("/panel/dashboard")
        .await
        .assert_redirect("/login?ended=signed_out");
    app.api("GET", "/api/v2/users/@me", Some(&bobs_token), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    app.api_login("bob", STRONG)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_CREDENTIALS");
    let data = app.api_login("bob", STRONG_3).await;
    assert_eq!(data.assert_ok()["require_password_change"], false);

    // Once only.
    let again = app.client_from("10.20.0.3:1").get(&path).await;
    assert_eq!(again.status, StatusCode::GONE);
    assert!(again.body.contains("already been used"));
    let mut replay = app.client_from("10.20.0.4:1");
    replay.get("/login").await;
    let replayed = replay
        .post(
            &path,
            &[("new_password", STRONG_2), ("confirm_password", STRONG_2)],
        )
        .await;
    assert_eq!(replayed.status, StatusCode::GONE);
    app.api_login("bob", STRONG_3).await.assert_ok();

    // Audited, never with the token.
    let entries = audit_log::Entity::find().all(&app.db).await.unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"reset_link_created"));
    assert!(actions.contains(&"reset_link_used"));
    assert!(entries.iter().all(|e| !e.detail.contains(token)));
}

#[tokio::test]
async fn a_host_header_cannot_move_the_link_elsewhere() {
    let app = app_with_public_url().await;
    app.user("root", STRONG, true).await;
    let bob = app.user("bob", STRONG, false).await;
    let root = app.token("root", STRONG).await;
    let response = app
        .api_raw(
            "POST",
            &format!("/api/v2/users/{}/reset-link", bob.user_id),
            &[
                ("authorization", &format!("Bearer {root}")),
                ("content-type", "application/json"),
                ("host", "evil.example.com"),
                ("x-forwarded-host", "evil.example.com"),
            ],
            b"{}".to_vec(),
        )
        .await;
    let url = response.assert_ok()["url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&format!("{PUBLIC}/reset/")), "{url}");
    // Without PASSGATE_PUBLIC_URL, on the loopback bind, the base is http://localhost:PORT
    // (where passkeys work too), still not the Host.
    let plain = spawn_app().await;
    plain.user("root", STRONG, true).await;
    let bob = plain.user("bob", STRONG, false).await;
    let root = plain.token("root", STRONG).await;
    let response = plain
        .api_raw(
            "POST",
            &format!("/api/v2/users/{}/reset-link", bob.user_id),
            &[
                ("authorization", &format!("Bearer {root}")),
                ("content-type", "application/json"),
                ("host", "evil.example.com"),
            ],
            b"{}".to_vec(),
        )
        .await;
    let url = response.assert_ok()["url"].as_str().unwrap().to_string();
    assert!(url.starts_with("http://localhost:8000/reset/"), "{url}");
}

#[tokio::test]
async fn guessed_truncated_and_dead_links_say_why_and_change_nothing() {
    let app = app_with_public_url().await;
    app.user("root", STRONG, true).await;
    let bob = app.user("bob", STRONG, false).await;
    let root = app.token("root", STRONG).await;
    let mut visitor = app.client_from("10.21.0.1:1");
    let says = |page: &TestResponse, text: &str| {
        assert_eq!(page.status, StatusCode::GONE, "{}", page.body);
        assert!(
            page.body.contains(text),
            "expected '{text}' in {}",
            page.body
        );
        assert!(page.body.contains("Ask an administrator for a new link"));
    };

    // Guessed or cut short.
    let live = make_link(&app, &root, bob.user_id, json!({})).await;
    says(
        &visitor
            .get("/reset/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
            .await,
        "not valid",
    );
    says(&visitor.get(&live[..live.len() - 1]).await, "not valid");
    says(&visitor.get(&format!("{live}x")).await, "not valid");
    says(&visitor.get("/reset/%00%27%22").await, "not valid");

    // Superseded by a newer link; the newer one works.
    let newer = make_link(&app, &root, bob.user_id, json!({})).await;
    says(&visitor.get(&live).await, "newer link");
    assert_eq!(visitor.get(&newer).await.status, StatusCode::OK);

    // Revoked.
    app.api(
        "DELETE",
        &format!("/api/v2/users/{}/reset-link", bob.user_id),
        Some(&root),
        None,
    )
    .await
    .assert_ok();
    says(&visitor.get(&newer).await, "revoked");

    // Expired.
    let expiring = make_link(&app, &root, bob.user_id, json!({"expires_hours": 1})).await;
    let row = reset_links::Entity::find()
        .filter(reset_links::Column::State.eq("live"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut past: reset_links::ActiveModel = row.into();
    past.expires = Set(passgate::accounts::clock::now() - time::Duration::seconds(1));
    past.update(&app.db).await.unwrap();
    says(&visitor.get(&expiring).await, "expired");
    visitor.get("/login").await;
    let late = visitor
        .post(
            &expiring,
            &[("new_password", STRONG_3), ("confirm_password", STRONG_3)],
        )
        .await;
    says(&late, "expired");

    // Voided by a password change made another way.
    let voided = make_link(&app, &root, bob.user_id, json!({})).await;
    app.reset(
        "bob",
        STRONG_2,
        passgate::accounts::credentials::ResetOptions::default(),
    )
    .await;
    says(&visitor.get(&voided).await, "changed since");

    // The account was disabled since.
    let disabled = make_link(&app, &root, bob.user_id, json!({})).await;
    app.api(
        "PATCH",
        &format!("/api/v2/users/{}", bob.user_id),
        Some(&root),
        Some(json!({"enabled": false})),
    )
    .await
    .assert_ok();
    says(&visitor.get(&disabled).await, "disabled");
    let refused = visitor
        .post(
            &disabled,
            &[("new_password", STRONG_3), ("confirm_password", STRONG_3)],
        )
        .await;
    says(&refused, "disabled");

    // The account was deleted since.
    let carol = app.user("carol", STRONG, false).await;
    let gone = make_link(&app, &root, carol.user_id, json!({})).await;
    app.api(
        "DELETE",
        &format!("/api/v2/users/{}", carol.user_id),
        Some(&root),
        None,
    )
    .await
    .assert_ok();
    says(&visitor.get(&gone).await, "not valid");

    // None of it changed bob's password (still the reset one).
    assert!(app.find("bob").await.require_password_change);
}

#[tokio::test]
async fn two_browsers_submitting_one_link_at_once_one_wins() {
    let app = app_with_public_url().await;
    app.user("root", STRONG, true).await;
    let bob = app.user("bob", STRONG, false).await;
    let root = app.token("root", STRONG).await;
    let path = make_link(&app, &root, bob.user_id, json!({})).await;
    let mut first = app.client_from("10.22.0.1:1");
    let mut second = app.client_from("10.22.0.2:1");
    first.get(&path).await;
    second.get(&path).await;
    let (a, b) = tokio::join!(
        first.post(
            &path,
            &[("new_password", STRONG_2), ("confirm_password", STRONG_2)]
        ),
        second.post(
            &path,
            &[("new_password", STRONG_3), ("confirm_password", STRONG_3)]
        ),
    );
    let winners = [&a, &b]
        .iter()
        .filter(|r| r.status == StatusCode::SEE_OTHER)
        .count();
    assert_eq!(winners, 1, "{} / {}", a.status, b.status);
    let losers: Vec<_> = [&a, &b]
        .into_iter()
        .filter(|r| r.status != StatusCode::SEE_OTHER)
        .collect();
    assert_eq!(losers[0].status, StatusCode::GONE);
    let winning = if a.status == StatusCode::SEE_OTHER {
        STRONG_2
    } else {
        STRONG_3
    };
    let losing = if winning == STRONG_2 {
        STRONG_3
    } else {
        STRONG_2
    };
    app.api_login("bob", winning).await.assert_ok();
    app.api_login("bob", losing)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_CREDENTIALS");
}

#[tokio::test]
async fn only_who_may_reset_makes_or_revokes_a_link() {
    let app = app_with_public_url().await;
    let root = app.user("root", STRONG, true).await;
    let mgr = app.user_with("mgr", STRONG, false, None, Some(-1)).await;
    let managed = app
        .user_with("managed", STRONG, false, Some(mgr.user_id), None)
        .await;
    let other = app.user("other", STRONG, false).await;
    app.user("plain", STRONG, false).await;
    let mgr_token = app.token("mgr", STRONG).await;
    let plain_token = app.token("plain", STRONG).await;
    let root_token = app.token("root", STRONG).await;
    let bare_key = app.api_key(&root, &[], false).await;
    let post = |token: String, id: i32| {
        let app = &app;
        async move {
            app.api(
                "POST",
                &format!("/api/v2/users/{id}/reset-link"),
                Some(&token),
                Some(json!({})),
            )
            .await
        }
    };
    post(mgr_token.clone(), managed.user_id).await.assert_ok();
    post(mgr_token.clone(), other.user_id)
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    post(mgr_token.clone(), root.user_id)
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    post(plain_token.clone(), other.user_id)
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    post(bare_key.clone(), other.user_id)
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    post(root_token.clone(), root.user_id)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "SELF_RESET_NOT_ALLOWED");
    post(root_token.clone(), 9999)
        .await
        .assert_error(StatusCode::NOT_FOUND, "USER_NOT_FOUND");
    // The mgr's link stands until someone allowed revokes it.
    app.api(
        "DELETE",
        &format!("/api/v2/users/{}/reset-link", managed.user_id),
        Some(&plain_token),
        None,
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    assert_eq!(link_rows(&app).await[0].state, "live");
    app.api(
        "DELETE",
        &format!("/api/v2/users/{}/reset-link", managed.user_id),
        Some(&mgr_token),
        None,
    )
    .await
    .assert_ok();
    assert_eq!(link_rows(&app).await[0].state, "revoked");
    // Bad bodies change nothing.
    for body in [
        json!({"expires_hours": 0}),
        json!({"expires_hours": 73}),
        json!({"expires_hours": "24"}),
        json!({"url": "https://evil.example.com"}),
    ] {
        app.api(
            "POST",
            &format!("/api/v2/users/{}/reset-link", other.user_id),
            Some(&root_token),
            Some(body),
        )
        .await
        .assert_error(StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
    }
    assert_eq!(link_rows(&app).await.len(), 1);
}

#[tokio::test]
async fn the_links_options_take_effect_when_it_is_used() {
    let app = app_with_public_url().await;
    app.user("root", STRONG, true).await;
    let bob = app.user("bob", STRONG, false).await;
    let key = app.api_key(&bob, &[], false).await;
    let root = app.token("root", STRONG).await;
    let path = make_link(
        &app,
        &root,
        bob.user_id,
        json!({"revoke_api_keys": true, "expires_hours": 72}),
    )
    .await;
    // Not yet: the key still works.
    app.api("GET", "/api/v2/users/@me", Some(&key), None)
        .await
        .assert_ok();
    let mut user = app.client_from("10.23.0.1:1");
    user.get(&path).await;
    user.post(
        &path,
        &[("new_password", STRONG_3), ("confirm_password", STRONG_3)],
    )
    .await
    .assert_redirect("/panel/dashboard");
    app.api("GET", "/api/v2/users/@me", Some(&key), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    assert!(
        api_keys::Entity::find()
            .filter(api_keys::Column::UserId.eq(bob.user_id))
            .all(&app.db)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn refusals_on_the_link_page_are_beside_the_field_and_keep_the_link() {
    let app = app_with_public_url().await;
    app.user("root", STRONG, true).await;
    let bob = app.user("bob", STRONG, false).await;
    let root = app.token("root", STRONG).await;
    let path = make_link(&app, &root, bob.user_id, json!({})).await;
    let mut user = app.client_from("10.24.0.1:1");
    user.get(&path).await;
    let weak = user
        .post(
            &path,
            &[
                ("new_password", "password"),
                ("confirm_password", "password"),
            ],
        )
        .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    assert!(weak.body.contains("new_password-error"), "{}", weak.body);
    let mismatch = user
        .post(
            &path,
            &[("new_password", STRONG_2), ("confirm_password", STRONG_3)],
        )
        .await;
    assert_eq!(mismatch.status, StatusCode::BAD_REQUEST);
    assert!(mismatch.body.contains("confirm_password-error"));
    // Without the CSRF token: refused before anything is looked at.
    let forged = app
        .client_from("10.24.0.2:1")
        .post_without_csrf(
            &path,
            &[("new_password", STRONG_2), ("confirm_password", STRONG_2)],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(link_rows(&app).await[0].state, "live");
    user.post(
        &path,
        &[("new_password", STRONG_2), ("confirm_password", STRONG_2)],
    )
    .await
    .assert_redirect("/panel/dashboard");
}

#[tokio::test]
async fn the_cli_prints_a_working_link() {
    use passgate::cli::{Command, UserCommand, run_admin};
    let app = app_with_public_url().await;
    app.user("bob", STRONG, false).await;
    let mut config = passgate::config::Config::for_database(&app.database_url);
    config.public_url = Some(PUBLIC.into());
    let output = run_admin(
        &config,
        Command::User(UserCommand::ResetLink {
            username: "bob".into(),
            expires_hours: 2,
        }),
    )
    .await
    .expect("reset-link");
    let url = output.lines().last().unwrap();
    let path = url.strip_prefix(PUBLIC).expect("the public base");
    let mut user = app.client_from("10.25.0.1:1");
    assert_eq!(user.get(path).await.status, StatusCode::OK);
    user.post(
        path,
        &[("new_password", STRONG_3), ("confirm_password", STRONG_3)],
    )
    .await
    .assert_redirect("/panel/dashboard");
    let bad = run_admin(
        &config,
        Command::User(UserCommand::ResetLink {
            username: "bob".into(),
            expires_hours: 73,
        }),
    )
    .await;
    assert!(bad.is_err());
}

/// `reset_link_expires` of a user as `GET /users/{id}` and `GET /users` show it (the same).
async fn link_expires_of(app: &TestApp, token: &str, user_id: i32) -> serde_json::Value {
    let one = app
        .api(
            "GET",
            &format!("/api/v2/users/{user_id}"),
            Some(token),
            None,
        )
        .await
        .assert_ok()
        .clone();
    let list = app
        .api("GET", "/api/v2/users", Some(token), None)
        .await
        .assert_ok()
        .clone();
    let in_list = list
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["user_id"] == user_id)
        .expect("listed")["reset_link_expires"]
        .clone();
    assert_eq!(
        one["reset_link_expires"], in_list,
        "one shape in both answers"
    );
    in_list
}

#[tokio::test]
async fn a_users_row_says_when_their_link_expires_until_it_is_revoked() {
    let app = app_with_public_url().await;
    app.user("root", STRONG, true).await;
    let bob = app.user("bob", STRONG, false).await;
    let root = app.token("root", STRONG).await;
    assert!(link_expires_of(&app, &root, bob.user_id).await.is_null());
    let made = app
        .api(
            "POST",
            &format!("/api/v2/users/{}/reset-link", bob.user_id),
            Some(&root),
            Some(json!({"expires_hours": 2})),
        )
        .await
        .assert_ok()
        .clone();
    assert_eq!(
        link_expires_of(&app, &root, bob.user_id).await,
        made["expires"]
    );
    // Bob sees it on his own row too (read with his sign-in: a token, and a session).
    let bobs_token = app.token("bob", STRONG).await;
    let own = app
        .api("GET", "/api/v2/users/@me", Some(&bobs_token), None)
        .await
        .assert_ok()
        .clone();
    assert_eq!(own["reset_link_expires"], made["expires"]);
    let mut bobs = signed_in_browser(&app, "bob", STRONG, "10.21.0.1:1").await;
    let own: serde_json::Value =
        serde_json::from_str(&bobs.get("/api/v2/users/@me").await.body).expect("json");
    assert_eq!(own["data"]["reset_link_expires"], made["expires"], "{own}");
    // The web table shows the badge too.
    let mut admin = app.client();
    admin.login("root", STRONG).await;
    let table = admin.get("/panel/panel_config").await;
    assert!(
        table.body.contains("Reset link pending, expires in "),
        "{}",
        table.body
    );
    app.api(
        "DELETE",
        &format!("/api/v2/users/{}/reset-link", bob.user_id),
        Some(&root),
        None,
    )
    .await
    .assert_ok();
    assert!(link_expires_of(&app, &root, bob.user_id).await.is_null());
    assert!(
        !admin
            .get("/panel/panel_config")
            .await
            .body
            .contains("Reset link pending")
    );
}

#[tokio::test]
async fn a_set_up_link_gives_a_new_account_its_first_password() {
    let app = app_with_public_url().await;
    app.user("root", STRONG, true).await;
    let root = app.token("root", STRONG).await;
    let answer = app
        .api(
            "POST",
            "/api/v2/users",
            Some(&root),
            Some(json!({"username": "carol", "setup_link": true})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let data = answer.json["data"].clone();
    assert!(
        data.get("password").is_none(),
        "no password to pass on: {data}"
    );
    let url = data["url"].as_str().expect("url");
    let path = url.strip_prefix(PUBLIC).expect("under the public URL");
    let user_id: i32 = data["user_id"].as_str().expect("id").parse().unwrap();
    let carol = app.find("carol").await;
    assert_eq!(carol.user_id, user_id);
    // No password works before the link is used: not the empty one, not the marker.
    for guess in ["", "!set-up link pending", STRONG] {
        let tried = app
            .api(
                "POST",
                "/api/v2/auth/login",
                None,
                Some(json!({"username": "carol", "password": guess})),
            )
            .await;
        assert_ne!(tried.status, StatusCode::OK, "{guess:?} must not sign in");
    }
    let shown = app
        .api(
            "GET",
            &format!("/api/v2/users/{user_id}"),
            Some(&root),
            None,
        )
        .await
        .assert_ok()
        .clone();
    assert_eq!(shown["reset_link_expires"], data["expires"]);

    let mut browser = app.client_from("10.20.9.1:1");
    let page = browser.get(path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("carol"));
    assert!(
        page.body.contains("Welcome! Choose your password"),
        "a set-up link greets a new account"
    );
    browser
        .post(
            path,
            &[("new_password", STRONG_2), ("confirm_password", STRONG_2)],
        )
        .await
        .assert_redirect("/panel/dashboard");
    app.api_login("carol", STRONG_2).await.assert_ok();
    let actions: Vec<String> = audit_log::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.target_name.as_deref() == Some("carol"))
        .map(|e| e.action)
        .collect();
    assert!(actions.contains(&"user_created".to_string()));
    assert!(actions.contains(&"reset_link_created".to_string()));
    assert!(actions.contains(&"reset_link_used".to_string()));
}

#[tokio::test]
async fn a_set_up_link_refuses_a_password_beside_it_and_bad_hours() {
    let app = app_with_public_url().await;
    app.user("root", STRONG, true).await;
    let root = app.token("root", STRONG).await;
    for body in [
        json!({"username": "dave", "setup_link": true, "password": STRONG}),
        json!({"username": "dave", "setup_link": true, "setup_link_expires_hours": 0}),
        json!({"username": "dave", "setup_link": true, "setup_link_expires_hours": 73}),
        json!({"username": "dave", "setup_link_expires_hours": 5}),
        json!({"username": "dave", "setup_link": "yes"}),
    ] {
        app.api("POST", "/api/v2/users", Some(&root), Some(body.clone()))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
    }
    assert!(
        passgate::entities::users::Entity::find()
            .filter(passgate::entities::users::Column::Username.eq("dave"))
            .one(&app.db)
            .await
            .unwrap()
            .is_none(),
        "nothing was created"
    );
    assert!(link_rows(&app).await.is_empty());
}
