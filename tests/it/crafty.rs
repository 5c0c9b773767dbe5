//! Crafty compatibility (SPEC §12): the requests Crafty 4 clients send — trailing slashes,
//! `bearer`, Crafty's user fields and read-only routes — answered as Crafty answers them,
//! with the gate and the permission rules intact (keys: `crafty_keys`).

use axum::http::StatusCode;
use passgate::accounts::credentials::ResetOptions;
use serde_json::{Value, json};

use crate::helpers::*;

/// A call as `crafty-controller-api` makes it: `Authorization: Bearer …`, a JSON content
/// type, and a JSON body on every method (`{}` when it has nothing to send).
pub async fn crafty(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> ApiResponse {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("content-type", "application/json")];
    if let Some(auth) = &auth {
        headers.push(("authorization", auth.as_str()));
    }
    let body = body.unwrap_or_else(|| json!({})).to_string().into_bytes();
    app.api_raw(method, path, &headers, body).await
}

/// `admin` (superuser), `mgr` (USER_CONFIG, quantity 5) managing `alice`, and `bob`.
pub struct World {
    pub admin: i32,
    pub mgr: i32,
    pub alice: i32,
    pub bob: i32,
}

pub async fn world(app: &TestApp) -> World {
    let admin = app.user("admin", STRONG, true).await;
    let mgr = app.user_with("mgr", STRONG, false, None, Some(5)).await;
    let alice = app
        .user_with("alice", STRONG, false, Some(mgr.user_id), None)
        .await;
    let bob = app.user("bob", STRONG, false).await;
    World {
        admin: admin.user_id,
        mgr: mgr.user_id,
        alice: alice.user_id,
        bob: bob.user_id,
    }
}

/// `bob`, flagged with the temporary password STRONG_2, and a login token of his.
async fn flagged_bob(app: &TestApp) -> String {
    app.reset(
        "bob",
        STRONG_2,
        ResetOptions {
            expires_hours: 24,
            ..Default::default()
        },
    )
    .await;
    app.token("bob", STRONG_2).await
}

// ------------------------------------------------------------------ trailing slashes

#[tokio::test]
async fn every_route_answers_with_one_trailing_slash_as_without() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let admin = app.token("admin", STRONG).await;
    let t = Some(admin.as_str());
    let key = crafty(
        &app,
        "POST",
        "/api/v2/users/@me/key/",
        t,
        Some(json!({"name": "k"})),
    )
    .await;
    let key_id = key.assert_ok()["key_id"].as_str().unwrap().to_string();
    let alice = w.alice;
    let calls: Vec<(&str, String, Option<Value>, StatusCode)> = vec![
        ("GET", "/api/v2/".into(), None, StatusCode::OK),
        ("GET", "/api/v2/users/".into(), None, StatusCode::OK),
        (
            "GET",
            "/api/v2/users/?ids=true".into(),
            None,
            StatusCode::OK,
        ),
        (
            "POST",
            "/api/v2/users/".into(),
            Some(json!({"username": "carol", "password": STRONG_3})),
            StatusCode::CREATED,
        ),
        (
            "GET",
            format!("/api/v2/users/{alice}/"),
            None,
            StatusCode::OK,
        ),
        ("GET", "/api/v2/users/@me/".into(), None, StatusCode::OK),
        (
            "PATCH",
            format!("/api/v2/users/{alice}/"),
            Some(json!({"theme": "dark"})),
            StatusCode::OK,
        ),
        (
            "POST",
            format!("/api/v2/users/{alice}/reset-password/"),
            Some(json!({})),
            StatusCode::OK,
        ),
        (
            "GET",
            format!("/api/v2/users/{alice}/public/"),
            None,
            StatusCode::OK,
        ),
        (
            "GET",
            format!("/api/v2/users/{alice}/pfp/"),
            None,
            StatusCode::OK,
        ),
        (
            "GET",
            format!("/api/v2/users/{alice}/permissions/"),
            None,
            StatusCode::OK,
        ),
        ("GET", "/api/v2/users/@me/key/".into(), None, StatusCode::OK),
        (
            "PATCH",
            "/api/v2/users/@me/key/".into(),
            Some(
                json!({"name": "crafty", "server_permissions_mask": "00000000",
                "crafty_permissions_mask": "000", "full_access": false}),
            ),
            StatusCode::OK,
        ),
        (
            "GET",
            format!("/api/v2/users/@me/key/{key_id}/"),
            None,
            StatusCode::GONE,
        ),
        (
            "DELETE",
            format!("/api/v2/users/@me/key/{key_id}/"),
            None,
            StatusCode::OK,
        ),
        (
            "POST",
            format!("/api/v2/users/{alice}/reset-link/"),
            Some(json!({"expires_hours": 2})),
            StatusCode::OK,
        ),
        (
            "DELETE",
            format!("/api/v2/users/{alice}/reset-link/"),
            None,
            StatusCode::OK,
        ),
        (
            "DELETE",
            format!("/api/v2/users/{alice}/"),
            None,
            StatusCode::OK,
        ),
        ("GET", "/api/v2/openapi.json/".into(), None, StatusCode::OK),
        (
            "POST",
            "/api/v2/auth/invalidate_tokens/".into(),
            None,
            StatusCode::OK,
        ),
    ];
    for (method, path, body, status) in calls {
        let answer = crafty(&app, method, &path, t, body).await;
        assert_eq!(answer.status, status, "{method} {path}: {}", answer.json);
    }
    // The login Crafty's route table spells with a slash.
    let login = crafty(
        &app,
        "POST",
        "/api/v2/auth/login/",
        None,
        Some(json!({"username": "bob", "password": STRONG})),
    )
    .await;
    assert!(login.assert_ok()["token"].is_string());
    let _ = w.bob;
}

#[tokio::test]
async fn two_trailing_slashes_or_a_doubled_one_are_still_unknown() {
    let app = spawn_app().await;
    app.user("admin", STRONG, true).await;
    let admin = app.token("admin", STRONG).await;
    for path in [
        "/api/v2/users//",
        "/api/v2//users/",
        "//api/v2/users/",
        "/api/v2/users/@me//",
        "/api/v2//",
    ] {
        let answer = crafty(&app, "GET", path, Some(&admin), None).await;
        assert!(!answer.status.is_success(), "{path}: {}", answer.status);
        assert_eq!(answer.json["status"], "error", "{path}");
    }
}

#[tokio::test]
async fn a_flagged_user_is_held_by_the_gate_on_every_trailing_slash_twin() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let token = flagged_bob(&app).await;
    let t = Some(token.as_str());
    let bob = w.bob;
    let refused: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/api/v2/users/".into(), None),
        ("GET", "/api/v2/users/?ids=true".into(), None),
        (
            "POST",
            "/api/v2/users/".into(),
            Some(json!({"username": "evil_user", "password": STRONG_3})),
        ),
        ("GET", "/api/v2/users/@me/".into(), None),
        ("GET", format!("/api/v2/users/{bob}/"), None),
        // Only @me, and only the password, passes.
        (
            "PATCH",
            format!("/api/v2/users/{bob}/"),
            Some(json!({"password": STRONG_3})),
        ),
        (
            "PATCH",
            "/api/v2/users/@me/".into(),
            Some(json!({"password": STRONG_3, "theme": "dark"})),
        ),
        ("DELETE", "/api/v2/users/@me/".into(), None),
        (
            "POST",
            format!("/api/v2/users/{}/reset-password/", w.alice),
            None,
        ),
        (
            "POST",
            format!("/api/v2/users/{}/reset-link/", w.alice),
            None,
        ),
        (
            "DELETE",
            format!("/api/v2/users/{}/reset-link/", w.alice),
            None,
        ),
        ("GET", "/api/v2/users/@me/public/".into(), None),
        ("GET", "/api/v2/users/@me/pfp/".into(), None),
        ("GET", "/api/v2/users/@me/permissions/".into(), None),
        ("GET", "/api/v2/users/@me/key/".into(), None),
        (
            "POST",
            "/api/v2/users/@me/key/".into(),
            Some(json!({"name": "k"})),
        ),
        (
            "PATCH",
            "/api/v2/users/@me/key/".into(),
            Some(json!({"name": "k", "crafty_permissions_mask": "000",
                "server_permissions_mask": "00000000", "full_access": true})),
        ),
        ("GET", "/api/v2/users/@me/key/1/".into(), None),
        ("DELETE", "/api/v2/users/@me/key/1/".into(), None),
    ];
    for (method, path, body) in refused {
        crafty(&app, method, &path, t, body)
            .await
            .assert_error(StatusCode::FORBIDDEN, "PASSWORD_CHANGE_REQUIRED");
    }
    // Odd spellings of the allowed call do not reach it either (`%40me` is `@me` itself).
    for path in [
        "/api/v2/users/@me//",
        "//api/v2/users/@me/",
        "/api/v2/users//@me/",
    ] {
        let answer = crafty(&app, "PATCH", path, t, Some(json!({"password": STRONG_3}))).await;
        assert!(!answer.status.is_success(), "{path}: {}", answer.status);
    }
    let bob_now = app.find("bob").await;
    assert!(bob_now.require_password_change, "nothing changed bob");
    assert!(
        passgate::accounts::users::find_by_username(&app.db, "evil_user")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        passgate::accounts::api_keys::list(&app.db, bob)
            .await
            .unwrap()
            .is_empty()
    );

    // The two allowed calls, with their trailing slash.
    let other = app.token("bob", STRONG_2).await;
    crafty(
        &app,
        "POST",
        "/api/v2/auth/invalidate_tokens/",
        Some(&other),
        None,
    )
    .await
    .assert_ok();
    crafty(&app, "GET", "/api/v2/users/@me/", t, None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    let token = app.token("bob", STRONG_2).await;
    let changed = crafty(
        &app,
        "PATCH",
        "/api/v2/users/@me/",
        Some(&token),
        Some(json!({"password": STRONG_3})),
    )
    .await;
    let fresh = changed.assert_ok()["token"].as_str().unwrap().to_string();
    assert!(!app.find("bob").await.require_password_change);
    crafty(&app, "GET", "/api/v2/users/", Some(&fresh), None)
        .await
        .assert_ok();
}

#[tokio::test]
async fn an_api_key_of_a_flagged_user_is_exempt_on_the_twins_too() {
    let app = spawn_app().await;
    world(&app).await;
    let bob = app.find("bob").await;
    let key = app.api_key(&bob, &[], false).await;
    flagged_bob(&app).await;
    crafty(&app, "GET", "/api/v2/users/@me/", Some(&key), None)
        .await
        .assert_ok();
}

#[tokio::test]
async fn panel_pages_answer_with_a_trailing_slash_and_the_web_gate_holds() {
    let app = spawn_app().await;
    world(&app).await;
    let mut browser = app.client();
    browser.login("alice", STRONG).await;
    assert_eq!(
        browser.get("/panel/dashboard/").await.status,
        StatusCode::OK
    );
    assert_eq!(app.client().get("/login/").await.status, StatusCode::OK);

    flagged_bob(&app).await;
    let mut flagged = app.client();
    flagged.login("bob", STRONG_2).await;
    flagged
        .get("/panel/dashboard/")
        .await
        .assert_redirect("/panel/change_password");
    flagged
        .get("/panel/panel_config/")
        .await
        .assert_redirect("/panel/change_password");
    assert_eq!(
        flagged.get("/panel/change_password/").await.status,
        StatusCode::OK
    );
}

// ------------------------------------------------------------------ authentication

#[tokio::test]
async fn the_bearer_scheme_is_matched_in_any_case() {
    let app = spawn_app().await;
    world(&app).await;
    let token = app.token("bob", STRONG).await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let auth = format!("{scheme} {token}");
        let answer = app
            .api_raw(
                "GET",
                "/api/v2/users/@me/",
                &[("authorization", &auth)],
                Vec::new(),
            )
            .await;
        assert_eq!(answer.assert_ok()["username"], "bob", "{scheme}");
    }
    // Another scheme is not a bearer token.
    let auth = format!("Basic {token}");
    app.api_raw(
        "GET",
        "/api/v2/users/@me",
        &[("authorization", &auth)],
        Vec::new(),
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
}

/// Deliberate differences: a token in the query string (the old `crafty-client` sends
/// `?token=`) is not read, and a call without credentials is 401, not Crafty's 403.
#[tokio::test]
async fn tokens_in_query_strings_stay_refused_and_no_credentials_is_401() {
    let app = spawn_app().await;
    world(&app).await;
    let token = app.token("bob", STRONG).await;
    let answer = app
        .api_raw(
            "GET",
            &format!("/api/v2/users/?token={token}"),
            &[],
            Vec::new(),
        )
        .await;
    answer.assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    assert_eq!(answer.headers["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn the_api_index_answers_the_version_to_anyone() {
    let app = spawn_app().await;
    for path in ["/api/v2", "/api/v2/"] {
        let answer = crafty(&app, "GET", path, None, None).await;
        let data = answer.assert_ok();
        assert_eq!(data["version"], env!("CARGO_PKG_VERSION"), "{path}");
        assert!(data["message"].as_str().unwrap().contains("openapi.json"));
    }
}

// ------------------------------------------------------------------ users

#[tokio::test]
async fn crafty_user_fields_are_stored_and_returned_as_given() {
    let app = spawn_app().await;
    world(&app).await;
    let admin = app.token("admin", STRONG).await;
    let t = Some(admin.as_str());
    // What Crafty's own panel sends when it creates a user.
    let created = crafty(
        &app,
        "POST",
        "/api/v2/users/",
        t,
        Some(json!({
            "username": "carol",
            "password": STRONG_3,
            "email": "carol@example.org",
            "enabled": true,
            "superuser": false,
            "lang": "en_EN",
            "manager": null,
            "permissions": [{"name": "USER_CONFIG", "quantity": 3, "enabled": true}],
            "roles": [],
            "hints": false,
            "theme": "dark",
            "server_order": "3,1,2",
            "dashboard_columns": "server,status",
        })),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let id = created.json["data"]["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let shown = crafty(&app, "GET", &format!("/api/v2/users/{id}/"), t, None).await;
    let user = shown.assert_ok();
    assert_eq!(user["theme"], "dark");
    assert_eq!(user["hints"], false);
    assert_eq!(user["server_order"], "3,1,2");
    assert_eq!(user["dashboard_columns"], "server,status");
    assert_eq!(user["roles"], json!([]));

    // A user may change their own preferences; a PATCH returns them as stored.
    let carol = app.token("carol", STRONG_3).await;
    let patched = crafty(
        &app,
        "PATCH",
        "/api/v2/users/@me/",
        Some(&carol),
        Some(json!({"theme": "light", "hints": true, "roles": [], "dashboard_columns": ""})),
    )
    .await;
    let user = patched.assert_ok();
    assert_eq!(user["theme"], "light");
    assert_eq!(user["hints"], true);
    assert_eq!(user["dashboard_columns"], "");
    assert_eq!(user["server_order"], "3,1,2", "untouched");

    // A user created without them gets Crafty's defaults.
    let plain = app.find("bob").await;
    assert_eq!(
        (
            plain.theme.as_str(),
            plain.hints,
            plain.server_order.as_str()
        ),
        ("default", true, "")
    );
    assert_eq!(
        plain.dashboard_columns,
        "server,actions,cpuUsage,memUsage,size,players,status"
    );
}

#[tokio::test]
async fn crafty_user_fields_of_the_wrong_type_or_roles_are_refused_naming_the_field() {
    let app = spawn_app().await;
    world(&app).await;
    let admin = app.token("admin", STRONG).await;
    let cases = [
        (json!({"hints": "yes"}), "hints"),
        (json!({"theme": 7}), "theme"),
        (json!({"server_order": ["1"]}), "server_order"),
        (json!({"dashboard_columns": null, "theme": false}), "theme"),
        (json!({"roles": ["admins"]}), "roles"),
        (json!({"roles": [1.5]}), "roles"),
        (json!({"roles": "none"}), "roles"),
        (json!({"theme": "x".repeat(256)}), "theme"),
    ];
    for (body, field) in cases {
        for (method, path) in [("PATCH", "/api/v2/users/@me/"), ("POST", "/api/v2/users/")] {
            let mut body = body.clone();
            if method == "POST" {
                body["username"] = json!("dave");
                body["password"] = json!(STRONG_3);
            }
            let answer = crafty(&app, method, path, Some(&admin), Some(body.clone())).await;
            answer.assert_error(StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
            let message = answer.json["error_data"].as_str().unwrap();
            assert!(message.contains(field), "{body}: {message}");
            assert!(!message.contains(STRONG_3), "never the password: {message}");
        }
    }
    assert_eq!(app.find("admin").await.theme, "default");
    assert!(
        passgate::accounts::users::find_by_username(&app.db, "dave")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn ids_true_answers_the_visible_ids_only() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let sorted = |data: &Value| {
        let mut ids: Vec<i64> = data
            .as_array()
            .unwrap()
            .iter()
            .map(|id| id.as_i64().expect("an id is a number"))
            .collect();
        ids.sort_unstable();
        ids
    };
    let ids = |list: &[i32]| {
        let mut v: Vec<i64> = list.iter().map(|i| i64::from(*i)).collect();
        v.sort_unstable();
        v
    };
    let cases = [
        ("admin", ids(&[w.admin, w.mgr, w.alice, w.bob])),
        ("mgr", ids(&[w.mgr, w.alice])),
        ("bob", ids(&[w.bob])),
    ];
    for (name, expected) in cases {
        let token = app.token(name, STRONG).await;
        for path in ["/api/v2/users?ids=true", "/api/v2/users/?ids=true"] {
            let answer = crafty(&app, "GET", path, Some(&token), None).await;
            assert_eq!(sorted(answer.assert_ok()), expected, "{name} {path}");
        }
        // Any other value lists the rows, as in Crafty.
        for path in ["/api/v2/users?ids=false", "/api/v2/users?ids=1"] {
            let answer = crafty(&app, "GET", path, Some(&token), None).await;
            assert!(
                answer.assert_ok()[0]["username"].is_string(),
                "{name} {path}"
            );
        }
    }
}

#[tokio::test]
async fn public_attributes_picture_and_permissions_in_crafty_shape() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let mgr = app.token("mgr", STRONG).await;
    let alice = w.alice;

    let public = crafty(
        &app,
        "GET",
        &format!("/api/v2/users/{alice}/public"),
        Some(&mgr),
        None,
    )
    .await;
    let data = public.assert_ok();
    let mut keys: Vec<&str> = data
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "created",
            "enabled",
            "lang",
            "roles",
            "superuser",
            "user_id",
            "username"
        ]
    );
    assert_eq!(data["user_id"], json!(alice));
    assert_eq!(data["username"], "alice");
    assert_eq!(data["roles"], json!([]));

    let picture = crafty(&app, "GET", "/api/v2/users/@me/pfp", Some(&mgr), None).await;
    assert!(picture.assert_ok().is_null());

    // The manager's own permissions: the mask, users managed now, the quantity.
    let own = crafty(
        &app,
        "GET",
        "/api/v2/users/@me/permissions",
        Some(&mgr),
        None,
    )
    .await;
    assert_eq!(
        *own.assert_ok(),
        json!({
            "permissions": "010",
            "counters": {"SERVER_CREATION": 0, "USER_CONFIG": 1, "ROLES_CONFIG": 0},
            "limits": {"SERVER_CREATION": 0, "USER_CONFIG": 5, "ROLES_CONFIG": 0},
        })
    );
    let managed = crafty(
        &app,
        "GET",
        &format!("/api/v2/users/{alice}/permissions/"),
        Some(&mgr),
        None,
    )
    .await;
    assert_eq!(managed.assert_ok()["permissions"], "000");
    assert_eq!(managed.assert_ok()["limits"]["USER_CONFIG"], 0);
}

#[tokio::test]
async fn nobody_reads_what_they_may_not_see_through_crafty_routes() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let mgr = app.token("mgr", STRONG).await;
    let bob = app.token("bob", STRONG).await;
    for route in ["public", "pfp", "permissions"] {
        // A manager asking about a superuser, or a user they do not manage.
        for target in [w.admin, w.bob] {
            let path = format!("/api/v2/users/{target}/{route}");
            crafty(&app, "GET", &path, Some(&mgr), None)
                .await
                .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
        }
        // A plain user asking about anyone else.
        let path = format!("/api/v2/users/{}/{route}/", w.alice);
        crafty(&app, "GET", &path, Some(&bob), None)
            .await
            .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
        // Nobody there; not a number.
        for target in ["999", "admin", "-1"] {
            let path = format!("/api/v2/users/{target}/{route}");
            crafty(&app, "GET", &path, Some(&mgr), None)
                .await
                .assert_error(StatusCode::NOT_FOUND, "USER_NOT_FOUND");
        }
        // Without credentials.
        let path = format!("/api/v2/users/{}/{route}", w.alice);
        crafty(&app, "GET", &path, None, None)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    }
}
