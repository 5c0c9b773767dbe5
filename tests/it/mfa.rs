//! Two-factor sign-in (SPEC §9) from the attacker's side: enrolment, codes, replay, brute
//! force, recovery codes, removal, the enrolment gate, and what the database holds.

use axum::http::StatusCode;
use passgate::accounts::mfa::totp;
use passgate::cli::{Command, UserCommand, run_admin};
use passgate::config::Config;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::*;

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The current step, after waiting out the last five seconds of a step, so that the step
/// does not change between computing a code and the server checking it (also on a loaded
/// machine, where a request can take a second or two).
pub(crate) async fn stable_step() -> i64 {
    while unix_now().rem_euclid(totp::STEP_SECONDS) >= totp::STEP_SECONDS - 5 {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    totp::step_at(unix_now())
}

/// A device enrolled by its owner through the API.
pub(crate) struct Enrolled {
    secret: Vec<u8>,
    base32: String,
    pub(crate) device_id: String,
    pub(crate) backup_codes: Vec<String>,
    /// The owner's fresh token (the enrolment ended the old one).
    pub(crate) token: String,
}

impl Enrolled {
    pub(crate) fn code(&self, step: i64) -> String {
        totp::code_at_step(&self.secret, step)
    }
}

/// Enrols a device for the owner of `token`, verifying with the previous step's code so
/// that the current step stays free for a sign-in.
pub(crate) async fn enrol(app: &TestApp, token: &str) -> Enrolled {
    let started = app
        .api("POST", "/api/v2/users/@me/totp", Some(token), None)
        .await;
    let otp = started.assert_ok()["otp"].clone();
    let base32 = otp["totp_secret"].as_str().expect("secret").to_string();
    let secret = decode_base32(&base32);
    assert_eq!(secret.len(), 20);
    assert!(
        otp["otpauth_uri"]
            .as_str()
            .unwrap()
            .contains(&format!("secret={base32}"))
    );
    let id = otp["id"].as_str().expect("id").to_string();
    let step = stable_step().await;
    let verified = app
        .api(
            "POST",
            &format!("/api/v2/users/@me/totp/{id}/verify"),
            Some(token),
            Some(json!({"name": "phone", "totp": totp::code_at_step(&secret, step - 1)})),
        )
        .await;
    let data = verified.assert_ok().clone();
    Enrolled {
        secret,
        base32,
        device_id: data["id"].as_str().expect("device id").to_string(),
        backup_codes: data["backup_codes"]
            .as_array()
            .expect("codes")
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect(),
        token: data["token"].as_str().expect("fresh token").to_string(),
    }
}

async fn login(app: &TestApp, username: &str, extra: Value) -> ApiResponse {
    let mut body = json!({"username": username, "password": STRONG});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    app.api("POST", "/api/v2/auth/login", None, Some(body))
        .await
}

#[tokio::test]
async fn enrol_then_sign_in_with_a_code_and_the_code_is_used_once() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let old_token = app.token("alice", STRONG).await;
    let device = enrol(&app, &old_token).await;
    assert_eq!(device.backup_codes.len(), 10);
    for code in &device.backup_codes {
        assert_eq!(code.len(), 19, "{code}");
        assert_eq!(code.matches('-').count(), 3);
    }
    // The enrolment rotated the stamp: the old token ends, the new one works.
    app.api("GET", "/api/v2/users/@me", Some(&old_token), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    let me = app
        .api("GET", "/api/v2/users/@me", Some(&device.token), None)
        .await;
    assert_eq!(me.assert_ok()["mfa_enabled"], true);

    // The password alone no longer signs in.
    login(&app, "alice", json!({}))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "MFA_REQUIRED");
    let step = stable_step().await;
    let signed_in = login(&app, "alice", json!({"totp": device.code(step)})).await;
    let token = signed_in.assert_ok()["token"].as_str().unwrap().to_string();
    let claims = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&base64_url_decode(claims)).unwrap();
    assert_eq!(claims["mfa"], true);
    // The same code again: refused, on this instance and on another.
    login(&app, "alice", json!({"totp": device.code(step)}))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_MFA");
    let other = app.second_instance().await;
    login(&other, "alice", json!({"totp": device.code(step)}))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_MFA");
    // The verify code (one step back) is also spent.
    login(&app, "alice", json!({"totp": device.code(step - 1)}))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_MFA");
}

fn base64_url_decode(text: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .expect("base64url")
}

#[tokio::test]
async fn a_later_step_or_one_two_steps_back_is_refused() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    let device = enrol(&app, &token).await;
    let step = stable_step().await;
    for refused in [step + 1, step + 2, step - 2] {
        login(&app, "alice", json!({"totp": device.code(refused)}))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_MFA");
    }
    login(&app, "alice", json!({"totp": device.code(step)}))
        .await
        .assert_ok();
}

#[tokio::test]
async fn a_wrong_password_is_incorrect_credentials_whatever_codes_are_sent() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    let device = enrol(&app, &token).await;
    let step = stable_step().await;
    for extra in [
        json!({"totp": device.code(step)}),
        json!({"backup_code": device.backup_codes[0]}),
        json!({"totp": "nonsense"}),
        json!({}),
    ] {
        let mut body = json!({"username": "alice", "password": STRONG_2});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        app.api("POST", "/api/v2/auth/login", None, Some(body))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_CREDENTIALS");
    }
    // None of these spent the code.
    login(&app, "alice", json!({"totp": device.code(step)}))
        .await
        .assert_ok();
}

#[tokio::test]
async fn guessing_codes_hits_the_throttle_and_missing_codes_do_not_count() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    let device = enrol(&app, &token).await;
    for _ in 0..8 {
        login(&app, "alice", json!({}))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "MFA_REQUIRED");
    }
    let step = stable_step().await;
    let wrong = format!(
        "{:06}",
        (device.code(step).parse::<u32>().unwrap() + 1) % 1_000_000
    );
    for _ in 0..5 {
        login(&app, "alice", json!({"totp": wrong}))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_MFA");
    }
    let locked = login(&app, "alice", json!({"totp": device.code(step)})).await;
    locked.assert_error(StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_ATTEMPTS");
    // A sign-in without a code does not lift the lock either.
    login(&app, "alice", json!({}))
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_ATTEMPTS");
}

#[tokio::test]
async fn recovery_codes_work_once_each_and_say_how_many_are_left() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    let device = enrol(&app, &token).await;
    let first = login(
        &app,
        "alice",
        json!({"backup_code": device.backup_codes[0]}),
    )
    .await;
    let data = first.assert_ok();
    assert_eq!(data["recovery_codes_left"], 9);
    assert!(data["warning"].as_str().is_some_and(|w| !w.is_empty()));
    login(
        &app,
        "alice",
        json!({"backup_code": device.backup_codes[0]}),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_MFA");
    // Typed in lower case without dashes.
    let typed = device.backup_codes[1].replace('-', "").to_lowercase();
    let second = login(&app, "alice", json!({"backup_code": typed})).await;
    assert_eq!(second.assert_ok()["recovery_codes_left"], 8);
    // Another user's code does not open this account.
    app.user("bob", STRONG, false).await;
    let bob_token = app.token("bob", STRONG).await;
    let bob = enrol(&app, &bob_token).await;
    login(&app, "alice", json!({"backup_code": bob.backup_codes[0]}))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_MFA");
    let audit = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*) FROM audit_log WHERE action = 'recovery_code_used'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert_eq!(audit, 2);
}

#[tokio::test]
async fn renewing_recovery_codes_needs_a_code_and_replaces_them_all() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    let device = enrol(&app, &token).await;
    let step = stable_step().await;
    let wrong = format!(
        "{:06}",
        (device.code(step).parse::<u32>().unwrap() + 1) % 1_000_000
    );
    app.api(
        "POST",
        "/api/v2/users/@me/totp/recovery/renew",
        Some(&device.token),
        Some(json!({"totp": wrong})),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "INCORRECT_MFA");
    // The code as an integer, as Crafty's schema allows.
    let code: u32 = device.code(step).parse().unwrap();
    let renewed = app
        .api(
            "POST",
            "/api/v2/users/@me/totp/recovery/renew",
            Some(&device.token),
            Some(json!({"totp": code})),
        )
        .await;
    let data = renewed.assert_ok().clone();
    let fresh: Vec<String> = data["backup_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(fresh.len(), 10);
    // The stamp rotated: the token used is over, the fresh one works.
    app.api("GET", "/api/v2/users/@me", Some(&device.token), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    let new_token = data["token"].as_str().unwrap();
    app.api("GET", "/api/v2/users/@me", Some(new_token), None)
        .await
        .assert_ok();
    login(
        &app,
        "alice",
        json!({"backup_code": device.backup_codes[2]}),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_MFA");
    let used = login(&app, "alice", json!({"backup_code": fresh[0]})).await;
    assert_eq!(used.assert_ok()["recovery_codes_left"], 9);
}

#[tokio::test]
async fn nobody_reads_or_creates_another_users_factors() {
    let app = spawn_app().await;
    let admin = app.user("admin", STRONG, true).await;
    let alice = app.user("alice", STRONG, false).await;
    app.user("bob", STRONG, false).await;
    let alice_token = app.token("alice", STRONG).await;
    let admin_token = app.token("admin", STRONG).await;
    let bob_token = app.token("bob", STRONG).await;
    let alice_path = format!("/api/v2/users/{}/totp", alice.user_id);

    // An administrator cannot start an enrolment for alice (and so never sees a secret).
    app.api("POST", &alice_path, Some(&admin_token), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    // Alice's pending enrolment cannot be finished by anyone else, by any route.
    let started = app
        .api("POST", "/api/v2/users/@me/totp", Some(&alice_token), None)
        .await;
    let otp = started.assert_ok()["otp"].clone();
    let pending = otp["id"].as_str().unwrap();
    let secret = decode_base32(otp["totp_secret"].as_str().unwrap());
    let step = stable_step().await;
    let body = json!({"totp": totp::code_at_step(&secret, step)});
    app.api(
        "POST",
        &format!("/api/v2/users/@me/totp/{pending}/verify"),
        Some(&bob_token),
        Some(body.clone()),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "NOT_FOUND");
    app.api(
        "POST",
        &format!("{alice_path}/{pending}/verify"),
        Some(&admin_token),
        Some(body.clone()),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    let _ = admin;

    // Alice finishes it; the list shows names and dates, never a secret.
    let enrolled = app
        .api(
            "POST",
            &format!("/api/v2/users/@me/totp/{pending}/verify"),
            Some(&alice_token),
            Some(body),
        )
        .await;
    let device_id = enrolled.assert_ok()["id"].as_str().unwrap().to_string();
    let listed = app.api("GET", &alice_path, Some(&admin_token), None).await;
    let rows = listed.assert_ok().as_array().unwrap().clone();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["name"], "Authenticator");
    let text = listed.json.to_string();
    assert!(!text.contains(otp["totp_secret"].as_str().unwrap()));
    assert!(!text.contains("secret"));
    // Bob may not list alice's devices, nor delete one through his own account.
    app.api("GET", &alice_path, Some(&bob_token), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    app.api(
        "DELETE",
        &format!("/api/v2/users/@me/totp/{device_id}"),
        Some(&bob_token),
        None,
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "NOT_FOUND");
    app.api(
        "DELETE",
        &format!("{alice_path}/{device_id}"),
        Some(&bob_token),
        None,
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
}

#[tokio::test]
async fn a_key_without_full_access_cannot_change_its_owners_factors() {
    let app = spawn_app().await;
    let alice = app.user("alice", STRONG, false).await;
    let narrow = app.api_key(&alice, &[], false).await;
    app.api("POST", "/api/v2/users/@me/totp", Some(&narrow), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    let token = app.token("alice", STRONG).await;
    let device = enrol(&app, &token).await;
    app.api(
        "DELETE",
        &format!("/api/v2/users/@me/totp/{}", device.device_id),
        Some(&narrow),
        None,
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
}

#[tokio::test]
async fn the_last_device_stays_while_required_but_an_admin_may_remove_it() {
    let app = spawn_app().await;
    app.user("admin", STRONG, true).await;
    let alice = app.user("alice", STRONG, false).await;
    let admin_token = app.token("admin", STRONG).await;
    let token = app.token("alice", STRONG).await;
    let device = enrol(&app, &token).await;
    app.api(
        "PATCH",
        &format!("/api/v2/users/{}", alice.user_id),
        Some(&admin_token),
        Some(json!({"require_mfa": true})),
    )
    .await
    .assert_ok();
    let step = stable_step().await;
    let token = login(&app, "alice", json!({"totp": device.code(step)}))
        .await
        .assert_ok()["token"]
        .as_str()
        .unwrap()
        .to_string();
    // Alice cannot lift the requirement herself, nor remove her last device.
    app.api(
        "PATCH",
        "/api/v2/users/@me",
        Some(&token),
        Some(json!({"require_mfa": false})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    let own = format!("/api/v2/users/@me/totp/{}", device.device_id);
    app.api("DELETE", &own, Some(&token), None)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "MFA_REQUIRED_BY_POLICY");

    // The administrator removes it (a lost phone): alice's tokens end, and she is held at
    // enrolment.
    let removed = app
        .api(
            "DELETE",
            &format!("/api/v2/users/{}/totp/{}", alice.user_id, device.device_id),
            Some(&admin_token),
            None,
        )
        .await;
    assert!(removed.assert_ok().get("token").is_none());
    app.api("GET", "/api/v2/users/@me", Some(&token), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    let token = login(&app, "alice", json!({})).await.assert_ok()["token"]
        .as_str()
        .unwrap()
        .to_string();
    app.api("GET", "/api/v2/users/@me", Some(&token), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "MFA_SETUP_REQUIRED");
    // A second device can go while another stays.
    let first = enrol(&app, &token).await;
    let second = enrol(&app, &first.token).await;
    assert!(
        second.backup_codes.is_empty(),
        "codes come with the first device only"
    );
    let after = app
        .api(
            "DELETE",
            &format!("/api/v2/users/@me/totp/{}", first.device_id),
            Some(&second.token),
            None,
        )
        .await;
    let fresh = after.assert_ok()["token"].as_str().unwrap().to_string();
    app.api("GET", "/api/v2/users/@me", Some(&second.token), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    app.api("GET", "/api/v2/users/@me", Some(&fresh), None)
        .await
        .assert_ok();
}

#[tokio::test]
async fn the_enrolment_gate_holds_on_every_spelling_and_lets_keys_through() {
    let app = spawn_app_with(|raw| raw.require_mfa = Some("superusers".into())).await;
    let admin = app.user("admin", STRONG, true).await;
    app.user("alice", STRONG, false).await;
    let token = app.token("admin", STRONG).await;
    let held = |path: &'static str, method: &'static str| {
        let (app, token) = (&app, token.clone());
        async move {
            let response = app.api(method, path, Some(&token), None).await;
            assert!(
                !response.status.is_success(),
                "{method} {path}: {}",
                response.json
            );
            response
        }
    };
    held("/api/v2/users", "GET")
        .await
        .assert_error(StatusCode::FORBIDDEN, "MFA_SETUP_REQUIRED");
    held("/api/v2/users/@me", "GET")
        .await
        .assert_error(StatusCode::FORBIDDEN, "MFA_SETUP_REQUIRED");
    held("/api/v2/users/@ME/totp", "POST")
        .await
        .assert_error(StatusCode::FORBIDDEN, "MFA_SETUP_REQUIRED");
    held("/api/v2/users/@me/", "GET")
        .await
        .assert_error(StatusCode::FORBIDDEN, "MFA_SETUP_REQUIRED");
    held("/api/v2/users/@me/totp/recovery/renew", "POST")
        .await
        .assert_error(StatusCode::FORBIDDEN, "MFA_SETUP_REQUIRED");
    held("/api/v2/users/@me/permissions", "GET")
        .await
        .assert_error(StatusCode::FORBIDDEN, "MFA_SETUP_REQUIRED");
    held("/api/v2//users/@me", "GET").await;
    held("/api/v2/users/%40me", "GET").await;
    held("/api/v2/Users/@me", "GET").await;
    // A user the policy does not cover is not held.
    let alice = app.token("alice", STRONG).await;
    app.api("GET", "/api/v2/users/@me", Some(&alice), None)
        .await
        .assert_ok();
    // API keys are exempt.
    let key = app.api_key(&admin, &[], true).await;
    let me = app.api("GET", "/api/v2/users/@me", Some(&key), None).await;
    assert_eq!(me.assert_ok()["mfa_enabled"], false);
    // The enrolment itself is reachable, also spelled with %40 or a trailing slash.
    for path in ["/api/v2/users/%40me/totp", "/api/v2/users/@me/totp/"] {
        app.api("POST", path, Some(&token), None).await.assert_ok();
    }
    let device = enrol(&app, &token).await;
    app.api("GET", "/api/v2/users/@me", Some(&device.token), None)
        .await
        .assert_ok();
}

#[tokio::test]
async fn a_user_held_at_enrolment_lists_their_own_devices_and_nothing_more() {
    let app = spawn_app_with(|raw| raw.require_mfa = Some("superusers".into())).await;
    let admin = app.user("admin", STRONG, true).await;
    let alice = app.user("alice", STRONG, false).await;
    let alice_token = app.token("alice", STRONG).await;
    enrol(&app, &alice_token).await;
    let token = app.token("admin", STRONG).await;
    // What a client asks before it starts an enrolment: which devices exist (none yet).
    for path in [
        "/api/v2/users/@me/totp",
        "/api/v2/users/@me/totp/",
        "/api/v2/users/%40me/totp",
    ] {
        let listed = app.api("GET", path, Some(&token), None).await;
        assert_eq!(listed.assert_ok(), &json!([]), "{path}");
    }
    let passkeys = app
        .api("GET", "/api/v2/users/@me/passkeys", Some(&token), None)
        .await;
    assert!(passkeys.status.is_success(), "{}", passkeys.json);
    // Only one's own, and only listing: a superuser held at enrolment does not read another
    // user's devices, nor their own under their numeric id, nor change anything else.
    let others = format!("/api/v2/users/{}/totp", alice.user_id);
    let own_by_number = format!("/api/v2/users/{}/totp", admin.user_id);
    for (method, path) in [
        ("GET", others.as_str()),
        ("GET", own_by_number.as_str()),
        ("DELETE", "/api/v2/users/@me/totp/1"),
        ("POST", "/api/v2/users/@me/totp/recovery/renew"),
        ("GET", "/api/v2/users/@me"),
        ("GET", "/api/v2/users"),
    ] {
        app.api(method, path, Some(&token), None)
            .await
            .assert_error(StatusCode::FORBIDDEN, "MFA_SETUP_REQUIRED");
    }
    // Listing does not finish anything: once a device is enrolled the rest opens.
    let device = enrol(&app, &token).await;
    let listed = app
        .api("GET", "/api/v2/users/@me/totp", Some(&device.token), None)
        .await;
    assert_eq!(listed.assert_ok().as_array().map(Vec::len), Some(1));
    app.api("GET", &others, Some(&device.token), None)
        .await
        .assert_ok();
}

#[tokio::test]
async fn secrets_are_stored_encrypted() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    let device = enrol(&app, &token).await;
    let started = app
        .api("POST", "/api/v2/users/@me/totp", Some(&device.token), None)
        .await;
    let pending = started.assert_ok()["otp"]["totp_secret"]
        .as_str()
        .unwrap()
        .to_string();
    let backend = app.db.get_database_backend();
    let mut stored = String::new();
    for sql in [
        "SELECT secret FROM totp_devices",
        "SELECT secret FROM totp_enrolments",
        "SELECT code_hash FROM recovery_codes",
    ] {
        for row in app
            .db
            .query_all_raw(Statement::from_string(backend, sql))
            .await
            .unwrap()
        {
            stored.push_str(&row.try_get_by_index::<String>(0).unwrap());
            stored.push('\n');
        }
    }
    assert!(!stored.is_empty());
    for clear in [
        device.base32.clone(),
        device.base32.to_lowercase(),
        hex_of(&device.secret),
        pending.clone(),
        hex_of(&decode_base32(&pending)),
    ] {
        assert!(!stored.contains(&clear), "{clear} is stored in clear");
    }
    for code in &device.backup_codes {
        assert!(!stored.contains(code.as_str()));
        assert!(!stored.contains(&code.replace('-', "")));
    }
    let audit = app
        .db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT detail FROM audit_log",
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!audit.contains(&device.base32));
    assert!(!audit.contains(device.backup_codes[0].as_str()));
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn an_admin_reset_with_reset_mfa_removes_the_factors() {
    let app = spawn_app().await;
    app.user("admin", STRONG, true).await;
    let alice = app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    enrol(&app, &token).await;
    let admin_token = app.token("admin", STRONG).await;
    let reset = app
        .api(
            "POST",
            &format!("/api/v2/users/{}/reset-password", alice.user_id),
            Some(&admin_token),
            Some(
                json!({"password": STRONG_2, "reset_mfa": true, "require_password_change": false}),
            ),
        )
        .await;
    reset.assert_ok();
    let listed = app
        .api(
            "GET",
            &format!("/api/v2/users/{}/totp", alice.user_id),
            Some(&admin_token),
            None,
        )
        .await;
    assert!(listed.assert_ok().as_array().unwrap().is_empty());
    let body = json!({"username": "alice", "password": STRONG_2});
    app.api("POST", "/api/v2/auth/login", None, Some(body))
        .await
        .assert_ok();
}

#[tokio::test]
async fn the_cli_resets_a_users_factors() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    let device = enrol(&app, &token).await;
    let config = Config::for_database(&app.database_url);
    let output = run_admin(
        &config,
        Command::User(UserCommand::ResetMfa {
            username: "alice".into(),
        }),
    )
    .await
    .expect("reset-mfa works");
    assert!(output.contains("removed 1"), "{output}");
    app.api("GET", "/api/v2/users/@me", Some(&device.token), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    login(&app, "alice", json!({})).await.assert_ok();
}

#[tokio::test]
async fn the_web_sign_in_asks_for_the_code_and_the_pending_state_reaches_nothing_else() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    app.user("bob", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    let device = enrol(&app, &token).await;
    let mut browser = app.client();
    browser
        .login("alice", STRONG)
        .await
        .assert_redirect("/login/second_factor");
    assert!(browser.cookies.contains_key("passgate_mfa"));
    assert!(
        browser.session_cookie().is_none(),
        "nothing is signed in yet"
    );
    // Pending: the panel, the API through the cookie and the change page are all closed.
    for path in [
        "/panel/dashboard",
        "/panel/change_password",
        "/panel/security",
    ] {
        browser.get(path).await.assert_redirect("/login");
    }
    let api = browser.get("/api/v2/users/@me").await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);

    let page = browser.get("/login/second_factor").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("alice") && page.body.contains("name=\"code\""));
    // A wrong code: the page again with the reason beside the field, nothing signed in.
    let wrong = browser
        .post("/login/second_factor", &[("code", "000000")])
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("code-error"), "{}", wrong.body);
    browser
        .get("/panel/dashboard")
        .await
        .assert_redirect("/login");

    let step = stable_step().await;
    browser
        .post("/login/second_factor", &[("code", &device.code(step))])
        .await
        .assert_redirect("/panel/dashboard");
    assert!(
        !browser.cookies.contains_key("passgate_mfa"),
        "the pending state ended"
    );
    assert_eq!(browser.get("/panel/dashboard").await.status, StatusCode::OK);

    // The same code once more (another browser, same step): refused, never replayed.
    let mut again = app.client();
    again
        .login("alice", STRONG)
        .await
        .assert_redirect("/login/second_factor");
    again.get("/login/second_factor").await;
    let replay = again
        .post("/login/second_factor", &[("code", &device.code(step))])
        .await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);

    // A user without a factor signs in as before.
    let mut other = app.client();
    other
        .login("bob", STRONG)
        .await
        .assert_redirect("/panel/dashboard");
}

#[tokio::test]
async fn the_code_step_works_with_htmx_and_with_a_recovery_code() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    let device = enrol(&app, &token).await;
    let mut browser = app.client();
    let swapped = browser.hx_login("alice", STRONG).await;
    assert_eq!(swapped.status, StatusCode::OK);
    assert!(swapped.body.contains("id=\"auth-box\""));
    assert!(
        swapped.body.contains("/login/second_factor"),
        "{}",
        swapped.body
    );
    assert!(swapped.body.contains("alice"), "who is signing in is shown");

    let page = browser.get("/login/second_factor?recovery=1").await;
    assert!(page.body.contains("name=\"recovery_code\""));
    let used = browser
        .hx_post(
            "/login/second_factor",
            &[("recovery_code", &device.backup_codes[0].to_lowercase())],
        )
        .await;
    assert_eq!(
        used.header("hx-redirect"),
        Some("/panel/dashboard?recovery_codes_left=9")
    );
    let dashboard = browser.get("/panel/dashboard?recovery_codes_left=9").await;
    assert!(dashboard.body.contains("alert-warning"));
    // Spent: the same recovery code does not work twice.
    let mut again = app.client();
    again.login("alice", STRONG).await;
    again.get("/login/second_factor?recovery=1").await;
    let spent = again
        .post(
            "/login/second_factor",
            &[("recovery_code", &device.backup_codes[0])],
        )
        .await;
    assert_eq!(spent.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_forged_expired_or_outdated_pending_state_leads_back_to_the_sign_in_page() {
    let app = spawn_app().await;
    app.user("root", STRONG, true).await;
    let alice = app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    let device = enrol(&app, &token).await;

    // Forged: a cookie naming a user, without this server's signature.
    let mut forger = app.client();
    forger.get("/login").await;
    forger.cookies.insert(
        "passgate_mfa".into(),
        format!("{}.9999999999.x.y", alice.user_id),
    );
    forger
        .get("/login/second_factor")
        .await
        .assert_redirect("/login");
    let step = stable_step().await;
    forger
        .post("/login/second_factor", &[("code", &device.code(step))])
        .await
        .assert_redirect("/login");
    forger
        .get("/panel/dashboard")
        .await
        .assert_redirect("/login");

    // Outdated: an administrator resets alice between her password and her code.
    let mut browser = app.client();
    browser.login("alice", STRONG).await;
    app.reset("alice", STRONG_2, Default::default()).await;
    browser
        .get("/login/second_factor")
        .await
        .assert_redirect("/login");
}

#[tokio::test]
async fn guessing_codes_on_the_code_page_hits_the_throttle() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    let device = enrol(&app, &token).await;
    let mut browser = app.client();
    browser.login("alice", STRONG).await;
    browser.get("/login/second_factor").await;
    let mut statuses = Vec::new();
    for guess in ["111111", "222222", "333333", "444444", "555555", "666666"] {
        statuses.push(
            browser
                .post("/login/second_factor", &[("code", guess)])
                .await
                .status,
        );
    }
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    // Locked: even the right code is refused now.
    let step = stable_step().await;
    let locked = browser
        .post("/login/second_factor", &[("code", &device.code(step))])
        .await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    browser
        .get("/panel/dashboard")
        .await
        .assert_redirect("/login");
}

#[tokio::test]
async fn a_flagged_user_with_a_device_goes_password_code_then_forced_change() {
    let app = spawn_app().await;
    app.user("root", STRONG, true).await;
    app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    let device = enrol(&app, &token).await;
    app.reset("alice", STRONG_2, Default::default()).await;
    let mut browser = app.client();
    browser
        .login("alice", STRONG_2)
        .await
        .assert_redirect("/login/second_factor");
    browser.get("/login/second_factor").await;
    let step = stable_step().await;
    browser
        .post("/login/second_factor", &[("code", &device.code(step))])
        .await
        .assert_redirect("/panel/change_password");
    let page = browser.get("/panel/change_password").await;
    assert_eq!(page.status, StatusCode::OK);
    // The temporary password was proved at sign-in: the forced change needs no current one.
    assert!(
        !page.body.contains("name=\"current_password\""),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn bad_input_names_the_field_and_never_echoes_a_code() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    let started = app
        .api("POST", "/api/v2/users/@me/totp", Some(&token), None)
        .await;
    let id = started.assert_ok()["otp"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v2/users/@me/totp/{id}/verify");
    let response = app
        .api(
            "POST",
            &path,
            Some(&token),
            Some(json!({"totp": ["987654"]})),
        )
        .await;
    response.assert_error(StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
    assert!(!response.json.to_string().contains("987654"));
    app.api(
        "POST",
        &path,
        Some(&token),
        Some(json!({"totp": "123456", "extra": 1})),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
    app.api(
        "POST",
        &path,
        Some(&token),
        Some(json!({"totp": "123456", "name": "x".repeat(65)})),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
    let login = app
        .api(
            "POST",
            "/api/v2/auth/login",
            None,
            Some(json!({"username": "alice", "password": STRONG, "totp": 987654})),
        )
        .await;
    login.assert_error(StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
    assert!(!login.json.to_string().contains("987654"));
}

#[tokio::test]
async fn wrong_codes_at_renewal_count_but_typos_at_enrolment_do_not() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    let renew = "/api/v2/users/@me/totp/recovery/renew";
    // Without a device there is nothing to guess: refused, not counted.
    for _ in 0..6 {
        app.api("POST", renew, Some(&token), Some(json!({"totp": "000000"})))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "INCORRECT_MFA");
    }
    let started = app
        .api("POST", "/api/v2/users/@me/totp", Some(&token), None)
        .await;
    let otp = started.assert_ok()["otp"].clone();
    let id = otp["id"].as_str().unwrap();
    let secret = decode_base32(otp["totp_secret"].as_str().unwrap());
    let step = stable_step().await;
    let right = totp::code_at_step(&secret, step - 1);
    let wrong = format!("{:06}", (right.parse::<u32>().unwrap() + 1) % 1_000_000);
    let verify = format!("/api/v2/users/@me/totp/{id}/verify");
    for _ in 0..6 {
        app.api("POST", &verify, Some(&token), Some(json!({"totp": wrong})))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "INCORRECT_MFA");
    }
    let enrolled = app
        .api("POST", &verify, Some(&token), Some(json!({"totp": right})))
        .await;
    let token = enrolled.assert_ok()["token"].as_str().unwrap().to_string();
    let now = totp::code_at_step(&secret, stable_step().await);
    let wrong = format!("{:06}", (now.parse::<u32>().unwrap() + 1) % 1_000_000);
    for _ in 0..5 {
        app.api("POST", renew, Some(&token), Some(json!({"totp": wrong})))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "INCORRECT_MFA");
    }
    app.api("POST", renew, Some(&token), Some(json!({"totp": now})))
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_ATTEMPTS");
}

#[tokio::test]
async fn one_code_raced_on_two_instances_signs_in_once() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    let device = enrol(&app, &token).await;
    let other = app.second_instance().await;
    let step = stable_step().await;
    let code = json!({"totp": device.code(step)});
    let (first, second) = tokio::join!(
        login(&app, "alice", code.clone()),
        login(&other, "alice", code.clone())
    );
    let successes = [&first, &second]
        .iter()
        .filter(|r| r.status.is_success())
        .count();
    assert_eq!(successes, 1, "{} / {}", first.json, second.json);
    for response in [&first, &second] {
        if !response.status.is_success() {
            response.assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_MFA");
        }
    }
}

#[tokio::test]
async fn without_skew_only_the_current_step_is_accepted() {
    let app = spawn_app_with(|raw| raw.totp_skew_steps = Some("0".into())).await;
    app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    let started = app
        .api("POST", "/api/v2/users/@me/totp", Some(&token), None)
        .await;
    let otp = started.assert_ok()["otp"].clone();
    let secret = decode_base32(otp["totp_secret"].as_str().unwrap());
    let verify = format!(
        "/api/v2/users/@me/totp/{}/verify",
        otp["id"].as_str().unwrap()
    );
    let step = stable_step().await;
    let previous = json!({"totp": totp::code_at_step(&secret, step - 1)});
    app.api("POST", &verify, Some(&token), Some(previous))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "INCORRECT_MFA");
    let current = json!({"totp": totp::code_at_step(&secret, step)});
    app.api("POST", &verify, Some(&token), Some(current))
        .await
        .assert_ok();
}

#[tokio::test]
async fn an_enrolment_expires_after_ten_minutes() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    let started = app
        .api("POST", "/api/v2/users/@me/totp", Some(&token), None)
        .await;
    let otp = started.assert_ok()["otp"].clone();
    let secret = decode_base32(otp["totp_secret"].as_str().unwrap());
    let expires = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT expires, created FROM totp_enrolments",
        ))
        .await
        .unwrap()
        .unwrap();
    let (expires, created): (time::PrimitiveDateTime, time::PrimitiveDateTime) = (
        expires.try_get_by_index(0).unwrap(),
        expires.try_get_by_index(1).unwrap(),
    );
    assert_eq!(expires - created, time::Duration::minutes(10));
    app.db
        .execute_unprepared("UPDATE totp_enrolments SET expires = created")
        .await
        .unwrap();
    let step = stable_step().await;
    app.api(
        "POST",
        &format!(
            "/api/v2/users/@me/totp/{}/verify",
            otp["id"].as_str().unwrap()
        ),
        Some(&token),
        Some(json!({"totp": totp::code_at_step(&secret, step)})),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "NOT_FOUND");
}

#[tokio::test]
async fn a_pending_password_change_comes_before_the_enrolment() {
    let app = spawn_app_with(|raw| raw.require_mfa = Some("all".into())).await;
    app.user("alice", STRONG, false).await;
    app.reset(
        "alice",
        STRONG_2,
        passgate::accounts::credentials::ResetOptions::default(),
    )
    .await;
    let token = app.token("alice", STRONG_2).await;
    for (method, path) in [
        ("GET", "/api/v2/users/@me"),
        ("POST", "/api/v2/users/@me/totp"),
    ] {
        app.api(method, path, Some(&token), None)
            .await
            .assert_error(StatusCode::FORBIDDEN, "PASSWORD_CHANGE_REQUIRED");
    }
    let changed = app.patch_me(&token, json!({"password": STRONG_3})).await;
    let token = changed.assert_ok()["token"].as_str().unwrap().to_string();
    app.api("GET", "/api/v2/users/@me", Some(&token), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "MFA_SETUP_REQUIRED");
    app.api("POST", "/api/v2/auth/invalidate_tokens", Some(&token), None)
        .await
        .assert_ok();
}

/// Makes a reset link for `user_id` as `token`'s holder; returns the path `/reset/…`.
async fn reset_link(app: &TestApp, token: &str, user_id: i32, body: Value) -> String {
    let response = app
        .api(
            "POST",
            &format!("/api/v2/users/{user_id}/reset-link"),
            Some(token),
            Some(body),
        )
        .await;
    let url = response.assert_ok()["url"].as_str().unwrap().to_string();
    format!("/reset/{}", url.rsplit("/reset/").next().unwrap())
}

#[tokio::test]
async fn a_reset_link_sets_the_password_but_not_past_the_second_factor() {
    let app = spawn_app().await;
    app.user("root", STRONG, true).await;
    let alice = app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    let device = enrol(&app, &token).await;
    let root = app.token("root", STRONG).await;

    // Without reset_mfa: the password changes, the device stays, no session from the link.
    let path = reset_link(&app, &root, alice.user_id, json!({})).await;
    let mut browser = app.client();
    browser.get(&path).await;
    browser
        .post(
            &path,
            &[("new_password", STRONG_2), ("confirm_password", STRONG_2)],
        )
        .await
        .assert_redirect("/login");
    browser
        .get("/panel/dashboard")
        .await
        .assert_redirect("/login");
    let body = json!({"username": "alice", "password": STRONG_2});
    app.api("POST", "/api/v2/auth/login", None, Some(body))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "MFA_REQUIRED");
    let step = stable_step().await;
    let body = json!({"username": "alice", "password": STRONG_2, "totp": device.code(step)});
    app.api("POST", "/api/v2/auth/login", None, Some(body))
        .await
        .assert_ok();

    // With reset_mfa (a lost phone): the factors go when the link is used.
    let path = reset_link(&app, &root, alice.user_id, json!({"reset_mfa": true})).await;
    let mut browser = app.client();
    browser.get(&path).await;
    browser
        .post(
            &path,
            &[("new_password", STRONG_3), ("confirm_password", STRONG_3)],
        )
        .await
        .assert_redirect("/panel/dashboard");
    let body = json!({"username": "alice", "password": STRONG_3});
    app.api("POST", "/api/v2/auth/login", None, Some(body))
        .await
        .assert_ok();
}

#[tokio::test]
async fn require_mfa_is_set_at_creation_and_shown_in_user_rows() {
    let app = spawn_app().await;
    app.user("root", STRONG, true).await;
    let root = app.token("root", STRONG).await;
    let created = app
        .api(
            "POST",
            "/api/v2/users",
            Some(&root),
            Some(json!({"username": "carol", "password": STRONG_2, "require_mfa": true})),
        )
        .await;
    let id = created.assert_ok()["user_id"].as_str().unwrap().to_string();
    let shown = app
        .api("GET", &format!("/api/v2/users/{id}"), Some(&root), None)
        .await;
    let row = shown.assert_ok();
    assert_eq!(row["require_mfa"], true);
    assert_eq!(row["mfa_enabled"], false);
    let listed = app.api("GET", "/api/v2/users", Some(&root), None).await;
    let carol = listed
        .assert_ok()
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "carol")
        .cloned()
        .unwrap();
    assert_eq!(carol["require_mfa"], true);
    let token = app.token("carol", STRONG_2).await;
    app.api("GET", "/api/v2/users/@me", Some(&token), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "MFA_SETUP_REQUIRED");
    let device = enrol(&app, &token).await;
    let me = app
        .api("GET", "/api/v2/users/@me", Some(&device.token), None)
        .await;
    assert_eq!(me.assert_ok()["mfa_enabled"], true);
}

/// The key shown on the enrolment page (`<p class="secret"><code>ABCD EFGH …</code>`).
pub(crate) fn secret_on_page(body: &str) -> Option<Vec<u8>> {
    let start = body.find("class=\"secret\"><code>")? + "class=\"secret\"><code>".len();
    let end = start + body[start..].find("</code>")?;
    Some(decode_base32(&body[start..end].replace(' ', "")))
}

async fn require_mfa(app: &TestApp, name: &str) {
    app.db
        .execute_raw(Statement::from_string(
            app.db.get_database_backend(),
            format!("UPDATE users SET require_mfa = TRUE WHERE username = '{name}'"),
        ))
        .await
        .expect("require mfa");
}

#[tokio::test]
async fn the_seeds_walk_with_two_factor_password_change_then_enrolment_without_javascript() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    require_mfa(&app, "alice").await;
    // The administrator's reset: a temporary password that must be changed.
    app.reset("alice", STRONG_2, Default::default()).await;
    let mut browser = app.client();
    browser
        .login("alice", STRONG_2)
        .await
        .assert_redirect("/panel/change_password");
    browser.get("/panel/change_password").await;
    browser
        .post(
            "/panel/change_password",
            &[("new_password", STRONG_3), ("confirm_password", STRONG_3)],
        )
        .await;
    // Held at enrolment: everything else leads there, also spelled differently.
    for path in [
        "/panel/dashboard",
        "/panel/panel_config",
        "/panel/dashboard/",
    ] {
        browser
            .get(path)
            .await
            .assert_redirect("/panel/security/totp/setup");
    }
    for odd in [
        "//panel/dashboard",
        "/PANEL/dashboard",
        "/panel/./dashboard",
    ] {
        let page = browser.get(odd).await;
        assert_ne!(page.status, StatusCode::OK, "{odd} must not show a page");
    }
    let setup = browser.get("/panel/security/totp/setup").await;
    assert_eq!(setup.status, StatusCode::OK);
    assert!(setup.body.contains("alice"), "who is signed in is shown");
    assert!(
        !setup.body.contains("href=\"/panel/dashboard\""),
        "the navigation offers only sign-out while held"
    );

    // Start: the key is shown once, as a QR code and as text.
    let started = browser.post("/panel/security/totp", &[]).await;
    let result = started.location().expect("to the result").to_string();
    let page = browser.get(&result).await;
    assert!(page.body.contains("<svg class=\"qr\""), "a QR code");
    let secret = secret_on_page(&page.body).expect("the key as text");
    assert_eq!(secret.len(), 20);
    let again = browser.get(&result).await;
    assert!(secret_on_page(&again.body).is_none(), "shown once");
    assert!(
        again.body.contains(
            "href=\"/panel/security\" data-close-dialog>Back to the security settings</a>"
        ),
        "a user's own result leads back to their security page, not to the users: {}",
        again.body
    );
    let action = page
        .body
        .split("action=\"")
        .map(|rest| rest.split('"').next().unwrap_or(""))
        .find(|a| a.ends_with("/verify"))
        .expect("the verify form")
        .to_string();

    // A wrong code: the form again, without the key; no device.
    let wrong = browser
        .post(&action, &[("name", "Phone"), ("code", "000000")])
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(secret_on_page(&wrong.body).is_none());
    browser
        .get("/panel/dashboard")
        .await
        .assert_redirect("/panel/security/totp/setup");

    // The right code: recovery codes once, then the dashboard.
    let step = stable_step().await;
    let verified = browser
        .post(
            &action,
            &[
                ("name", "Phone"),
                ("code", &totp::code_at_step(&secret, step)),
            ],
        )
        .await;
    let codes_page = verified
        .location()
        .unwrap_or_else(|| panic!("{} {}", verified.status, verified.body))
        .to_string();
    let codes = browser.get(&codes_page).await;
    assert_eq!(
        codes.body.matches("<li><code>").count(),
        10,
        "{}",
        codes.body
    );
    assert!(
        codes
            .body
            .contains("download=\"passgate-recovery-codes.txt\"")
    );
    let reload = browser.get(&codes_page).await;
    assert_eq!(reload.body.matches("<li><code>").count(), 0, "shown once");
    assert_eq!(browser.get("/panel/dashboard").await.status, StatusCode::OK);

    // The next sign-in asks for the code.
    let mut next = app.client();
    next.login("alice", STRONG_3)
        .await
        .assert_redirect("/login/second_factor");
}

#[tokio::test]
async fn devices_on_the_security_page_are_removed_only_with_the_password_and_not_the_last_required_one()
 {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    let device = enrol(&app, &token).await;
    let mut browser = app.client();
    browser.login("alice", STRONG).await;
    browser.get("/login/second_factor").await;
    let step = stable_step().await;
    browser
        .post("/login/second_factor", &[("code", &device.code(step))])
        .await
        .assert_redirect("/panel/dashboard");
    let page = browser.get("/panel/security").await;
    assert!(page.body.contains("phone") && page.body.contains("Recovery codes left: 10"));

    let action = format!("/panel/security/totp/{}/remove", device.device_id);
    let forged = browser
        .post_without_csrf(&action, &[("current_password", STRONG)])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    browser
        .post(&action, &[("current_password", "not-the-password")])
        .await
        .assert_redirect("/panel/security?refused=password");
    require_mfa(&app, "alice").await;
    browser
        .post(&action, &[("current_password", STRONG)])
        .await
        .assert_redirect("/panel/security?refused=policy");
    let still = browser.get("/panel/security").await;
    assert!(still.body.contains("phone"), "nothing removed");

    // Renaming: one's own device only.
    browser
        .post(
            &format!("/panel/security/totp/{}/rename", device.device_id),
            &[("name", "Work phone")],
        )
        .await
        .assert_redirect("/panel/security?done=renamed");
    assert!(
        browser
            .get("/panel/security")
            .await
            .body
            .contains("Work phone")
    );
    app.user("mallory", STRONG, false).await;
    let mallory = app.token("mallory", STRONG).await;
    let theirs = enrol(&app, &mallory).await;
    let refused = browser
        .post(
            &format!("/panel/security/totp/{}/rename", theirs.device_id),
            &[("name", "mine now")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);

    // Renewing the codes needs a current code; a wrong one changes nothing.
    browser
        .post("/panel/security/totp/renew", &[("code", "000000")])
        .await
        .assert_redirect("/panel/security?refused=code");
    let step = stable_step().await;
    let renewed = browser
        .post(
            "/panel/security/totp/renew",
            &[("code", &device.code(step + 1))],
        )
        .await;
    // A later step is never accepted.
    assert_eq!(renewed.location(), Some("/panel/security?refused=code"));
}

#[tokio::test]
async fn administrators_see_2fa_require_it_on_the_edit_page_and_remove_factors_with_a_reset() {
    let app = spawn_app().await;
    app.user("admin", STRONG, true).await;
    let bob = app.user("bob", STRONG, false).await;
    let carol = app.user("carol", STRONG, false).await;
    let token = app.token("bob", STRONG).await;
    enrol(&app, &token).await;
    let mut browser = app.client();
    browser
        .login("admin", STRONG)
        .await
        .assert_redirect("/panel/dashboard");

    // The edit page's checkbox sets the requirement (a plain form).
    let edit = format!("/panel/edit_user?id={}", carol.user_id);
    let form = browser.get(&edit).await;
    assert!(form.body.contains("name=\"require_mfa\""));
    browser
        .post(
            &edit,
            &[
                ("username", "carol"),
                ("email", ""),
                ("lang", "en"),
                ("enabled", "true"),
                ("require_mfa", "true"),
                ("manager", ""),
                ("user_config_quota", "-1"),
            ],
        )
        .await;
    assert!(
        app.find("carol").await.require_mfa,
        "the requirement is set"
    );

    // The table: on for bob, required but missing for carol, off for the admin.
    let table = browser.get("/panel/panel_config").await;
    let row = |name: &str| {
        let start = table
            .body
            .find(&format!("<th scope=\"row\">{name}</th>"))
            .expect("row");
        let end = start + table.body[start..].find("</tr>").expect("row end");
        table.body[start..end].to_string()
    };
    assert!(row("bob").contains("2FA on"), "{}", row("bob"));
    assert!(row("carol").contains("2FA required, not set up"));
    assert!(row("admin").contains("2FA off"));

    // The reset dialog's checkbox removes bob's devices (a lost phone).
    let reset = format!("/panel/users/{}/reset_password", bob.user_id);
    let dialog = browser.get(&reset).await;
    assert!(dialog.body.contains("name=\"reset_mfa\""));
    browser
        .post(
            &reset,
            &[
                ("intent", "reset"),
                ("length", "16"),
                ("expires_hours", "-1"),
                ("require_password_change", "true"),
                ("reset_mfa", "true"),
            ],
        )
        .await;
    let me = app
        .api(
            "GET",
            "/api/v2/users/@me",
            Some(&app.token("admin", STRONG).await),
            None,
        )
        .await;
    me.assert_ok();
    let bob_now = app.find("bob").await;
    assert!(bob_now.require_password_change);
    let table = browser.get("/panel/panel_config").await;
    let start = table.body.find("<th scope=\"row\">bob</th>").expect("row");
    let end = start + table.body[start..].find("</tr>").expect("end");
    assert!(
        table.body[start..end].contains("2FA off"),
        "the devices are gone"
    );
}

#[tokio::test]
async fn with_htmx_the_forced_change_and_the_enrolment_swap_in_place() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    require_mfa(&app, "alice").await;
    app.reset("alice", STRONG_2, Default::default()).await;
    let mut browser = app.client();
    let forced = browser.hx_login("alice", STRONG_2).await;
    assert!(forced.body.contains("id=\"new_password\""));
    let setup = browser
        .hx_post(
            "/panel/change_password",
            &[("new_password", STRONG_3), ("confirm_password", STRONG_3)],
        )
        .await;
    assert_eq!(setup.status, StatusCode::OK);
    assert!(setup.body.contains("id=\"auth-box\"") && setup.body.contains("/panel/security/totp"));
    assert_eq!(
        setup.header("hx-push-url"),
        Some("/panel/security/totp/setup")
    );
    let enrol = browser.hx_post("/panel/security/totp", &[]).await;
    assert!(enrol.body.contains("<svg class=\"qr\""));
    let secret = secret_on_page(&enrol.body).expect("the key");
    let action = enrol
        .body
        .split("hx-post=\"")
        .map(|rest| rest.split('"').next().unwrap_or(""))
        .find(|a| a.ends_with("/verify"))
        .expect("verify")
        .to_string();
    let wrong = browser.hx_post(&action, &[("code", "000000")]).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(secret_on_page(&wrong.body).is_none() && wrong.body.contains("code-error"));
    let step = stable_step().await;
    let codes = browser
        .hx_post(&action, &[("code", &totp::code_at_step(&secret, step))])
        .await;
    assert_eq!(codes.body.matches("<li><code>").count(), 10);
    assert_eq!(browser.get("/panel/dashboard").await.status, StatusCode::OK);
}
