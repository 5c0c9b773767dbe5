//! `/panel/apps` (SPEC §15.1) as a superuser uses it without JavaScript — plain forms and
//! 303s — and as everyone else is refused it.

use axum::http::StatusCode;
use passgate::accounts::apps;
use passgate::accounts::permissions::Caller;

use crate::helpers::*;

async fn names(app: &TestApp) -> Vec<String> {
    apps::list(&app.db, &Caller::operator())
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect()
}

#[tokio::test]
async fn a_superuser_creates_edits_and_deletes_an_application_with_plain_forms() {
    let app = spawn_app().await;
    app.user("root", STRONG, true).await;
    let mut browser = signed_in_browser(&app, "root", STRONG, "127.0.0.1:1").await;
    let dashboard = browser.get("/panel/dashboard").await;
    assert!(
        dashboard.body.contains("href=\"/panel/apps\""),
        "the navigation links it"
    );
    let empty = browser.get("/panel/apps").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.body.contains("No applications yet."));
    assert!(
        empty.body.contains("Single sign-on is off"),
        "says why proxies cannot ask"
    );
    browser.get("/panel/apps/new").await;
    let created = browser
        .post(
            "/panel/apps/new",
            &[
                ("name", "Team Wiki"),
                ("description", "Docs"),
                ("hosts", "Wiki.Example.org\r\n\r\n*.docs.example.org \n"),
                ("public_paths", "/api/\n/.well-known/"),
                ("policy", "two_factor"),
            ],
        )
        .await;
    created.assert_redirect("/panel/apps?done=created");
    let list = browser.get("/panel/apps?done=created").await;
    assert!(list.body.contains("The application was registered."));
    assert!(list.body.contains("Team Wiki"));
    assert!(list.body.contains("<code>wiki.example.org</code>"));
    assert!(list.body.contains("<code>*.docs.example.org</code>"));
    assert!(list.body.contains("A second factor is required"));
    let id = apps::get_by_name(&app.db, &Caller::operator(), "team wiki")
        .await
        .unwrap()
        .app_id;

    // A bad host is said beside the field; nothing changes.
    let form = browser.get(&format!("/panel/apps/{id}")).await;
    let hosts_area = form
        .body
        .split("name=\"hosts\"")
        .nth(1)
        .and_then(|rest| rest.split("</textarea>").next())
        .unwrap_or_default();
    assert!(
        hosts_area.contains("*.docs.example.org\nwiki.example.org")
            || hosts_area.contains("wiki.example.org\n*.docs.example.org"),
        "one host a line: {hosts_area}"
    );
    let refused = browser
        .post(
            &format!("/panel/apps/{id}"),
            &[
                ("name", "Team Wiki"),
                ("hosts", "wiki.example.org\nhttps://bad host"),
                ("policy", "one_factor"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains("id=\"hosts-error\""),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("https://bad host"),
        "names the bad line"
    );
    assert!(refused.body.contains("aria-invalid=\"true\""));
    let unchanged = apps::get(&app.db, &Caller::operator(), id).await.unwrap();
    assert_eq!(unchanged.hosts.len(), 2);

    // A name another application has.
    browser.get("/panel/apps/new").await;
    browser
        .post("/panel/apps/new", &[("name", "Chat"), ("policy", "deny")])
        .await
        .assert_redirect("/panel/apps?done=created");
    browser.get(&format!("/panel/apps/{id}")).await;
    let taken = browser
        .post(
            &format!("/panel/apps/{id}"),
            &[("name", "CHAT"), ("policy", "one_factor")],
        )
        .await;
    assert_eq!(taken.status, StatusCode::BAD_REQUEST);
    assert!(
        taken
            .body
            .contains("Another application already has this name.")
    );

    // Saved: every field of the form replaces the application's; a role is a checkbox.
    let root = app.token("root", STRONG).await;
    let staff = app
        .api(
            "POST",
            "/api/v2/roles",
            Some(&root),
            Some(serde_json::json!({"name": "staff", "servers": []})),
        )
        .await
        .assert_ok()["role_id"]
        .as_i64()
        .unwrap()
        .to_string();
    let form = browser.get(&format!("/panel/apps/{id}")).await;
    assert!(
        form.body.contains(&format!(
            "name=\"role\" type=\"checkbox\" value=\"{staff}\""
        )),
        "{}",
        form.body
    );
    browser
        .post(
            &format!("/panel/apps/{id}"),
            &[
                ("name", "Wiki"),
                ("hosts", "wiki.example.org"),
                ("role", &staff),
                ("policy", "one_factor"),
            ],
        )
        .await
        .assert_redirect("/panel/apps?done=updated");
    let saved = apps::get(&app.db, &Caller::operator(), id).await.unwrap();
    assert_eq!(saved.name, "Wiki");
    assert_eq!(saved.hosts.len(), 1);
    assert!(saved.public_paths.is_empty());
    assert_eq!(saved.allowed_roles, [staff.parse::<i32>().unwrap()]);
    let list = browser.get("/panel/apps").await;
    assert!(list.body.contains("<code>staff</code>"), "{}", list.body);
    // A role value that is no role (tampered with) is said beside the roles.
    browser.get(&format!("/panel/apps/{id}")).await;
    let tampered = browser
        .post(
            &format!("/panel/apps/{id}"),
            &[
                ("name", "Wiki"),
                ("role", "99999"),
                ("policy", "one_factor"),
            ],
        )
        .await;
    assert_eq!(tampered.status, StatusCode::BAD_REQUEST);
    assert!(
        tampered
            .body
            .contains("A role chosen here no longer exists")
    );

    // Delete, after a confirmation page; a second submission finds nothing.
    let confirm = browser.get(&format!("/panel/apps/{id}/delete")).await;
    assert!(
        confirm.body.contains("Delete <strong>Wiki</strong>?"),
        "{}",
        confirm.body
    );
    browser
        .post(&format!("/panel/apps/{id}/delete"), &[])
        .await
        .assert_redirect("/panel/apps?done=deleted");
    assert_eq!(names(&app).await, ["Chat"]);
    let again = browser.post(&format!("/panel/apps/{id}/delete"), &[]).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    // The audit page reads the entries as sentences.
    let audit = browser.get("/panel/audit").await;
    assert!(
        audit.body.contains("Application registered"),
        "{}",
        audit.body
    );
    assert!(
        audit
            .body
            .contains("Team Wiki (A second factor is required)"),
        "{}",
        audit.body
    );
}

#[tokio::test]
async fn nobody_but_a_superuser_reaches_the_applications() {
    let app = spawn_app().await;
    app.user("root", STRONG, true).await;
    app.user_with("manager", STRONG, false, None, Some(-1))
        .await;
    let mut root = signed_in_browser(&app, "root", STRONG, "127.0.0.1:1").await;
    root.get("/panel/apps/new").await;
    root.post(
        "/panel/apps/new",
        &[("name", "Wiki"), ("policy", "one_factor")],
    )
    .await
    .assert_redirect("/panel/apps?done=created");
    let id = apps::get_by_name(&app.db, &Caller::operator(), "wiki")
        .await
        .unwrap()
        .app_id;
    let mut manager = signed_in_browser(&app, "manager", STRONG, "127.0.0.2:1").await;
    let dashboard = manager.get("/panel/dashboard").await;
    assert!(!dashboard.body.contains("href=\"/panel/apps\""));
    for path in [
        "/panel/apps".to_string(),
        "/panel/apps/new".to_string(),
        format!("/panel/apps/{id}"),
        format!("/panel/apps/{id}/delete"),
    ] {
        assert_eq!(
            manager.get(&path).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    for path in [
        "/panel/apps/new".to_string(),
        format!("/panel/apps/{id}"),
        format!("/panel/apps/{id}/delete"),
    ] {
        let posted = manager
            .post(&path, &[("name", "Mine"), ("policy", "one_factor")])
            .await;
        assert_eq!(posted.status, StatusCode::FORBIDDEN, "{path}");
    }
    // A superuser's post without the CSRF token changes nothing either.
    let forged = root
        .post_without_csrf(&format!("/panel/apps/{id}/delete"), &[])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(names(&app).await, ["Wiki"]);
}
