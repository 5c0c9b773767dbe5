//! Bulk actions (SPEC §11) from the users table and `passgate user require-change`: applied
//! only to the users the viewer may act on, the rest reported and left unchanged.

use axum::http::StatusCode;
use passgate::cli::{Command, UserCommand, run_admin};
use passgate::config::Config;
use passgate::entities::audit_log;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::helpers::*;

async fn audited(app: &TestApp, action: &str) -> Vec<String> {
    let mut names: Vec<String> = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(action))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| e.target_name)
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_manager_requires_a_change_of_their_users_and_nobody_else() {
    let app = spawn_app().await;
    let root = app.user("root", STRONG, true).await;
    let manager = app.user_with("manager", STRONG, false, None, Some(5)).await;
    let ann = app
        .user_with("ann", STRONG_2, false, Some(manager.user_id), None)
        .await;
    let ben = app
        .user_with("ben", STRONG_2, false, Some(manager.user_id), None)
        .await;
    let stranger = app.user("stranger", STRONG_2, false).await;
    let mut anns = signed_in_browser(&app, "ann", STRONG_2, "127.0.0.1:1").await;
    let mut browser = signed_in_browser(&app, "manager", STRONG, "127.0.0.1:1").await;

    let table = browser.get("/panel/panel_config").await;
    assert!(table.body.contains("id=\"bulk-form\""));
    assert_eq!(
        table.body.matches("name=\"user\"").count(),
        2,
        "a checkbox for each managed user only"
    );

    // The form also carries ids the manager may not touch (a forged or stale form).
    let ids = [
        ann.user_id,
        ben.user_id,
        stranger.user_id,
        root.user_id,
        manager.user_id,
    ];
    let mut fields: Vec<(&str, String)> = vec![("action", "require_change".into())];
    for id in ids {
        fields.push(("user", id.to_string()));
    }
    fields.push(("user", "99999".into()));
    fields.push(("user", "not-a-number".into()));
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let made = browser.post("/panel/users/bulk", &fields).await;
    let report = follow_result(&mut browser, made).await;
    assert!(
        report.body.contains("Done for 2 user(s)"),
        "{}",
        report.body
    );
    assert!(report.body.contains("you may not change this user"));
    assert!(report.body.contains("that is you"));
    assert!(report.body.contains("2 selected user(s) no longer exist"));

    assert!(app.find("ann").await.require_password_change);
    assert!(app.find("ben").await.require_password_change);
    for untouched in ["stranger", "root", "manager"] {
        assert!(
            !app.find(untouched).await.require_password_change,
            "{untouched}"
        );
    }
    assert_eq!(
        audited(&app, "password_change_required").await,
        ["ann", "ben"]
    );
    // Ann's open session is held at the change page on her next request.
    anns.get("/panel/dashboard")
        .await
        .assert_redirect("/panel/change_password");
    // A second submission of the same form changes and audits nothing more.
    let again = browser.post("/panel/users/bulk", &fields).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(
        audited(&app, "password_change_required").await,
        ["ann", "ben"]
    );
}

#[tokio::test]
async fn ending_sessions_in_bulk_signs_the_selected_users_out() {
    let app = spawn_app().await;
    app.user("root", STRONG, true).await;
    let ann = app.user("ann", STRONG_2, false).await;
    let ben = app.user("ben", STRONG_2, false).await;
    let mut anns = signed_in_browser(&app, "ann", STRONG_2, "127.0.0.1:1").await;
    let mut bens = signed_in_browser(&app, "ben", STRONG_2, "127.0.0.1:1").await;
    let mut root = signed_in_browser(&app, "root", STRONG, "127.0.0.1:1").await;
    let ann_id = ann.user_id.to_string();
    let made = root
        .post(
            "/panel/users/bulk",
            &[("action", "end_sessions"), ("user", &ann_id), ("user", "1")],
        )
        .await;
    let report = follow_result(&mut root, made).await;
    assert!(report.body.contains("Done for 1 user(s)"));
    assert_ne!(anns.get("/panel/dashboard").await.status, StatusCode::OK);
    assert_eq!(bens.get("/panel/dashboard").await.status, StatusCode::OK);
    assert_eq!(
        root.get("/panel/dashboard").await.status,
        StatusCode::OK,
        "not oneself"
    );
    assert_eq!(audited(&app, "sessions_ended").await, ["ann"]);
    let _ = ben;
}

#[tokio::test]
async fn malformed_bulk_forms_change_nothing() {
    let app = spawn_app().await;
    app.user("root", STRONG, true).await;
    let ann = app.user("ann", STRONG_2, false).await;
    let mut root = signed_in_browser(&app, "root", STRONG, "127.0.0.1:1").await;
    let id = ann.user_id.to_string();
    for fields in [
        vec![("user", id.as_str())],
        vec![("action", "delete_everything"), ("user", id.as_str())],
        vec![("action", "require_change")],
    ] {
        let answer = root.post("/panel/users/bulk", &fields).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{fields:?}");
        assert!(answer.body.contains("alert"), "a message says what to do");
    }
    let forged = root
        .post_without_csrf(
            "/panel/users/bulk",
            &[("action", "require_change"), ("user", &id)],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(!app.find("ann").await.require_password_change);
}

#[tokio::test]
async fn the_cli_requires_a_change_of_named_users_or_of_all() {
    let app = spawn_app().await;
    app.user("root", STRONG, true).await;
    app.user("ann", STRONG_2, false).await;
    app.user("ben", STRONG_2, false).await;
    let config = Config::for_database(&app.database_url);
    let err = run_admin(
        &config,
        Command::User(UserCommand::RequireChange {
            all: false,
            usernames: vec!["ann".into(), "nobody".into()],
        }),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("no user named 'nobody'"));
    assert!(
        !app.find("ann").await.require_password_change,
        "all or nothing"
    );

    let out = run_admin(
        &config,
        Command::User(UserCommand::RequireChange {
            all: false,
            usernames: vec!["ann".into()],
        }),
    )
    .await
    .unwrap();
    assert!(out.contains("1 user(s): ann"), "{out}");
    assert!(app.find("ann").await.require_password_change);
    assert!(!app.find("ben").await.require_password_change);

    let out = run_admin(
        &config,
        Command::User(UserCommand::RequireChange {
            all: true,
            usernames: vec![],
        }),
    )
    .await
    .unwrap();
    assert!(out.contains("3 user(s)"), "{out}");
    for name in ["root", "ann", "ben"] {
        assert!(app.find(name).await.require_password_change, "{name}");
    }
    let entries = audited(&app, "password_change_required").await;
    assert_eq!(
        entries,
        ["ann", "ben", "root"],
        "ann once, although named twice"
    );
}
