//! Signing in and out on the web.

use axum::http::StatusCode;
use passgate::accounts::credentials::ResetOptions;
use sea_orm::{ActiveModelTrait, Set};

use crate::helpers::*;

#[tokio::test]
async fn correct_password_lands_on_the_dashboard() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let mut browser = app.client();
    browser
        .login("alice", STRONG)
        .await
        .assert_redirect("/panel/dashboard");
    let page = browser.get("/panel/dashboard").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("alice"));
    assert!(app.find("alice").await.last_login.is_some());
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let mut a = app.client_from("10.1.0.1:1");
    let mut b = app.client_from("10.1.0.2:1");
    let wrong = a.login("alice", "Not-The-Password-1").await;
    let unknown = b.login("nobody", "Not-The-Password-1").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Incorrect username or password."));
    let strip = |body: &str, user: &str| {
        body.replace(csrf_in(body).unwrap().as_str(), "")
            .replace(&format!("value=\"{user}\""), "")
    };
    assert_eq!(strip(&wrong.body, "alice"), strip(&unknown.body, "nobody"));
    assert!(a.get("/panel/dashboard").await.location() == Some("/login"));
}

#[tokio::test]
async fn usernames_are_case_insensitive_at_login() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let mut browser = app.client();
    browser
        .login("ALICE", STRONG)
        .await
        .assert_redirect("/panel/dashboard");
}

#[tokio::test]
async fn expired_temp_password_is_refused_at_login() {
    let app = spawn_app().await;
    app.user("bob", STRONG, false).await;
    let user = app
        .reset(
            "bob",
            STRONG_2,
            ResetOptions {
                expires_hours: 1,
                ..Default::default()
            },
        )
        .await;
    let mut active: passgate::entities::users::ActiveModel = user.into();
    active.password_expires = Set(Some(
        passgate::accounts::clock::now() - time::Duration::minutes(1),
    ));
    active.update(&app.db).await.unwrap();

    let mut browser = app.client();
    let page = browser.login("bob", STRONG_2).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(
        page.body.contains("temporary password has expired"),
        "{}",
        page.body
    );
    // A wrong password never reveals the expiry.
    let wrong = browser
        .post(
            "/login",
            &[("username", "bob"), ("password", "Wrong-Guess-123")],
        )
        .await;
    assert!(wrong.body.contains("Incorrect username or password."));
    assert!(!wrong.body.contains("expired"));
}

#[tokio::test]
async fn temp_password_expiring_ends_an_open_session() {
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
    let mut browser = app.client();
    browser
        .login("bob", STRONG_2)
        .await
        .assert_redirect("/panel/change_password");
    assert_eq!(
        browser.get("/panel/change_password").await.status,
        StatusCode::OK
    );

    let user = app.find("bob").await;
    let mut active: passgate::entities::users::ActiveModel = user.into();
    active.password_expires = Set(Some(
        passgate::accounts::clock::now() - time::Duration::seconds(1),
    ));
    active.update(&app.db).await.unwrap();

    browser
        .get("/panel/change_password")
        .await
        .assert_redirect("/login?ended=expired");
    // The session is gone for good, not just refused once.
    browser
        .get("/panel/dashboard")
        .await
        .assert_redirect("/login");
}

#[tokio::test]
async fn disabled_account_is_refused_after_a_correct_password() {
    let app = spawn_app().await;
    let user = app.user("carol", STRONG, false).await;
    let mut active: passgate::entities::users::ActiveModel = user.into();
    active.enabled = Set(false);
    if let Err(e) = active.update(&app.db).await {
        use sea_orm::ConnectionTrait;
        let rows = app.db.query_all_raw(sea_orm::Statement::from_string(app.db.get_database_backend(), "select username, typeof(require_password_change) t, typeof(enabled) e, quote(require_password_change) q from users")).await.unwrap();
        for r in rows {
            println!(
                "ROW {:?} {:?} {:?} {:?}",
                r.try_get::<String>("", "username"),
                r.try_get::<String>("", "t"),
                r.try_get::<String>("", "e"),
                r.try_get::<String>("", "q")
            );
        }
        let cols = app
            .db
            .query_all_raw(sea_orm::Statement::from_string(
                app.db.get_database_backend(),
                "select name from pragma_table_info('users')",
            ))
            .await
            .unwrap();
        for r in cols {
            println!("COL {:?}", r.try_get::<String>("", "name"));
        }
        panic!("{e}");
    }
    let mut browser = app.client();
    let page = browser.login("carol", STRONG).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("This account is disabled"));
    let wrong = browser
        .post(
            "/login",
            &[("username", "carol"), ("password", "Wrong-Guess-123")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let mut browser = app.client();
    browser.login("alice", STRONG).await;
    browser.get("/panel/dashboard").await;
    browser.post("/logout", &[]).await.assert_redirect("/login");
    browser
        .get("/panel/dashboard")
        .await
        .assert_redirect("/login");
}

#[tokio::test]
async fn htmx_login_redirects_with_hx_redirect() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let mut browser = app.client();
    let page = browser.hx_login("alice", STRONG).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("hx-redirect"), Some("/panel/dashboard"));
}

#[tokio::test]
async fn signed_in_visitor_of_login_page_goes_home() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let mut browser = app.client();
    browser.login("alice", STRONG).await;
    browser
        .get("/login")
        .await
        .assert_redirect("/panel/dashboard");
}

#[tokio::test]
async fn login_page_speaks_the_browser_language() {
    let app = spawn_app().await;
    let mut browser = app.client();
    browser
        .extra_headers
        .push(("accept-language".into(), "de-DE,de;q=0.9,en;q=0.5".into()));
    let page = browser.get("/login").await;
    assert!(page.body.contains("lang=\"de\""));
    assert!(page.body.contains("Benutzername"));
    let refused = browser
        .post(
            "/login",
            &[("username", "x_y_z"), ("password", "Falsches-Passwort-1")],
        )
        .await;
    assert!(
        refused
            .body
            .contains("Benutzername oder Passwort ist falsch.")
    );
}

#[tokio::test]
async fn a_reset_committed_during_the_password_check_wins_over_the_sign_in() {
    use passgate::accounts::users::record_login;
    let app = spawn_app().await;
    // The account as the login read it, before its slow password check.
    let before = app.user("alice", STRONG, false).await;
    app.reset("alice", STRONG_2, ResetOptions::default()).await;
    // Recording the sign-in checks the stamp read before: the reset changed it.
    assert!(
        record_login(&app.db, &before, "192.0.2.1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(app.find("alice").await.last_login.is_none());
    // With the account as it is now, the sign-in is recorded and the fresh row returned.
    let now = app.find("alice").await;
    let recorded = record_login(&app.db, &now, "192.0.2.1")
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(recorded.last_ip, "192.0.2.1");
    assert!(recorded.last_login.is_some());
    assert!(recorded.require_password_change);
}
