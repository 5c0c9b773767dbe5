//! The command line (lock-out recovery) and the first start.

use axum::http::StatusCode;
use passgate::accounts::bootstrap::ensure_admin;
use passgate::cli::{Command, UserCommand, run_admin};
use passgate::config::Config;

use crate::helpers::*;

#[tokio::test]
async fn cli_reset_password_ends_an_open_session_and_its_password_works() {
    let app = spawn_app().await;
    app.user("alice", STRONG, true).await;
    let mut browser = app.client();
    browser.login("alice", STRONG).await;
    assert_eq!(browser.get("/panel/dashboard").await.status, StatusCode::OK);

    let config = Config::for_database(&app.database_url);
    let command = Command::User(UserCommand::ResetPassword {
        username: "alice".into(),
        expires_hours: 2,
        no_require_change: false,
        password_stdin: false,
    });
    let output = run_admin(&config, command).await.expect("reset works");
    let password = output
        .split("temporary password: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .expect("the output shows the generated password")
        .to_string();
    assert_eq!(password.chars().count(), 16);

    browser
        .get("/panel/dashboard")
        .await
        .assert_redirect("/login?ended=reset");
    let user = app.find("alice").await;
    assert!(user.require_password_change);
    assert!(user.password_expires.is_some());
    let mut fresh = app.client_from("10.4.4.4:1");
    fresh
        .login("alice", &password)
        .await
        .assert_redirect("/panel/change_password");
    let audit = passgate::entities::audit_log::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    let reset = audit
        .iter()
        .find(|e| e.action == "password_reset")
        .expect("audited");
    assert_eq!(reset.actor_name.as_deref(), Some("cli"));
    assert!(
        !reset.detail.contains(&password),
        "no password in the audit log"
    );
}

#[tokio::test]
async fn cli_reset_of_unknown_user_fails_cleanly() {
    let app = spawn_app().await;
    let config = Config::for_database(&app.database_url);
    let command = Command::User(UserCommand::ResetPassword {
        username: "nobody".into(),
        expires_hours: -1,
        no_require_change: false,
        password_stdin: false,
    });
    let err = run_admin(&config, command).await.unwrap_err();
    assert!(err.to_string().contains("no user named 'nobody'"));
}

#[tokio::test]
async fn cli_lists_users_with_their_status() {
    let app = spawn_app().await;
    app.user("alice", STRONG, true).await;
    app.user("bob", STRONG_2, false).await;
    app.reset("bob", STRONG_3, Default::default()).await;
    let config = Config::for_database(&app.database_url);
    let out = run_admin(&config, Command::User(UserCommand::List))
        .await
        .unwrap();
    let bob = out.lines().find(|l| l.contains("\tbob\t")).unwrap();
    assert!(bob.contains("change pending"));
    let alice = out.lines().find(|l| l.contains("\talice\t")).unwrap();
    assert!(alice.ends_with("ok"));
}

#[tokio::test]
async fn first_start_creates_a_flagged_admin_once() {
    let app = spawn_app().await;
    let password = ensure_admin(&app.db, &app.state.hasher, &app.state.config.policy)
        .await
        .unwrap()
        .expect("an empty database gets an admin");
    assert!(
        ensure_admin(&app.db, &app.state.hasher, &app.state.config.policy)
            .await
            .unwrap()
            .is_none()
    );
    let admin = app.find("admin").await;
    assert!(admin.superuser);
    assert!(admin.require_password_change);
    assert!(admin.password_expires.is_none());
    let mut browser = app.client();
    browser
        .login("admin", password.expose())
        .await
        .assert_redirect("/panel/change_password");
    browser.get("/panel/change_password").await;
    browser
        .post(
            "/panel/change_password",
            &[("new_password", STRONG), ("confirm_password", STRONG)],
        )
        .await
        .assert_redirect("/panel/dashboard");
    let mut again = app.client_from("10.5.5.5:1");
    assert_eq!(
        again.login("admin", password.expose()).await.status,
        StatusCode::UNAUTHORIZED
    );
}

use sea_orm::EntityTrait;
