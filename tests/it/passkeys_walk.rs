//! A passkey sign-in goes through the one sign-in walk (SPEC §3, §4, §9, §13): every rule a
//! password sign-in meets holds for it too — a disabled account, the throttle, an expired
//! temporary password, the forced change (which asks a passkey sign-in for the current
//! password: it did not prove the temporary one), the enrolment gate, password sign-in turned
//! off — and each outcome is audited.

use axum::http::StatusCode;
use passgate::accounts::credentials::ResetOptions;
use sea_orm::{ActiveModelTrait, Set};
use serde_json::json;

use crate::helpers::{STRONG, STRONG_2, STRONG_3, TestApp};
use crate::passkeys::app;
use crate::passkeys_discoverable::{
    Device, audit_count, login_options, page_sign_in, usernameless,
};

async fn admin(app: &TestApp) -> String {
    app.user("root_admin", STRONG, true).await;
    app.token("root_admin", STRONG).await
}

async fn set_enabled(app: &TestApp, admin: &str, user_id: i32, enabled: bool) {
    app.api(
        "PATCH",
        &format!("/api/v2/users/{user_id}"),
        Some(admin),
        Some(json!({ "enabled": enabled })),
    )
    .await
    .assert_ok();
}

#[tokio::test]
async fn a_passkey_sign_in_meets_the_disabled_account_and_the_throttle() {
    let app = app().await;
    let admin = admin(&app).await;
    let alice = app.user("alice", STRONG_2, false).await;
    let token = app.token("alice", STRONG_2).await;
    let mut device = Device::register(&app, &token, "Laptop").await;

    // Disabled: told only after the passkey checked out, and audited.
    set_enabled(&app, &admin, alice.user_id, false).await;
    usernameless(&app, &mut device)
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCOUNT_DISABLED");
    assert_eq!(
        audit_count(&app, "login_failed", "account disabled").await,
        1
    );
    set_enabled(&app, &admin, alice.user_id, true).await;

    // Five wrong passwords lock alice's bucket: her passkey is refused too, before it counts.
    for i in 0..5 {
        let page = app
            .client_from(&format!("10.9.0.{i}:1"))
            .login("alice", "Wrong-Guess-Number-1")
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let locked = usernameless(&app, &mut device).await;
    locked.assert_error(StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_ATTEMPTS");
    assert!(locked.headers.get("retry-after").is_some());
    assert_eq!(audit_count(&app, "login", "passkey").await, 0);
    // The operator lifts the lock: the passkey signs in, and a success starts the count over.
    passgate::auth::throttle::unlock_username(&app.db, &app.state.signing_key, "alice")
        .await
        .expect("unlock");
    usernameless(&app, &mut device).await.assert_ok();
    assert_eq!(audit_count(&app, "login", "passkey").await, 1);
}

#[tokio::test]
async fn wrong_passkey_answers_count_in_the_throttle_of_the_address() {
    let app = app().await;
    app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    let mut device = Device::register(&app, &token, "Laptop").await;
    // Answers naming a credential registered to nobody, from one address: the address's
    // bucket fills (its limit is higher than a user's) and then refuses even a right passkey.
    let limit = app.state.config.throttle.per_ip;
    let mut refused_at = None;
    for attempt in 0..=limit {
        let (challenge, options) = login_options(&app, json!({})).await;
        let mut answer = device.answer_discoverable(&options, None);
        answer["id"] = json!("bm9ib2R5cy1rZXk");
        answer["rawId"] = json!("bm9ib2R5cy1rZXk");
        let status = crate::passkeys_discoverable::verify(&app, &challenge, &answer)
            .await
            .status;
        if status == StatusCode::TOO_MANY_REQUESTS {
            refused_at = Some(attempt);
            break;
        }
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert!(refused_at.is_some(), "the address was never throttled");
    usernameless(&app, &mut device)
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_ATTEMPTS");
}

#[tokio::test]
async fn a_passkey_sign_in_meets_the_temporary_password_rules_and_asks_for_the_current_one() {
    let app = app().await;
    app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    let mut device = Device::register(&app, &token, "Laptop").await;

    // An administrator's reset (the passkey stays): the passkey signs in to the forced change.
    temporary_password(&app, "alice").await;
    let signed_in = usernameless(&app, &mut device).await;
    let data = signed_in.assert_ok().clone();
    assert_eq!(data["page"], "/panel/change_password");
    assert_eq!(data["require_password_change"], true);
    let token = data["token"].as_str().expect("token");
    // Everything else waits for the change...
    app.api("GET", "/api/v2/users", Some(token), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "PASSWORD_CHANGE_REQUIRED");
    // ...which needs the temporary password: the passkey did not prove it (SPEC §3a).
    app.patch_me(token, json!({"password": STRONG_3}))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "INCORRECT_CURRENT_PASSWORD");
    // The page says so: its form asks for the current password.
    let (mut browser, finished) = page_sign_in(&app, &mut device).await;
    assert!(
        finished.body.contains("/panel/change_password"),
        "{}",
        finished.body
    );
    let page = browser.get("/panel/dashboard").await;
    page.assert_redirect("/panel/change_password");
    let form = browser.get("/panel/change_password").await;
    assert!(
        form.body.contains("name=\"current_password\""),
        "{}",
        form.body
    );
    // With it, the change goes through.
    app.patch_me(
        token,
        json!({"password": STRONG_3, "current_password": STRONG_2}),
    )
    .await
    .assert_ok();

    // A temporary password that expired: the account waits for an administrator, whatever
    // the proof.
    let user = temporary_password(&app, "alice").await;
    let mut active: passgate::entities::users::ActiveModel = user.into();
    active.password_expires = Set(Some(
        passgate::accounts::clock::now() - time::Duration::minutes(1),
    ));
    active.update(&app.db).await.unwrap();
    usernameless(&app, &mut device)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "TEMP_PASSWORD_EXPIRED");
    assert_eq!(
        audit_count(&app, "login_failed", "temporary password expired").await,
        1
    );
}

#[tokio::test]
async fn a_passkey_passes_the_enrolment_gate_and_works_with_password_sign_in_off() {
    let app = spawn_required_app().await;
    app.user("alice", STRONG, false).await;
    // The first sign-in holds alice at enrolment; she adds a passkey there.
    let token = app.token("alice", STRONG).await;
    app.api("GET", "/api/v2/users", Some(&token), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "MFA_SETUP_REQUIRED");
    let mut device = Device::register(&app, &token, "Laptop").await;
    // A passkey sign-in is two factors in one: past the gate, on the page.
    let (mut browser, _) = page_sign_in(&app, &mut device).await;
    assert_eq!(browser.get("/panel/dashboard").await.status, StatusCode::OK);

    // Password sign-in off: the password is refused with the reason, the passkey is not.
    let signed_in = usernameless(&app, &mut device).await;
    let token = signed_in.assert_ok()["token"]
        .as_str()
        .expect("token")
        .to_string();
    app.patch_me(&token, json!({"disable_password_auth": true}))
        .await
        .assert_ok();
    app.api_login("alice", STRONG)
        .await
        .assert_error(StatusCode::FORBIDDEN, "PASSWORD_AUTH_DISABLED");
    let again = usernameless(&app, &mut device).await;
    assert_eq!(again.assert_ok()["page"], "/panel/dashboard");
}

/// An administrator's reset of `name` to the temporary `STRONG_2`, good for an hour.
async fn temporary_password(app: &TestApp, name: &str) -> passgate::entities::users::Model {
    let options = ResetOptions {
        expires_hours: 1,
        ..Default::default()
    };
    app.reset(name, STRONG_2, options).await
}

async fn spawn_required_app() -> TestApp {
    crate::helpers::spawn_app_with(|raw| {
        raw.public_url = Some(crate::passkeys::ORIGIN.into());
        raw.require_mfa = Some("all".into());
    })
    .await
}
