//! Passkeys (SPEC §13) through the API, with a software authenticator (webauthn-authenticator-rs'
//! SoftPasskey, which signs like a real one): registration, passwordless sign-in, the
//! ceremony rules from the attacker's side (replayed, expired, another user's, a counter
//! going backwards, a decoy), `disable_password_auth`, and the factor rules of §9.

use serde_json::{Value, json};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::prelude::{
    CreationChallengeResponse, RequestChallengeResponse, Url,
};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

pub(crate) const ORIGIN: &str = "https://passkeys.example.org";

pub(crate) async fn app() -> TestApp {
    spawn_app_with(|raw| raw.public_url = Some(ORIGIN.into())).await
}

/// A software authenticator that reports user verification (as a phone or a security key
/// with a PIN does).
pub(crate) fn authenticator() -> SoftPasskey {
    SoftPasskey::new(true)
}

pub(crate) fn origin() -> Url {
    Url::parse(ORIGIN).expect("origin")
}

/// Registers a passkey for the holder of `token`; returns the answer's data (id, name, token).
pub(crate) async fn register(
    app: &TestApp,
    token: &str,
    device: &mut SoftPasskey,
    name: &str,
) -> Value {
    let started = app
        .api("POST", "/api/v2/users/@me/passkeys", Some(token), None)
        .await;
    let data = started.assert_ok().clone();
    let options: CreationChallengeResponse =
        serde_json::from_value(json!({"publicKey": data["options"]})).expect("creation options");
    let credential = device
        .do_registration(origin(), options)
        .expect("the authenticator registers");
    let challenge = data["challenge_id"].as_str().expect("challenge_id");
    let verified = app
        .api(
            "POST",
            &format!("/api/v2/users/@me/passkeys/{challenge}/verify"),
            Some(token),
            Some(json!({"name": name, "credential": credential})),
        )
        .await;
    verified.assert_ok().clone()
}

/// Sign-in options for `username`: the challenge id and the options.
pub(crate) async fn sign_in_options(
    app: &TestApp,
    username: &str,
) -> (String, RequestChallengeResponse) {
    let response = app
        .api(
            "POST",
            "/api/v2/auth/passkey/login/options",
            None,
            Some(json!({"username": username})),
        )
        .await;
    let data = response.assert_ok().clone();
    let options =
        serde_json::from_value(json!({"publicKey": data["options"]})).expect("request options");
    (
        data["challenge_id"].as_str().expect("id").to_string(),
        options,
    )
}

pub(crate) async fn verify_sign_in(
    app: &TestApp,
    challenge: &str,
    credential: &Value,
) -> crate::helpers::ApiResponse {
    app.api(
        "POST",
        "/api/v2/auth/passkey/login/verify",
        None,
        Some(json!({"challenge_id": challenge, "credential": credential})),
    )
    .await
}

pub(crate) async fn answer(device: &mut SoftPasskey, options: RequestChallengeResponse) -> Value {
    let credential = device
        .do_authentication(origin(), options)
        .expect("the authenticator signs");
    serde_json::to_value(credential).expect("json")
}

#[tokio::test]
async fn a_registered_passkey_signs_in_without_a_password_and_counts_as_a_factor() {
    let app = app().await;
    app.user("alice", "alice-password-1", false).await;
    let token = app.token("alice", "alice-password-1").await;
    let mut device = authenticator();

    let registered = register(&app, &token, &mut device, "Laptop").await;
    assert_eq!(registered["name"], "Laptop");
    // The registration rotated the stamp: the old token ended, the fresh one works.
    app.api("GET", "/api/v2/users/@me", Some(&token), None)
        .await
        .assert_error(axum::http::StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    let fresh = registered["token"]
        .as_str()
        .expect("fresh token")
        .to_string();
    let me = app
        .api("GET", "/api/v2/users/@me", Some(&fresh), None)
        .await;
    assert_eq!(me.assert_ok()["mfa_enabled"], true);
    let listed = app
        .api("GET", "/api/v2/users/@me/passkeys", Some(&fresh), None)
        .await;
    let listed = listed.assert_ok().as_array().expect("list").clone();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["name"], "Laptop");
    assert!(listed[0]["last_used_at"].is_null());
    assert!(
        listed[0].get("credential").is_none(),
        "no key material is listed"
    );

    // Passwordless sign-in.
    let (challenge, options) = sign_in_options(&app, "alice").await;
    let credential = answer(&mut device, options).await;
    let signed_in = verify_sign_in(&app, &challenge, &credential).await;
    let signed_in = signed_in.assert_ok().clone();
    assert_eq!(
        signed_in["user_id"],
        json!(registered_user_id(&app, "alice").await)
    );
    let token = signed_in["token"].as_str().expect("token");
    app.api("GET", "/api/v2/users/@me", Some(token), None)
        .await
        .assert_ok();

    // The same answer again: the ceremony is used up.
    verify_sign_in(&app, &challenge, &credential)
        .await
        .assert_error(
            axum::http::StatusCode::UNAUTHORIZED,
            "INCORRECT_CREDENTIALS",
        );

    // A passkey is a second factor: the password alone is not enough any more.
    app.api_login("alice", "alice-password-1")
        .await
        .assert_error(axum::http::StatusCode::UNAUTHORIZED, "MFA_REQUIRED");

    let listed = app
        .api("GET", "/api/v2/users/@me/passkeys", Some(token), None)
        .await;
    assert!(!listed.assert_ok()[0]["last_used_at"].is_null());
}

async fn registered_user_id(app: &TestApp, name: &str) -> String {
    app.find(name).await.user_id.to_string()
}

#[tokio::test]
async fn a_counter_that_goes_backwards_is_refused() {
    let app = app().await;
    app.user("carol", "carol-password-1", false).await;
    let token = app.token("carol", "carol-password-1").await;
    let mut device = authenticator();
    register(&app, &token, &mut device, "Key").await;

    // Two ceremonies answered in order (counters n, n+1), submitted in reverse: the second
    // one submitted carries a counter the server has already seen passed (a clone).
    let (first, first_options) = sign_in_options(&app, "carol").await;
    let (second, second_options) = sign_in_options(&app, "carol").await;
    let earlier = answer(&mut device, first_options).await;
    let later = answer(&mut device, second_options).await;
    verify_sign_in(&app, &second, &later).await.assert_ok();
    verify_sign_in(&app, &first, &earlier).await.assert_error(
        axum::http::StatusCode::UNAUTHORIZED,
        "INCORRECT_CREDENTIALS",
    );
}

#[tokio::test]
async fn an_expired_ceremony_and_another_users_ceremony_finish_nothing() {
    let app = app().await;
    app.user("dave", "dave-password-1", false).await;
    app.user("erin", "erin-password-1", false).await;
    let dave = app.token("dave", "dave-password-1").await;
    let erin = app.token("erin", "erin-password-1").await;

    // Erin starts a registration; Dave answers Erin's challenge with his own authenticator.
    let started = app
        .api("POST", "/api/v2/users/@me/passkeys", Some(&erin), None)
        .await;
    let data = started.assert_ok().clone();
    let options: CreationChallengeResponse =
        serde_json::from_value(json!({"publicKey": data["options"]})).expect("options");
    let mut device = authenticator();
    let credential = device
        .do_registration(origin(), options)
        .expect("registers");
    let challenge = data["challenge_id"].as_str().expect("id");
    app.api(
        "POST",
        &format!("/api/v2/users/@me/passkeys/{challenge}/verify"),
        Some(&dave),
        Some(json!({"credential": credential})),
    )
    .await
    .assert_error(axum::http::StatusCode::BAD_REQUEST, "VERIFICATION_FAILED");
    assert_eq!(passkeys_of(&app, "dave").await, 0);
    // Erin's own ceremony is still hers to finish.
    let done = app
        .api(
            "POST",
            &format!("/api/v2/users/@me/passkeys/{challenge}/verify"),
            Some(&erin),
            Some(json!({"credential": credential})),
        )
        .await;
    done.assert_ok();

    // An expired sign-in ceremony.
    let (challenge, options) = sign_in_options(&app, "erin").await;
    let credential = answer(&mut device, options).await;
    expire_ceremonies(&app).await;
    verify_sign_in(&app, &challenge, &credential)
        .await
        .assert_error(
            axum::http::StatusCode::UNAUTHORIZED,
            "INCORRECT_CREDENTIALS",
        );
}

/// Every ceremony in progress, five minutes later.
pub(crate) async fn expire_ceremonies(app: &TestApp) {
    use sea_orm::{ConnectionTrait, Statement};
    app.db
        .execute_raw(Statement::from_string(
            app.db.get_database_backend(),
            "UPDATE webauthn_ceremonies SET expires = '2000-01-01 00:00:00'",
        ))
        .await
        .expect("age the ceremonies");
}

pub(crate) async fn passkeys_of(app: &TestApp, name: &str) -> usize {
    use passgate::entities::passkeys;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let user = app.find(name).await;
    passkeys::Entity::find()
        .filter(passkeys::Column::UserId.eq(user.user_id))
        .all(&app.db)
        .await
        .expect("passkeys")
        .len()
}

#[tokio::test]
async fn nobody_registers_or_lists_keys_for_someone_else_they_may_not_see() {
    let app = app().await;
    let admin = app.user("root_admin", "root-admin-password-1", true).await;
    let _ = admin;
    let frank = app.user("frank", "frank-password-1", false).await;
    app.user("gina", "gina-password-1", false).await;
    let admin_token = app.token("root_admin", "root-admin-password-1").await;
    let gina = app.token("gina", "gina-password-1").await;
    // Not even a superuser creates another user's factor.
    app.api(
        "POST",
        &format!("/api/v2/users/{}/passkeys", frank.user_id),
        Some(&admin_token),
        None,
    )
    .await
    .assert_error(axum::http::StatusCode::FORBIDDEN, "ACCESS_DENIED");
    // A plain user sees nobody else's passkeys.
    app.api(
        "GET",
        &format!("/api/v2/users/{}/passkeys", frank.user_id),
        Some(&gina),
        None,
    )
    .await
    .assert_error(axum::http::StatusCode::FORBIDDEN, "ACCESS_DENIED");
    // A superuser may list them (names and dates).
    app.api(
        "GET",
        &format!("/api/v2/users/{}/passkeys", frank.user_id),
        Some(&admin_token),
        None,
    )
    .await
    .assert_ok();
}

#[tokio::test]
async fn password_sign_in_can_be_turned_off_only_with_a_passkey() {
    let app = app().await;
    app.user("hank", "hank-password-1", false).await;
    let token = app.token("hank", "hank-password-1").await;
    app.patch_me(&token, json!({"disable_password_auth": true}))
        .await
        .assert_error(axum::http::StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
    assert!(!app.find("hank").await.disable_password_auth);

    let mut device = authenticator();
    let registered = register(&app, &token, &mut device, "Phone").await;
    let token = registered["token"].as_str().expect("token").to_string();
    let passkey_id = registered["id"].as_str().expect("id").to_string();
    app.patch_me(&token, json!({"disable_password_auth": true}))
        .await
        .assert_ok();
    let me = app
        .api("GET", "/api/v2/users/@me", Some(&token), None)
        .await;
    assert_eq!(me.assert_ok()["disable_password_auth"], true);

    // A right password is refused with the reason; a wrong one says only that it is wrong.
    app.api_login("hank", "hank-password-1")
        .await
        .assert_error(axum::http::StatusCode::FORBIDDEN, "PASSWORD_AUTH_DISABLED");
    app.api_login("hank", "not-hanks-password")
        .await
        .assert_error(
            axum::http::StatusCode::UNAUTHORIZED,
            "INCORRECT_CREDENTIALS",
        );
    // The web form refuses it too.
    let mut browser = app.client();
    let page = browser.login("hank", "hank-password-1").await;
    assert!(
        page.location()
            .is_none_or(|to| !to.starts_with("/panel/dashboard")),
        "no sign-in by password"
    );

    // With the passkey removed, the password works again (nobody is locked out).
    let removed = app
        .api(
            "DELETE",
            &format!("/api/v2/users/@me/passkeys/{passkey_id}"),
            Some(&token),
            None,
        )
        .await;
    removed.assert_ok();
    assert!(!app.find("hank").await.disable_password_auth);
    app.api_login("hank", "hank-password-1").await.assert_ok();
}

#[tokio::test]
async fn without_a_public_url_passkeys_are_off_with_a_clear_code() {
    let app = spawn_app_with(|raw| raw.bind = Some("0.0.0.0:8000".into())).await;
    app.user("ivan", "ivan-password-1", false).await;
    let token = app.token("ivan", "ivan-password-1").await;
    app.api("POST", "/api/v2/users/@me/passkeys", Some(&token), None)
        .await
        .assert_error(axum::http::StatusCode::BAD_REQUEST, "PASSKEY_DISABLED");
    app.api(
        "POST",
        "/api/v2/auth/passkey/login/options",
        None,
        Some(json!({"username": "ivan"})),
    )
    .await
    .assert_error(axum::http::StatusCode::BAD_REQUEST, "PASSKEY_DISABLED");
}

#[tokio::test]
async fn options_do_not_tell_whether_an_account_has_passkeys() {
    let app = app().await;
    app.user("judy", "judy-password-1", false).await;
    let raw_options = |name: &'static str| {
        let app = &app;
        async move {
            app.api(
                "POST",
                "/api/v2/auth/passkey/login/options",
                None,
                Some(json!({"username": name})),
            )
            .await
            .assert_ok()["options"]
                .clone()
        }
    };
    let unknown = raw_options("nobody_here").await;
    let (decoy_challenge, without) = sign_in_options(&app, "judy").await;
    let (_, again) = sign_in_options(&app, "judy").await;
    assert_eq!(without.public_key.rp_id, "passkeys.example.org");
    // The same name gets the same decoy ids (a second look reveals nothing either), a
    // fresh challenge each time.
    let ids = |o: &RequestChallengeResponse| {
        o.public_key
            .allow_credentials
            .iter()
            .map(|c| c.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&without), ids(&again));
    assert_ne!(without.public_key.challenge, again.public_key.challenge);
    // A decoy ceremony never signs anyone in, even answered by a real authenticator.
    let token = app.token("judy", "judy-password-1").await;
    let mut device = authenticator();
    register(&app, &token, &mut device, "Key").await;
    let real_raw = raw_options("judy").await;
    // Real and decoy options have the same fields.
    let fields = |v: &Value| {
        let mut keys: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(fields(&unknown), fields(&real_raw));
    let (_, real) = sign_in_options(&app, "judy").await;
    let credential = answer(&mut device, real).await;
    verify_sign_in(&app, &decoy_challenge, &credential)
        .await
        .assert_error(
            axum::http::StatusCode::UNAUTHORIZED,
            "INCORRECT_CREDENTIALS",
        );
    // A malformed answer is a schema error, not a crash.
    verify_sign_in(&app, &decoy_challenge, &json!({"id": 3}))
        .await
        .assert_error(axum::http::StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
}

#[tokio::test]
async fn a_disabled_account_and_a_factor_reset_end_passkey_sign_in() {
    let app = app().await;
    app.user("root_admin", "root-admin-password-1", true).await;
    let kim = app.user("kim", "kim-password-1", false).await;
    let token = app.token("kim", "kim-password-1").await;
    let mut device = authenticator();
    register(&app, &token, &mut device, "Key").await;
    let admin = app.token("root_admin", "root-admin-password-1").await;

    app.api(
        "PATCH",
        &format!("/api/v2/users/{}", kim.user_id),
        Some(&admin),
        Some(json!({"enabled": false})),
    )
    .await
    .assert_ok();
    let (challenge, options) = sign_in_options(&app, "kim").await;
    // A disabled account gets decoy options; its passkey cannot answer them.
    let refused = match device.do_authentication(origin(), options) {
        Ok(credential) => {
            let credential = serde_json::to_value(credential).expect("json");
            verify_sign_in(&app, &challenge, &credential).await.status
        }
        Err(_) => axum::http::StatusCode::UNAUTHORIZED,
    };
    assert_eq!(refused, axum::http::StatusCode::UNAUTHORIZED);
    app.api(
        "PATCH",
        &format!("/api/v2/users/{}", kim.user_id),
        Some(&admin),
        Some(json!({"enabled": true})),
    )
    .await
    .assert_ok();

    // The administrator's "also remove two-factor devices" removes passkeys too.
    app.api(
        "POST",
        &format!("/api/v2/users/{}/reset-password", kim.user_id),
        Some(&admin),
        Some(json!({"password": "Kim-temporary-9x!", "reset_mfa": true})),
    )
    .await
    .assert_ok();
    assert_eq!(passkeys_of(&app, "kim").await, 0);
}

#[tokio::test]
async fn the_owner_keeps_their_last_factor_while_one_is_required() {
    let app = app().await;
    app.user("root_admin", "root-admin-password-1", true).await;
    let lena = app.user("lena", "lena-password-1", false).await;
    let token = app.token("lena", "lena-password-1").await;
    let mut device = authenticator();
    let registered = register(&app, &token, &mut device, "Key").await;
    let token = registered["token"].as_str().expect("token").to_string();
    let id = registered["id"].as_str().expect("id").to_string();
    let admin = app.token("root_admin", "root-admin-password-1").await;
    app.api(
        "PATCH",
        &format!("/api/v2/users/{}", lena.user_id),
        Some(&admin),
        Some(json!({"require_mfa": true})),
    )
    .await
    .assert_ok();
    app.api(
        "DELETE",
        &format!("/api/v2/users/@me/passkeys/{id}"),
        Some(&token),
        None,
    )
    .await
    .assert_error(
        axum::http::StatusCode::BAD_REQUEST,
        "MFA_REQUIRED_BY_POLICY",
    );
    assert_eq!(passkeys_of(&app, "lena").await, 1);
    // The administrator may (a lost key); the user is then held at enrolment.
    app.api(
        "DELETE",
        &format!("/api/v2/users/{}/passkeys/{id}", lena.user_id),
        Some(&admin),
        None,
    )
    .await
    .assert_ok();
    assert_eq!(passkeys_of(&app, "lena").await, 0);
}

#[tokio::test]
async fn the_sign_in_page_signs_in_with_a_passkey_and_refuses_without_its_csrf_token() {
    let app = app().await;
    app.user("mona", "mona-password-1", false).await;
    let token = app.token("mona", "mona-password-1").await;
    let mut device = authenticator();
    register(&app, &token, &mut device, "Key").await;

    let mut browser = app.client();
    let page = browser.get("/login").await;
    assert!(
        page.body.contains("data-passkey=\"login\""),
        "the button is offered"
    );
    // Without the page's token nothing starts.
    let refused = browser
        .post_json("/login/passkey/options", json!({"username": "mona"}), false)
        .await;
    assert_eq!(refused.status, axum::http::StatusCode::FORBIDDEN);

    let started = browser
        .post_json("/login/passkey/options", json!({"username": "mona"}), true)
        .await;
    assert_eq!(
        started.status,
        axum::http::StatusCode::OK,
        "{}",
        started.body
    );
    let started: Value = serde_json::from_str(&started.body).expect("json");
    let options: RequestChallengeResponse =
        serde_json::from_value(json!({"publicKey": started["options"]})).expect("options");
    let credential = answer(&mut device, options).await;
    let finished = browser
        .post_json(
            "/login/passkey",
            json!({"challenge_id": started["challenge_id"], "credential": credential}),
            true,
        )
        .await;
    assert_eq!(
        finished.status,
        axum::http::StatusCode::OK,
        "{}",
        finished.body
    );
    let finished: Value = serde_json::from_str(&finished.body).expect("json");
    assert_eq!(finished["redirect"], "/panel/dashboard");
    let dashboard = browser.get("/panel/dashboard").await;
    assert_eq!(dashboard.status, axum::http::StatusCode::OK);
    assert!(dashboard.body.contains("mona"));

    // A garbled answer is a clear message, not a crash, and signs nobody in.
    let mut other = app.client();
    other.get("/login").await;
    let garbled = other
        .post_json(
            "/login/passkey",
            json!({"challenge_id": "x", "credential": {"id": 1}}),
            true,
        )
        .await;
    assert_eq!(garbled.status, axum::http::StatusCode::BAD_REQUEST);
    assert!(garbled.body.contains("message"));
    other
        .get("/panel/dashboard")
        .await
        .assert_redirect("/login");
}

#[tokio::test]
async fn without_a_public_url_the_sign_in_page_offers_no_passkey() {
    let app = spawn_app_with(|raw| raw.bind = Some("0.0.0.0:8000".into())).await;
    let page = app.client().get("/login").await;
    assert!(!page.body.contains("data-passkey"));
}

#[tokio::test]
async fn on_a_loopback_bind_passkeys_work_at_localhost_without_a_public_url() {
    // The embedded default: PASSGATE_PUBLIC_URL unset, bound to 127.0.0.1:8000.
    let app = spawn_app().await;
    assert_eq!(app.state.config.public_url, None);
    let page = app.client().get("/login").await;
    assert!(page.body.contains("data-passkey=\"login\""));
    app.user("walt", "walt-password-1", false).await;
    let token = app.token("walt", "walt-password-1").await;
    let started = app
        .api("POST", "/api/v2/users/@me/passkeys", Some(&token), None)
        .await;
    let data = started.assert_ok().clone();
    assert_eq!(data["options"]["rp"]["id"], "localhost", "{data}");
    // A browser at http://localhost:8000 registers one, and signs in with it.
    let localhost = Url::parse("http://localhost:8000").expect("origin");
    let mut device = authenticator();
    let options: CreationChallengeResponse =
        serde_json::from_value(json!({"publicKey": data["options"]})).expect("creation options");
    let credential = device
        .do_registration(localhost.clone(), options)
        .expect("the authenticator registers");
    let challenge = data["challenge_id"].as_str().expect("challenge_id");
    app.api(
        "POST",
        &format!("/api/v2/users/@me/passkeys/{challenge}/verify"),
        Some(&token),
        Some(json!({"name": "laptop", "credential": credential})),
    )
    .await
    .assert_ok();
    let (challenge, options) = sign_in_options(&app, "walt").await;
    let credential = device
        .do_authentication(localhost, options)
        .expect("the authenticator signs");
    let credential = serde_json::to_value(credential).expect("json");
    let signed_in = verify_sign_in(&app, &challenge, &credential).await;
    assert!(signed_in.assert_ok()["token"].is_string());
}

#[tokio::test]
async fn the_security_page_lists_and_removes_a_passkey_with_the_current_password() {
    let app = app().await;
    app.user("nora", "nora-password-1", false).await;
    let token = app.token("nora", "nora-password-1").await;
    let mut device = authenticator();
    register(&app, &token, &mut device, "Desk key").await;
    let passkey_id = passkey_ids(&app, "nora").await[0];

    let mut browser = app.client();
    browser.login("nora", "nora-password-1").await;
    // The password alone is not enough now: sign in with the passkey through the page.
    browser.get("/login").await;
    let started = browser
        .post_json("/login/passkey/options", json!({"username": "nora"}), true)
        .await;
    let started: Value = serde_json::from_str(&started.body).expect("json");
    let options = serde_json::from_value(json!({"publicKey": started["options"]})).expect("o");
    let credential = answer(&mut device, options).await;
    browser
        .post_json(
            "/login/passkey",
            json!({"challenge_id": started["challenge_id"], "credential": credential}),
            true,
        )
        .await;
    let page = browser.get("/panel/security").await;
    assert_eq!(page.status, axum::http::StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Desk key"));

    let action = format!("/panel/security/passkeys/{passkey_id}/remove");
    // Without the CSRF token, or with a wrong password: nothing is removed.
    let forged = browser
        .post_without_csrf(&action, &[("current_password", "nora-password-1")])
        .await;
    assert_eq!(forged.status, axum::http::StatusCode::FORBIDDEN);
    browser
        .post(&action, &[("current_password", "wrong-password")])
        .await
        .assert_redirect("/panel/security?refused=password");
    assert_eq!(passkey_ids(&app, "nora").await.len(), 1);
    // Someone else's passkey id is not found for this user.
    app.user("olaf", "olaf-password-1", false).await;
    let olaf = app.token("olaf", "olaf-password-1").await;
    let mut other = authenticator();
    register(&app, &olaf, &mut other, "Olaf's").await;
    let olafs = passkey_ids(&app, "olaf").await[0];
    let refused = browser
        .post(
            &format!("/panel/security/passkeys/{olafs}/remove"),
            &[("current_password", "nora-password-1")],
        )
        .await;
    assert_eq!(refused.status, axum::http::StatusCode::NOT_FOUND);
    assert_eq!(passkey_ids(&app, "olaf").await.len(), 1);

    browser
        .post(&action, &[("current_password", "nora-password-1")])
        .await
        .assert_redirect("/panel/security?done=removed");
    assert!(passkey_ids(&app, "nora").await.is_empty());
    // This browser stays signed in (a fresh session after the stamp rotated).
    let page = browser.get("/panel/security?done=removed").await;
    assert_eq!(page.status, axum::http::StatusCode::OK);
    assert!(page.body.contains("Passkey removed"));
    assert!(!page.body.contains("Desk key"));
}

pub(crate) async fn passkey_ids(app: &TestApp, name: &str) -> Vec<i32> {
    use passgate::entities::passkeys;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let user = app.find(name).await;
    passkeys::Entity::find()
        .filter(passkeys::Column::UserId.eq(user.user_id))
        .all(&app.db)
        .await
        .expect("passkeys")
        .into_iter()
        .map(|p| p.id)
        .collect()
}

#[tokio::test]
async fn a_passkey_answers_the_code_page_for_its_owner_only() {
    let app = app().await;
    app.user("pia", "pia-password-1", false).await;
    app.user("quinn", "quinn-password-1", false).await;
    let pia = app.token("pia", "pia-password-1").await;
    let quinn = app.token("quinn", "quinn-password-1").await;
    let mut pia_key = authenticator();
    let mut quinn_key = authenticator();
    register(&app, &pia, &mut pia_key, "Pia's").await;
    register(&app, &quinn, &mut quinn_key, "Quinn's").await;

    let mut browser = app.client();
    browser
        .login("pia", "pia-password-1")
        .await
        .assert_redirect("/login/second_factor");
    let page = browser.get("/login/second_factor").await;
    assert!(page.body.contains("data-passkey=\"second-factor\""));

    // Quinn's passkey cannot finish Pia's second step.
    let started = browser
        .post_json("/login/second_factor/passkey/options", json!({}), true)
        .await;
    let started: Value = serde_json::from_str(&started.body).expect("json");
    let options: RequestChallengeResponse =
        serde_json::from_value(json!({"publicKey": started["options"]})).expect("options");
    if let Ok(wrong) = quinn_key.do_authentication(origin(), options.clone()) {
        let refused = browser
            .post_json(
                "/login/second_factor/passkey",
                json!({"challenge_id": started["challenge_id"], "credential": wrong}),
                true,
            )
            .await;
        assert_eq!(refused.status, axum::http::StatusCode::UNAUTHORIZED);
    }
    browser
        .get("/panel/dashboard")
        .await
        .assert_redirect("/login");

    // Pia's own passkey does (a new ceremony: the refused one is used up).
    let started = browser
        .post_json("/login/second_factor/passkey/options", json!({}), true)
        .await;
    let started: Value = serde_json::from_str(&started.body).expect("json");
    let options = serde_json::from_value(json!({"publicKey": started["options"]})).expect("o");
    let credential = answer(&mut pia_key, options).await;
    let done = browser
        .post_json(
            "/login/second_factor/passkey",
            json!({"challenge_id": started["challenge_id"], "credential": credential}),
            true,
        )
        .await;
    assert_eq!(done.status, axum::http::StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("/panel/dashboard"));
    let dashboard = browser.get("/panel/dashboard").await;
    assert_eq!(dashboard.status, axum::http::StatusCode::OK);

    // Without a pending sign-in there is nothing to answer.
    let mut stranger = app.client();
    stranger.get("/login").await;
    let nothing = stranger
        .post_json("/login/second_factor/passkey/options", json!({}), true)
        .await;
    assert_eq!(nothing.status, axum::http::StatusCode::UNAUTHORIZED);
}
