//! Login throttling: by username and by client address, persisted, not fooled by headers.

use axum::http::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn repeated_failures_lock_the_username_even_for_the_right_password() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    for i in 0..5 {
        let mut browser = app.client_from(&format!("10.3.0.{i}:1"));
        let page = browser.login("alice", "Wrong-Guess-Number-1").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let mut browser = app.client_from("10.3.1.1:1");
    let page = browser.login("alice", STRONG).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = page.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 15 * 60);
    assert!(page.body.contains("Too many sign-in attempts"));
    // The throttled attempt authenticated nobody and recorded no sign-in.
    assert_eq!(
        browser.get("/panel/dashboard").await.location(),
        Some("/login")
    );
    assert!(app.find("alice").await.last_login.is_none());
    // Another user is not affected.
    app.user("bob_b", STRONG_2, false).await;
    app.client_from("10.3.2.1:1")
        .login("bob_b", STRONG_2)
        .await
        .assert_redirect("/panel/dashboard");
}

#[tokio::test]
async fn the_throttle_is_in_the_database_and_survives_a_restart() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    for _ in 0..5 {
        app.client().login("alice", "Wrong-Guess-Number-1").await;
    }
    // A second app (as after a restart, or another instance) on the same database.
    let other = app.second_instance().await;
    let page = other.client().login("alice", STRONG).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = spawn_app().await;
    // Twenty failures from one address, each claiming to be someone else.
    for i in 0..20 {
        let mut browser = app.client_from("192.0.2.10:4000");
        browser
            .extra_headers
            .push(("x-forwarded-for".into(), format!("198.51.100.{i}")));
        let page = browser
            .login(&format!("ghost_{i}"), "Wrong-Guess-Number-1")
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let mut browser = app.client_from("192.0.2.10:4000");
    browser
        .extra_headers
        .push(("x-forwarded-for".into(), "198.51.100.99".into()));
    let page = browser.login("ghost_new", "Wrong-Guess-Number-1").await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_trusted_proxy_is_believed() {
    let app = spawn_app_with(|raw| raw.trusted_proxies = Some("10.0.0.1".into())).await;
    for i in 0..20 {
        let mut browser = app.client_from("10.0.0.1:4000");
        browser
            .extra_headers
            .push(("x-forwarded-for".into(), "198.51.100.7".into()));
        browser
            .login(&format!("ghost_{i}"), "Wrong-Guess-Number-1")
            .await;
    }
    let mut blocked = app.client_from("10.0.0.1:4000");
    blocked
        .extra_headers
        .push(("x-forwarded-for".into(), "198.51.100.7".into()));
    assert_eq!(
        blocked.login("ghost_x", "Wrong-Guess-1").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client behind the same proxy is a different address.
    app.user("alice", STRONG, false).await;
    let mut other = app.client_from("10.0.0.1:4000");
    other
        .extra_headers
        .push(("x-forwarded-for".into(), "198.51.100.8".into()));
    other
        .login("alice", STRONG)
        .await
        .assert_redirect("/panel/dashboard");
    let login = passgate::entities::audit_log::Entity::find()
        .filter(passgate::entities::audit_log::Column::Action.eq("login"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(login.source_ip, "198.51.100.8");
}

#[tokio::test]
async fn an_attempt_refused_by_a_lock_counts_against_nobody() {
    use passgate::entities::login_throttle;
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    app.user("bob_b", STRONG_2, false).await;
    for i in 0..5 {
        app.client_from(&format!("10.6.0.{i}:1"))
            .login("alice", "Wrong-Guess-Number-1")
            .await;
    }
    let count = |key: &'static str| {
        let db = app.db.clone();
        async move {
            login_throttle::Entity::find_by_id(key.to_string())
                .one(&db)
                .await
                .unwrap()
                .map(|row| row.failures)
        }
    };
    // Alice's bucket is the one username bucket so far (its key is a keyed hash).
    let alice_bucket: &'static str = login_throttle::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.throttle_key)
        .find(|key| key.starts_with("user:"))
        .map(|key| &*Box::leak(key.into_boxed_str()))
        .expect("alice's bucket");
    assert_eq!(count(alice_bucket).await, Some(5));
    // Refused at alice's lock: neither alice's count nor the new address's moves.
    for _ in 0..3 {
        let page = app.client_from("10.6.1.1:1").login("alice", STRONG).await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    }
    assert_eq!(count(alice_bucket).await, Some(5));
    assert_eq!(count("ip:10.6.1.1").await.unwrap_or(0), 0);
    // The address is as good as new for another account.
    app.client_from("10.6.1.1:1")
        .login("bob_b", STRONG_2)
        .await
        .assert_redirect("/panel/dashboard");
}

#[tokio::test]
async fn a_successful_login_starts_the_usernames_count_over() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    // 4 + 4 wrong guesses from different addresses, with a sign-in between: never 5 in a row.
    for round in 0..2 {
        for i in 0..4 {
            let page = app
                .client_from(&format!("10.4.{round}.{i}:1"))
                .login("alice", "Wrong-Guess-Number-1")
                .await;
            assert_eq!(page.status, StatusCode::UNAUTHORIZED, "round {round}, {i}");
        }
        app.client_from(&format!("10.4.{round}.9:1"))
            .login("alice", STRONG)
            .await
            .assert_redirect("/panel/dashboard");
    }
    // The fifth wrong guess in a row locks the username.
    for i in 0..5 {
        app.client_from(&format!("10.4.5.{i}:1"))
            .login("alice", "Wrong-Guess-Number-1")
            .await;
    }
    let page = app.client_from("10.4.6.1:1").login("alice", STRONG).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn failures_from_one_address_lock_the_address_for_every_username() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    // 20 failures (the per-address limit), each for a different username.
    for i in 0..20 {
        let page = app
            .client_from("10.5.0.1:1")
            .login(&format!("guess_{i}"), "Wrong-Guess-Number-1")
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let page = app.client_from("10.5.0.1:1").login("alice", STRONG).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(app.find("alice").await.last_login.is_none());
    // Another address is not locked.
    app.client_from("10.5.0.2:1")
        .login("alice", STRONG)
        .await
        .assert_redirect("/panel/dashboard");
}

#[tokio::test]
async fn successful_logins_do_not_use_up_the_address_allowance() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    for _ in 0..25 {
        let mut browser = app.client_from("192.0.2.20:1");
        browser
            .login("alice", STRONG)
            .await
            .assert_redirect("/panel/dashboard");
    }
}

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
