//! Discovery, the key set and the keys behind it (SPEC §16 "Keys").

use axum::http::StatusCode;
use passgate::accounts::audit::Actor;
use passgate::accounts::oidc::Alg;
use passgate::entities::oidc_keys;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use super::{ISSUER, provider, raw};
use crate::helpers::spawn_app;

async fn get_json(app: &crate::helpers::TestApp, path: &str) -> (StatusCode, Value) {
    let (status, json, _) = raw(app, "GET", path, &[], Vec::new()).await;
    (status, json)
}

#[tokio::test]
async fn discovery_lists_exactly_what_is_supported() {
    let app = provider().await;
    let (status, doc) = get_json(&app, "/.well-known/openid-configuration").await;
    assert_eq!(status, StatusCode::OK);
    let url = |path: &str| json!(format!("{ISSUER}{path}"));
    assert_eq!(doc["issuer"], ISSUER);
    assert_eq!(doc["authorization_endpoint"], url("/oauth2/authorize"));
    assert_eq!(doc["token_endpoint"], url("/oauth2/token"));
    assert_eq!(doc["userinfo_endpoint"], url("/oauth2/userinfo"));
    assert_eq!(doc["jwks_uri"], url("/oauth2/jwks"));
    assert_eq!(doc["revocation_endpoint"], url("/oauth2/revoke"));
    assert_eq!(doc["introspection_endpoint"], url("/oauth2/introspect"));
    assert_eq!(doc["end_session_endpoint"], url("/oauth2/logout"));
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(doc["response_modes_supported"], json!(["query"]));
    assert_eq!(
        doc["grant_types_supported"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(doc["subject_types_supported"], json!(["public"]));
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["RS256", "ES256"])
    );
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(
        doc["introspection_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );
    assert_eq!(
        doc["scopes_supported"],
        json!(["openid", "profile", "email", "groups", "offline_access"])
    );
    assert_eq!(doc["request_uri_parameter_supported"], json!(false));
    // Nothing of flows passgate does not have.
    for absent in [
        "registration_endpoint",
        "device_authorization_endpoint",
        "pushed_authorization_request_endpoint",
    ] {
        assert!(doc.get(absent).is_none(), "{absent}");
    }
}

#[tokio::test]
async fn without_a_public_url_there_is_no_provider() {
    let app = spawn_app().await;
    for path in [
        "/.well-known/openid-configuration",
        "/oauth2/jwks",
        "/oauth2/userinfo",
    ] {
        let (status, _, _) = raw(&app, "GET", path, &[], Vec::new()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _, _) = raw(
        &app,
        "POST",
        "/oauth2/token",
        &[("content-type", "application/x-www-form-urlencoded")],
        b"grant_type=authorization_code".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let made = oidc_keys::Entity::find().all(&app.db).await.unwrap();
    assert!(made.is_empty(), "no keys are made while OIDC is off");
}

#[tokio::test]
async fn the_key_set_has_an_rsa_and_a_p256_key_and_no_private_part() {
    let app = provider().await;
    let (status, jwks) = get_json(&app, "/oauth2/jwks").await;
    assert_eq!(status, StatusCode::OK);
    let keys = jwks["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 2, "{jwks}");
    let rsa = keys.iter().find(|k| k["kty"] == "RSA").expect("an RSA key");
    assert_eq!(rsa["alg"], "RS256");
    assert_eq!(rsa["use"], "sig");
    assert_eq!(rsa["e"], "AQAB");
    let ec = keys.iter().find(|k| k["kty"] == "EC").expect("an EC key");
    assert_eq!(ec["crv"], "P-256");
    assert_eq!(ec["alg"], "ES256");
    for key in keys {
        assert!(key["kid"].as_str().is_some_and(|kid| !kid.is_empty()));
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(key.get(private).is_none(), "{private} published");
        }
    }
}

#[tokio::test]
async fn keys_are_made_once_sealed_and_shared_by_every_instance() {
    let app = provider().await;
    let rows = oidc_keys::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(rows.len(), 2, "one per algorithm, made at start");
    for row in &rows {
        assert!(row.private_key.starts_with("v1:"), "sealed, not in clear");
        assert!(!row.private_key.contains("MII"), "no DER/PEM in clear");
    }
    // Another instance (or a restart) uses the same keys and makes none.
    let second = app.second_instance().await;
    assert_eq!(
        oidc_keys::Entity::find()
            .all(&second.db)
            .await
            .unwrap()
            .len(),
        2
    );
    let (_, one) = get_json(&app, "/oauth2/jwks").await;
    let (_, two) = get_json(&second, "/oauth2/jwks").await;
    assert_eq!(one, two);
}

#[tokio::test]
async fn a_key_sealed_under_another_secret_key_does_not_sign() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let key_file = |byte: u8| {
        let path = dir.path().join(format!("key{byte}"));
        let mut file = std::fs::File::create(&path).unwrap();
        file.write_all(&[byte; 32]).unwrap();
        path.display().to_string()
    };
    let (first, second) = (key_file(1), key_file(2));
    let app = crate::helpers::spawn_app_with(|raw| {
        raw.public_url = Some(ISSUER.into());
        raw.secret_key_file = Some(first);
    })
    .await;
    // The database alone does not open the key: another secret key cannot sign with it.
    let mut config = (*app.state.config).clone();
    config.mfa.secret_key = Some(passgate::config::SecretKeyBytes(
        passgate::config::parse_secret_key(&std::fs::read(&second).unwrap()).unwrap(),
    ));
    let other = passgate::AppState::load(app.db.clone(), config)
        .await
        .unwrap();
    let oidc = other.oidc.as_ref().expect("on");
    let refused = oidc
        .keys
        .sign(&app.db, Alg::Rs256, &json!({"sub": "x"}))
        .await;
    assert!(refused.is_err(), "signed with a key it could not open");
    let oidc = app.state.oidc.as_ref().expect("on");
    assert!(
        oidc.keys
            .sign(&app.db, Alg::Rs256, &json!({"sub": "x"}))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn rotation_publishes_new_keys_and_keeps_the_old_ones_a_day() {
    let app = provider().await;
    let (_, before) = get_json(&app, "/oauth2/jwks").await;
    let old_kids: Vec<String> = kids(&before);
    let oidc = app.state.oidc.as_ref().expect("on");
    let new_kids = oidc.keys.rotate(&app.db, &Actor::cli()).await.unwrap();
    assert_eq!(new_kids.len(), 2);
    let (_, after) = get_json(&app, "/oauth2/jwks").await;
    let published = kids(&after);
    assert_eq!(published.len(), 4, "{after}");
    for kid in old_kids.iter().chain(&new_kids) {
        assert!(published.contains(kid), "{kid} published");
    }
    // New tokens are signed with the new key.
    let token = oidc
        .keys
        .sign(&app.db, Alg::Es256, &json!({"sub": "x"}))
        .await
        .unwrap();
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            token.split('.').next().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "ES256");
    assert!(new_kids.contains(&header["kid"].as_str().unwrap().to_string()));
    // A day later the retired keys leave the set; the next rotation deletes them.
    let day_ago = passgate::accounts::clock::now() - time::Duration::hours(25);
    oidc_keys::Entity::update_many()
        .col_expr(oidc_keys::Column::Retired, Expr::value(Some(day_ago)))
        .filter(oidc_keys::Column::Retired.is_not_null())
        .exec(&app.db)
        .await
        .unwrap();
    let (_, later) = get_json(&app, "/oauth2/jwks").await;
    assert_eq!(kids(&later).len(), 2);
    for kid in &old_kids {
        assert!(!kids(&later).contains(kid));
    }
    oidc.keys.rotate(&app.db, &Actor::cli()).await.unwrap();
    assert_eq!(
        oidc_keys::Entity::find().all(&app.db).await.unwrap().len(),
        4,
        "the keys retired over a day ago are gone"
    );
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_command_line_rotates_keys_for_running_servers() {
    use passgate::cli::{Command, OidcCommand, run_admin};
    let app = provider().await;
    let (_, before) = get_json(&app, "/oauth2/jwks").await;
    let config = (*app.state.config).clone();
    let out = run_admin(&config, Command::Oidc(OidcCommand::RotateKeys))
        .await
        .expect("rotate-keys");
    assert!(out.contains("new signing keys"), "{out}");
    // The running server publishes and signs with the new keys without a restart.
    let (_, after) = get_json(&app, "/oauth2/jwks").await;
    assert_eq!(kids(&after).len(), 4);
    let oidc = app.state.oidc.as_ref().unwrap();
    let token = oidc
        .keys
        .sign(&app.db, Alg::Rs256, &json!({"sub": "x"}))
        .await
        .unwrap();
    let header = token.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap(),
    )
    .unwrap();
    let kid = header["kid"].as_str().unwrap().to_string();
    assert!(kids(&after).contains(&kid) && !kids(&before).contains(&kid));
    super::attacks::assert_audited(&app, "oidc_keys_rotated", "kids=").await;
}

#[tokio::test]
async fn rotating_with_another_secret_key_is_refused_and_changes_nothing() {
    use passgate::cli::{Command, OidcCommand, run_admin};
    let app = provider().await;
    let (_, before) = get_json(&app, "/oauth2/jwks").await;
    let mut config = (*app.state.config).clone();
    config.mfa.secret_key = Some(passgate::config::SecretKeyBytes([9; 32]));
    let err = run_admin(&config, Command::Oidc(OidcCommand::RotateKeys))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("PASSGATE_SECRET_KEY_FILE"), "{err}");
    let (_, after) = get_json(&app, "/oauth2/jwks").await;
    assert_eq!(before, after);
}
