//! Clients as applications (SPEC §15.1, §16): registered through `/api/v2/apps` and the CLI,
//! the secret shown once and stored as a hash, regenerable, the settings checked, and an
//! application's rules reaching the tokens it holds.

use axum::http::StatusCode;
use passgate::accounts::oidc::Alg;
use passgate::entities::oidc_clients;
use sea_orm::EntityTrait;
use serde_json::json;

use super::{
    Ask, REDIRECT, code_for, confidential, exchange, provider, refresh, register, userinfo,
};
use crate::helpers::{STRONG, TestApp};

async fn admin_token(app: &TestApp) -> String {
    app.user("root", STRONG, true).await;
    app.token("root", STRONG).await
}

fn wiki_client() -> serde_json::Value {
    json!({
        "name": "Wiki",
        "oidc": {
            "redirect_uris": [REDIRECT, "http://127.0.0.1/native"],
            "post_logout_redirect_uris": ["https://wiki.example.org/bye"],
        },
    })
}

#[tokio::test]
async fn the_api_registers_a_client_and_shows_its_secret_once() {
    let app = provider().await;
    let token = admin_token(&app).await;
    let created = app
        .api("POST", "/api/v2/apps", Some(&token), Some(wiki_client()))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let data = &created.json["data"];
    let id = data["app_id"].as_i64().unwrap();
    let client_id = data["client_id"].as_str().expect("a client id").to_string();
    let secret = data["client_secret"].as_str().expect("the secret, once");
    assert!(secret.starts_with("pgs_") && secret.len() > 40);

    // Stored only as a hash; never shown again.
    let row = oidc_clients::Entity::find_by_id(id as i32)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(row.secret_hash.as_deref(), Some(secret));
    assert!(!row.secret_hash.unwrap().contains(&secret[4..]));
    let one = app
        .api("GET", &format!("/api/v2/apps/{id}"), Some(&token), None)
        .await;
    assert_eq!(
        one.assert_ok()["oidc"],
        json!({
            "client_id": client_id,
            "redirect_uris": [REDIRECT, "http://127.0.0.1/native"],
            "post_logout_redirect_uris": ["https://wiki.example.org/bye"],
            "public": false,
            "id_token_signed_response_alg": "RS256",
        })
    );
    let list = app.api("GET", "/api/v2/apps", Some(&token), None).await;
    assert!(!list.json.to_string().contains(secret), "never listed");
    assert!(!one.json.to_string().contains(&secret[4..]));
}

#[tokio::test]
async fn a_public_client_has_no_secret_and_an_es256_one_signs_with_p256() {
    let app = provider().await;
    let token = admin_token(&app).await;
    let created = app
        .api(
            "POST",
            "/api/v2/apps",
            Some(&token),
            Some(json!({"name": "Phone", "oidc": {"redirect_uris": ["http://127.0.0.1/cb"], "public": true, "id_token_signed_response_alg": "ES256"}})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    assert!(created.json["data"].get("client_secret").is_none());
    let id = created.json["data"]["app_id"].as_i64().unwrap();
    let renew = app
        .api(
            "POST",
            &format!("/api/v2/apps/{id}/secret"),
            Some(&token),
            None,
        )
        .await;
    renew.assert_error(StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
    let one = app
        .api("GET", &format!("/api/v2/apps/{id}"), Some(&token), None)
        .await;
    assert_eq!(one.json["data"]["oidc"]["public"], true);
    assert_eq!(
        one.json["data"]["oidc"]["id_token_signed_response_alg"],
        "ES256"
    );
}

#[tokio::test]
async fn bad_client_settings_are_refused_naming_the_field_and_change_nothing() {
    let app = provider().await;
    let token = admin_token(&app).await;
    for (oidc, field) in [
        (
            json!({"redirect_uris": ["http://wiki.example.org/cb"]}),
            "redirect_uris",
        ),
        (
            json!({"redirect_uris": ["https://wiki.example.org/cb#x"]}),
            "redirect_uris",
        ),
        (
            json!({"redirect_uris": ["https://u@wiki.example.org/cb"]}),
            "redirect_uris",
        ),
        (json!({"redirect_uris": []}), "redirect_uris"),
        (json!({}), "redirect_uris"),
        (
            json!({"redirect_uris": [REDIRECT], "post_logout_redirect_uris": ["javascript:alert(1)"]}),
            "post_logout_redirect_uris",
        ),
    ] {
        let answer = app
            .api(
                "POST",
                "/api/v2/apps",
                Some(&token),
                Some(json!({"name": "Bad", "oidc": oidc})),
            )
            .await;
        answer.assert_error(StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
        assert!(
            answer.json["error_data"].as_str().unwrap().contains(field),
            "{}",
            answer.json
        );
    }
    for oidc in [
        json!({"redirect_uris": [REDIRECT], "id_token_signed_response_alg": "HS256"}),
        json!({"redirect_uris": [REDIRECT], "id_token_signed_response_alg": "none"}),
        json!({"redirect_uris": [REDIRECT], "grant_types": ["implicit"]}),
    ] {
        let answer = app
            .api(
                "POST",
                "/api/v2/apps",
                Some(&token),
                Some(json!({"name": "Bad", "oidc": oidc})),
            )
            .await;
        answer.assert_error(StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
    }
    let list = app.api("GET", "/api/v2/apps", Some(&token), None).await;
    assert_eq!(list.assert_ok(), &json!([]), "nothing was registered");
}

#[tokio::test]
async fn only_superusers_manage_clients() {
    let app = provider().await;
    let token = admin_token(&app).await;
    let created = app
        .api("POST", "/api/v2/apps", Some(&token), Some(wiki_client()))
        .await;
    let id = created.json["data"]["app_id"].as_i64().unwrap();
    app.user("manager", crate::helpers::STRONG_2, false).await;
    let other = app.token("manager", crate::helpers::STRONG_2).await;
    app.api(
        "POST",
        &format!("/api/v2/apps/{id}/secret"),
        Some(&other),
        None,
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    app.api("POST", "/api/v2/apps", Some(&other), Some(wiki_client()))
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
}

#[tokio::test]
async fn a_regenerated_secret_is_shown_once_and_the_old_one_stops() {
    let app = provider().await;
    let token = admin_token(&app).await;
    let created = app
        .api("POST", "/api/v2/apps", Some(&token), Some(wiki_client()))
        .await;
    let data = &created.json["data"];
    let id = data["app_id"].as_i64().unwrap() as i32;
    let client = super::Registered {
        app_id: id,
        client_id: data["client_id"].as_str().unwrap().into(),
        secret: data["client_secret"].as_str().map(str::to_string),
    };
    let renewed = app
        .api(
            "POST",
            &format!("/api/v2/apps/{id}/secret"),
            Some(&token),
            None,
        )
        .await;
    let new_secret = renewed.assert_ok()["client_secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(renewed.json["data"]["client_id"], client.client_id.as_str());
    assert_ne!(Some(new_secret.clone()), client.secret);
    let user = app.user("alice", crate::helpers::STRONG_2, false).await;
    let code = code_for(&app, &client, &user, Ask::default()).await;
    let (status, body) = exchange(&app, &client, &code, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let renewed_client = super::Registered {
        secret: Some(new_secret),
        ..client
    };
    let (status, body) = exchange(&app, &renewed_client, &code, &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let audit = passgate::accounts::audit::page(&app.db, None, 1, 50)
        .await
        .unwrap()
        .0;
    assert!(
        audit
            .iter()
            .any(|e| e.action == "app_client_secret_regenerated"),
        "audited"
    );
    assert!(
        audit.iter().all(|e| !e.detail.contains("pgs_")),
        "no secret in the audit log"
    );
}

#[tokio::test]
async fn patch_changes_the_settings_and_null_ends_the_client_and_its_sign_ins() {
    let app = provider().await;
    let token = admin_token(&app).await;
    let created = app
        .api(
            "POST",
            "/api/v2/apps",
            Some(&token),
            Some(json!({"name": "Wiki", "oidc": {"redirect_uris": [REDIRECT], "public": true}})),
        )
        .await;
    let id = created.json["data"]["app_id"].as_i64().unwrap();
    // Public to confidential: its first secret, shown in this answer.
    let changed = app
        .api(
            "PATCH",
            &format!("/api/v2/apps/{id}"),
            Some(&token),
            Some(json!({"oidc": {"public": false, "id_token_signed_response_alg": "ES256"}})),
        )
        .await;
    let data = changed.assert_ok();
    assert_eq!(data["oidc"]["public"], false);
    assert_eq!(data["oidc"]["redirect_uris"], json!([REDIRECT]), "kept");
    assert_eq!(data["oidc"]["id_token_signed_response_alg"], "ES256");
    let client = super::Registered {
        app_id: id as i32,
        client_id: data["oidc"]["client_id"].as_str().unwrap().into(),
        secret: Some(data["client_secret"].as_str().expect("its secret").into()),
    };
    let user = app.user("alice", crate::helpers::STRONG_2, false).await;
    let code = code_for(&app, &client, &user, Ask::default()).await;
    let (status, tokens) = exchange(&app, &client, &code, &[]).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    // `"oidc": null` ends the client: its tokens stop at once.
    let ended = app
        .api(
            "PATCH",
            &format!("/api/v2/apps/{id}"),
            Some(&token),
            Some(json!({"oidc": null})),
        )
        .await;
    assert!(ended.assert_ok().get("oidc").is_none(), "{}", ended.json);
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(userinfo(&app, access).await.0, StatusCode::UNAUTHORIZED);
    let (status, _) = refresh(&app, &client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no such client any more");
}

#[tokio::test]
async fn deleting_the_application_ends_its_clients_tokens() {
    let app = provider().await;
    let token = admin_token(&app).await;
    let client = register(&app, confidential(Alg::Rs256)).await;
    let user = app.find("root").await;
    let code = code_for(&app, &client, &user, Ask::default()).await;
    let (_, tokens) = exchange(&app, &client, &code, &[]).await;
    let answer = app
        .api(
            "DELETE",
            &format!("/api/v2/apps/{}", client.app_id),
            Some(&token),
            None,
        )
        .await;
    answer.assert_ok();
    assert_eq!(
        userinfo(&app, tokens["access_token"].as_str().unwrap())
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_application_set_to_deny_issues_nothing() {
    let app = provider().await;
    let token = admin_token(&app).await;
    let client = register(&app, confidential(Alg::Rs256)).await;
    let user = app.user("alice", crate::helpers::STRONG_2, false).await;
    let code = code_for(&app, &client, &user, Ask::default()).await;
    let (_, tokens) = exchange(&app, &client, &code, &[]).await;
    let pending = code_for(&app, &client, &user, Ask::default()).await;
    app.api(
        "PATCH",
        &format!("/api/v2/apps/{}", client.app_id),
        Some(&token),
        Some(json!({"policy": "deny"})),
    )
    .await
    .assert_ok();
    let (status, body) = exchange(&app, &client, &pending, &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = refresh(&app, &client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        userinfo(&app, tokens["access_token"].as_str().unwrap())
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    super::attacks::assert_audited(&app, "oidc_refresh_refused", "not_admitted").await;
}

#[tokio::test]
async fn a_two_factor_application_refreshes_only_a_sign_in_with_a_second_factor() {
    let app = provider().await;
    let token = admin_token(&app).await;
    let client = register(&app, confidential(Alg::Rs256)).await;
    app.api(
        "PATCH",
        &format!("/api/v2/apps/{}", client.app_id),
        Some(&token),
        Some(json!({"policy": "two_factor"})),
    )
    .await
    .assert_ok();
    let user = app.user("alice", crate::helpers::STRONG_2, false).await;
    let with_otp = code_for(
        &app,
        &client,
        &user,
        Ask {
            amr: &["pwd", "otp"],
            ..Ask::default()
        },
    )
    .await;
    let (status, tokens) = exchange(&app, &client, &with_otp, &[]).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (status, _) = refresh(&app, &client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    // A grant made with a password alone (before the policy changed) refreshes no more.
    let password_only = code_for(&app, &client, &user, Ask::default()).await;
    let (status, _) = exchange(&app, &client, &password_only, &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_command_line_registers_clients_and_renews_secrets() {
    use passgate::cli::{AppCommand, Command, OidcClientArgs, run_admin};
    let app = provider().await;
    let config = (*app.state.config).clone();
    let added = run_admin(
        &config,
        Command::App(AppCommand::Add {
            name: "Forge".into(),
            description: None,
            hosts: vec![],
            public_paths: vec![],
            roles: vec![],
            policy: "one_factor".into(),
            oidc: OidcClientArgs {
                redirect_uris: vec![REDIRECT.into()],
                post_logout_redirect_uris: vec![],
                public_client: false,
                id_token_alg: Some("ES256".into()),
            },
        }),
    )
    .await
    .expect("added");
    let client_id = line_value(&added, "client_id: ");
    let secret = line_value(&added, "client_secret: ");
    assert!(secret.starts_with("pgs_"), "{added}");
    let listed = run_admin(&config, Command::App(AppCommand::List))
        .await
        .unwrap();
    assert!(listed.contains(&client_id), "{listed}");
    assert!(!listed.contains(&secret), "{listed}");
    let renewed = run_admin(
        &config,
        Command::App(AppCommand::NewSecret {
            name: "forge".into(),
        }),
    )
    .await
    .unwrap();
    let new_secret = line_value(&renewed, "client_secret: ");
    assert_ne!(new_secret, secret);
    // A public client from the console gets no secret; a bad algorithm is refused.
    let public = run_admin(
        &config,
        Command::App(AppCommand::Add {
            name: "Phone".into(),
            description: None,
            hosts: vec![],
            public_paths: vec![],
            roles: vec![],
            policy: "one_factor".into(),
            oidc: OidcClientArgs {
                redirect_uris: vec!["http://127.0.0.1/cb".into()],
                post_logout_redirect_uris: vec![],
                public_client: true,
                id_token_alg: None,
            },
        }),
    )
    .await
    .unwrap();
    assert!(public.contains("client_id: ") && !public.contains("client_secret"));
    let refused = run_admin(
        &config,
        Command::App(AppCommand::Add {
            name: "Other".into(),
            description: None,
            hosts: vec![],
            public_paths: vec![],
            roles: vec![],
            policy: "one_factor".into(),
            oidc: OidcClientArgs {
                redirect_uris: vec![REDIRECT.into()],
                post_logout_redirect_uris: vec![],
                public_client: false,
                id_token_alg: Some("HS256".into()),
            },
        }),
    )
    .await
    .unwrap_err();
    assert!(refused.to_string().contains("RS256 or ES256"), "{refused}");
}

fn line_value(out: &str, prefix: &str) -> String {
    out.lines()
        .find_map(|line| line.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no {prefix} in {out}"))
        .to_string()
}
