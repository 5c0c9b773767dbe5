//! The API's envelope (SPEC §5): every answer under /api/v2 is JSON, errors carry exactly
//! `status`, `error` and `error_data`; how credentials are (and are not) accepted.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use base64::Engine;
use serde_json::json;

use crate::helpers::*;

/// An error in the envelope with exactly the three keys, as JSON, never a 500.
#[track_caller]
fn assert_envelope(answer: &ApiResponse, status: StatusCode, code: &str) {
    answer.assert_error(status, code);
    assert_exact_error_shape(answer);
}

#[track_caller]
fn assert_exact_error_shape(answer: &ApiResponse) {
    assert_ne!(
        answer.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        answer.json
    );
    let keys: BTreeSet<&str> = answer
        .json
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {}", answer.json))
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["error", "error_data", "status"]),
        "{}",
        answer.json
    );
    assert_eq!(answer.json["status"], "error", "{}", answer.json);
    assert!(
        answer.json["error"].as_str().is_some_and(|c| !c.is_empty()),
        "{}",
        answer.json
    );
    assert!(answer.json["error_data"].is_string(), "{}", answer.json);
    let content_type = answer
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        content_type.starts_with("application/json"),
        "content-type {content_type:?}"
    );
}

const JSON: (&str, &str) = ("content-type", "application/json");

async fn login_raw(app: &TestApp, headers: &[(&str, &str)], body: &[u8]) -> ApiResponse {
    app.api_raw("POST", "/api/v2/auth/login", headers, body.to_vec())
        .await
}

// ---------------------------------------------------------------- routing

#[tokio::test]
async fn unknown_api_paths_are_json_not_found() {
    let app = spawn_app().await;
    for path in [
        "/api/v2/nope",
        "/api/v2//",
        "/api/v2/users//",
        "/api/v2/users/1/nope",
        "/api/v2/auth",
    ] {
        let answer = app.api_raw("GET", path, &[], Vec::new()).await;
        assert_envelope(&answer, StatusCode::NOT_FOUND, "NOT_FOUND");
    }
    // With credentials too.
    app.user("bob", STRONG, false).await;
    let bob = app.token("bob", STRONG).await;
    let answer = app.api("GET", "/api/v2/nope", Some(&bob), None).await;
    assert_envelope(&answer, StatusCode::NOT_FOUND, "NOT_FOUND");
}

/// A method the route does not take answers 405 with `Allow`. On authenticated routes the
/// caller is identified first, so an anonymous wrong-method call gets the 401 envelope (the
/// SPEC does not order the two); the public login route answers 405 to anyone.
#[tokio::test]
async fn wrong_method_is_json_method_not_allowed() {
    let app = spawn_app().await;
    app.user("bob", STRONG, false).await;
    let bob = app.token("bob", STRONG).await;
    let cases = [
        ("PUT", "/api/v2/users", Some(bob.as_str())),
        ("PUT", "/api/v2/users/@me", Some(bob.as_str())),
        ("GET", "/api/v2/users/1/reset-password", Some(bob.as_str())),
        ("PUT", "/api/v2/users/1/key", Some(bob.as_str())),
        ("POST", "/api/v2", None),
        ("DELETE", "/api/v2/", None),
        ("DELETE", "/api/v2/auth/login", None),
        ("GET", "/api/v2/auth/login", None),
        ("DELETE", "/api/v2/auth/login", Some(bob.as_str())),
    ];
    for (method, path, token) in cases {
        let answer = app.api(method, path, token, None).await;
        assert_envelope(
            &answer,
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
        );
        assert!(
            answer.headers.get("allow").is_some(),
            "{method} {path}: a 405 names what is allowed"
        );
    }
    let anonymous = app.api("PUT", "/api/v2/users", None, None).await;
    assert!(anonymous.status.is_client_error(), "{}", anonymous.status);
    assert_exact_error_shape(&anonymous);
}

// ---------------------------------------------------------------- bodies

#[tokio::test]
async fn body_over_64_kib_is_refused_with_413_with_or_without_content_length() {
    let app = spawn_app().await;
    app.user("bob", STRONG, false).await;
    let body = json!({"username": "bob", "password": "a".repeat(70 * 1024)})
        .to_string()
        .into_bytes();
    assert!(body.len() > 64 * 1024);
    let length = body.len().to_string();

    let with_length = login_raw(&app, &[JSON, ("content-length", &length)], &body).await;
    assert_eq!(
        with_length.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        with_length.json
    );
    assert_exact_error_shape(&with_length);

    let without_length = login_raw(&app, &[JSON], &body).await;
    assert_eq!(
        without_length.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        without_length.json
    );
    assert_exact_error_shape(&without_length);

    // A bare 70 KiB JSON string too.
    let string = format!("\"{}\"", "a".repeat(70 * 1024)).into_bytes();
    let answer = login_raw(&app, &[JSON], &string).await;
    assert_eq!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        answer.json
    );
    assert_exact_error_shape(&answer);

    // An authenticated endpoint as well.
    let token = app.token("bob", STRONG).await;
    let auth = format!("Bearer {token}");
    let answer = app
        .api_raw(
            "PATCH",
            "/api/v2/users/@me",
            &[JSON, ("authorization", &auth)],
            body.clone(),
        )
        .await;
    assert_eq!(
        answer.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        answer.json
    );
    assert_exact_error_shape(&answer);
}

#[tokio::test]
async fn malformed_json_is_invalid_json() {
    let app = spawn_app().await;
    for body in [
        &b"{\"username\":"[..],
        b"{",
        b"not json",
        b"{\"username\": \"bob\",}",
    ] {
        let answer = login_raw(&app, &[JSON], body).await;
        assert_envelope(&answer, StatusCode::BAD_REQUEST, "INVALID_JSON");
    }
}

#[tokio::test]
async fn wrong_type_is_a_schema_error_naming_the_field() {
    let app = spawn_app().await;
    let answer = login_raw(&app, &[JSON], br#"{"username": 5, "password": "x"}"#).await;
    assert_envelope(&answer, StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
    assert!(
        answer.json["error_data"]
            .as_str()
            .unwrap()
            .contains("username"),
        "{}",
        answer.json
    );

    let answer = login_raw(&app, &[JSON], br#"{"username": "bob", "password": ["x"]}"#).await;
    assert_envelope(&answer, StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
    assert!(
        answer.json["error_data"]
            .as_str()
            .unwrap()
            .contains("password"),
        "{}",
        answer.json
    );
}

#[tokio::test]
async fn json_that_is_not_an_object_is_a_schema_error() {
    let app = spawn_app().await;
    for body in [&b"[]"[..], b"\"x\"", b"5", b"null", b"true"] {
        let answer = login_raw(&app, &[JSON], body).await;
        assert_envelope(&answer, StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
    }
}

// ---------------------------------------------------------------- credentials

#[tokio::test]
async fn no_credentials_is_401_with_www_authenticate() {
    let app = spawn_app().await;
    for (method, path) in [
        ("GET", "/api/v2/users/@me"),
        ("GET", "/api/v2/users"),
        ("POST", "/api/v2/users"),
        ("POST", "/api/v2/auth/invalidate_tokens"),
        ("GET", "/api/v2/users/1/key"),
    ] {
        let answer = app.api(method, path, None, Some(json!({}))).await;
        assert_envelope(&answer, StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
        assert!(
            answer.headers.get("www-authenticate").is_some(),
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn credentials_other_than_a_bearer_header_are_refused() {
    let app = spawn_app().await;
    app.user("bob", STRONG, false).await;
    let token = app.token("bob", STRONG).await;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("bob:{STRONG}"))
    );
    let bearer_token_only = token.clone();
    for authorization in [
        basic.as_str(),
        "Bearer garbage",
        "Bearer ",
        "Bearer pgk_1_garbage",
        "Bearer pgk_nope",
        bearer_token_only.as_str(),
        "bearer",
    ] {
        let answer = app
            .api_raw(
                "GET",
                "/api/v2/users/@me",
                &[("authorization", authorization)],
                Vec::new(),
            )
            .await;
        assert_envelope(&answer, StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    }
    for query in ["token", "access_token", "api_key", "key"] {
        let answer = app
            .api_raw(
                "GET",
                &format!("/api/v2/users/@me?{query}={token}"),
                &[],
                Vec::new(),
            )
            .await;
        assert_envelope(&answer, StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    }
    // The token itself is fine in the header.
    app.api("GET", "/api/v2/users/@me", Some(&token), None)
        .await
        .assert_ok();
}

#[tokio::test]
async fn a_login_token_with_one_character_changed_is_refused() {
    let app = spawn_app().await;
    app.user("bob", STRONG, false).await;
    let token = app.token("bob", STRONG).await;
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT: {token}");
    // One character in the middle of each part (the middle carries six full bits).
    let mut offset = 0;
    for part in &parts {
        let at = offset + part.len() / 2;
        let mut bytes = token.clone().into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_ne!(tampered, token);
        let answer = app
            .api("GET", "/api/v2/users/@me", Some(&tampered), None)
            .await;
        assert_envelope(&answer, StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
        offset += part.len() + 1;
    }
    app.api("GET", "/api/v2/users/@me", Some(&token), None)
        .await
        .assert_ok();
}

// ---------------------------------------------------------------- session cookie

fn cookie_header(client: &Client<'_>) -> String {
    client
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

#[tokio::test]
async fn web_session_works_on_the_api_and_unsafe_calls_need_the_csrf_header() {
    let app = spawn_app().await;
    app.user("bob", STRONG, false).await;
    let mut browser = app.client();
    browser
        .login("bob", STRONG)
        .await
        .assert_redirect("/panel/dashboard");
    let page = browser.get("/panel/dashboard").await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = browser
        .csrf
        .clone()
        .expect("the dashboard carries a CSRF token");
    let cookie = cookie_header(&browser);
    assert!(browser.session_cookie().is_some());

    let me = app
        .api_raw(
            "GET",
            "/api/v2/users/@me",
            &[("cookie", &cookie)],
            Vec::new(),
        )
        .await;
    assert_eq!(me.assert_ok()["username"], "bob");

    let patch = json!({"email": "bob@example.com"}).to_string().into_bytes();
    let without = app
        .api_raw(
            "PATCH",
            "/api/v2/users/@me",
            &[("cookie", &cookie), JSON],
            patch.clone(),
        )
        .await;
    assert_eq!(without.status, StatusCode::FORBIDDEN, "{}", without.json);
    assert_exact_error_shape(&without);
    let wrong = app
        .api_raw(
            "PATCH",
            "/api/v2/users/@me",
            &[("cookie", &cookie), JSON, ("x-csrf-token", "not-the-token")],
            patch.clone(),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{}", wrong.json);
    assert_exact_error_shape(&wrong);
    assert_eq!(
        app.find("bob").await.email,
        None,
        "refused requests change nothing"
    );

    let with = app
        .api_raw(
            "PATCH",
            "/api/v2/users/@me",
            &[("cookie", &cookie), JSON, ("x-csrf-token", &csrf)],
            patch,
        )
        .await;
    assert_eq!(with.status, StatusCode::OK, "{}", with.json);
    assert_eq!(with.assert_ok()["email"], "bob@example.com");
    assert_eq!(
        app.find("bob").await.email.as_deref(),
        Some("bob@example.com")
    );
}

// ---------------------------------------------------------------- error shape

/// method, path, bearer token, JSON body, expected status and code.
type Case<'a> = (
    &'a str,
    String,
    Option<&'a str>,
    Option<serde_json::Value>,
    StatusCode,
    &'a str,
);

/// A sweep over every kind of refusal the API gives: all are JSON with exactly the three
/// envelope keys, none is a 500.
#[tokio::test]
async fn every_error_body_has_exactly_status_error_and_error_data() {
    let app = spawn_app().await;
    let admin_user = app.user("admin", STRONG, true).await;
    let bob_user = app.user("bob", STRONG, false).await;
    let admin = app.token("admin", STRONG).await;
    let bob = app.token("bob", STRONG).await;
    let bob_path = format!("/api/v2/users/{}", bob_user.user_id);
    let admin_path = format!("/api/v2/users/{}", admin_user.user_id);

    let cases: Vec<Case> = vec![
        (
            "GET",
            "/api/v2/nope".into(),
            None,
            None,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        ),
        (
            "PUT",
            "/api/v2/users".into(),
            Some(&admin),
            None,
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
        ),
        (
            "GET",
            "/api/v2/users".into(),
            None,
            None,
            StatusCode::UNAUTHORIZED,
            "ACCESS_DENIED",
        ),
        (
            "GET",
            "/api/v2/users/424242".into(),
            Some(&admin),
            None,
            StatusCode::NOT_FOUND,
            "USER_NOT_FOUND",
        ),
        (
            "GET",
            admin_path.clone(),
            Some(&bob),
            None,
            StatusCode::FORBIDDEN,
            "ACCESS_DENIED",
        ),
        (
            "POST",
            "/api/v2/auth/login".into(),
            None,
            Some(json!({"username": "bob", "password": STRONG_2})),
            StatusCode::UNAUTHORIZED,
            "INCORRECT_CREDENTIALS",
        ),
        (
            "POST",
            "/api/v2/users".into(),
            Some(&admin),
            Some(json!({"username": "bob", "password": STRONG_2})),
            StatusCode::BAD_REQUEST,
            "USER_EXISTS",
        ),
        (
            "POST",
            "/api/v2/users".into(),
            Some(&admin),
            Some(json!({"username": "carol", "password": "password123"})),
            StatusCode::BAD_REQUEST,
            "PASSWORD_POLICY",
        ),
        (
            "POST",
            "/api/v2/users".into(),
            Some(&admin),
            Some(json!({"username": "carol", "nope": 1})),
            StatusCode::BAD_REQUEST,
            "INVALID_JSON_SCHEMA",
        ),
        (
            "PATCH",
            "/api/v2/users/@me".into(),
            Some(&bob),
            Some(json!({"password": STRONG_2})),
            StatusCode::BAD_REQUEST,
            "INCORRECT_CURRENT_PASSWORD",
        ),
        (
            "POST",
            "/api/v2/users/@me/reset-password".into(),
            Some(&admin),
            Some(json!({})),
            StatusCode::BAD_REQUEST,
            "SELF_RESET_NOT_ALLOWED",
        ),
        (
            "POST",
            format!("{bob_path}/reset-password"),
            Some(&bob),
            Some(json!({})),
            StatusCode::BAD_REQUEST,
            "SELF_RESET_NOT_ALLOWED",
        ),
        (
            "POST",
            format!("{admin_path}/reset-password"),
            Some(&bob),
            Some(json!({})),
            StatusCode::FORBIDDEN,
            "ACCESS_DENIED",
        ),
        (
            "DELETE",
            "/api/v2/users/@me/key/999".into(),
            Some(&bob),
            None,
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
        ),
        (
            "DELETE",
            admin_path.clone(),
            Some(&bob),
            None,
            StatusCode::FORBIDDEN,
            "ACCESS_DENIED",
        ),
    ];
    for (method, path, token, body, status, code) in cases {
        let answer = app.api(method, &path, token, body).await;
        assert_envelope(&answer, status, code);
    }
    // Raw bodies and headers.
    assert_envelope(
        &login_raw(&app, &[JSON], b"{").await,
        StatusCode::BAD_REQUEST,
        "INVALID_JSON",
    );
    assert_envelope(
        &login_raw(&app, &[JSON], b"[]").await,
        StatusCode::BAD_REQUEST,
        "INVALID_JSON_SCHEMA",
    );
    let big = vec![b' '; 70 * 1024];
    let answer = login_raw(&app, &[JSON], &big).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_exact_error_shape(&answer);
    let answer = app
        .api_raw(
            "GET",
            "/api/v2/users/@me",
            &[("authorization", "Bearer x.y.z")],
            Vec::new(),
        )
        .await;
    assert_envelope(&answer, StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
}
