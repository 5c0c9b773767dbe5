//! CSRF, security headers and cookie attributes.

use axum::http::StatusCode;
use passgate::accounts::credentials::ResetOptions;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn change_password_without_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    app.user("bob", STRONG, false).await;
    app.reset("bob", STRONG_2, ResetOptions::default()).await;
    let before = app.find("bob").await;
    let mut browser = app.client();
    browser.login("bob", STRONG_2).await;
    let page = browser
        .post_without_csrf(
            "/panel/change_password",
            &[("new_password", STRONG_3), ("confirm_password", STRONG_3)],
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let wrong = browser
        .post_without_csrf(
            "/panel/change_password",
            &[
                ("new_password", STRONG_3),
                ("confirm_password", STRONG_3),
                ("csrf_token", "forged"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let after = app.find("bob").await;
    assert_eq!(before.password, after.password);
    assert!(after.require_password_change);
}

#[tokio::test]
async fn login_and_logout_need_the_csrf_token() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let mut browser = app.client();
    browser.get("/login").await;
    let page = browser
        .post_without_csrf("/login", &[("username", "alice"), ("password", STRONG)])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(app.find("alice").await.last_login.is_none());
    browser
        .login("alice", STRONG)
        .await
        .assert_redirect("/panel/dashboard");
    assert_eq!(
        browser.post_without_csrf("/logout", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(browser.get("/panel/dashboard").await.status, StatusCode::OK);
}

#[tokio::test]
async fn csrf_token_in_the_htmx_header_is_accepted() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let mut browser = app.client();
    browser.get("/login").await;
    let token = browser.csrf.clone().unwrap();
    browser.extra_headers.push(("x-csrf-token".into(), token));
    let page = browser
        .post_without_csrf("/login", &[("username", "alice"), ("password", STRONG)])
        .await;
    page.assert_redirect("/panel/dashboard");
}

#[tokio::test]
async fn pages_carry_strict_security_headers() {
    let app = spawn_app().await;
    let mut browser = app.client();
    let page = browser.get("/login").await;
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'"));
    assert!(csp.contains("style-src 'self'"));
    assert!(csp.contains("frame-ancestors 'none'"));
    // Without single sign-on, forms go nowhere but passgate itself.
    assert!(csp.contains("form-action 'self';"), "{csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert!(page.header("referrer-policy").is_some());
    assert!(page.header("x-request-id").is_some());
    assert!(!page.body.contains("<script>"), "no inline script");
    assert!(!page.body.contains("style="), "no inline style");
}

#[tokio::test]
async fn session_cookie_is_httponly_lax_and_cycled_at_login() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let mut browser = app.client();
    let page = browser.get("/login").await;
    // Before sign-in there is no session, only the sign-in form's CSRF cookie.
    let cookies: Vec<&str> = page
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    assert!(cookies[0].starts_with("passgate_csrf="));
    assert!(cookies[0].contains("HttpOnly"));
    assert!(cookies[0].contains("SameSite=Strict"));
    assert!(!cookies[0].contains("Secure"));
    assert!(browser.session_cookie().is_none());
    // A session id planted before sign-in (fixation) is not adopted.
    let planted = tower_sessions::session::Id::default().to_string();
    browser
        .cookies
        .insert("passgate_session".into(), planted.clone());
    let response = browser
        .post("/login", &[("username", "alice"), ("password", STRONG)])
        .await;
    response.assert_redirect("/panel/dashboard");
    let cookie = response
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("passgate_session="))
        .expect("a session cookie at sign-in")
        .to_string();
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
    assert!(!cookie.contains("Secure"));
    let signed_in = browser.session_cookie().cloned().unwrap();
    assert_ne!(planted, signed_in, "the session id is the server's own");
    let mut attacker = app.client_from("10.6.6.6:1");
    attacker.cookies.insert("passgate_session".into(), planted);
    attacker
        .get("/panel/dashboard")
        .await
        .assert_redirect("/login");
}

#[tokio::test]
async fn secure_cookie_when_configured() {
    let app = spawn_app_with(|raw| raw.cookie_secure = Some("true".into())).await;
    app.user("alice", STRONG, false).await;
    let mut browser = app.client();
    let page = browser.get("/login").await;
    assert!(page.header("set-cookie").unwrap().contains("Secure"));
    let response = browser
        .post("/login", &[("username", "alice"), ("password", STRONG)])
        .await;
    let session = response
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("passgate_session="))
        .expect("a session cookie")
        .to_string();
    assert!(session.contains("Secure"));
}

#[tokio::test]
async fn health_answers_when_the_database_does() {
    let app = spawn_app().await;
    let mut browser = app.client();
    let page = browser.get("/healthz").await;
    assert_eq!(page.status, StatusCode::OK);
}

#[tokio::test]
async fn oversized_form_is_refused() {
    let app = spawn_app().await;
    let mut browser = app.client();
    browser.get("/login").await;
    let big = "x".repeat(70 * 1024);
    let page = browser
        .post("/login", &[("username", &big), ("password", "y")])
        .await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_session_saved_after_a_reset_is_not_written_back() {
    use passgate::auth::session_store::DbSessionStore;
    use tower_sessions::session::{Id, Record};
    use tower_sessions::session_store::SessionStore;
    let app = spawn_app().await;
    let user = app.user("alice", STRONG, false).await;
    let store = DbSessionStore::new(app.db.clone());
    let record_for = |stamp: &str| Record {
        id: Id::default(),
        data: [
            ("user_id".to_string(), serde_json::json!(user.user_id)),
            ("stamp".to_string(), serde_json::json!(stamp)),
        ]
        .into_iter()
        .collect(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
    };
    // A sign-in that checked the password before a reset committed saves its session after.
    let mut late = record_for(&user.security_stamp);
    app.reset("alice", STRONG_2, ResetOptions::default()).await;
    store.create(&mut late).await.unwrap();
    assert!(
        store.load(&late.id).await.unwrap().is_none(),
        "created with a stale stamp"
    );
    store.save(&late).await.unwrap();
    assert!(
        store.load(&late.id).await.unwrap().is_none(),
        "saved with a stale stamp"
    );
    // With the current stamp the session is stored as usual.
    let current = app.find("alice").await.security_stamp;
    let mut fresh = record_for(&current);
    store.create(&mut fresh).await.unwrap();
    assert!(store.load(&fresh.id).await.unwrap().is_some());
}

#[tokio::test]
async fn a_session_stands_for_its_user_only_while_the_stamp_holds_with_or_without_the_join() {
    use passgate::auth::session::current_user;
    use passgate::auth::session_store::{DbSessionStore, SIGNED_IN_KEY};
    use sea_orm::EntityTrait;
    use std::sync::Arc;
    use tower_sessions::Session;
    use tower_sessions::session::{Id, Record};
    use tower_sessions::session_store::SessionStore;
    let app = spawn_app().await;
    let lifetime = app.state.config.session_max_lifetime;
    let alice = app.user("alice", STRONG, false).await;
    let store = Arc::new(DbSessionStore::new(app.db.clone()));
    let mut record = Record {
        id: Id::default(),
        data: [
            ("user_id".to_string(), json!(alice.user_id)),
            ("stamp".to_string(), json!(alice.security_stamp)),
            (
                "signed_in_at".to_string(),
                json!(time::OffsetDateTime::now_utc().unix_timestamp()),
            ),
        ]
        .into_iter()
        .collect(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
    };
    store.create(&mut record).await.unwrap();
    let open = || Session::new(Some(record.id), store.clone(), None);
    // Loaded with its user in one statement.
    let session = open();
    let signed_in = current_user(&session, &app.db, lifetime)
        .await
        .unwrap()
        .expect("alice");
    assert_eq!(signed_in.user.user_id, alice.user_id);
    // Without the user beside the data (as right after a sign-in in the same request), the
    // user is read on its own, with the same checks.
    let session = open();
    session.remove_value(SIGNED_IN_KEY).await.unwrap();
    let signed_in = current_user(&session, &app.db, lifetime)
        .await
        .unwrap()
        .expect("alice");
    assert_eq!(signed_in.user.username, "alice");
    // After a reset the row is gone; one put back as it was (old stamp) passes neither way.
    let row = passgate::entities::sessions::Entity::find_by_id(
        passgate::accounts::sessions::stored_id(&record.id.to_string()),
    )
    .one(&app.db)
    .await
    .unwrap()
    .expect("stored");
    app.reset("alice", STRONG_2, ResetOptions::default()).await;
    assert!(store.load(&record.id).await.unwrap().is_none());
    let put_back = || async {
        let active: passgate::entities::sessions::ActiveModel = row.clone().into();
        passgate::entities::sessions::Entity::insert(active)
            .exec_without_returning(&app.db)
            .await
            .unwrap();
    };
    put_back().await;
    assert!(
        current_user(&open(), &app.db, lifetime)
            .await
            .unwrap()
            .is_none()
    );
    put_back().await;
    let session = open();
    session.remove_value(SIGNED_IN_KEY).await.unwrap();
    assert!(
        current_user(&session, &app.db, lifetime)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn an_active_session_keeps_moving_its_inactivity_expiry() {
    use passgate::entities::sessions;
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let mut browser = app.client();
    browser.login("alice", STRONG).await;
    let stored = sessions::Entity::find().all(&app.db).await.unwrap();
    let row = stored
        .into_iter()
        .find(|r| r.user_id.is_some())
        .expect("a signed-in session");
    // As if the last save was long ago and the session is about to run out.
    let mut data: serde_json::Value = serde_json::from_str(&row.data).unwrap();
    data["touched"] = serde_json::json!(0);
    let soon = passgate::accounts::clock::now() + time::Duration::minutes(1);
    let mut active: sessions::ActiveModel = row.clone().into();
    active.data = Set(data.to_string());
    active.expiry_date = Set(soon);
    active.update(&app.db).await.unwrap();

    assert_eq!(browser.get("/panel/dashboard").await.status, StatusCode::OK);
    let after = sessions::Entity::find_by_id(row.id.clone())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        after.expiry_date > passgate::accounts::clock::now() + time::Duration::hours(7),
        "using the session moved its expiry: {}",
        after.expiry_date
    );
}

#[tokio::test]
async fn the_stored_session_holds_neither_the_user_row_nor_the_password_hash() {
    use passgate::entities::sessions;
    use sea_orm::EntityTrait;
    let app = spawn_app().await;
    let alice = app.user("alice", STRONG, false).await;
    let mut browser = app.client();
    browser.login("alice", STRONG).await;
    // Requests that load the session with its user, and one that saves it again (the first
    // use after sign-in moves the expiry).
    assert_eq!(browser.get("/panel/dashboard").await.status, StatusCode::OK);
    assert_eq!(browser.get("/panel/dashboard").await.status, StatusCode::OK);
    let stored = sessions::Entity::find().all(&app.db).await.unwrap();
    let row = stored
        .iter()
        .find(|r| r.user_id == Some(alice.user_id))
        .expect("alice's session");
    let data: serde_json::Value = serde_json::from_str(&row.data).unwrap();
    let keys: Vec<&String> = data.as_object().unwrap().keys().collect();
    assert!(
        !row.data.contains(&alice.password) && !row.data.contains("__signed_in"),
        "stored session data: {keys:?}"
    );
    assert_eq!(data["user_id"], serde_json::json!(alice.user_id));
}

#[tokio::test]
async fn a_cookie_request_sees_grants_changed_a_moment_ago() {
    let app = spawn_app().await;
    app.user("admin", STRONG, true).await;
    let bob = app.user("bob", STRONG_2, false).await;
    let mut browser = app.client();
    browser.login("bob", STRONG_2).await;
    let cookie = format!("passgate_session={}", browser.session_cookie().unwrap());
    let cookie = [("cookie", cookie.as_str())];
    let me = || app.api_raw("GET", "/api/v2/users/@me", &cookie, Vec::new());
    assert_eq!(me().await.assert_ok()["permissions"], json!([]));
    let admin = app.token("admin", STRONG).await;
    let bob_path = format!("/api/v2/users/{}", bob.user_id);
    let change_bob = |body| app.api("PATCH", &bob_path, Some(&admin), Some(body));
    let grant = json!([{"name": "USER_CONFIG", "quantity": -1, "enabled": true}]);
    change_bob(json!({"permissions": grant})).await.assert_ok();
    // The same session, on its next request: the grant is there (read with the session).
    assert_eq!(me().await.assert_ok()["permissions"], grant);
    // Disabling bob ends the session at once.
    change_bob(json!({"enabled": false})).await.assert_ok();
    me().await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
}
