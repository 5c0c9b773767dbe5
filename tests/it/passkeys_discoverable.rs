//! Passkeys as people use them (SPEC §13, 2026-12-06): a sign-in with nothing typed finds
//! its user by the random handle the passkey carries; that path meets every rule the typed one
//! does; and options for a typed name have one shape whether or not the account exists or
//! has passkeys — checked from an attacker's side over many names.
//!
//! The software authenticator keeps no resident keys, so a discoverable one is played here:
//! it is handed its own credential id (as the browser finds it on the device) and answers with
//! the user handle it was registered with, exactly as a phone or security key does.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::prelude::RequestChallengeResponse;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

use crate::helpers::{Client, STRONG, STRONG_2, TestApp, TestResponse};
pub(crate) use crate::passkeys::verify_sign_in as verify;
use crate::passkeys::{app, authenticator, origin, passkey_ids, register};

/// A device holding one discoverable passkey: the software authenticator, its credential id
/// and the user handle it stored (base64url, as the browser passes them).
pub(crate) struct Device {
    pub soft: SoftPasskey,
    pub credential_id: String,
    pub handle: String,
    /// The owner's fresh login token after the registration (which ended the others).
    pub token: String,
}

impl Device {
    /// Registers a passkey for the holder of `token` and keeps what a resident key keeps.
    pub(crate) async fn register(app: &TestApp, token: &str, name: &str) -> Device {
        let mut soft = authenticator();
        let registered = register(app, token, &mut soft, name).await;
        let id: i32 = registered["id"].as_str().expect("id").parse().expect("id");
        let row = passkey_row(app, id).await;
        let owner = passgate::accounts::users::get(&app.db, row.user_id)
            .await
            .expect("the owner");
        let handle = hex::decode(owner.passkey_handle.expect("a handle")).expect("hex");
        Device {
            soft,
            credential_id: row.credential_id,
            handle: B64.encode(handle),
            token: registered["token"].as_str().expect("token").to_string(),
        }
    }

    /// The answer to options with an empty `allowCredentials`: the browser picked this
    /// device's passkey, which answers with its handle (`handle` overrides it, for attacks).
    pub(crate) fn answer_discoverable(&mut self, options: &Value, handle: Option<&str>) -> Value {
        let mut options = options.clone();
        assert_eq!(options["allowCredentials"], json!([]), "{options}");
        options["allowCredentials"] = json!([{"type": "public-key", "id": self.credential_id}]);
        let options: RequestChallengeResponse =
            serde_json::from_value(json!({"publicKey": options})).expect("request options");
        let credential = self
            .soft
            .do_authentication(origin(), options)
            .expect("the authenticator signs");
        let mut credential = serde_json::to_value(credential).expect("json");
        credential["response"]["userHandle"] = json!(handle.unwrap_or(&self.handle));
        credential
    }
}

pub(crate) async fn passkey_row(app: &TestApp, id: i32) -> passgate::entities::passkeys::Model {
    use sea_orm::EntityTrait;
    passgate::entities::passkeys::Entity::find_by_id(id)
        .one(&app.db)
        .await
        .expect("query")
        .expect("the passkey")
}

/// `POST /auth/passkey/login/options` with `body`: the challenge id and the options.
pub(crate) async fn login_options(app: &TestApp, body: Value) -> (String, Value) {
    let data = app
        .api(
            "POST",
            "/api/v2/auth/passkey/login/options",
            None,
            Some(body),
        )
        .await
        .assert_ok()
        .clone();
    (
        data["challenge_id"].as_str().expect("id").to_string(),
        data["options"].clone(),
    )
}

/// Signs in with nothing typed through the API.
pub(crate) async fn usernameless(
    app: &TestApp,
    device: &mut Device,
) -> crate::helpers::ApiResponse {
    let (challenge, options) = login_options(app, json!({})).await;
    let credential = device.answer_discoverable(&options, None);
    verify(app, &challenge, &credential).await
}

/// The sign-in page's script, first half: the options for the name typed (or none).
pub(crate) async fn page_options(browser: &mut Client<'_>, name: Option<&str>) -> Value {
    browser.get("/login").await;
    let started = browser
        .post_json("/login/passkey/options", json!({ "username": name }), true)
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    serde_json::from_str(&started.body).expect("json")
}

/// The second half: the device's answer to the options `started`.
pub(crate) async fn page_finish(
    browser: &mut Client<'_>,
    started: &Value,
    credential: Value,
) -> TestResponse {
    browser
        .post_json(
            "/login/passkey",
            json!({"challenge_id": started["challenge_id"], "credential": credential}),
            true,
        )
        .await
}

/// A sign-in on the sign-in page with nothing typed: the browser, and the finish's answer.
pub(crate) async fn page_sign_in<'a>(
    app: &'a TestApp,
    device: &mut Device,
) -> (Client<'a>, TestResponse) {
    let mut browser = app.client();
    let started = page_options(&mut browser, None).await;
    assert_eq!(started["options"]["allowCredentials"], json!([]));
    let credential = device.answer_discoverable(&started["options"], None);
    let finished = page_finish(&mut browser, &started, credential).await;
    (browser, finished)
}

#[tokio::test]
async fn a_passkey_signs_in_with_nothing_typed_by_a_random_handle_that_survives_a_rename() {
    let app = app().await;
    let alice = app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;

    // The registration asks for a discoverable credential; its user id is the handle: 16
    // bytes, not the name, not derived from the id (two users never share one).
    let started = app
        .api("POST", "/api/v2/users/@me/passkeys", Some(&token), None)
        .await;
    let creation = started.assert_ok()["options"].clone();
    assert_eq!(
        creation["authenticatorSelection"]["residentKey"],
        "preferred"
    );
    let user_id = B64
        .decode(creation["user"]["id"].as_str().expect("id"))
        .expect("b64");
    assert_eq!(user_id.len(), 16);
    assert_ne!(user_id, b"alice".to_vec());
    let stored = hex::decode(app.find("alice").await.passkey_handle.expect("handle")).unwrap();
    assert_eq!(user_id, stored);
    let bob = app.user("bob", STRONG_2, false).await;
    assert_ne!(bob.passkey_handle, alice.passkey_handle);

    let mut device = Device::register(&app, &token, "Laptop").await;

    // Nothing typed: the options name no credential, the passkey names its user.
    let (challenge, options) = login_options(&app, json!({})).await;
    assert_eq!(options["allowCredentials"], json!([]));
    assert_eq!(options["userVerification"], "required");
    let credential = device.answer_discoverable(&options, None);
    let signed_in = verify(&app, &challenge, &credential).await;
    let data = signed_in.assert_ok();
    assert_eq!(data["user_id"], json!(alice.user_id.to_string()));
    assert_eq!(data["page"], "/panel/dashboard");
    let me = app
        .api("GET", "/api/v2/users/@me", data["token"].as_str(), None)
        .await;
    assert_eq!(me.assert_ok()["username"], "alice");

    // A rename keeps the handle: the passkey still finds its user.
    let admin = app.user("root_admin", STRONG, true).await;
    let _ = admin;
    let admin_token = app.token("root_admin", STRONG).await;
    app.api(
        "PATCH",
        &format!("/api/v2/users/{}", alice.user_id),
        Some(&admin_token),
        Some(json!({"username": "alice_w"})),
    )
    .await
    .assert_ok();
    let renamed = usernameless(&app, &mut device).await;
    assert_eq!(
        renamed.assert_ok()["user_id"],
        json!(alice.user_id.to_string())
    );

    // The sign-in page does the same (a blank name is nothing typed): empty options, then
    // the dashboard.
    let mut browser = app.client();
    let started = page_options(&mut browser, Some("  ")).await;
    let credential = device.answer_discoverable(&started["options"], None);
    let finished = page_finish(&mut browser, &started, credential).await;
    assert_eq!(finished.status, StatusCode::OK, "{}", finished.body);
    assert!(finished.body.contains("/panel/dashboard"));
    let dashboard = browser.get("/panel/dashboard").await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(dashboard.body.contains("alice_w"));
}

#[tokio::test]
async fn a_handle_that_does_not_name_the_passkeys_owner_signs_nobody_in() {
    let app = app().await;
    app.user("alice", STRONG, false).await;
    app.user("mallory", STRONG_2, false).await;
    let alice_token = app.token("alice", STRONG).await;
    let mallory_token = app.token("mallory", STRONG_2).await;
    let alice_device = Device::register(&app, &alice_token, "Alice's").await;
    let mut mallory_device = Device::register(&app, &mallory_token, "Mallory's").await;

    // Mallory's own passkey, claiming Alice's handle.
    let (challenge, options) = login_options(&app, json!({})).await;
    let forged = mallory_device.answer_discoverable(&options, Some(&alice_device.handle));
    verify(&app, &challenge, &forged)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_CREDENTIALS");
    // No handle at all (a non-discoverable answer to a discoverable ceremony).
    let (challenge, options) = login_options(&app, json!({})).await;
    let mut bare = mallory_device.answer_discoverable(&options, None);
    bare["response"]["userHandle"] = Value::Null;
    verify(&app, &challenge, &bare)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_CREDENTIALS");
    // A discoverable answer to another name's options, or to a decoy.
    let (challenge, _) = login_options(&app, json!({"username": "alice"})).await;
    let (spare, options_any) = login_options(&app, json!({})).await;
    let _ = spare;
    let answer = mallory_device.answer_discoverable(&options_any, None);
    verify(&app, &challenge, &answer)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_CREDENTIALS");
    let (decoy, _) = login_options(&app, json!({"username": "nobody_here"})).await;
    verify(&app, &decoy, &answer)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_CREDENTIALS");
    // Nobody was signed in by any of it; each was audited as refused.
    assert_eq!(audit_count(&app, "login", "passkey").await, 0);
    assert_eq!(
        audit_count(&app, "login_failed", "passkey not accepted").await,
        4
    );
    // A passkey removed meanwhile: its owner is told it is not registered any more.
    let id = passkey_ids(&app, "mallory").await[0];
    app.api(
        "DELETE",
        &format!("/api/v2/users/@me/passkeys/{id}"),
        Some(&mallory_device.token),
        None,
    )
    .await
    .assert_ok();
    let refused = usernameless(&app, &mut mallory_device).await;
    refused.assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_CREDENTIALS");
    assert!(
        refused.json["error_data"]
            .as_str()
            .is_some_and(|m| m.contains("not registered")),
        "{}",
        refused.json
    );
}

pub(crate) async fn audit_count(app: &TestApp, action: &str, detail: &str) -> usize {
    use passgate::entities::audit_log;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(action))
        .filter(audit_log::Column::Detail.eq(detail))
        .all(&app.db)
        .await
        .expect("audit")
        .len()
}

/// What an attacker sees of the options for `name`: the fields, and each listed credential's
/// fields and id length.
fn shape(options: &Value) -> (Vec<String>, Vec<(Vec<String>, usize)>) {
    let keys = |v: &Value| {
        let mut keys: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        keys.sort();
        keys
    };
    let listed = options["allowCredentials"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| {
            let id = B64.decode(c["id"].as_str().expect("id")).expect("b64");
            (keys(c), id.len())
        })
        .collect();
    (keys(options), listed)
}

#[tokio::test]
async fn options_for_a_typed_name_have_one_shape_over_many_names() {
    let app = app().await;
    // Real accounts: with one passkey, with two, with none, disabled with one.
    let mut real = Vec::new();
    for (name, keys) in [
        ("one_key", 1),
        ("two_keys", 2),
        ("no_key", 0),
        ("off_key", 1),
    ] {
        app.user(name, STRONG, false).await;
        let mut token = app.token(name, STRONG).await;
        for i in 0..keys {
            let device = Device::register(&app, &token, &format!("key {i}")).await;
            token = device.token.clone();
            real.push(device);
        }
    }
    let admin = app.user("root_admin", STRONG, true).await;
    let _ = admin;
    let admin_token = app.token("root_admin", STRONG).await;
    let off = app.find("off_key").await;
    app.api(
        "PATCH",
        &format!("/api/v2/users/{}", off.user_id),
        Some(&admin_token),
        Some(json!({"enabled": false})),
    )
    .await
    .assert_ok();

    let (real_fields, real_entries) =
        shape(&login_options(&app, json!({"username": "two_keys"})).await.1);
    assert_eq!(real_entries.len(), 2);
    let real_entry_fields = real_entries[0].0.clone();
    assert_eq!(real_entry_fields, ["id", "type"], "no transport hints");

    let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
    let mut lengths: BTreeSet<usize> = BTreeSet::new();
    let names: Vec<String> = (0..300)
        .map(|i| format!("probe_{i}"))
        .chain(["no_key", "off_key", "NO_KEY", "one_key", "two_keys"].map(String::from))
        .collect();
    for name in &names {
        let (_, first) = login_options(&app, json!({"username": name})).await;
        let (fields, entries) = shape(&first);
        assert_eq!(
            fields, real_fields,
            "{name}: the same fields as a real account's"
        );
        assert!(!entries.is_empty(), "{name}: never an empty list");
        assert!(entries.len() <= 3, "{name}: {} ids", entries.len());
        for (entry_fields, length) in &entries {
            assert_eq!(entry_fields, &real_entry_fields, "{name}");
            lengths.insert(*length);
        }
        *counts.entry(entries.len()).or_default() += 1;
        // Asking again changes the challenge, never the list.
        let (_, again) = login_options(&app, json!({"username": name})).await;
        assert_eq!(
            first["allowCredentials"], again["allowCredentials"],
            "{name}"
        );
        assert_ne!(first["challenge"], again["challenge"]);
    }
    // Lists of one, two and three ids, of lengths real authenticators give their ids (the
    // software authenticator's 32 among them), each seen many times.
    assert!(counts.values().all(|n| *n >= 10), "{counts:?}");
    assert!(
        lengths.is_subset(&BTreeSet::from([16, 20, 32, 64, 65])),
        "{lengths:?}"
    );
    assert!(lengths.len() >= 4, "{lengths:?}");
    // The same answer through the sign-in page.
    let mut browser = app.client();
    browser.get("/login").await;
    let page = browser
        .post_json(
            "/login/passkey/options",
            json!({"username": "probe_7"}),
            true,
        )
        .await;
    let page: Value = serde_json::from_str(&page.body).expect("json");
    let (_, api) = login_options(&app, json!({"username": "probe_7"})).await;
    assert_eq!(page["options"]["allowCredentials"], api["allowCredentials"]);
    assert_eq!(shape(&page["options"]).0, real_fields);
}
