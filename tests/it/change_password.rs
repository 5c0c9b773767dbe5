//! The forced change after a temporary password, and the voluntary change.

use axum::http::StatusCode;
use passgate::accounts::credentials::ResetOptions;

use crate::helpers::*;

async fn flagged_user(app: &TestApp) {
    app.user("bob", STRONG, false).await;
    app.reset(
        "bob",
        STRONG_2,
        ResetOptions {
            expires_hours: 24,
            ..Default::default()
        },
    )
    .await;
}

#[tokio::test]
async fn htmx_login_with_temp_password_swaps_in_the_change_form() {
    let app = spawn_app().await;
    flagged_user(&app).await;
    let mut browser = app.client();
    let swap = browser.hx_login("bob", STRONG_2).await;
    assert_eq!(swap.status, StatusCode::OK);
    assert!(swap.header("hx-redirect").is_none());
    assert!(
        swap.body.starts_with("<section id=\"auth-box\""),
        "a fragment: {}",
        swap.body
    );
    assert!(swap.body.contains("name=\"new_password\""));
    assert!(swap.body.contains("name=\"confirm_password\""));
    assert!(
        !swap.body.contains("name=\"current_password\""),
        "a forced change asks no current password"
    );
    assert!(swap.body.contains("temporary password"));

    let done = browser
        .hx_post(
            "/panel/change_password",
            &[("new_password", STRONG_3), ("confirm_password", STRONG_3)],
        )
        .await;
    assert_eq!(
        done.header("hx-redirect"),
        Some("/panel/dashboard"),
        "{}",
        done.body
    );
    assert_eq!(browser.get("/panel/dashboard").await.status, StatusCode::OK);

    let user = app.find("bob").await;
    assert!(!user.require_password_change);
    assert!(user.password_expires.is_none());
    // The temporary password no longer works, the new one does.
    let mut other = app.client_from("10.9.9.9:1");
    assert_eq!(
        other.login("bob", STRONG_2).await.status,
        StatusCode::UNAUTHORIZED
    );
    other
        .login("bob", STRONG_3)
        .await
        .assert_redirect("/panel/dashboard");
}

#[tokio::test]
async fn plain_form_forced_change_without_javascript() {
    let app = spawn_app().await;
    flagged_user(&app).await;
    let mut browser = app.client();
    browser
        .login("bob", STRONG_2)
        .await
        .assert_redirect("/panel/change_password");
    let form = browser.get("/panel/change_password").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("<!DOCTYPE html>"));
    browser
        .post(
            "/panel/change_password",
            &[("new_password", STRONG_3), ("confirm_password", STRONG_3)],
        )
        .await
        .assert_redirect("/panel/dashboard");
    assert_eq!(browser.get("/panel/dashboard").await.status, StatusCode::OK);
}

#[tokio::test]
async fn forced_change_refusals_are_shown_beside_the_field_and_change_nothing() {
    let app = spawn_app().await;
    flagged_user(&app).await;
    let before = app.find("bob").await;
    let mut browser = app.client();
    browser.login("bob", STRONG_2).await;
    browser.get("/panel/change_password").await;
    let cases: [(&str, &str, &str, &str); 4] = [
        (
            STRONG_3,
            "Copper-Meadow-Violin-28",
            "confirm_password-error",
            "The passwords do not match.",
        ),
        (
            "Sh0rt!",
            "Sh0rt!",
            "new_password-error",
            "at least 8 characters",
        ),
        (
            "password123",
            "password123",
            "new_password-error",
            "too common",
        ),
        (
            STRONG_2,
            STRONG_2,
            "new_password-error",
            "must differ from the temporary password",
        ),
    ];
    for (new, confirm, field, message) in cases {
        let page = browser
            .post(
                "/panel/change_password",
                &[("new_password", new), ("confirm_password", confirm)],
            )
            .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{new}");
        assert!(
            page.body.contains(&format!("id=\"{field}\"")),
            "{new}: {}",
            page.body
        );
        assert!(page.body.contains(message), "{new}: wants {message}");
        let described = if field == "new_password-error" {
            "new_password-hint new_password-error"
        } else {
            field
        };
        assert!(
            page.body
                .contains(&format!("aria-describedby=\"{described}\"")),
            "error tied to its field"
        );
    }
    let after = app.find("bob").await;
    assert_eq!(before.password, after.password);
    assert_eq!(before.security_stamp, after.security_stamp);
    assert!(after.require_password_change);
    // Still signed in and still held at the change form.
    browser
        .get("/panel/dashboard")
        .await
        .assert_redirect("/panel/change_password");
}

#[tokio::test]
async fn voluntary_change_needs_the_current_password() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let mut browser = app.client();
    browser.login("alice", STRONG).await;
    let form = browser.get("/panel/change_password").await;
    assert!(form.body.contains("name=\"current_password\""));

    for current in ["", "Wrong-Current-Pass-1"] {
        let page = browser
            .post(
                "/panel/change_password",
                &[
                    ("current_password", current),
                    ("new_password", STRONG_2),
                    ("confirm_password", STRONG_2),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        assert!(page.body.contains("id=\"current_password-error\""));
        assert!(page.body.contains("The current password is incorrect."));
    }
    let reuse = browser
        .post(
            "/panel/change_password",
            &[
                ("current_password", STRONG),
                ("new_password", STRONG),
                ("confirm_password", STRONG),
            ],
        )
        .await;
    assert!(
        reuse
            .body
            .contains("must differ from your current password")
    );
    assert_eq!(
        app.find("alice").await.password,
        app.find("alice").await.password
    );

    let mut second_device = app.client_from("10.2.2.2:1");
    second_device
        .login("alice", STRONG)
        .await
        .assert_redirect("/panel/dashboard");
    let stamp_before = app.find("alice").await.security_stamp;
    let old_cookie = browser.session_cookie().cloned();
    browser
        .post(
            "/panel/change_password",
            &[
                ("current_password", STRONG),
                ("new_password", STRONG_2),
                ("confirm_password", STRONG_2),
            ],
        )
        .await
        .assert_redirect("/panel/dashboard");
    assert_ne!(app.find("alice").await.security_stamp, stamp_before);
    assert_ne!(
        browser.session_cookie().cloned(),
        old_cookie,
        "this browser gets a fresh session"
    );
    assert_eq!(browser.get("/panel/dashboard").await.status, StatusCode::OK);
    // Every other session ended.
    second_device
        .get("/panel/dashboard")
        .await
        .assert_redirect("/login");
}

#[tokio::test]
async fn an_admin_reset_ends_the_targets_sessions() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let mut browser = app.client();
    browser.login("alice", STRONG).await;
    assert_eq!(browser.get("/panel/dashboard").await.status, StatusCode::OK);
    app.reset("alice", STRONG_2, ResetOptions::default()).await;
    browser
        .get("/panel/dashboard")
        .await
        .assert_redirect("/login?ended=reset");
}
