//! The admin pages as a browser without JavaScript (and htmx) sees them.

use axum::http::StatusCode;
use passgate::accounts::credentials::ResetOptions;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::helpers::*;

async fn admin_browser(app: &TestApp) -> Client<'_> {
    app.user("admin", STRONG, true).await;
    let mut browser = app.client();
    browser
        .login("admin", STRONG)
        .await
        .assert_redirect("/panel/dashboard");
    browser
}

#[tokio::test]
async fn superuser_sees_locks_for_others_and_the_change_dialog_on_their_own_row() {
    let app = spawn_app().await;
    let mut browser = admin_browser(&app).await;
    let bob = app.user("bob", STRONG_2, false).await;
    let page = browser.get("/panel/panel_config").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!(
        "href=\"/panel/users/{}/reset_password\"",
        bob.user_id
    )));
    let admin = app.find("admin").await;
    assert!(
        !page
            .body
            .contains(&format!("/panel/users/{}/reset_password", admin.user_id))
    );
    assert!(
        page.body
            .contains("hx-get=\"/panel/change_password/dialog\"")
    );
    assert!(page.body.contains("id=\"dialog-slot\""));
}

#[tokio::test]
async fn status_badges_tell_pending_expiring_and_expired() {
    let app = spawn_app().await;
    let mut browser = admin_browser(&app).await;
    app.user("pending", STRONG_2, false).await;
    app.reset("pending", STRONG_3, ResetOptions::default())
        .await;
    app.user("expiring", STRONG_2, false).await;
    app.reset(
        "expiring",
        STRONG_3,
        ResetOptions {
            expires_hours: 5,
            require_password_change: false,
            ..Default::default()
        },
    )
    .await;
    app.user("expired", STRONG_2, false).await;
    app.reset(
        "expired",
        STRONG_3,
        ResetOptions {
            expires_hours: 1,
            ..Default::default()
        },
    )
    .await;
    crate::api_auth::expire_temp_password(&app, "expired").await;
    let page = browser.get("/panel/panel_config").await;
    let row = |name: &str| {
        let start = page
            .body
            .find(&format!("<th scope=\"row\">{name}</th>"))
            .unwrap();
        page.body[start..start + page.body[start..].find("</tr>").unwrap()].to_string()
    };
    assert!(row("pending").contains("Password change pending"));
    assert!(
        row("expiring").contains("Temporary password expires in 4 h")
            || row("expiring").contains("expires in 5 h")
    );
    assert!(row("expired").contains("Temporary password expired"));
    assert!(!row("admin").contains("class=\"badge "));
}

#[tokio::test]
async fn search_and_pages_work_as_plain_get_and_as_htmx_fragment() {
    let app = spawn_app().await;
    let mut browser = admin_browser(&app).await;
    for i in 0..60 {
        app.user(&format!("crew_{i:02}"), STRONG_2, false).await;
    }
    let first = browser.get("/panel/panel_config").await;
    assert!(first.body.contains("Page 1 of 2"));
    assert!(first.body.contains("61 users"));
    let second = browser.get("/panel/panel_config?q=&page=2").await;
    assert!(second.body.contains("Page 2 of 2"));
    let found = browser.get("/panel/panel_config?q=crew_5").await;
    assert!(found.body.contains("10 users"), "crew_50..59");
    assert!(!found.body.contains("<th scope=\"row\">admin</th>"));
    browser
        .extra_headers
        .push(("hx-target".into(), "users-table".into()));
    let fragment = browser.hx_get("/panel/panel_config?q=crew_07").await;
    assert!(
        fragment.body.starts_with("<div id=\"users-table\""),
        "{}",
        &fragment.body[..80]
    );
    assert!(fragment.body.contains("crew_07") && fragment.body.contains("1 users"));
    // The back button after a search (htmx restores the pushed URL and has no page cached):
    // the whole page, never a bare table.
    browser.extra_headers.clear();
    browser
        .extra_headers
        .push(("hx-history-restore-request".into(), "true".into()));
    let restored = browser.hx_get("/panel/panel_config?q=crew_07").await;
    assert!(
        restored.body.starts_with("<!DOCTYPE html>"),
        "{}",
        &restored.body[..80]
    );
    assert!(restored.body.contains("crew_07") && restored.body.contains("<nav"));
    // Odd search input is just no match, never an error.
    browser.extra_headers.clear();
    let odd = browser
        .get("/panel/panel_config?q=%25%27%22%3C&page=abc")
        .await;
    assert_eq!(odd.status, StatusCode::OK);
}

#[tokio::test]
async fn reset_without_javascript_generates_resets_and_shows_the_password_once() {
    let app = spawn_app().await;
    let mut browser = admin_browser(&app).await;
    let bob = app.user("bob", STRONG_2, false).await;
    let mut bob_browser = app.client_from("10.8.0.1:1");
    bob_browser.login("bob", STRONG_2).await;
    let url = format!("/panel/users/{}/reset_password", bob.user_id);
    let form = browser.get(&url).await;
    assert!(form.body.contains("<!DOCTYPE html>"));
    assert!(
        form.body
            .contains("name=\"require_password_change\" type=\"checkbox\" value=\"true\" checked")
    );
    let generated = browser
        .post(
            &url,
            &[
                ("intent", "generate"),
                ("length", "20"),
                ("expires_hours", "-1"),
                ("require_password_change", "true"),
            ],
        )
        .await;
    // Post/Redirect/Get: the form shows the generated password once, from the session.
    assert_eq!(generated.status, StatusCode::SEE_OTHER);
    let draft_url = generated.location().unwrap().to_string();
    assert!(
        draft_url.starts_with(&format!("{url}?draft=")),
        "{draft_url}"
    );
    let generated = browser.get(&draft_url).await;
    let password = input_value(&generated.body, "reset-password").unwrap();
    assert_eq!(password.chars().count(), 20);
    assert!(
        generated
            .body
            .contains("name=\"require_password_change\" type=\"checkbox\" value=\"true\" checked"),
        "the draft keeps the other fields"
    );
    let reload = browser.get(&draft_url).await;
    assert!(
        !reload.body.contains(&password),
        "a draft is shown once too"
    );
    assert_eq!(
        app.find("bob").await.password,
        bob.password,
        "generating changes nothing"
    );
    let done = browser
        .post(
            &url,
            &[
                ("intent", "reset"),
                ("password", &password),
                ("length", "20"),
                ("expires_hours", "12"),
                ("require_password_change", "true"),
            ],
        )
        .await;
    let done = follow_result(&mut browser, done).await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.body.contains("The password was reset."));
    assert_eq!(
        input_value(&done.body, "reset-result").as_deref(),
        Some(password.as_str()),
        "the password is shown once in the result"
    );
    let bob_after = app.find("bob").await;
    assert!(bob_after.require_password_change && bob_after.password_expires.is_some());
    bob_browser
        .get("/panel/dashboard")
        .await
        .assert_redirect("/login");
    app.client_from("10.8.0.2:1")
        .login("bob", &password)
        .await
        .assert_redirect("/panel/change_password");

    // Leaving the password empty lets the server generate one, shown in the result.
    let done = browser
        .post(
            &url,
            &[
                ("intent", "reset"),
                ("length", "16"),
                ("expires_hours", "-1"),
            ],
        )
        .await;
    let done = follow_result(&mut browser, done).await;
    let shown = input_value(&done.body, "reset-result").unwrap();
    assert_eq!(shown.chars().count(), 16);
    assert!(
        !app.find("bob").await.require_password_change,
        "the unchecked box means no forced change"
    );
    assert!(done.body.contains("data-copy=\"reset-result\""));
}

#[tokio::test]
async fn reset_dialog_through_htmx_is_a_fragment() {
    let app = spawn_app().await;
    let mut browser = admin_browser(&app).await;
    let bob = app.user("bob", STRONG_2, false).await;
    let url = format!("/panel/users/{}/reset_password", bob.user_id);
    let dialog = browser.hx_get(&url).await;
    assert!(
        dialog.body.starts_with("<dialog id=\"reset-dialog\""),
        "{}",
        &dialog.body[..60]
    );
    assert!(dialog.body.contains("aria-labelledby=\"reset-title\""));
    let done = browser
        .hx_post(
            &url,
            &[
                ("intent", "reset"),
                ("length", "16"),
                ("expires_hours", "-1"),
                ("require_password_change", "true"),
            ],
        )
        .await;
    // htmx loads the one-time result into the dialog slot, with the user's row out of band.
    let location = done.header("hx-location").expect("HX-Location").to_string();
    let spec: serde_json::Value = serde_json::from_str(&location).unwrap();
    assert_eq!(spec["target"], "#dialog-slot");
    assert_eq!(spec["push"], "false");
    // htmx names the page it runs on: the users table has a row to swap.
    browser.extra_headers.push((
        "hx-current-url".into(),
        "http://localhost/panel/panel_config?q=".into(),
    ));
    let result = browser.hx_get(spec["path"].as_str().unwrap()).await;
    assert!(result.body.starts_with("<dialog"), "{}", result.body);
    assert!(input_value(&result.body, "reset-result").is_some());
    assert!(
        result.body.contains(&format!(
            "<template><tr id=\"user-row-{}\" hx-swap-oob=\"true\">",
            bob.user_id
        )),
        "{}",
        result.body
    );
    assert!(result.body.contains("Password change pending"));
    let again = browser.hx_get(spec["path"].as_str().unwrap()).await;
    assert!(
        again.body.contains("Already shown") && input_value(&again.body, "reset-result").is_none()
    );
}

#[tokio::test]
async fn reloading_a_reset_result_shows_already_shown_and_resets_nothing_twice() {
    let app = spawn_app().await;
    let mut browser = admin_browser(&app).await;
    let bob = app.user("bob", STRONG_2, false).await;
    let url = format!("/panel/users/{}/reset_password", bob.user_id);
    browser.get(&url).await;
    let posted = browser
        .post(
            &url,
            &[
                ("intent", "reset"),
                ("length", "16"),
                ("expires_hours", "-1"),
                ("require_password_change", "true"),
            ],
        )
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER);
    let result_url = posted.location().unwrap().to_string();
    let first = browser.get(&result_url).await;
    let password = input_value(&first.body, "reset-result").expect("shown once");
    // The reload (and the back button) land on the same GET: nothing is repeated.
    let reload = browser.get(&result_url).await;
    assert_eq!(reload.status, StatusCode::OK);
    assert!(reload.body.contains("Already shown"), "{}", reload.body);
    assert!(!reload.body.contains(&password));
    assert!(
        reload
            .body
            .contains("href=\"/panel/panel_config\" data-close-dialog>Back to the users</a>"),
        "a password reset leads back to the users"
    );
    assert!(
        reload.body.contains("Signed in as"),
        "inside the normal layout"
    );
    let resets = passgate::entities::audit_log::Entity::find()
        .filter(passgate::entities::audit_log::Column::Action.eq("password_reset"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(resets.len(), 1, "one reset, one audit entry");
    app.client_from("10.8.0.3:1")
        .login("bob", &password)
        .await
        .assert_redirect("/panel/change_password");
}

#[tokio::test]
async fn a_generated_password_is_audited_as_generated_and_a_typed_one_is_not() {
    let app = spawn_app().await;
    let mut browser = admin_browser(&app).await;
    let bob = app.user("bob", STRONG_2, false).await;
    let url = format!("/panel/users/{}/reset_password", bob.user_id);
    browser.get(&url).await;
    let generated = browser
        .post(
            &url,
            &[
                ("intent", "generate"),
                ("length", "16"),
                ("expires_hours", "-1"),
            ],
        )
        .await;
    let generated = browser.get(generated.location().unwrap()).await;
    let password = input_value(&generated.body, "reset-password").unwrap();
    let done = browser
        .post(
            &url,
            &[
                ("intent", "reset"),
                ("password", &password),
                ("length", "16"),
                ("expires_hours", "-1"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let typed = browser
        .post(
            &url,
            &[
                ("intent", "reset"),
                ("password", STRONG_3),
                ("length", "16"),
                ("expires_hours", "-1"),
            ],
        )
        .await;
    assert_eq!(typed.status, StatusCode::SEE_OTHER);
    let mut details: Vec<String> = passgate::entities::audit_log::Entity::find()
        .filter(passgate::entities::audit_log::Column::Action.eq("password_reset"))
        .order_by_asc(passgate::entities::audit_log::Column::AuditId)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.detail)
        .collect();
    assert_eq!(details.len(), 2);
    let typed_detail = details.pop().unwrap();
    assert!(details[0].contains("generated=true"), "{}", details[0]);
    assert!(typed_detail.contains("generated=false"), "{typed_detail}");
    let audit = browser.get("/panel/audit").await;
    assert!(
        audit
            .body
            .contains("Temporary password generated by the server")
    );
    assert!(
        audit
            .body
            .contains("Temporary password chosen by the administrator")
    );
    assert!(
        !audit.body.contains("require_password_change="),
        "no raw details"
    );
}

#[tokio::test]
async fn reset_validation_errors_sit_beside_their_fields_and_change_nothing() {
    let app = spawn_app().await;
    let mut browser = admin_browser(&app).await;
    let bob = app.user("bob", STRONG_2, false).await;
    let url = format!("/panel/users/{}/reset_password", bob.user_id);
    browser.get(&url).await;
    let cases = [
        (
            vec![
                ("intent", "reset"),
                ("length", "16"),
                ("expires_hours", "0"),
            ],
            "reset-expires-error",
        ),
        (
            vec![
                ("intent", "reset"),
                ("length", "16"),
                ("expires_hours", "abc"),
            ],
            "reset-expires-error",
        ),
        (
            vec![
                ("intent", "reset"),
                ("length", "7"),
                ("expires_hours", "-1"),
            ],
            "reset-length-error",
        ),
        (
            vec![
                ("intent", "reset"),
                ("length", "16"),
                ("expires_hours", "-1"),
                ("password", "password123"),
            ],
            "reset-password-error",
        ),
    ];
    for (fields, error_id) in cases {
        let page = browser.post(&url, &fields).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{fields:?}");
        assert!(
            page.body.contains(&format!("id=\"{error_id}\"")),
            "{fields:?}"
        );
    }
    let after = app.find("bob").await;
    assert_eq!(after.password, bob.password);
    assert!(!after.require_password_change);
}

#[tokio::test]
async fn a_manager_sees_their_users_only_and_no_lock_for_a_superuser() {
    let app = spawn_app().await;
    let admin = app.user("admin", STRONG, true).await;
    let mgr = app
        .user_with("manager", STRONG, false, None, Some(-1))
        .await;
    let managed = app
        .user_with("managed", STRONG, false, Some(mgr.user_id), None)
        .await;
    app.user("stranger", STRONG, false).await;
    let mut browser = app.client();
    browser.login("manager", STRONG).await;
    let page = browser.get("/panel/panel_config").await;
    let row = |name: &str| {
        page.body
            .contains(&format!("<th scope=\"row\">{name}</th>"))
    };
    assert!(row("managed") && row("manager"));
    assert!(!row("stranger") && !row("admin"));
    assert!(
        page.body
            .contains(&format!("/panel/users/{}/reset_password", managed.user_id))
    );
    // Forcing the URL for a superuser is refused with a message, not a raw error.
    let url = format!("/panel/users/{}/reset_password", admin.user_id);
    let refused = browser.get(&url).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused
            .body
            .contains("Only superusers can reset a superuser&#39;s password.")
            || refused
                .body
                .contains("Only superusers can reset a superuser's password."),
        "what and why: {}",
        refused.body
    );
    assert!(
        refused.body.contains("Signed in as") && refused.body.contains("Sign out"),
        "inside the normal layout"
    );
    let refused = browser.hx_get(&url).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.starts_with("<dialog") && refused.body.contains("Only superusers can reset")
    );
    browser.get(&url).await;
    let post = browser
        .post(
            &url,
            &[
                ("intent", "reset"),
                ("length", "16"),
                ("expires_hours", "-1"),
            ],
        )
        .await;
    assert_eq!(post.status, StatusCode::FORBIDDEN);
    assert!(!app.find("admin").await.require_password_change);
    // On the edit page of a managed user there is no reset button (superusers only).
    let edit = browser
        .get(&format!("/panel/edit_user?id={}", managed.user_id))
        .await;
    assert!(!edit.body.contains("reset_password"));
}

#[tokio::test]
async fn a_plain_user_sees_only_themselves() {
    let app = spawn_app().await;
    app.user("admin", STRONG, true).await;
    app.user("plain", STRONG_2, false).await;
    let mut browser = app.client();
    browser.login("plain", STRONG_2).await;
    let page = browser.get("/panel/panel_config").await;
    assert!(page.body.contains("1 users") && page.body.contains("<th scope=\"row\">plain</th>"));
    assert_eq!(
        browser.get("/panel/users/new").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        browser.get("/panel/audit").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn creating_a_user_shows_a_generated_password_once_and_flags_the_user() {
    let app = spawn_app().await;
    let mut browser = admin_browser(&app).await;
    let form = browser.get("/panel/users/new").await;
    assert!(
        form.body
            .contains("name=\"require_password_change\" type=\"checkbox\" value=\"true\" checked")
    );
    let done = browser
        .post(
            "/panel/users/new",
            &[
                ("username", "Newbie"),
                ("email", "newbie@example.com"),
                ("lang", "de"),
                ("length", "16"),
                ("require_password_change", "true"),
                ("expires_hours", "-1"),
                ("intent", "save"),
            ],
        )
        .await;
    let result_url = done.location().unwrap_or_default().to_string();
    let done = follow_result(&mut browser, done).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let password = input_value(&done.body, "created-password").unwrap();
    assert!(
        done.body.contains("Temporary password"),
        "a change is required"
    );
    let reload = browser.get(&result_url).await;
    assert!(reload.body.contains("Already shown") && !reload.body.contains(&password));
    let user = app.find("newbie").await;
    assert!(user.require_password_change);
    assert_eq!(user.lang, "de");
    let mut newbie = app.client_from("10.8.1.1:1");
    newbie
        .login("newbie", &password)
        .await
        .assert_redirect("/panel/change_password");
    let german = newbie.get("/panel/change_password").await;
    assert!(
        german.body.contains("Passwort ändern"),
        "the user's language switches the panel"
    );

    let again = browser
        .post(
            "/panel/users/new",
            &[
                ("username", "newbie"),
                ("length", "16"),
                ("expires_hours", "-1"),
                ("intent", "save"),
            ],
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "{}", again.body);
    assert!(again.body.contains("id=\"username-error\"") && again.body.contains("already taken"));
}

#[tokio::test]
async fn a_manager_creates_users_they_then_manage_within_quota() {
    let app = spawn_app().await;
    app.user("admin", STRONG, true).await;
    let mgr = app.user_with("manager", STRONG, false, None, Some(1)).await;
    let mut browser = app.client();
    browser.login("manager", STRONG).await;
    let form = browser.get("/panel/users/new").await;
    assert!(
        !form.body.contains("name=\"superuser\""),
        "only superusers grant superuser"
    );
    let created = browser
        .post(
            "/panel/users/new",
            &[
                ("username", "first"),
                ("length", "16"),
                ("expires_hours", "-1"),
                ("superuser", "true"),
                ("intent", "save"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let first = app.find("first").await;
    assert_eq!(first.manager, Some(mgr.user_id));
    assert!(!first.superuser, "a forged superuser field is ignored");
    let over = browser
        .post(
            "/panel/users/new",
            &[
                ("username", "second"),
                ("length", "16"),
                ("expires_hours", "-1"),
                ("intent", "save"),
            ],
        )
        .await;
    assert_eq!(over.status, StatusCode::FORBIDDEN);
    assert!(
        passgate::accounts::users::find_by_username(&app.db, "second")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn editing_and_deleting_users() {
    let app = spawn_app().await;
    let mut browser = admin_browser(&app).await;
    let bob = app.user("bob", STRONG_2, false).await;
    let admin = app.find("admin").await;
    let own = browser
        .get(&format!("/panel/edit_user?id={}", admin.user_id))
        .await;
    assert!(own.body.contains("/panel/change_password/dialog"));
    assert!(!own.body.contains("reset_password"));
    assert!(
        !own.body.contains("name=\"enabled\""),
        "nobody disables themselves"
    );
    let other = browser
        .get(&format!("/panel/edit_user?id={}", bob.user_id))
        .await;
    assert!(
        other
            .body
            .contains(&format!("/panel/users/{}/reset_password", bob.user_id))
    );
    let saved = browser
        .post(
            &format!("/panel/edit_user?id={}", bob.user_id),
            &[
                ("username", "bob"),
                ("email", "bob@example.com"),
                ("lang", "en"),
                ("user_config", "true"),
                ("user_config_quota", "3"),
            ],
        )
        .await;
    saved.assert_redirect(&format!("/panel/edit_user?id={}&saved=1", bob.user_id));
    let bob_after = app.find("bob").await;
    assert_eq!(bob_after.email.as_deref(), Some("bob@example.com"));
    assert!(!bob_after.enabled, "the unchecked enabled box disables");
    let bad = browser
        .post(
            &format!("/panel/edit_user?id={}", bob.user_id),
            &[
                ("username", "b!"),
                ("email", "nope"),
                ("lang", "en"),
                ("enabled", "true"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("id=\"username-error\""));

    let confirm = browser
        .get(&format!("/panel/delete_user?id={}", bob.user_id))
        .await;
    assert!(confirm.body.contains("Delete bob for good?"));
    browser
        .post(&format!("/panel/delete_user?id={}", bob.user_id), &[])
        .await
        .assert_redirect("/panel/panel_config");
    assert!(
        passgate::accounts::users::find_by_username(&app.db, "bob")
            .await
            .unwrap()
            .is_none()
    );
    let self_delete = browser
        .get(&format!("/panel/delete_user?id={}", admin.user_id))
        .await;
    assert_eq!(self_delete.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn audit_page_shows_who_did_what_and_filters() {
    let app = spawn_app().await;
    let mut browser = admin_browser(&app).await;
    app.user("bob", STRONG_2, false).await;
    app.user("carol", STRONG_2, false).await;
    let bob = app.find("bob").await;
    browser
        .get(&format!("/panel/users/{}/reset_password", bob.user_id))
        .await;
    browser
        .post(
            &format!("/panel/users/{}/reset_password", bob.user_id),
            &[
                ("intent", "reset"),
                ("length", "16"),
                ("expires_hours", "-1"),
            ],
        )
        .await;
    let page = browser.get("/panel/audit").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(">Password reset</td>") && page.body.contains("127.0.0.1"));
    let filtered = browser.get("/panel/audit?user=carol").await;
    assert!(
        filtered.body.contains(">User created</td>")
            && !filtered.body.contains(">Password reset</td>")
    );
}

#[tokio::test]
async fn admin_forms_need_the_csrf_token() {
    let app = spawn_app().await;
    let mut browser = admin_browser(&app).await;
    let bob = app.user("bob", STRONG_2, false).await;
    let url = format!("/panel/users/{}/reset_password", bob.user_id);
    let refused = browser
        .post_without_csrf(
            &url,
            &[
                ("intent", "reset"),
                ("length", "16"),
                ("expires_hours", "-1"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = browser
        .post_without_csrf(&format!("/panel/delete_user?id={}", bob.user_id), &[])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let after = app.find("bob").await;
    assert_eq!(after.password, bob.password);
}

#[tokio::test]
async fn a_session_ended_by_a_reset_or_an_expiry_says_why_on_the_sign_in_page() {
    let app = spawn_app().await;
    let mut admin = admin_browser(&app).await;
    let bob = app.user("bob", STRONG_2, false).await;
    let mut bob_browser = app.client_from("10.8.0.1:1");
    bob_browser.login("bob", STRONG_2).await;
    assert_eq!(
        bob_browser.get("/panel/dashboard").await.status,
        StatusCode::OK
    );
    let url = format!("/panel/users/{}/reset_password", bob.user_id);
    admin.get(&url).await;
    let reset = admin
        .post(
            &url,
            &[
                ("intent", "reset"),
                ("password", STRONG_3),
                ("length", "16"),
                ("expires_hours", "1"),
                ("require_password_change", "true"),
            ],
        )
        .await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER);
    bob_browser
        .get("/panel/dashboard")
        .await
        .assert_redirect("/login?ended=reset");
    let login = bob_browser.get("/login?ended=reset").await;
    assert!(
        login.body.contains("an administrator reset your password"),
        "{}",
        login.body
    );

    // Signed in with the temporary password, which then expires during the session.
    bob_browser.login("bob", STRONG_3).await;
    assert_eq!(
        bob_browser.get("/panel/change_password").await.status,
        StatusCode::OK
    );
    crate::api_auth::expire_temp_password(&app, "bob").await;
    bob_browser
        .get("/panel/change_password")
        .await
        .assert_redirect("/login?ended=expired");
    let login = bob_browser.get("/login?ended=expired").await;
    assert!(login.body.contains("your temporary password expired"));
}

#[tokio::test]
async fn a_manager_is_chosen_from_the_users_who_may_manage() {
    let app = spawn_app().await;
    let mut browser = admin_browser(&app).await;
    app.user_with("boss", STRONG, false, None, Some(-1)).await;
    app.user("plain", STRONG_2, false).await;
    let form = browser.get("/panel/users/new").await;
    assert!(
        form.body
            .contains("<select id=\"manager\" name=\"manager\"")
    );
    assert!(form.body.contains("<option value=\"boss\">boss</option>"));
    assert!(
        !form.body.contains("<option value=\"plain\">"),
        "plain holds no USER_CONFIG"
    );
}

/// A form body the server cannot read — a field given twice, JSON where a form belongs — gets
/// the error page (in the visitor's language, not axum's plain text) and changes nothing.
#[tokio::test]
async fn an_unreadable_form_gets_the_error_page_and_changes_nothing() {
    let app = spawn_app().await;
    let mut browser = admin_browser(&app).await;
    let bob = app.user("bob", STRONG_2, false).await;
    let url = format!("/panel/users/{}/reset_password", bob.user_id);
    browser.get(&url).await;
    let token = browser.csrf.clone().expect("the page's CSRF token");
    let twice = format!(
        "intent=reset&password=Chosen-By-Someone-1&password=Or-By-Another-22&csrf_token={token}"
    );
    let answer = browser
        .request(axum::http::Method::POST, &url, Some(twice), false)
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert!(answer.body.contains("<!DOCTYPE html>"), "{}", answer.body);
    assert!(
        answer.body.contains("The request could not be processed."),
        "{}",
        answer.body
    );

    let json = browser
        .post_json(
            &url,
            serde_json::json!({"intent": "reset", "password": "Chosen-By-Someone-1"}),
            true,
        )
        .await;
    assert_eq!(
        json.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        json.body
    );
    assert!(json.body.contains("<!DOCTYPE html>"), "{}", json.body);

    let after = app.find("bob").await;
    assert_eq!(after.password, bob.password, "the password is unchanged");
    assert!(!after.require_password_change);
    assert_eq!(
        passgate::entities::audit_log::Entity::find()
            .filter(passgate::entities::audit_log::Column::Action.eq("password_reset"))
            .all(&app.db)
            .await
            .unwrap()
            .len(),
        0,
        "no reset was recorded"
    );
}
