//! Roles through Crafty's API (SPEC §14, §15.6): what Crafty clients send and read, and the
//! refusals from the attacker's side — the plain user, the API key without the permission,
//! the `ROLES_CONFIG` holder reaching for a role or a user they do not manage or for their
//! own roles, a name differing only in case, a comma in a name, an unknown role id.

use axum::http::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::*;

/// A superuser `admin`; `holder` with `ROLES_CONFIG` and `USER_CONFIG` (no caps) who manages
/// `managed`; `plain`, managed by nobody; a role `ops` managed by `holder` and a role
/// `finance` managed by nobody.
struct World {
    admin: String,
    holder: String,
    holder_id: i32,
    managed_id: i32,
    plain_id: i32,
    ops: i32,
    finance: i32,
}

async fn world(app: &TestApp) -> World {
    app.user("admin", STRONG, true).await;
    let holder = app
        .user_with_grants("holder", None, &[("ROLES_CONFIG", -1), ("USER_CONFIG", -1)])
        .await;
    let managed = app
        .user_with("managed", STRONG, false, Some(holder.user_id), None)
        .await;
    let plain = app.user("plain", STRONG, false).await;
    let ops = app.role("ops", Some(holder.user_id), false).await;
    let finance = app.role("finance", None, false).await;
    World {
        admin: app.token("admin", STRONG).await,
        holder: app.token("holder", STRONG).await,
        holder_id: holder.user_id,
        managed_id: managed.user_id,
        plain_id: plain.user_id,
        ops,
        finance,
    }
}

fn ids(value: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = value
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_i64().expect("an integer id"))
        .collect();
    ids.sort_unstable();
    ids
}

async fn roles_of(app: &TestApp, user_id: i32) -> Vec<String> {
    passgate::accounts::roles::names_of_user(&app.db, user_id)
        .await
        .unwrap()
}

/// `PATCH /roles/{role}` setting `mfa_required`, as the holder of `token`.
async fn require_mfa(app: &TestApp, token: &str, role: i32, required: bool) -> ApiResponse {
    app.api(
        "PATCH",
        &format!("/api/v2/roles/{role}"),
        Some(token),
        Some(json!({ "mfa_required": required })),
    )
    .await
}

/// `DELETE /users/@me/totp/{device}`.
async fn remove_own_device(app: &TestApp, token: &str, device: &str) -> ApiResponse {
    app.api(
        "DELETE",
        &format!("/api/v2/users/@me/totp/{device}"),
        Some(token),
        None,
    )
    .await
}

async fn audit_actions(app: &TestApp, action: &str) -> Vec<String> {
    let rows = app
        .db
        .query_all_raw(Statement::from_sql_and_values(
            app.db.get_database_backend(),
            match app.db.get_database_backend() {
                sea_orm::DbBackend::Postgres => {
                    "SELECT COALESCE(actor_name, '') || '>' || COALESCE(target_name, '') || ':' || detail \
                     FROM audit_log WHERE action = $1 ORDER BY audit_id"
                }
                _ => {
                    "SELECT COALESCE(actor_name, '') || '>' || COALESCE(target_name, '') || ':' || detail \
                     FROM audit_log WHERE action = ? ORDER BY audit_id"
                }
            },
            [action.into()],
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect()
}

#[tokio::test]
async fn a_superuser_lists_creates_reads_changes_and_deletes_roles_as_crafty_does() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let t = Some(w.admin.as_str());

    let created = app
        .api(
            "POST",
            "/api/v2/roles",
            t,
            Some(json!({"name": "  Support ", "servers": [], "mfa_required": true})),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "200, as Crafty answers");
    let id = created.assert_ok()["role_id"]
        .as_i64()
        .expect("role_id is a JSON integer");

    let listed = app.api("GET", "/api/v2/roles", t, None).await;
    let rows = listed.assert_ok().as_array().unwrap().clone();
    assert_eq!(rows.len(), 3);
    let support = rows
        .iter()
        .find(|r| r["role_id"] == id)
        .expect("the new role is listed");
    let mut keys: Vec<&str> = support
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
            "last_update",
            "manager",
            "mfa_required",
            "role_id",
            "role_name"
        ]
    );
    assert_eq!(support["role_name"], "support", "trimmed and lower-cased");
    assert_eq!(
        support["manager"],
        Value::Null,
        "a superuser's role has no manager"
    );
    assert_eq!(support["mfa_required"], true);
    let only_ids = app.api("GET", "/api/v2/roles/?ids=true", t, None).await;
    assert_eq!(
        ids(only_ids.assert_ok()),
        [i64::from(w.ops), i64::from(w.finance), id]
    );

    let url = format!("/api/v2/roles/{id}");
    let shown = app.api("GET", &url, t, None).await;
    assert_eq!(shown.assert_ok()["role_name"], "support");
    let changed = app
        .api(
            "PATCH",
            &format!("{url}/"),
            t,
            Some(json!({"name": "Helpdesk", "mfa_required": false, "manager": w.holder_id})),
        )
        .await;
    let row = changed.assert_ok();
    assert_eq!(
        (&row["role_name"], &row["mfa_required"], &row["manager"]),
        (&json!("helpdesk"), &json!(false), &json!(w.holder_id))
    );
    // Crafty's `manager: 0` means nobody.
    let changed = app.api("PATCH", &url, t, Some(json!({"manager": 0}))).await;
    assert_eq!(changed.assert_ok()["manager"], Value::Null);

    let users = app.api("GET", &format!("{url}/users"), t, None).await;
    assert_eq!(users.assert_ok(), &json!([]));
    let servers = app
        .api("GET", &format!("{url}/servers?ids=true"), t, None)
        .await;
    assert_eq!(servers.assert_ok(), &json!([]));

    let deleted = app.api("DELETE", &url, t, None).await;
    assert_eq!(deleted.assert_ok(), &json!(id));
    for (method, path) in [
        ("GET", url.clone()),
        ("PATCH", url.clone()),
        ("DELETE", url.clone()),
        ("GET", format!("{url}/users")),
        ("GET", format!("{url}/servers")),
        ("GET", "/api/v2/roles/abc".into()),
        ("GET", "/api/v2/roles/99999999999".into()),
    ] {
        let body = (method == "PATCH").then(|| json!({"mfa_required": true}));
        app.api(method, &path, t, body)
            .await
            .assert_error(StatusCode::NOT_FOUND, "ROLE_NOT_FOUND");
    }
    let made = audit_actions(&app, "role_created").await;
    assert!(made.last().unwrap().starts_with("admin>:role="), "{made:?}");
    assert!(made.last().unwrap().contains("name=support"), "{made:?}");
    assert_eq!(audit_actions(&app, "role_updated").await.len(), 2);
    assert_eq!(audit_actions(&app, "role_deleted").await.len(), 1);
}

#[tokio::test]
async fn names_are_unique_in_any_case_and_refused_names_name_the_field() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let t = Some(w.admin.as_str());
    for taken in ["OPS", " ops", "Finance"] {
        app.api("POST", "/api/v2/roles", t, Some(json!({"name": taken})))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "ROLE_NAME_ALREADY_EXISTS");
    }
    app.api(
        "PATCH",
        &format!("/api/v2/roles/{}", w.finance),
        t,
        Some(json!({"name": "Ops"})),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "ROLE_NAME_ALREADY_EXISTS");
    let long = "x".repeat(65);
    for bad in [
        json!({"name": "a,b"}),
        json!({"name": "[admins]"}),
        json!({"name": ""}),
        json!({"name": "   "}),
        json!({"name": long}),
        json!({"name": "tab\there"}),
        json!({"name": 7}),
        json!({"servers": []}),
    ] {
        let answer = app.api("POST", "/api/v2/roles", t, Some(bad.clone())).await;
        answer.assert_error(StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
        assert!(
            answer.json["error_data"].as_str().unwrap().contains("name"),
            "{bad}: {}",
            answer.json
        );
    }
    for bad in [
        json!({"name": "x", "servers": [{"server_id": "1", "permissions": "2"}]}),
        json!({"name": "x", "servers": [{"server_id": 1, "permissions": "00000000"}]}),
        json!({"name": "x", "servers": "all"}),
        json!({"name": "x", "mfa_required": "yes"}),
        json!({"name": "x", "colour": "red"}),
    ] {
        let answer = app.api("POST", "/api/v2/roles", t, Some(bad.clone())).await;
        answer.assert_error(StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
    }
    // A PATCH must set something; a refused PATCH changes nothing.
    let ops = format!("/api/v2/roles/{}", w.ops);
    app.api("PATCH", &ops, t, Some(json!({})))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
    app.api(
        "PATCH",
        &ops,
        t,
        Some(json!({"name": "a,b", "mfa_required": true})),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
    let role = passgate::accounts::roles::get(&app.db, w.ops)
        .await
        .unwrap();
    assert_eq!((role.role_name.as_str(), role.mfa_required), ("ops", false));
    // Crafty's server entries are accepted and dropped.
    let made = app
        .api(
            "POST",
            "/api/v2/roles",
            t,
            Some(json!({"name": "x", "servers": [{"server_id": "9", "permissions": "11111111"}]})),
        )
        .await;
    made.assert_ok();
    let count = passgate::accounts::roles::list_all(&app.db).await.unwrap();
    assert_eq!(count.len(), 3, "only x was added");
}

#[tokio::test]
async fn without_roles_config_every_roles_route_is_refused() {
    let app = spawn_app().await;
    let w = world(&app).await;
    app.user_with("userconf", STRONG, false, None, Some(-1))
        .await;
    let holder = app.find("holder").await;
    let admin = app.find("admin").await;
    let plain = app.token("plain", STRONG).await;
    let userconf = app.token("userconf", STRONG).await;
    // The holder's key without ROLES_CONFIG, a superuser's key without full_access.
    let narrow_key = app.api_key(&holder, &["USER_CONFIG"], false).await;
    let bare_superuser_key = app.api_key(&admin, &[], false).await;
    let ops = format!("/api/v2/roles/{}", w.ops);
    let unknown = "/api/v2/roles/424242".to_string();
    let calls: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/api/v2/roles".into(), None),
        ("GET", "/api/v2/roles?ids=true".into(), None),
        (
            "POST",
            "/api/v2/roles".into(),
            Some(json!({"name": "mine"})),
        ),
        ("GET", ops.clone(), None),
        ("PATCH", ops.clone(), Some(json!({"mfa_required": true}))),
        ("DELETE", ops.clone(), None),
        ("GET", format!("{ops}/users"), None),
        ("GET", format!("{ops}/servers"), None),
        // An unknown role tells nothing either: 403, not 404.
        ("GET", unknown.clone(), None),
        ("DELETE", unknown, None),
    ];
    for token in [&plain, &userconf, &narrow_key, &bare_superuser_key] {
        for (method, path, body) in &calls {
            app.api(method, path, Some(token), body.clone())
                .await
                .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
        }
    }
    let role = passgate::accounts::roles::get(&app.db, w.ops)
        .await
        .unwrap();
    assert!(!role.mfa_required);
    assert_eq!(
        passgate::accounts::roles::list_all(&app.db)
            .await
            .unwrap()
            .len(),
        2
    );
    // With ROLES_CONFIG in the key, the holder's key reads roles.
    let key = app.api_key(&holder, &["ROLES_CONFIG"], false).await;
    app.api("GET", "/api/v2/roles", Some(&key), None)
        .await
        .assert_ok();
}

#[tokio::test]
async fn a_roles_config_holder_changes_only_the_roles_they_manage_within_their_quantity() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let t = Some(w.holder.as_str());
    // Reading: every role.
    let listed = app.api("GET", "/api/v2/roles", t, None).await;
    assert_eq!(listed.assert_ok().as_array().unwrap().len(), 2);
    app.api("GET", &format!("/api/v2/roles/{}", w.finance), t, None)
        .await
        .assert_ok();
    // Changing or deleting a role they do not manage: refused, nothing changes.
    let finance = format!("/api/v2/roles/{}", w.finance);
    for (method, body) in [
        ("PATCH", Some(json!({"mfa_required": true}))),
        ("PATCH", Some(json!({"name": "mine now"}))),
        ("DELETE", None),
    ] {
        app.api(method, &finance, t, body)
            .await
            .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    }
    let role = passgate::accounts::roles::get(&app.db, w.finance)
        .await
        .unwrap();
    assert_eq!(
        (role.role_name.as_str(), role.mfa_required),
        ("finance", false)
    );
    // Their own role: yes, but not to another manager (nor to none).
    let ops = format!("/api/v2/roles/{}", w.ops);
    app.api("PATCH", &ops, t, Some(json!({"mfa_required": true})))
        .await
        .assert_ok();
    for manager in [json!(w.plain_id), Value::Null] {
        app.api("PATCH", &ops, t, Some(json!({"manager": manager})))
            .await
            .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    }
    assert_eq!(
        passgate::accounts::roles::get(&app.db, w.ops)
            .await
            .unwrap()
            .manager,
        Some(w.holder_id)
    );
    // Creating: they manage what they create, and cannot hand it to someone else.
    app.api(
        "POST",
        "/api/v2/roles",
        t,
        Some(json!({"name": "theirs", "manager": w.plain_id})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    let made = app
        .api("POST", "/api/v2/roles", t, Some(json!({"name": "mine"})))
        .await;
    let mine = made.assert_ok()["role_id"].as_i64().unwrap();
    let shown = app
        .api("GET", &format!("/api/v2/roles/{mine}"), t, None)
        .await;
    assert_eq!(shown.assert_ok()["manager"], w.holder_id);

    // The quantity caps how many roles one manages at once; deleting frees a place.
    let capped = app
        .user_with_grants("capped", None, &[("ROLES_CONFIG", 1)])
        .await;
    let c = app.token("capped", STRONG).await;
    let first = app
        .api(
            "POST",
            "/api/v2/roles",
            Some(&c),
            Some(json!({"name": "one"})),
        )
        .await;
    let first = first.assert_ok()["role_id"].as_i64().unwrap();
    app.api(
        "POST",
        "/api/v2/roles",
        Some(&c),
        Some(json!({"name": "two"})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    app.api("DELETE", &format!("/api/v2/roles/{first}"), Some(&c), None)
        .await
        .assert_ok();
    app.api(
        "POST",
        "/api/v2/roles",
        Some(&c),
        Some(json!({"name": "two"})),
    )
    .await
    .assert_ok();
    let permissions = app
        .api(
            "GET",
            &format!("/api/v2/users/{}/permissions", capped.user_id),
            Some(&c),
            None,
        )
        .await;
    let data = permissions.assert_ok();
    assert_eq!(data["permissions"], "001");
    assert_eq!(
        (
            &data["counters"]["ROLES_CONFIG"],
            &data["limits"]["ROLES_CONFIG"]
        ),
        (&json!(1), &json!(1))
    );
}

#[tokio::test]
async fn user_bodies_carry_roles_as_crafty_has_them() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let t = Some(w.admin.as_str());
    let created = app
        .api(
            "POST",
            "/api/v2/users/",
            t,
            Some(json!({"username": "dora", "password": STRONG_2, "roles": [w.ops, w.finance, w.ops]})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let dora: i64 = created.assert_ok()["user_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let dora = i32::try_from(dora).unwrap();
    assert_eq!(roles_of(&app, dora).await, ["finance", "ops"]);

    // One user: role objects; list rows: role ids.
    let shown = app
        .api("GET", &format!("/api/v2/users/{dora}"), t, None)
        .await;
    let roles = shown.assert_ok()["roles"].as_array().unwrap().clone();
    assert_eq!(roles.len(), 2);
    assert_eq!(roles[0]["role_name"], "finance");
    assert_eq!(roles[1]["role_id"], w.ops);
    let public = app
        .api("GET", &format!("/api/v2/users/{dora}/public"), t, None)
        .await;
    assert_eq!(public.assert_ok()["roles"][1]["role_name"], "ops");
    let rows = app.api("GET", "/api/v2/users", t, None).await;
    let row = rows
        .assert_ok()
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["user_id"] == dora)
        .unwrap()
        .clone();
    assert_eq!(ids(&row["roles"]), [i64::from(w.ops), i64::from(w.finance)]);
    let me = app.token("dora", STRONG_2).await;
    let mine = app.api("GET", "/api/v2/users/@me", Some(&me), None).await;
    assert_eq!(mine.assert_ok()["roles"][0]["role_name"], "finance");

    // PATCH replaces the set.
    let patched = app
        .api(
            "PATCH",
            &format!("/api/v2/users/{dora}"),
            t,
            Some(json!({"roles": [w.finance]})),
        )
        .await;
    assert_eq!(ids(&patched.assert_ok()["roles"]), [i64::from(w.finance)]);
    assert_eq!(roles_of(&app, dora).await, ["finance"]);
    let added = audit_actions(&app, "role_member_added").await;
    let removed = audit_actions(&app, "role_member_removed").await;
    assert_eq!(added.len(), 2, "{added:?}");
    assert!(
        removed == [format!("admin>dora:role={} name=ops", w.ops)],
        "{removed:?}"
    );

    // An unknown id is refused, not dropped, and nothing of the body is applied.
    for unknown in [
        json!([w.ops, 424242]),
        json!([-1]),
        json!([99999999999_i64]),
    ] {
        let answer = app
            .api(
                "PATCH",
                &format!("/api/v2/users/{dora}"),
                t,
                Some(json!({"roles": unknown, "email": "d@example.org"})),
            )
            .await;
        answer.assert_error(StatusCode::BAD_REQUEST, "INVALID_ROLES");
    }
    let after = app.find("dora").await;
    assert_eq!(after.email, None);
    assert_eq!(roles_of(&app, dora).await, ["finance"]);
    let answer = app
        .api(
            "POST",
            "/api/v2/users",
            t,
            Some(json!({"username": "eve", "password": STRONG_2, "roles": [424242]})),
        )
        .await;
    answer.assert_error(StatusCode::BAD_REQUEST, "INVALID_ROLES");
    assert!(
        passgate::accounts::users::find_by_username(&app.db, "eve")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_holder_gives_only_roles_they_manage_to_users_they_manage_never_to_themselves() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let t = Some(w.holder.as_str());

    // Creating a user with a role they do not manage: Crafty's INVALID_ROLES_CREATE, and no
    // user.
    app.api(
        "POST",
        "/api/v2/users",
        t,
        Some(json!({"username": "newbie", "password": STRONG_2, "roles": [w.finance]})),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "INVALID_ROLES_CREATE");
    assert!(
        passgate::accounts::users::find_by_username(&app.db, "newbie")
            .await
            .unwrap()
            .is_none()
    );
    let made = app
        .api(
            "POST",
            "/api/v2/users",
            t,
            Some(json!({"username": "newbie", "password": STRONG_2, "roles": [w.ops]})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.json);
    let newbie = app.find("newbie").await;
    assert_eq!(roles_of(&app, newbie.user_id).await, ["ops"]);

    // A managed user: a role they manage, yes; one they do not, no (nothing changes).
    let managed = format!("/api/v2/users/{}", w.managed_id);
    app.api("PATCH", &managed, t, Some(json!({"roles": [w.ops]})))
        .await
        .assert_ok();
    app.api(
        "PATCH",
        &managed,
        t,
        Some(json!({"roles": [w.ops, w.finance], "email": "m@example.org"})),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "INVALID_ROLES_MODIFY");
    assert_eq!(roles_of(&app, w.managed_id).await, ["ops"]);
    assert_eq!(app.find("managed").await.email, None);
    // Any role may be taken away: the superuser gave finance, the holder removes it.
    let admin_patch = app
        .api(
            "PATCH",
            &managed,
            Some(&w.admin),
            Some(json!({"roles": [w.ops, w.finance]})),
        )
        .await;
    admin_patch.assert_ok();
    app.api("PATCH", &managed, t, Some(json!({"roles": [w.ops]})))
        .await
        .assert_ok();
    assert_eq!(roles_of(&app, w.managed_id).await, ["ops"]);
    // Keeping a role one does not manage is no change.
    app.api(
        "PATCH",
        &managed,
        Some(&w.admin),
        Some(json!({"roles": [w.finance]})),
    )
    .await
    .assert_ok();
    app.api(
        "PATCH",
        &managed,
        t,
        Some(json!({"roles": [w.finance], "lang": "de"})),
    )
    .await
    .assert_ok();

    // A user they do not manage: refused as any edit is.
    app.api(
        "PATCH",
        &format!("/api/v2/users/{}", w.plain_id),
        t,
        Some(json!({"roles": [w.ops]})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    assert!(roles_of(&app, w.plain_id).await.is_empty());

    // Their own roles: never, not even a role they manage; the same set is no change.
    for own in [
        "/api/v2/users/@me",
        &format!("/api/v2/users/{}", w.holder_id),
    ] {
        app.api("PATCH", own, t, Some(json!({"roles": [w.ops]})))
            .await
            .assert_error(StatusCode::BAD_REQUEST, "INVALID_ROLES_MODIFY");
    }
    assert!(roles_of(&app, w.holder_id).await.is_empty());
    app.api("PATCH", "/api/v2/users/@me", t, Some(json!({"roles": []})))
        .await
        .assert_ok();
    // A superuser may change their own.
    app.api(
        "PATCH",
        "/api/v2/users/@me",
        Some(&w.admin),
        Some(json!({"roles": [w.finance]})),
    )
    .await
    .assert_ok();
    let admin = app.find("admin").await;
    assert_eq!(roles_of(&app, admin.user_id).await, ["finance"]);

    // Holding the manager field without ROLES_CONFIG gives nothing: a key without it.
    let holder = app.find("holder").await;
    let key = app.api_key(&holder, &["USER_CONFIG"], false).await;
    app.api(
        "PATCH",
        &managed,
        Some(&key),
        Some(json!({"roles": [w.ops, w.finance]})),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "INVALID_ROLES_MODIFY");
}

#[tokio::test]
async fn the_members_a_holder_reads_are_those_they_may_see() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let managed = app.find("managed").await;
    let plain = app.find("plain").await;
    app.add_to_role(w.ops, &[&managed, &plain]).await;
    let url = format!("/api/v2/roles/{}/users", w.ops);
    let all = app.api("GET", &url, Some(&w.admin), None).await;
    assert_eq!(
        ids(all.assert_ok()),
        [i64::from(w.managed_id), i64::from(w.plain_id)]
    );
    let theirs = app.api("GET", &url, Some(&w.holder), None).await;
    assert_eq!(ids(theirs.assert_ok()), [i64::from(w.managed_id)]);
}

#[tokio::test]
async fn a_role_follows_its_members_and_its_manager() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let managed = app.find("managed").await;
    app.add_to_role(w.ops, &[&managed]).await;
    // Deleting a member: the membership goes.
    app.api(
        "DELETE",
        &format!("/api/v2/users/{}", w.managed_id),
        Some(&w.admin),
        None,
    )
    .await
    .assert_ok();
    assert!(
        passgate::accounts::roles::member_ids(&app.db, w.ops)
            .await
            .unwrap()
            .is_empty()
    );
    // Deleting the manager: the role stays, without a manager.
    app.api(
        "DELETE",
        &format!("/api/v2/users/{}", w.holder_id),
        Some(&w.admin),
        None,
    )
    .await
    .assert_ok();
    let role = app
        .api(
            "GET",
            &format!("/api/v2/roles/{}", w.ops),
            Some(&w.admin),
            None,
        )
        .await;
    assert_eq!(role.assert_ok()["manager"], Value::Null);
}

/// A member signed in by session and by login token before the role requires a second
/// factor is held at enrolment on the next request; deleting the role (or leaving it)
/// releases them at once. Nothing but the request that the session or token makes anyway
/// reads the flag (`row_status_sql`, joined into the session's load).
#[tokio::test]
async fn mfa_required_reaches_signed_in_members_at_once_and_a_deleted_role_lets_them_go() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let managed = app.find("managed").await;
    app.add_to_role(w.ops, &[&managed]).await;
    let token = app.token("managed", STRONG).await;
    let mut browser = signed_in_browser(&app, "managed", STRONG, "10.0.0.7:4000").await;
    assert_eq!(browser.get("/panel/dashboard").await.status, StatusCode::OK);
    app.api("GET", "/api/v2/users/@me", Some(&token), None)
        .await
        .assert_ok();

    // The holder, who manages ops, requires a second factor of its members.
    require_mfa(&app, &w.holder, w.ops, true).await.assert_ok();
    app.api("GET", "/api/v2/users/@me", Some(&token), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "MFA_SETUP_REQUIRED");
    browser
        .get("/panel/dashboard")
        .await
        .assert_redirect("/panel/security/totp/setup");
    let setup = browser.get("/panel/security/totp/setup").await;
    assert_eq!(setup.status, StatusCode::OK);
    // Enrolment itself stays open.
    app.api("POST", "/api/v2/users/@me/totp", Some(&token), None)
        .await
        .assert_ok();

    // Taken out of the role: released at once.
    app.api(
        "PATCH",
        &format!("/api/v2/users/{}", w.managed_id),
        Some(&w.holder),
        Some(json!({"roles": []})),
    )
    .await
    .assert_ok();
    app.api("GET", "/api/v2/users/@me", Some(&token), None)
        .await
        .assert_ok();
    assert_eq!(browser.get("/panel/dashboard").await.status, StatusCode::OK);
    // Back in: held again; the role deleted while they are signed in: released.
    app.add_to_role(w.ops, &[&managed]).await;
    browser
        .get("/panel/panel_config")
        .await
        .assert_redirect("/panel/security/totp/setup");
    app.api(
        "DELETE",
        &format!("/api/v2/roles/{}", w.ops),
        Some(&w.admin),
        None,
    )
    .await
    .assert_ok();
    assert_eq!(browser.get("/panel/dashboard").await.status, StatusCode::OK);
    app.api("GET", "/api/v2/users/@me", Some(&token), None)
        .await
        .assert_ok();
    // API keys are exempt, as for every gate.
    let role = app.role("strict", None, true).await;
    app.add_to_role(role, &[&managed]).await;
    let key = app.api_key(&managed, &[], true).await;
    app.api("GET", "/api/v2/users/@me", Some(&key), None)
        .await
        .assert_ok();
}

#[tokio::test]
async fn the_last_factor_stays_while_a_role_requires_one() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let managed = app.find("managed").await;
    let token = app.token("managed", STRONG).await;
    // A device, as an enrolment leaves it (what it holds does not matter for its removal).
    app.db
        .execute_unprepared(&format!(
            "INSERT INTO totp_devices (user_id, name, secret, last_step, created) \
             VALUES ({}, 'phone', 'sealed', 0, '2026-12-01 00:00:00')",
            managed.user_id
        ))
        .await
        .unwrap();
    let devices = app
        .api("GET", "/api/v2/users/@me/totp", Some(&token), None)
        .await;
    let device = devices.assert_ok()[0]["id"].as_str().unwrap().to_string();
    app.add_to_role(w.ops, &[&managed]).await;
    require_mfa(&app, &w.admin, w.ops, true).await.assert_ok();
    remove_own_device(&app, &token, &device)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "MFA_REQUIRED_BY_POLICY");
    assert!(
        passgate::accounts::mfa::has_factor(&app.db, managed.user_id)
            .await
            .unwrap()
    );
    // A role without the flag does not protect it.
    require_mfa(&app, &w.admin, w.ops, false).await.assert_ok();
    remove_own_device(&app, &token, &device).await.assert_ok();
}

/// `roles::names_sql` inside a statement of one's own, read back.
async fn names_in_a_statement(app: &TestApp, user_id: i32) -> Vec<String> {
    let backend = app.db.get_database_backend();
    let sql = format!(
        "SELECT {} AS names FROM users u WHERE u.user_id = {user_id}",
        passgate::accounts::roles::names_sql("u.user_id", backend)
    );
    let row = app
        .db
        .query_one_raw(Statement::from_string(backend, sql))
        .await
        .unwrap()
        .expect("the user");
    let joined: Option<String> = row.try_get("", "names").unwrap();
    passgate::accounts::roles::split_names(joined.as_deref())
}

#[tokio::test]
async fn the_domain_reads_a_users_roles_and_requirement_in_one_place() {
    use passgate::accounts::{mfa, roles};
    use passgate::config::MfaPolicy;
    let app = spawn_app().await;
    let w = world(&app).await;
    let managed = app.find("managed").await;
    let strict = app.role("Strict", None, true).await;
    app.add_to_role(w.ops, &[&managed]).await;
    assert_eq!(
        roles::names_of_user(&app.db, managed.user_id)
            .await
            .unwrap(),
        ["ops"]
    );
    assert!(
        !mfa::required_of(&app.db, MfaPolicy::None, &managed)
            .await
            .unwrap()
    );
    app.add_to_role(strict, &[&managed]).await;
    assert_eq!(
        roles::names_of_user(&app.db, managed.user_id)
            .await
            .unwrap(),
        ["ops", "strict"]
    );
    assert!(
        mfa::required_of(&app.db, MfaPolicy::None, &managed)
            .await
            .unwrap()
    );
    // The same names as a piece of a bigger statement (forward authentication's).
    assert_eq!(
        names_in_a_statement(&app, managed.user_id).await,
        ["ops", "strict"]
    );
    assert!(names_in_a_statement(&app, w.plain_id).await.is_empty());
    let status = passgate::accounts::users::row_status(&app.db, managed.user_id)
        .await
        .unwrap();
    assert!(status.in_mfa_role && !status.has_factor);
    assert!(mfa::factor_missing(MfaPolicy::None, &managed, &status));
    let statuses = passgate::accounts::users::row_statuses(&app.db, &[managed.user_id, w.plain_id])
        .await
        .unwrap();
    assert!(statuses[&managed.user_id].in_mfa_role);
    assert!(!statuses[&w.plain_id].in_mfa_role);
}

#[tokio::test]
async fn passgate_role_commands_go_through_the_same_domain() {
    use passgate::cli::{Command, RoleCommand, run_admin};
    use passgate::config::Config;
    let app = spawn_app().await;
    let alice = app.user("alice", STRONG, false).await;
    let bob = app.user("bob", STRONG, false).await;
    let config = Config::for_database(&app.database_url);
    let run = |command: RoleCommand| {
        let config = config.clone();
        async move { run_admin(&config, Command::Role(command)).await }
    };
    let made = run(RoleCommand::Create {
        name: "Finance".into(),
        mfa_required: true,
    })
    .await
    .expect("create");
    assert!(made.contains("created role 'finance'"), "{made}");
    let taken = run(RoleCommand::Create {
        name: "FINANCE".into(),
        mfa_required: false,
    })
    .await
    .unwrap_err()
    .to_string();
    assert!(taken.contains("already exists"), "{taken}");
    let bad = run(RoleCommand::Create {
        name: "a,b".into(),
        mfa_required: false,
    })
    .await
    .unwrap_err()
    .to_string();
    assert!(bad.starts_with("name:"), "{bad}");

    let added = run(RoleCommand::Add {
        role: "finance".into(),
        usernames: vec!["alice".into(), "BOB".into()],
    })
    .await
    .expect("add");
    assert_eq!(added, "alice, bob added to 'finance'");
    assert_eq!(roles_of(&app, alice.user_id).await, ["finance"]);
    // The policy holds at once: alice must set up a second factor.
    let token = app.token("alice", STRONG).await;
    app.api("GET", "/api/v2/users/@me", Some(&token), None)
        .await
        .assert_error(StatusCode::FORBIDDEN, "MFA_SETUP_REQUIRED");
    let unknown = run(RoleCommand::Add {
        role: "finance".into(),
        usernames: vec!["carol".into()],
    })
    .await
    .unwrap_err()
    .to_string();
    assert_eq!(unknown, "no user named 'carol'");
    let listed = run(RoleCommand::List).await.expect("list");
    assert!(
        listed.lines().any(|l| l.contains("\tfinance\t2\ttrue\t-")),
        "{listed}"
    );

    let removed = run(RoleCommand::Remove {
        role: "Finance".into(),
        usernames: vec!["bob".into(), "bob".into()],
    })
    .await
    .expect("remove");
    assert_eq!(removed, "bob removed from 'finance' (1 already as asked)");
    assert!(roles_of(&app, bob.user_id).await.is_empty());
    let none = run(RoleCommand::Delete {
        role: "nosuch".into(),
    })
    .await
    .unwrap_err()
    .to_string();
    assert_eq!(none, "no role named 'nosuch'");
    let deleted = run(RoleCommand::Delete {
        role: "finance".into(),
    })
    .await
    .expect("delete");
    assert_eq!(deleted, "deleted role 'finance'; 1 member(s) lost it");
    app.api("GET", "/api/v2/users/@me", Some(&token), None)
        .await
        .assert_ok();
    let audit = audit_actions(&app, "role_member_added").await;
    assert_eq!(
        audit.len(),
        2,
        "one entry per membership, by the operator: {audit:?}"
    );
    assert!(audit.iter().all(|a| a.starts_with("cli>")), "{audit:?}");
}
