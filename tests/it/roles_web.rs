//! The role pages and roles on the user pages (SPEC §14) as a browser without JavaScript
//! (and htmx) sees them, and the same refusals as the API from the attacker's side: forged
//! form fields for a role, a user or one's own roles.

use axum::http::StatusCode;

use crate::helpers::*;

/// A superuser `admin`; `holder` (`ROLES_CONFIG` and `USER_CONFIG`) who manages `bob` and
/// `carl`; `plain`, managed by nobody; the role `ops` managed by `holder`, `finance` by
/// nobody.
struct World {
    holder_id: i32,
    bob: i32,
    carl: i32,
    plain: i32,
    ops: i32,
    finance: i32,
}

async fn world(app: &TestApp) -> World {
    app.user("admin", STRONG, true).await;
    let holder = app
        .user_with_grants("holder", None, &[("ROLES_CONFIG", -1), ("USER_CONFIG", -1)])
        .await;
    let bob = app
        .user_with("bob", STRONG, false, Some(holder.user_id), None)
        .await;
    let carl = app
        .user_with("carl", STRONG, false, Some(holder.user_id), None)
        .await;
    let plain = app.user("plain", STRONG, false).await;
    World {
        holder_id: holder.user_id,
        bob: bob.user_id,
        carl: carl.user_id,
        plain: plain.user_id,
        ops: app.role("ops", Some(holder.user_id), false).await,
        finance: app.role("finance", None, false).await,
    }
}

async fn roles_of(app: &TestApp, user_id: i32) -> Vec<String> {
    passgate::accounts::roles::names_of_user(&app.db, user_id)
        .await
        .unwrap()
}

/// The `<tr>` of `name` in a users table.
fn row_of(body: &str, name: &str) -> String {
    let start = body
        .find(&format!("<th scope=\"row\">{name}</th>"))
        .unwrap_or_else(|| panic!("no row of {name}"));
    body[start..start + body[start..].find("</tr>").unwrap()].to_string()
}

#[tokio::test]
async fn a_superuser_creates_fills_renames_and_deletes_a_role_without_javascript() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let mut browser = signed_in_browser(&app, "admin", STRONG, "127.0.0.1:50000").await;
    let dashboard = browser.get("/panel/dashboard").await;
    assert!(
        dashboard.body.contains("href=\"/panel/roles\""),
        "the nav links the roles"
    );

    let list = browser.get("/panel/roles").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains(">ops</a>") && list.body.contains(">finance</a>"));
    browser.get("/panel/roles/new").await;
    let made = browser
        .post(
            "/panel/roles/new",
            &[
                ("name", " Support Team "),
                ("mfa_required", "true"),
                ("manager", "holder"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let to = made.location().unwrap().to_string();
    assert!(to.ends_with("?created=1"), "{to}");
    let role = passgate::accounts::roles::find_by_name(&app.db, "support team")
        .await
        .unwrap()
        .expect("created");
    assert!(role.mfa_required);
    assert_eq!(role.manager, Some(w.holder_id));

    // Its page: the settings and the users to choose from.
    let page = browser.get(&to).await;
    assert!(page.body.contains("Role: support team"), "{}", page.body);
    assert!(page.body.contains("The role was created"));
    for name in ["bob", "carl", "plain", "holder", "admin"] {
        assert!(
            page.body.contains(&format!(">{name}</label>")),
            "{name} offered"
        );
    }
    let members = format!("/panel/roles/{}/members", role.role_id);
    let bob = w.bob.to_string();
    let carl = w.carl.to_string();
    let saved = browser
        .post(
            &members,
            &[
                ("shown", &bob),
                ("shown", &carl),
                ("member", &bob),
                ("q", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(roles_of(&app, w.bob).await, ["support team"]);
    assert!(roles_of(&app, w.carl).await.is_empty());

    // The search works without JavaScript (a GET), and with htmx swaps only the list.
    let found = browser
        .get(&format!("/panel/roles/{}?q=CA", role.role_id))
        .await;
    assert!(found.body.contains(">carl</label>") && !found.body.contains(">bob</label>"));
    let fragment = browser
        .hx_get(&format!("/panel/roles/{}?q=bo", role.role_id))
        .await;
    assert!(
        fragment.body.starts_with("<div id=\"members-box\""),
        "{}",
        fragment.body
    );
    assert!(fragment.body.contains(">bob</label>") && !fragment.body.contains("<html"));
    // Saving a search's list leaves the members it did not show alone.
    browser
        .post(
            &members,
            &[("shown", &carl), ("member", &carl), ("q", "ca")],
        )
        .await;
    assert_eq!(roles_of(&app, w.bob).await, ["support team"]);
    assert_eq!(roles_of(&app, w.carl).await, ["support team"]);

    // A name taken in another case: said beside the field, nothing changes.
    let page_url = format!("/panel/roles/{}", role.role_id);
    let taken = browser
        .post(&page_url, &[("name", "OPS"), ("manager", "holder")])
        .await;
    assert_eq!(taken.status, StatusCode::BAD_REQUEST);
    assert!(
        taken.body.contains("id=\"role_name-error\""),
        "{}",
        taken.body
    );
    assert!(taken.body.contains("exists already"));
    let bad = browser.post(&page_url, &[("name", "a,b")]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("without commas"));
    let renamed = browser
        .post(&page_url, &[("name", "Helpdesk"), ("manager", "")])
        .await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER);
    let role = passgate::accounts::roles::get(&app.db, role.role_id)
        .await
        .unwrap();
    assert_eq!(
        (role.role_name.as_str(), role.mfa_required, role.manager),
        ("helpdesk", false, None)
    );

    // Delete, with a confirm step.
    let confirm = browser
        .get(&format!("/panel/roles/{}/delete", role.role_id))
        .await;
    assert!(
        confirm
            .body
            .contains("Delete the role “helpdesk”? Its 2 member(s) lose it.")
    );
    let deleted = browser
        .post(&format!("/panel/roles/{}/delete", role.role_id), &[])
        .await;
    deleted.assert_redirect("/panel/roles?deleted=1");
    assert!(
        passgate::accounts::roles::find(&app.db, role.role_id)
            .await
            .unwrap()
            .is_none()
    );
    assert!(roles_of(&app, w.bob).await.is_empty());
    // And the audit log says it in sentences.
    let audit = browser.get("/panel/audit").await;
    assert!(audit.body.contains("Role “support team” created"), "audit");
    assert!(audit.body.contains("Given the role “support team”"));
    assert!(
        audit
            .body
            .contains("Role “helpdesk” deleted; it had 2 member(s)")
    );
}

#[tokio::test]
async fn whoever_may_not_read_roles_is_told_why_and_nothing_changes() {
    let app = spawn_app().await;
    let w = world(&app).await;
    app.user_with("manager", STRONG, false, None, Some(-1))
        .await;
    for who in ["plain", "manager"] {
        let mut browser = signed_in_browser(&app, who, STRONG, "127.0.0.1:50001").await;
        let dashboard = browser.get("/panel/dashboard").await;
        assert!(
            !dashboard.body.contains("href=\"/panel/roles\""),
            "{who}: no link"
        );
        for path in [
            "/panel/roles".to_string(),
            "/panel/roles/new".to_string(),
            format!("/panel/roles/{}", w.ops),
            format!("/panel/roles/{}/delete", w.ops),
        ] {
            let page = browser.get(&path).await;
            assert_eq!(page.status, StatusCode::FORBIDDEN, "{who} {path}");
            assert!(page.body.contains("ROLES_CONFIG"), "says why: {path}");
        }
        let bob = w.bob.to_string();
        for (path, fields) in [
            ("/panel/roles/new".to_string(), vec![("name", "mine")]),
            (format!("/panel/roles/{}", w.ops), vec![("name", "taken")]),
            (
                format!("/panel/roles/{}/members", w.ops),
                vec![("shown", bob.as_str()), ("member", bob.as_str())],
            ),
            (format!("/panel/roles/{}/delete", w.ops), vec![]),
        ] {
            let answer = browser.post(&path, &fields).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{who} {path}");
        }
    }
    // And without the CSRF token, not even a superuser.
    let mut admin = signed_in_browser(&app, "admin", STRONG, "127.0.0.1:50002").await;
    let forged = admin
        .post_without_csrf("/panel/roles/new", &[("name", "forged")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let roles = passgate::accounts::roles::list_all(&app.db).await.unwrap();
    assert_eq!(roles.len(), 2);
    assert_eq!(
        roles.iter().find(|r| r.role_id == w.ops).unwrap().role_name,
        "ops"
    );
    assert!(roles_of(&app, w.bob).await.is_empty());
}

#[tokio::test]
async fn a_holder_changes_only_their_roles_and_the_users_they_manage() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let plain = app.find("plain").await;
    let carl = app.find("carl").await;
    app.add_to_role(w.finance, &[&plain, &carl]).await;
    let mut browser = signed_in_browser(&app, "holder", STRONG, "127.0.0.1:50003").await;
    let list = browser.get("/panel/roles").await;
    assert!(
        list.body
            .contains(&format!("/panel/roles/{}/delete", w.ops))
    );
    assert!(
        !list
            .body
            .contains(&format!("/panel/roles/{}/delete", w.finance))
    );

    // A role they do not manage: shown, not offered; forged posts refused.
    let finance = format!("/panel/roles/{}", w.finance);
    let page = browser.get(&finance).await;
    assert!(
        page.body
            .contains("Only the role's manager or a superuser changes it.")
    );
    assert!(!page.body.contains("name=\"name\""));
    assert!(
        page.body
            .contains("1 more member(s) whose roles you may not change")
    );
    assert!(page.body.contains("you can take it away"));
    assert!(!page.body.contains(">bob</label>"), "nobody to add");
    let renamed = browser.post(&finance, &[("name", "mine")]).await;
    assert_eq!(renamed.status, StatusCode::FORBIDDEN);
    let bob = w.bob.to_string();
    let carl_id = w.carl.to_string();
    let give = browser
        .post(
            &format!("{finance}/members"),
            &[("shown", &bob), ("member", &bob)],
        )
        .await;
    assert_eq!(give.status, StatusCode::BAD_REQUEST);
    assert!(give.body.contains("only roles you manage"), "{}", give.body);
    assert!(roles_of(&app, w.bob).await.is_empty());
    // ... but they take it away from a user they manage.
    let take = browser
        .post(&format!("{finance}/members"), &[("shown", &carl_id)])
        .await;
    assert_eq!(take.status, StatusCode::SEE_OTHER, "{}", take.body);
    assert!(roles_of(&app, w.carl).await.is_empty());

    // Their own role: only the users they manage are offered, not themselves, not plain.
    let ops = format!("/panel/roles/{}", w.ops);
    let page = browser.get(&ops).await;
    assert!(page.body.contains(">bob</label>") && page.body.contains(">carl</label>"));
    assert!(!page.body.contains(">holder</label>") && !page.body.contains(">plain</label>"));
    let plain_id = w.plain.to_string();
    let holder_id = w.holder_id.to_string();
    let forged = browser
        .post(
            &format!("{ops}/members"),
            &[("shown", &plain_id), ("member", &plain_id)],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    let own = browser
        .post(
            &format!("{ops}/members"),
            &[
                ("shown", &holder_id),
                ("member", &holder_id),
                ("shown", &bob),
                ("member", &bob),
            ],
        )
        .await;
    assert_eq!(own.status, StatusCode::BAD_REQUEST, "{}", own.body);
    assert!(roles_of(&app, w.plain).await == ["finance"]);
    assert!(roles_of(&app, w.holder_id).await.is_empty());
    assert!(roles_of(&app, w.bob).await.is_empty(), "all or nothing");
    browser
        .post(
            &format!("{ops}/members"),
            &[("shown", &bob), ("member", &bob)],
        )
        .await
        .assert_redirect(&format!("{ops}?q=&members_saved=1"));
    assert_eq!(roles_of(&app, w.bob).await, ["ops"]);
}

#[tokio::test]
async fn the_users_table_shows_roles_filters_by_role_and_says_a_factor_is_required() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let (bob, carl) = (app.find("bob").await, app.find("carl").await);
    let strict = app.role("strict", None, true).await;
    app.add_to_role(w.ops, &[&bob, &carl]).await;
    app.add_to_role(strict, &[&bob, &carl]).await;
    // carl has a factor, bob has none.
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared(&format!(
            "INSERT INTO totp_devices (user_id, name, secret, last_step, created) \
             VALUES ({}, 'phone', 'sealed', 0, '2026-12-01 00:00:00')",
            carl.user_id
        ))
        .await
        .unwrap();
    let mut browser = signed_in_browser(&app, "admin", STRONG, "127.0.0.1:50004").await;
    let table = browser.get("/panel/panel_config").await;
    assert!(row_of(&table.body, "bob").contains("ops, strict"));
    assert!(row_of(&table.body, "bob").contains("2FA required, not set up"));
    assert!(row_of(&table.body, "carl").contains("2FA on, required"));
    assert!(row_of(&table.body, "plain").contains("2FA off"));
    assert!(
        table
            .body
            .contains("<select id=\"role-filter\" name=\"role\"")
    );

    let filtered = browser
        .get(&format!("/panel/panel_config?role={}", w.ops))
        .await;
    assert!(filtered.body.contains("<th scope=\"row\">bob</th>"));
    assert!(!filtered.body.contains("<th scope=\"row\">plain</th>"));
    assert!(filtered.body.contains(&format!(
        "<option value=\"{}\" selected>ops</option>",
        w.ops
    )));
    let combined = browser
        .hx_get(&format!("/panel/panel_config?role={}&q=car", w.ops))
        .await;
    assert!(combined.body.starts_with("<div id=\"users-table\""));
    assert!(combined.body.contains("<th scope=\"row\">carl</th>"));
    assert!(!combined.body.contains("<th scope=\"row\">bob</th>"));
    let nobody = browser.get("/panel/panel_config?role=424242").await;
    assert!(!nobody.body.contains("<th scope=\"row\">"));

    // A manager without the roles permission filters by the roles of their own users only.
    let finance_member = app.find("plain").await;
    app.add_to_role(w.finance, &[&finance_member]).await;
    app.user_with("mgr", STRONG, false, None, Some(-1)).await;
    let mgr = app.find("mgr").await;
    app.user_with("dora", STRONG, false, Some(mgr.user_id), None)
        .await;
    let dora = app.find("dora").await;
    app.add_to_role(w.ops, &[&dora]).await;
    let mut manager = signed_in_browser(&app, "mgr", STRONG, "127.0.0.1:50005").await;
    let table = manager.get("/panel/panel_config").await;
    assert!(table.body.contains(">ops</option>"));
    assert!(
        !table.body.contains(">finance</option>"),
        "a role of nobody they see"
    );
}

#[tokio::test]
async fn the_user_forms_offer_only_the_roles_the_viewer_may_give() {
    let app = spawn_app().await;
    let w = world(&app).await;
    let ops = w.ops.to_string();
    let finance = w.finance.to_string();

    // The holder's new-user form offers ops only; a forged finance is refused beside the
    // roles, and no user is made.
    let mut browser = signed_in_browser(&app, "holder", STRONG, "127.0.0.1:50006").await;
    let form = browser.get("/panel/users/new").await;
    assert!(
        form.body
            .contains(&format!("name=\"role\" value=\"{ops}\""))
    );
    assert!(
        !form
            .body
            .contains(&format!("name=\"role\" value=\"{finance}\""))
    );
    let forged = browser
        .post(
            "/panel/users/new",
            &[
                ("username", "newbie"),
                ("password", STRONG_2),
                ("role", &finance),
                ("role_shown", &finance),
                ("intent", "save"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST, "{}", forged.body);
    assert!(forged.body.contains("id=\"roles-error\""));
    assert!(
        passgate::accounts::users::find_by_username(&app.db, "newbie")
            .await
            .unwrap()
            .is_none()
    );
    let made = browser
        .post(
            "/panel/users/new",
            &[
                ("username", "newbie"),
                ("password", STRONG_2),
                ("role", &ops),
                ("role_shown", &ops),
                ("intent", "save"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let newbie = app.find("newbie").await;
    assert_eq!(roles_of(&app, newbie.user_id).await, ["ops"]);

    // Editing a managed user: ops offered, and finance too once they hold it (to take away).
    let bob = app.find("bob").await;
    app.add_to_role(w.finance, &[&bob]).await;
    let edit = format!("/panel/edit_user?id={}", w.bob);
    let page = browser.get(&edit).await;
    assert!(
        page.body
            .contains(&format!("name=\"role\" value=\"{finance}\" checked"))
    );
    assert!(
        page.body
            .contains(&format!("name=\"role\" value=\"{ops}\""))
    );
    let saved = browser
        .post(
            &edit,
            &[
                ("username", "bob"),
                ("lang", "en"),
                ("enabled", "true"),
                ("role", &ops),
                ("role_shown", &ops),
                ("role_shown", &finance),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(roles_of(&app, w.bob).await, ["ops"]);

    // Their own page shows their roles and offers none; forged fields change nothing.
    let holder = app.find("holder").await;
    app.add_to_role(w.finance, &[&holder]).await;
    let own = format!("/panel/edit_user?id={}", w.holder_id);
    let page = browser.get(&own).await;
    assert!(
        page.body
            .contains("Only an administrator changes your roles.")
    );
    assert!(!page.body.contains("name=\"role\""));
    browser
        .post(
            &own,
            &[
                ("username", "holder"),
                ("lang", "en"),
                ("role", &ops),
                ("role_shown", &ops),
                ("role_shown", &finance),
            ],
        )
        .await;
    assert_eq!(roles_of(&app, w.holder_id).await, ["finance"]);

    // A superuser's forms offer every role, and the ROLES_CONFIG permission.
    let mut admin = signed_in_browser(&app, "admin", STRONG, "127.0.0.1:50007").await;
    let form = admin.get("/panel/users/new").await;
    assert!(
        form.body
            .contains(&format!("name=\"role\" value=\"{finance}\""))
    );
    assert!(form.body.contains("name=\"roles_config\""));
    let saved = admin
        .post(
            &format!("/panel/edit_user?id={}", w.carl),
            &[
                ("username", "carl"),
                ("lang", "en"),
                ("enabled", "true"),
                ("roles_config", "true"),
                ("roles_config_quota", "2"),
                ("manager", "holder"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let held = passgate::accounts::grants::load(&app.db, w.carl)
        .await
        .unwrap();
    assert_eq!(
        passgate::accounts::grants::quantity(&held, "ROLES_CONFIG"),
        Some(2)
    );
}
