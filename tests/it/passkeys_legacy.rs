//! Passkeys from before 2026-12-06 (registered without a resident key, with a handle derived
//! from the user id) on an upgraded database: every user gets a random handle, the old
//! passkey keeps working with a typed name (and with its old handle where the device kept
//! it), the security page says it needs the username and offers to register it again, which
//! replaces it — only with the current password. And the messages a person meets (SPEC §13).

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use migration::Migrator;
use migration::sea_orm_migration::MigratorTrait;
use passgate::accounts::password::Hasher;
use passgate::accounts::secret::Secret;
use passgate::config::RawConfig;
use passgate::{AppState, db};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::prelude::CreationChallengeResponse;

use crate::helpers::{STRONG, STRONG_2, TestApp};
use crate::passkeys::{
    ORIGIN, answer, app, authenticator, expire_ceremonies, origin, passkey_ids, register,
    sign_in_options, verify_sign_in,
};
use crate::passkeys_discoverable::{
    Device, audit_count, page_finish, page_options, page_sign_in, passkey_row, verify,
};

/// A database as it was before the handles, with carol and her passkey (a credential made by
/// a real registration), upgraded in place.
async fn upgraded_with_an_old_passkey() -> (TestApp, Device) {
    // A passkey as the earlier release stored it: the same `Passkey` JSON.
    let donor = app().await;
    donor.user("carol", STRONG, false).await;
    let token = donor.token("carol", STRONG).await;
    let mut soft = authenticator();
    let registered = register(&donor, &token, &mut soft, "Old key").await;
    let id: i32 = registered["id"].as_str().expect("id").parse().expect("id");
    let old = passkey_row(&donor, id).await;

    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/old.db?mode=rwc", dir.path().display());
    let conn = db::connect(&url, 2).await.unwrap();
    let before = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261206_000004_passkey_handles")
        .expect("the handles migration");
    Migrator::up(&conn, Some(before as u32)).await.unwrap();
    let hash = Hasher::new(1)
        .hash(&Secret::new(STRONG.into()))
        .await
        .unwrap();
    for (sql, values) in [
        (
            "INSERT INTO users (username, password, email, enabled, superuser, lang, created, \
             last_update, last_ip, security_stamp) VALUES ('carol', ?, NULL, ?, ?, 'en', \
             '2026-11-05 10:00:00', '2026-11-05 10:00:00', '', 'stamp-carol')",
            vec![hash.into(), true.into(), false.into()],
        ),
        (
            "INSERT INTO users (username, password, email, enabled, superuser, lang, created, \
             last_update, last_ip, security_stamp) VALUES ('dave', 'x', NULL, ?, ?, 'en', \
             '2026-11-05 10:00:00', '2026-11-05 10:00:00', '', 'stamp-dave')",
            vec![true.into(), true.into()],
        ),
        (
            "INSERT INTO passkeys (user_id, credential_id, name, credential, created) \
             SELECT user_id, ?, 'Old key', ?, '2026-11-06 10:00:00' FROM users \
             WHERE username = 'carol'",
            vec![
                old.credential_id.clone().into(),
                old.credential.clone().into(),
            ],
        ),
    ] {
        conn.execute_raw(Statement::from_sql_and_values(
            conn.get_database_backend(),
            sql,
            values,
        ))
        .await
        .expect(sql);
    }
    conn.close().await.unwrap();

    let conn = db::open(&url, 4).await.expect("upgrade in place");
    let config = RawConfig {
        database_url: Some(url.clone()),
        public_url: Some(ORIGIN.into()),
        ..RawConfig::default()
    }
    .validate()
    .unwrap();
    let state = AppState::load(conn, config).await.unwrap();
    let upgraded = TestApp::from_parts(state, url, passgate::app, dir);
    let carol = upgraded.find("carol").await;
    let legacy = Sha256::digest(format!("passgate user {}", carol.user_id).as_bytes());
    let device = Device {
        soft,
        credential_id: old.credential_id,
        handle: B64.encode(&legacy[..16]),
        token: String::new(),
    };
    (upgraded, device)
}

#[tokio::test]
async fn an_upgrade_gives_every_user_a_handle_and_old_passkeys_keep_working() {
    let (app, mut device) = upgraded_with_an_old_passkey().await;
    let carol = app.find("carol").await;
    let dave = app.find("dave").await;
    for user in [&carol, &dave] {
        let handle = user
            .passkey_handle
            .as_deref()
            .expect("a handle after the upgrade");
        assert_eq!(handle.len(), 32);
        assert!(hex::decode(handle).is_ok());
    }
    assert_ne!(carol.passkey_handle, dave.passkey_handle);
    let id = passkey_ids(&app, "carol").await[0];
    assert!(!passkey_row(&app, id).await.discoverable);

    // With the name typed, as before.
    let (challenge, options) = sign_in_options(&app, "carol").await;
    let credential = answer(&mut device.soft, options).await;
    verify_sign_in(&app, &challenge, &credential)
        .await
        .assert_ok();
    // A device that kept it as a resident key answers with the old handle: still carol's.
    let (challenge, options) = crate::passkeys_discoverable::login_options(&app, json!({})).await;
    let credential = device.answer_discoverable(&options, None);
    verify(&app, &challenge, &credential).await.assert_ok();
    // The old handle of someone else is not carol's.
    let other = Sha256::digest(format!("passgate user {}", dave.user_id).as_bytes());
    let (challenge, options) = crate::passkeys_discoverable::login_options(&app, json!({})).await;
    let forged = device.answer_discoverable(&options, Some(&B64.encode(&other[..16])));
    verify(&app, &challenge, &forged)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_CREDENTIALS");
}

/// A browser signed in through the sign-in page with the passkey of `device` — for the name
/// typed, or with nothing typed — on the page the script goes to.
async fn passkey_browser<'a>(
    app: &'a TestApp,
    name: Option<&str>,
    device: &mut Device,
) -> crate::helpers::Client<'a> {
    let (mut browser, done) = match name {
        Some(name) => {
            let mut browser = app.client();
            let started = page_options(&mut browser, Some(name)).await;
            let options =
                serde_json::from_value(json!({"publicKey": started["options"]})).expect("o");
            let credential = answer(&mut device.soft, options).await;
            let done = page_finish(&mut browser, &started, credential).await;
            (browser, done)
        }
        None => page_sign_in(app, device).await,
    };
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let done: Value = serde_json::from_str(&done.body).expect("json");
    let page = browser
        .get(done["redirect"].as_str().expect("redirect"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    browser
}

#[tokio::test]
async fn the_security_page_marks_an_old_passkey_and_registers_it_again_with_the_password() {
    let (app, mut device) = upgraded_with_an_old_passkey().await;
    let old_id = passkey_ids(&app, "carol").await[0];
    let mut browser = passkey_browser(&app, Some("carol"), &mut device).await;
    let page = browser.get("/panel/security").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Needs your username"), "{}", page.body);
    assert!(page.body.contains("type your username first"));
    assert!(page.body.contains(&format!("data-replaces=\"{old_id}\"")));

    // Registering it again needs the current password: a wrong one starts nothing.
    let refused = browser
        .post_json(
            "/panel/security/passkeys/options",
            json!({"replaces": old_id, "current_password": "Not-Carols-Password-1"}),
            true,
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused.body.contains("current password"),
        "{}",
        refused.body
    );
    // Someone else's passkey cannot be the one replaced.
    app.user("erin", STRONG_2, false).await;
    let erin = app.token("erin", STRONG_2).await;
    Device::register(&app, &erin, "Erin's").await;
    let erins = passkey_ids(&app, "erin").await[0];
    let foreign = browser
        .post_json(
            "/panel/security/passkeys/options",
            json!({"replaces": erins, "current_password": STRONG}),
            true,
        )
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "{}", foreign.body);

    // With it: the old credential is not excluded, so the same device can answer.
    let started = browser
        .post_json(
            "/panel/security/passkeys/options",
            json!({"replaces": old_id, "current_password": STRONG}),
            true,
        )
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let started: Value = serde_json::from_str(&started.body).expect("json");
    let excluded = started["options"]["excludeCredentials"].to_string();
    assert!(!excluded.contains(&device.credential_id), "{excluded}");
    let options: CreationChallengeResponse =
        serde_json::from_value(json!({"publicKey": started["options"]})).expect("options");
    let credential = device
        .soft
        .do_registration(origin(), options)
        .expect("registers");
    let done = browser
        .post_json(
            "/panel/security/passkeys",
            json!({"challenge_id": started["challenge_id"], "credential": credential}),
            true,
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("done=registered_again"), "{}", done.body);

    // One passkey, the new one, with the old one's name; it signs in with nothing typed.
    let ids = passkey_ids(&app, "carol").await;
    assert_eq!(ids.len(), 1);
    assert_ne!(ids[0], old_id);
    let row = passkey_row(&app, ids[0]).await;
    assert!(row.discoverable);
    assert_eq!(row.name, "Old key");
    let page = browser.get("/panel/security?done=registered_again").await;
    assert!(page.body.contains("registered again"), "{}", page.body);
    assert!(!page.body.contains("Needs your username"));
    let carol = app.find("carol").await;
    let mut renewed = Device {
        soft: device.soft,
        credential_id: row.credential_id,
        handle: B64.encode(hex::decode(carol.passkey_handle.unwrap()).unwrap()),
        token: String::new(),
    };
    crate::passkeys_discoverable::usernameless(&app, &mut renewed)
        .await
        .assert_ok();
    assert_eq!(
        audit_count(
            &app,
            "passkey_added",
            &format!(
                "passkey={} discoverable=true replaced={old_id} name=Old key",
                ids[0]
            )
        )
        .await,
        1
    );
}

#[tokio::test]
async fn passkey_messages_say_what_happened() {
    let app = app().await;
    app.user("root_admin", STRONG, true).await;
    app.user("nora", STRONG_2, false).await;

    // A stale form turning password sign-in off without a passkey: the reason, not "could
    // not be processed".
    let mut browser = app.client();
    browser.login("nora", STRONG_2).await;
    browser.get("/panel/security").await;
    browser
        .post("/panel/security/password_sign_in", &[("disable", "true")])
        .await
        .assert_redirect("/panel/security?refused=no_passkey");
    let page = browser.get("/panel/security?refused=no_passkey").await;
    assert!(
        page.body
            .contains("only be turned off while you have a passkey"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("could not be processed"));

    // The sign-in page's words for a cancelled or impossible prompt.
    let login = app.client().get("/login").await;
    assert!(
        login
            .body
            .contains("Cancelled, or this device has no passkey for this account."),
        "{}",
        login.body
    );
    assert!(login.body.contains("autocomplete=\"username webauthn\""));

    // Add "Desk key"; the audit names it.
    let token = app.token("nora", STRONG_2).await;
    let mut device = Device::register(&app, &token, "Desk key").await;
    let mut admin = app.client();
    admin.login("root_admin", STRONG).await;
    let audit = admin.get("/panel/audit").await;
    assert!(
        audit.body.contains("Passkey “Desk key” registered"),
        "{}",
        audit.body
    );

    // Without JavaScript, the code page of a user whose only factor is a passkey speaks of
    // signing in, not of adding one.
    let mut plain = app.client();
    plain
        .login("nora", STRONG_2)
        .await
        .assert_redirect("/login/second_factor");
    let code_page = plain.get("/login/second_factor").await;
    assert!(
        code_page
            .body
            .contains("Signing in with your passkey needs JavaScript"),
        "{}",
        code_page.body
    );
    assert!(!code_page.body.contains("Adding a passkey"));

    // A ceremony left too long, and a passkey removed meanwhile: each says so.
    let mut page_client = app.client();
    let started = page_options(&mut page_client, None).await;
    let credential = device.answer_discoverable(&started["options"], None);
    expire_ceremonies(&app).await;
    let late = page_finish(&mut page_client, &started, credential).await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED);
    assert!(late.body.contains("took too long"), "{}", late.body);

    // Password sign-in off, then the last passkey removed: the page says it is on again.
    let mut owner = passkey_browser(&app, None, &mut device).await;
    owner
        .post("/panel/security/password_sign_in", &[("disable", "true")])
        .await
        .assert_redirect("/panel/security");
    assert!(app.find("nora").await.disable_password_auth);
    let id = passkey_ids(&app, "nora").await[0];
    owner
        .post(
            &format!("/panel/security/passkeys/{id}/remove"),
            &[("current_password", STRONG_2)],
        )
        .await
        .assert_redirect("/panel/security?done=removed_password_on");
    let page = owner.get("/panel/security?done=removed_password_on").await;
    assert!(
        page.body.contains("password sign-in is on again"),
        "{}",
        page.body
    );
    assert!(!app.find("nora").await.disable_password_auth);
    let audit = admin.get("/panel/audit").await;
    assert!(
        audit.body.contains("Passkey “Desk key” removed, 0 left"),
        "{}",
        audit.body
    );

    // The removed passkey, tried again: not registered here any more.
    let (_, gone) = page_sign_in(&app, &mut device).await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED);
    assert!(gone.body.contains("not registered here"), "{}", gone.body);
}
