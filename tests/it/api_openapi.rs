//! GET /api/v2/openapi.json: the document is public, and it matches what the router serves
//! and what the handlers answer.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const DOC: &str = "/api/v2/openapi.json";

/// Every (method, path) the API serves.
const ROUTES: [(&str, &str); 45] = [
    ("GET", "/api/v2"),
    ("POST", "/api/v2/auth/login"),
    ("POST", "/api/v2/auth/invalidate_tokens"),
    ("GET", "/api/v2/users"),
    ("POST", "/api/v2/users"),
    ("GET", "/api/v2/users/{id}"),
    ("PATCH", "/api/v2/users/{id}"),
    ("DELETE", "/api/v2/users/{id}"),
    ("POST", "/api/v2/users/{id}/reset-password"),
    ("POST", "/api/v2/users/{id}/reset-link"),
    ("DELETE", "/api/v2/users/{id}/reset-link"),
    ("DELETE", "/api/v2/users/{id}/sessions"),
    ("GET", "/api/v2/users/{id}/key"),
    ("POST", "/api/v2/users/{id}/key"),
    ("PATCH", "/api/v2/users/{id}/key"),
    ("GET", "/api/v2/users/{id}/key/{key_id}"),
    ("DELETE", "/api/v2/users/{id}/key/{key_id}"),
    ("POST", "/api/v2/users/{id}/totp"),
    ("GET", "/api/v2/users/{id}/totp"),
    ("POST", "/api/v2/users/{id}/totp/{totp_id}/verify"),
    ("DELETE", "/api/v2/users/{id}/totp/{totp_id}"),
    ("POST", "/api/v2/users/{id}/totp/recovery/renew"),
    ("POST", "/api/v2/auth/passkey/login/options"),
    ("POST", "/api/v2/auth/passkey/login/verify"),
    ("GET", "/api/v2/users/{id}/passkeys"),
    ("POST", "/api/v2/users/{id}/passkeys"),
    ("POST", "/api/v2/users/{id}/passkeys/{passkey_id}/verify"),
    ("DELETE", "/api/v2/users/{id}/passkeys/{passkey_id}"),
    ("GET", "/api/v2/users/{id}/public"),
    ("GET", "/api/v2/users/{id}/pfp"),
    ("GET", "/api/v2/users/{id}/permissions"),
    ("GET", "/api/v2/roles"),
    ("POST", "/api/v2/roles"),
    ("GET", "/api/v2/roles/{id}"),
    ("PATCH", "/api/v2/roles/{id}"),
    ("DELETE", "/api/v2/roles/{id}"),
    ("GET", "/api/v2/roles/{id}/users"),
    ("GET", "/api/v2/roles/{id}/servers"),
    ("GET", "/api/v2/openapi.json"),
    ("GET", "/api/v2/apps"),
    ("POST", "/api/v2/apps"),
    ("GET", "/api/v2/apps/{id}"),
    ("PATCH", "/api/v2/apps/{id}"),
    ("DELETE", "/api/v2/apps/{id}"),
    ("POST", "/api/v2/apps/{id}/secret"),
];

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

async fn document(app: &TestApp) -> Value {
    let response = app.api("GET", DOC, None, None).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.json);
    response.json
}

/// The (method, path) pairs of the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            found.insert((method.to_uppercase(), path.clone()));
        }
    }
    found
}

fn concrete(path: &str, id: &str) -> String {
    path.replace("{id}", id)
        .replace("{key_id}", "1")
        .replace("{totp_id}", "1")
}

/// A schema with `$ref` resolved and `allOf` merged into one object schema.
fn resolve(doc: &Value, schema: &Value) -> Value {
    if let Some(name) = schema["$ref"].as_str() {
        let name = name.trim_start_matches("#/components/schemas/");
        return resolve(doc, &doc["components"]["schemas"][name]);
    }
    let Some(parts) = schema["allOf"].as_array() else {
        return schema.clone();
    };
    let mut merged = json!({"type": "object", "properties": {}, "required": []});
    for part in parts.iter().map(|p| resolve(doc, p)) {
        for (name, property) in part["properties"].as_object().into_iter().flatten() {
            merged["properties"][name] = property.clone();
        }
        for name in part["required"].as_array().into_iter().flatten() {
            merged["required"]
                .as_array_mut()
                .unwrap()
                .push(name.clone());
        }
    }
    merged
}

/// Checks `value` against `schema`, treating every object as closed: a key the document
/// does not describe is a mismatch too.
fn conforms(doc: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    let schema = resolve(doc, schema);
    if let Some(alternatives) = schema["oneOf"].as_array() {
        // Exactly one alternative, as JSON Schema's `oneOf` says.
        let matching = alternatives
            .iter()
            .filter(|alternative| conforms(doc, alternative, value, at).is_ok())
            .count();
        return match matching {
            1 => Ok(()),
            n => Err(format!(
                "{at}: {value} matches {n} of the `oneOf` alternatives"
            )),
        };
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let type_of = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    if !types.is_empty() && !types.contains(&type_of) {
        return Err(format!("{at}: {type_of} where the document says {types:?}"));
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {allowed:?}"));
    }
    match value {
        Value::Object(fields) => {
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap();
                if !fields.contains_key(name) {
                    return Err(format!("{at}: required `{name}` missing"));
                }
            }
            for (name, field) in fields {
                let Some(property) = schema["properties"].get(name) else {
                    return Err(format!("{at}: `{name}` is not in the document"));
                };
                conforms(doc, property, field, &format!("{at}.{name}"))?;
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                conforms(doc, &schema["items"], item, &format!("{at}[{i}]"))?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The document's path that `url` is an instance of.
/// The query and one trailing slash (the same operation, not listed twice) do not count.
fn template_of<'d>(doc: &'d Value, url: &str) -> &'d str {
    let path = url.split('?').next().unwrap_or(url);
    let path = path.strip_suffix('/').unwrap_or(path);
    let segments: Vec<&str> = path.split('/').collect();
    let matches = |path: &str| {
        let pattern: Vec<&str> = path.split('/').collect();
        pattern.len() == segments.len()
            && pattern
                .iter()
                .zip(&segments)
                .all(|(p, s)| p.starts_with('{') || p == s)
    };
    let paths = doc["paths"].as_object().unwrap().keys();
    paths.map(String::as_str).find(|p| matches(p)).expect(url)
}

/// Calls the API and checks the answer against the document's response for its status.
async fn checked(
    app: &TestApp,
    doc: &Value,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> ApiResponse {
    let response = app.api(method, url, token, body).await;
    let path = template_of(doc, url);
    let documented =
        &doc["paths"][path][method.to_lowercase()]["responses"][response.status.as_str()];
    let (status, json) = (response.status, &response.json);
    assert!(
        documented.is_object(),
        "{method} {url}: {status} is not documented: {json}"
    );
    let schema = &documented["content"]["application/json"]["schema"];
    if let Err(mismatch) = conforms(doc, schema, json, "body") {
        panic!("{method} {url} {status}: {mismatch}");
    }
    response
}

#[tokio::test]
async fn the_document_is_public_raw_openapi_3_json() {
    let app = spawn_app().await;
    let response = app.api_raw("GET", DOC, &[], Vec::new()).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.json);
    let content_type = response.headers["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let openapi = response.json["openapi"].as_str().expect("openapi version");
    assert!(openapi.starts_with("3."), "{openapi}");
    assert!(response.json.get("status").is_none(), "not in the envelope");
    assert_eq!(response.json["info"]["title"], "passgate");
}

#[tokio::test]
async fn the_document_lists_exactly_the_served_routes() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(operations(&doc), expected);

    // Each documented operation reaches a route: without credentials the protected ones
    // answer 401 from the authentication layer, which only runs on a matched route.
    for (method, path) in operations(&doc) {
        let public = doc["paths"][&path][method.to_lowercase()]["security"].is_null();
        for id in ["@me", "1"] {
            let url = concrete(&path, id);
            let response = app.api(&method, &url, None, None).await;
            assert_ne!(response.code(), Some("NOT_FOUND"), "{method} {url}");
            assert_ne!(
                response.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {url}"
            );
            if !public {
                response.assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
            }
        }
    }
}

/// (Without credentials, a protected path answers 401 first, whatever the method.)
#[tokio::test]
async fn methods_the_document_does_not_list_answer_405() {
    let app = spawn_app().await;
    let admin = app.user("admin_a", STRONG, true).await;
    let key = app.api_key(&admin, &[], true).await;
    let doc = document(&app).await;
    let documented = operations(&doc);
    let mut checked = 0;
    for path in doc["paths"].as_object().unwrap().keys() {
        for method in METHODS {
            if documented.contains(&(method.to_string(), path.clone())) {
                continue;
            }
            let url = concrete(path, "@me");
            let response = app.api(method, &url, Some(&key), None).await;
            response.assert_error(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED");
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked}");
}

#[tokio::test]
async fn the_reset_body_schema_is_spec_4() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let body = &doc["paths"]["/api/v2/users/{id}/reset-password"]["post"]["requestBody"];
    let content = body["content"].as_object().expect("request body content");
    assert!(!content.is_empty());
    for (media_type, media) in content {
        let schema = resolve(&doc, &media["schema"]);
        let fields: BTreeSet<&str> = schema["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .map(String::as_str)
            .collect();
        let spec: BTreeSet<&str> = [
            "password",
            "length",
            "expires_hours",
            "require_password_change",
            "revoke_api_keys",
            "reset_mfa",
        ]
        .into();
        assert_eq!(fields, spec, "{media_type}");
        assert_eq!(schema["additionalProperties"], false, "{media_type}");
        assert!(schema["required"].as_array().is_none_or(Vec::is_empty));
        let limits = [
            ("password", "minLength", 8),
            ("password", "maxLength", 128),
            ("length", "minimum", 8),
            ("length", "maximum", 128),
            ("expires_hours", "minimum", -1),
            ("expires_hours", "maximum", 8760),
        ];
        for (field, keyword, limit) in limits {
            assert_eq!(
                schema["properties"][field][keyword], limit,
                "{field} {keyword}"
            );
        }
        let hours = schema["properties"]["expires_hours"]["description"].as_str();
        assert!(hours.unwrap().contains("0 is refused"), "{hours:?}");
    }
    // Every field is optional, so the body may be left out.
    assert_eq!(body["required"], false);
}

#[tokio::test]
async fn every_operation_but_login_the_index_and_the_document_needs_the_bearer() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(
        (&bearer["type"], &bearer["scheme"]),
        (&json!("http"), &json!("bearer"))
    );
    for (method, path) in operations(&doc) {
        let security = &doc["paths"][&path][method.to_lowercase()]["security"];
        if path == "/api/v2/auth/login"
            || path.starts_with("/api/v2/auth/passkey/login/")
            || path == DOC
            || path == "/api/v2"
        {
            assert!(security.is_null(), "{method} {path}: {security}");
        } else {
            let bearer = security
                .as_array()
                .into_iter()
                .flatten()
                .any(|requirement| {
                    requirement
                        .as_object()
                        .is_some_and(|r| r.contains_key("bearer"))
                });
            assert!(bearer, "{method} {path}: {security}");
        }
    }
}

#[tokio::test]
async fn real_answers_match_the_documented_schemas() {
    let app = spawn_app().await;
    let admin = app.user("admin_a", STRONG, true).await;
    let doc = document(&app).await;
    let login = json!({"username": "admin_a", "password": STRONG});
    let login = checked(&app, &doc, "POST", "/api/v2/auth/login", None, Some(login)).await;
    let token = login.json["data"]["token"].as_str().unwrap().to_string();
    let t = Some(token.as_str());
    let new = json!({"username": "bob", "expires_hours": 5});
    let created = checked(&app, &doc, "POST", "/api/v2/users", t, Some(new)).await;
    let bob = format!(
        "/api/v2/users/{}",
        created.json["data"]["user_id"].as_str().unwrap()
    );
    let me = "/api/v2/users/@me";
    let made = checked(
        &app,
        &doc,
        "POST",
        "/api/v2/roles",
        t,
        Some(json!({"name": "ops", "servers": [], "mfa_required": false})),
    )
    .await;
    let role = format!(
        "/api/v2/roles/{}",
        made.json["data"]["role_id"].as_i64().unwrap()
    );
    let calls: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/api/v2/roles".into(), None),
        ("GET", "/api/v2/roles?ids=true".into(), None),
        ("POST", "/api/v2/roles".into(), Some(json!({"name": "OPS"}))),
        ("POST", "/api/v2/roles".into(), Some(json!({"name": "a,b"}))),
        ("GET", role.clone(), None),
        ("GET", "/api/v2/roles/999".into(), None),
        ("PATCH", role.clone(), Some(json!({"name": "Operations"}))),
        ("PATCH", role.clone(), Some(json!({}))),
        ("GET", format!("{role}/users"), None),
        ("GET", format!("{role}/servers"), None),
        (
            "PATCH",
            bob.clone(),
            Some(json!({"roles": [made.json["data"]["role_id"]]})),
        ),
        ("PATCH", bob.clone(), Some(json!({"roles": [999]}))),
        (
            "POST",
            "/api/v2/users".into(),
            Some(json!({"username": "carl", "roles": [999]})),
        ),
        ("GET", "/api/v2/users".into(), None),
        ("GET", bob.clone(), None),
        ("GET", "/api/v2/users/999".into(), None),
        (
            "PATCH",
            bob.clone(),
            Some(json!({"email": "b@example.org"})),
        ),
        ("PATCH", me.into(), Some(json!({"nickname": "x"}))),
        (
            "POST",
            "/api/v2/users".into(),
            Some(json!({"username": "bob"})),
        ),
        ("POST", format!("{bob}/reset-password"), None),
        ("POST", format!("{me}/reset-password"), None),
        ("POST", format!("{me}/key"), Some(json!({"name": "ci"}))),
        (
            "PATCH",
            format!("{me}/key"),
            Some(
                json!({"name": "crafty", "server_permissions_mask": "00000000",
                "crafty_permissions_mask": "000", "full_access": false}),
            ),
        ),
        (
            "PATCH",
            format!("{me}/key"),
            Some(json!({"name": "crafty", "crafty_permissions_mask": "0100"})),
        ),
        ("GET", format!("{me}/key"), None),
        ("GET", format!("{me}/key/1"), None),
        ("GET", format!("{me}/key/77"), None),
        ("GET", "/api/v2/users?ids=true".into(), None),
        ("GET", "/api/v2/users/".into(), None),
        ("GET", format!("{bob}/public"), None),
        ("GET", format!("{me}/pfp"), None),
        ("GET", format!("{bob}/permissions"), None),
        ("GET", "/api/v2/users/999/permissions".into(), None),
        (
            "PATCH",
            me.into(),
            Some(json!({"theme": "dark", "roles": []})),
        ),
        ("PATCH", me.into(), Some(json!({"roles": [1]}))),
        ("DELETE", role.clone(), None),
        ("DELETE", format!("{me}/key/77"), None),
        ("DELETE", format!("/api/v2/users/{}", admin.user_id), None),
        ("DELETE", bob.clone(), None),
    ];
    for (method, url, body) in calls {
        checked(&app, &doc, method, &url, t, body).await;
    }
    checked(&app, &doc, "GET", "/api/v2", None, None).await;
    let key = app.api_key(&admin, &[], true).await;
    let keys = checked(&app, &doc, "GET", "/api/v2/users/@me/key", Some(&key), None).await;
    let key_id = keys.json["data"][0]["key_id"].as_str().unwrap();
    let url = format!("/api/v2/users/@me/key/{key_id}");
    checked(&app, &doc, "DELETE", &url, Some(&key), None).await;
    checked(
        &app,
        &doc,
        "POST",
        "/api/v2/auth/invalidate_tokens",
        t,
        None,
    )
    .await;
    let refused = checked(&app, &doc, "GET", "/api/v2/users", t, None).await;
    refused.assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
}

#[tokio::test]
async fn application_answers_match_the_documented_schemas() {
    let app = spawn_app().await;
    app.user("admin_a", STRONG, true).await;
    app.user("plain", STRONG, false).await;
    let doc = document(&app).await;
    let token = app.token("admin_a", STRONG).await;
    let t = Some(token.as_str());
    let wiki = json!({"name": "Wiki", "hosts": ["wiki.example.org"], "public_paths": ["/api/"],
        "policy": "two_factor"});
    let created = checked(&app, &doc, "POST", "/api/v2/apps", t, Some(wiki.clone())).await;
    let id = created.json["data"]["app_id"].as_i64().unwrap();
    let one = format!("/api/v2/apps/{id}");
    let calls: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/api/v2/apps".into(), None),
        ("GET", one.clone(), None),
        ("GET", "/api/v2/apps/999".into(), None),
        ("POST", "/api/v2/apps".into(), Some(wiki)),
        (
            "POST",
            "/api/v2/apps".into(),
            Some(json!({"name": "X", "hosts": ["wiki.example.org"]})),
        ),
        (
            "POST",
            "/api/v2/apps".into(),
            Some(json!({"name": "X", "hosts": ["a b"]})),
        ),
        (
            "PATCH",
            one.clone(),
            Some(json!({"description": "The wiki"})),
        ),
        ("PATCH", "/api/v2/apps/999".into(), Some(json!({}))),
        (
            "PATCH",
            one.clone(),
            Some(
                json!({"oidc": {"redirect_uris": ["https://wiki.example.org/cb"], "public": true}}),
            ),
        ),
        ("POST", format!("{one}/secret"), None),
        (
            "PATCH",
            one.clone(),
            Some(json!({"oidc": {"public": false}})),
        ),
        ("POST", format!("{one}/secret"), None),
        ("GET", one.clone(), None),
        (
            "POST",
            "/api/v2/apps".into(),
            Some(
                json!({"name": "Forge", "oidc": {"redirect_uris": ["https://forge.example.org/cb"]}}),
            ),
        ),
        (
            "POST",
            "/api/v2/apps".into(),
            Some(json!({"name": "Y", "oidc": {"redirect_uris": ["http://forge.example.org/cb"]}})),
        ),
        ("PATCH", one.clone(), Some(json!({"oidc": null}))),
        ("DELETE", one.clone(), None),
        ("DELETE", one, None),
    ];
    for (method, url, body) in calls {
        checked(&app, &doc, method, &url, t, body).await;
    }
    let plain = app.token("plain", STRONG).await;
    let refused = checked(&app, &doc, "GET", "/api/v2/apps", Some(&plain), None).await;
    refused.assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
}

#[tokio::test]
async fn two_factor_answers_match_the_documented_schemas() {
    use passgate::accounts::mfa::totp;
    let app = spawn_app().await;
    let doc = document(&app).await;
    app.user("alice", STRONG, false).await;
    let token = app.token("alice", STRONG).await;
    let started = checked(
        &app,
        &doc,
        "POST",
        "/api/v2/users/@me/totp",
        Some(&token),
        None,
    )
    .await;
    let otp = started.assert_ok()["otp"].clone();
    let id = otp["id"].as_str().unwrap();
    let secret = decode_base32(otp["totp_secret"].as_str().unwrap());
    let verify = format!("/api/v2/users/@me/totp/{id}/verify");
    let now = || totp::step_at(time::OffsetDateTime::now_utc().unix_timestamp());
    let step = now();
    let code = |step| totp::code_at_step(&secret, step);
    let wrong = format!(
        "{:06}",
        (code(step).parse::<u32>().unwrap() + 1) % 1_000_000
    );
    checked(
        &app,
        &doc,
        "POST",
        &verify,
        Some(&token),
        Some(json!({"totp": wrong})),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "INCORRECT_MFA");
    let body = json!({"name": "phone", "totp": code(step - 1)});
    let enrolled = checked(&app, &doc, "POST", &verify, Some(&token), Some(body)).await;
    let data = enrolled.assert_ok().clone();
    let token = data["token"].as_str().unwrap().to_string();
    let backup = data["backup_codes"][0].as_str().unwrap().to_string();
    let list = checked(
        &app,
        &doc,
        "GET",
        "/api/v2/users/@me/totp",
        Some(&token),
        None,
    )
    .await;
    let device = list.assert_ok()[0]["id"].as_str().unwrap().to_string();
    let login = "/api/v2/auth/login";
    let creds = json!({"username": "alice", "password": STRONG});
    checked(&app, &doc, "POST", login, None, Some(creds.clone()))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "MFA_REQUIRED");
    let mut with_code = creds.clone();
    with_code["backup_code"] = json!(backup);
    checked(&app, &doc, "POST", login, None, Some(with_code.clone()))
        .await
        .assert_ok();
    checked(&app, &doc, "POST", login, None, Some(with_code))
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_MFA");
    let renew = "/api/v2/users/@me/totp/recovery/renew";
    let renewed = checked(
        &app,
        &doc,
        "POST",
        renew,
        Some(&token),
        Some(json!({"totp": code(now())})),
    )
    .await;
    let token = renewed.assert_ok()["token"].as_str().unwrap().to_string();
    checked(&app, &doc, "GET", "/api/v2/users/@me", Some(&token), None)
        .await
        .assert_ok();
    let url = format!("/api/v2/users/@me/totp/{device}");
    checked(&app, &doc, "DELETE", &url, Some(&token), None)
        .await
        .assert_ok();
}
