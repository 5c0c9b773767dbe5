//! `PASSGATE_SECRET_KEY_FILE` through the built binary: a database made without it keeps
//! working when it is set (its signing key and TOTP secrets move under the key file and out
//! of the database), and a changed key file gives TOTP users a clear refusal (recovery codes
//! still work) and the log a line naming the key, never a 500.

use passgate::accounts::mfa::totp;
use passgate::entities::settings;
use sea_orm::{Database, EntityTrait};
use serde_json::json;

use crate::helpers::STRONG;
use crate::helpers::decode_base32;
use crate::mfa::stable_step;
use crate::process::{Operator, Server, api, api_login, serving_with_root};

/// Enrols a TOTP device for the holder of `token`; returns the secret, the recovery codes
/// and the fresh token.
async fn enrol(server: &Server, token: &str) -> (Vec<u8>, Vec<String>, String) {
    let started = api(server, "POST", "/api/v2/users/@me/totp", Some(token), None).await;
    let otp = started.json()["data"]["otp"].clone();
    let secret = decode_base32(otp["totp_secret"].as_str().expect("secret"));
    let id = otp["id"].as_str().expect("enrolment id").to_string();
    let step = stable_step().await;
    let verified = api(
        server,
        "POST",
        &format!("/api/v2/users/@me/totp/{id}/verify"),
        Some(token),
        Some(json!({"name": "phone", "totp": totp::code_at_step(&secret, step - 1)})),
    )
    .await;
    let data = verified.json()["data"].clone();
    let codes = data["backup_codes"]
        .as_array()
        .expect("recovery codes")
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    (
        secret,
        codes,
        data["token"].as_str().expect("token").to_string(),
    )
}

async fn with_code(server: &Server, secret: &[u8]) -> crate::process::HttpResponse {
    let code = totp::code_at_step(secret, stable_step().await);
    api(
        server,
        "POST",
        "/api/v2/auth/login",
        None,
        Some(json!({"username": "root", "password": STRONG, "totp": code})),
    )
    .await
}

async fn stored(op: &Operator, key: &str) -> Option<String> {
    let url = format!("sqlite://{}?mode=rw", op.database().display());
    let conn = Database::connect(url.as_str()).await.unwrap();
    let value = settings::Entity::find_by_id(key.to_string())
        .one(&conn)
        .await
        .unwrap()
        .map(|row| row.value);
    conn.close().await.unwrap();
    value
}

#[tokio::test]
async fn a_key_file_set_later_takes_over_and_a_changed_one_refuses_totp_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("first.key"), dir.path().join("second.key"));
    std::fs::write(&first, [1u8; 32]).unwrap();
    std::fs::write(&second, [2u8; 32]).unwrap();
    let op = Operator::new(dir.path());
    let (mut server, token) = serving_with_root(&op).await;
    let (secret, codes, token) = enrol(&server, &token).await;
    server.stop();
    assert!(
        stored(&op, "mfa_secret_key").await.is_some(),
        "kept in the database so far"
    );

    // The key file set: the same token and the same authenticator keep working, and neither
    // key is left in the database in a usable form.
    let op = op.env("PASSGATE_SECRET_KEY_FILE", first.display().to_string());
    let mut server = op.spawn_server();
    server.wait_ready().await;
    let me = api(&server, "GET", "/api/v2/users/@me", Some(&token), None).await;
    assert_eq!(me.status, 200, "{}", me.body);
    let signed_in = with_code(&server, &secret).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
    server.stop();
    assert_eq!(stored(&op, "mfa_secret_key").await, None);
    assert!(
        stored(&op, "token_signing_key")
            .await
            .unwrap()
            .starts_with("v1:")
    );

    // Another key file: the server still starts; TOTP users get a clear refusal, the log a
    // line naming the key; recovery codes still work; tokens signed before no longer do.
    let second_path = second.display().to_string();
    let op = op.env("PASSGATE_SECRET_KEY_FILE", &second_path);
    let mut server = op.spawn_server();
    server.wait_ready().await;
    let refused = with_code(&server, &secret).await;
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.json()["error"], "MFA_UNAVAILABLE");
    assert!(refused.body.contains("recovery code"), "{}", refused.body);
    let named: Vec<String> = server
        .log()
        .lines()
        .filter(|l| l.contains("TOTP secret does not decrypt") && l.contains(&second_path))
        .map(String::from)
        .collect();
    assert!(!named.is_empty(), "{}", server.log());
    assert!(!server.log().contains("panicked"), "{}", server.log());
    let me = api(&server, "GET", "/api/v2/users/@me", Some(&token), None).await;
    assert_eq!(me.status, 401, "{}", me.body);
    let recovered = api(
        &server,
        "POST",
        "/api/v2/auth/login",
        None,
        Some(json!({"username": "root", "password": STRONG, "backup_code": codes[0]})),
    )
    .await;
    assert_eq!(recovered.status, 200, "{}", recovered.body);
    assert_eq!(
        api_login(&server, "root", STRONG).await.json()["error"],
        "MFA_REQUIRED"
    );
    server.stop();
}
