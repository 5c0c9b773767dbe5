//! Applications (SPEC §15.1) through `/api/v2/apps` and `passgate app …`: superusers only,
//! every change audited, names and hosts unique, malformed input refused naming its field.

use axum::http::StatusCode;
use passgate::cli::{AppCommand, Command, run_admin};
use passgate::config::Config;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::helpers::*;

async fn admin_token(app: &TestApp) -> String {
    app.user("root", STRONG, true).await;
    app.token("root", STRONG).await
}

fn wiki() -> serde_json::Value {
    json!({
        "name": "Wiki",
        "description": "The team wiki",
        "hosts": ["Wiki.Example.org", "*.wiki.example.org"],
        "public_paths": ["/api/", "/.well-known/"],
        "policy": "two_factor",
    })
}

async fn audited(app: &TestApp, action: &str) -> Vec<String> {
    passgate::entities::audit_log::Entity::find()
        .filter(passgate::entities::audit_log::Column::Action.eq(action))
        .order_by_asc(passgate::entities::audit_log::Column::AuditId)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| format!("{} {}", e.actor_name.unwrap_or_default(), e.detail))
        .collect()
}

#[tokio::test]
async fn a_superuser_registers_reads_changes_and_deletes_an_application() {
    let app = spawn_app().await;
    let token = admin_token(&app).await;
    let created = app
        .api("POST", "/api/v2/apps", Some(&token), Some(wiki()))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let id = created.json["data"]["app_id"]
        .as_i64()
        .expect("an integer id");

    let one = app
        .api("GET", &format!("/api/v2/apps/{id}"), Some(&token), None)
        .await;
    assert_eq!(
        one.assert_ok(),
        &json!({
            "app_id": id,
            "name": "Wiki",
            "description": "The team wiki",
            "hosts": ["*.wiki.example.org", "wiki.example.org"],
            "public_paths": ["/.well-known/", "/api/"],
            "allowed_roles": [],
            "policy": "two_factor",
        })
    );
    let list = app.api("GET", "/api/v2/apps/", Some(&token), None).await;
    assert_eq!(list.assert_ok().as_array().unwrap().len(), 1);

    let changed = app
        .api(
            "PATCH",
            &format!("/api/v2/apps/{id}"),
            Some(&token),
            Some(json!({"policy": "deny", "hosts": ["wiki.example.org:8443"]})),
        )
        .await;
    let data = changed.assert_ok();
    assert_eq!(data["policy"], "deny");
    assert_eq!(data["hosts"], json!(["wiki.example.org:8443"]));
    assert_eq!(
        data["public_paths"],
        json!(["/.well-known/", "/api/"]),
        "untouched"
    );

    let deleted = app
        .api("DELETE", &format!("/api/v2/apps/{id}"), Some(&token), None)
        .await;
    deleted.assert_ok();
    app.api("GET", &format!("/api/v2/apps/{id}"), Some(&token), None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "APP_NOT_FOUND");
    app.api("DELETE", &format!("/api/v2/apps/{id}"), Some(&token), None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "APP_NOT_FOUND");
    app.api("GET", "/api/v2/apps/x1", Some(&token), None)
        .await
        .assert_error(StatusCode::NOT_FOUND, "APP_NOT_FOUND");

    assert_eq!(audited(&app, "app_created").await.len(), 1);
    let updated = audited(&app, "app_updated").await;
    assert!(updated[0].starts_with("root "), "{updated:?}");
    assert!(updated[0].contains("changed=hosts,policy"), "{updated:?}");
    assert!(audited(&app, "app_deleted").await[0].contains("app=Wiki"));
}

#[tokio::test]
async fn only_superusers_manage_applications() {
    let app = spawn_app().await;
    let root = app.user("root", STRONG, true).await;
    app.user_with("manager", STRONG, false, None, Some(-1))
        .await;
    app.user("plain", STRONG, false).await;
    let root_token = app.token("root", STRONG).await;
    let created = app
        .api("POST", "/api/v2/apps", Some(&root_token), Some(wiki()))
        .await;
    let id = created.json["data"]["app_id"].as_i64().unwrap();
    let bare_key = app.api_key(&root, &[], false).await;
    let full_key = app.api_key(&root, &[], true).await;
    for refused in [
        app.token("manager", STRONG).await,
        app.token("plain", STRONG).await,
        bare_key,
    ] {
        for (method, path, body) in [
            ("GET", "/api/v2/apps".to_string(), None),
            (
                "POST",
                "/api/v2/apps".to_string(),
                Some(json!({"name": "Other"})),
            ),
            ("GET", format!("/api/v2/apps/{id}"), None),
            (
                "PATCH",
                format!("/api/v2/apps/{id}"),
                Some(json!({"policy": "one_factor"})),
            ),
            ("DELETE", format!("/api/v2/apps/{id}"), None),
        ] {
            app.api(method, &path, Some(&refused), body)
                .await
                .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
        }
    }
    app.api("GET", "/api/v2/apps", None, None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    // Nothing changed; a superuser's full-access key may.
    let still = app
        .api("GET", &format!("/api/v2/apps/{id}"), Some(&full_key), None)
        .await;
    assert_eq!(still.assert_ok()["policy"], "two_factor");
    assert_eq!(audited(&app, "app_updated").await.len(), 0);
}

#[tokio::test]
async fn names_and_hosts_are_unique_and_bad_fields_are_named() {
    let app = spawn_app().await;
    let token = admin_token(&app).await;
    app.api("POST", "/api/v2/apps", Some(&token), Some(wiki()))
        .await
        .assert_ok();
    let chat = app
        .api(
            "POST",
            "/api/v2/apps",
            Some(&token),
            Some(json!({"name": "Chat", "hosts": ["chat.example.org"]})),
        )
        .await;
    let chat_id = chat.json["data"]["app_id"].as_i64().unwrap();

    let name_taken = app
        .api(
            "POST",
            "/api/v2/apps",
            Some(&token),
            Some(json!({"name": " WIKI "})),
        )
        .await;
    name_taken.assert_error(StatusCode::BAD_REQUEST, "APP_NAME_EXISTS");
    let host_taken = app
        .api(
            "POST",
            "/api/v2/apps",
            Some(&token),
            Some(json!({"name": "Other", "hosts": ["new.example.org", "WIKI.example.org"]})),
        )
        .await;
    host_taken.assert_error(StatusCode::BAD_REQUEST, "HOST_TAKEN");
    assert!(
        host_taken.json["error_data"]
            .as_str()
            .unwrap()
            .contains("wiki.example.org")
    );
    app.api(
        "PATCH",
        &format!("/api/v2/apps/{chat_id}"),
        Some(&token),
        Some(json!({"hosts": ["*.wiki.example.org"]})),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "HOST_TAKEN");
    app.api(
        "PATCH",
        &format!("/api/v2/apps/{chat_id}"),
        Some(&token),
        Some(json!({"name": "wiki"})),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "APP_NAME_EXISTS");
    // An exact host below another app's wildcard is a different host: allowed (it wins).
    app.api(
        "PATCH",
        &format!("/api/v2/apps/{chat_id}"),
        Some(&token),
        Some(json!({"hosts": ["chat.wiki.example.org"]})),
    )
    .await
    .assert_ok();

    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "x".repeat(65)}), "name"),
        (
            json!({"name": "A", "hosts": ["https://a.example.org"]}),
            "hosts",
        ),
        (json!({"name": "A", "hosts": ["*.org"]}), "hosts"),
        (json!({"name": "A", "hosts": ["a.example.org:0"]}), "hosts"),
        (
            json!({"name": "A", "public_paths": ["api/"]}),
            "public_paths",
        ),
        (
            json!({"name": "A", "public_paths": ["/a/../b"]}),
            "public_paths",
        ),
        (json!({"name": "A", "policy": "maybe"}), "policy"),
        (json!({"name": "A", "hosts": "a.example.org"}), "hosts"),
        (json!({"name": "A", "surprise": true}), "surprise"),
    ] {
        let refused = app
            .api("POST", "/api/v2/apps", Some(&token), Some(body.clone()))
            .await;
        refused.assert_error(StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
        let message = refused.json["error_data"].as_str().unwrap();
        assert!(message.contains(field), "{body}: {message}");
    }
    let names: Vec<String> = app
        .api("GET", "/api/v2/apps", Some(&token), None)
        .await
        .assert_ok()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["Chat", "Wiki"], "nothing refused was stored");
}

#[tokio::test]
async fn the_command_line_adds_lists_and_removes_applications() {
    let app = spawn_app().await;
    let config = Config::for_database(&app.database_url);
    let added = run_admin(
        &config,
        Command::App(AppCommand::Add {
            name: "Grafana".into(),
            description: None,
            hosts: vec!["grafana.example.org".into()],
            public_paths: vec!["/public/".into()],
            roles: vec![],
            policy: "two_factor".into(),
            oidc: Default::default(),
        }),
    )
    .await
    .expect("added");
    assert!(added.contains("'Grafana'"), "{added}");
    let listed = run_admin(&config, Command::App(AppCommand::List))
        .await
        .unwrap();
    assert!(
        listed.contains("Grafana\ttwo_factor\tgrafana.example.org\t/public/\t-"),
        "{listed}"
    );
    let refused = run_admin(
        &config,
        Command::App(AppCommand::Add {
            name: "grafana".into(),
            description: None,
            hosts: vec![],
            public_paths: vec![],
            roles: vec![],
            policy: "one_factor".into(),
            oidc: Default::default(),
        }),
    )
    .await
    .unwrap_err();
    assert!(refused.to_string().contains("already exists"), "{refused}");
    let bad_policy = run_admin(
        &config,
        Command::App(AppCommand::Add {
            name: "Other".into(),
            description: None,
            hosts: vec![],
            public_paths: vec![],
            roles: vec![],
            policy: "always".into(),
            oidc: Default::default(),
        }),
    )
    .await
    .unwrap_err();
    assert!(bad_policy.to_string().contains("--policy"), "{bad_policy}");
    run_admin(
        &config,
        Command::App(AppCommand::Remove {
            name: "GRAFANA".into(),
        }),
    )
    .await
    .expect("removed");
    let missing = run_admin(
        &config,
        Command::App(AppCommand::Remove {
            name: "grafana".into(),
        }),
    )
    .await
    .unwrap_err();
    assert!(
        missing.to_string().contains("no such application"),
        "{missing}"
    );
    assert_eq!(
        audited(&app, "app_deleted").await[0].split(' ').next(),
        Some("cli")
    );
}

/// Deleting an application's only allowed role would leave it with none — open to every
/// enabled user. The role is refused deletion while an application uses it (naming it), and
/// nothing changes; once no application uses it, it goes.
#[tokio::test]
async fn a_role_an_application_is_open_to_is_not_deleted() {
    let app = spawn_app().await;
    let root = admin_token(&app).await;
    let role = app
        .api(
            "POST",
            "/api/v2/roles",
            Some(&root),
            Some(json!({"name": "ops", "mfa_required": false})),
        )
        .await;
    let role_id = role.assert_ok()["role_id"].clone();
    let mut body = wiki();
    body["allowed_roles"] = json!([role_id]);
    let created = app
        .api("POST", "/api/v2/apps", Some(&root), Some(body))
        .await;
    let app_id = created.assert_ok()["app_id"].clone();
    let role_path = format!("/api/v2/roles/{role_id}");
    app.api("DELETE", &role_path, Some(&root), None)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "ROLE_IN_USE");
    // Nothing changed: the role is there and the application still open to it alone.
    app.api("GET", &role_path, Some(&root), None)
        .await
        .assert_ok();
    let shown = app
        .api("GET", &format!("/api/v2/apps/{app_id}"), Some(&root), None)
        .await;
    assert_eq!(shown.assert_ok()["allowed_roles"], json!([role_id]));
    assert!(audited(&app, "role_deleted").await.is_empty());
    // Taken out of the application, the role can go.
    app.api(
        "PATCH",
        &format!("/api/v2/apps/{app_id}"),
        Some(&root),
        Some(json!({"allowed_roles": []})),
    )
    .await
    .assert_ok();
    app.api("DELETE", &role_path, Some(&root), None)
        .await
        .assert_ok();
}
