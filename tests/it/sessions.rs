//! Sessions (SPEC §11): one's own sessions page, ending one or all others, an administrator
//! ending all of a user's sessions, and the API call — also from the attacker's side.

use axum::http::StatusCode;
use passgate::entities::{audit_log, sessions};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::helpers::*;

async fn session_rows(app: &TestApp, user_id: i32) -> Vec<sessions::Model> {
    sessions::Entity::find()
        .filter(sessions::Column::UserId.eq(user_id))
        .all(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_sessions_page_lists_ones_sessions_and_ends_one_or_all_others() {
    let app = spawn_app().await;
    let bob = app.user("bob", STRONG, false).await;
    let mut laptop = signed_in_browser(&app, "bob", STRONG, "10.40.0.1:1").await;
    let mut phone = signed_in_browser(&app, "bob", STRONG, "10.40.0.2:1").await;
    let mut tablet = signed_in_browser(&app, "bob", STRONG, "10.40.0.3:1").await;
    assert_eq!(session_rows(&app, bob.user_id).await.len(), 3);
    let rows = session_rows(&app, bob.user_id).await;
    assert!(
        rows.iter()
            .all(|r| r.signed_in_at.is_some() && r.last_seen.is_some())
    );
    let addresses: Vec<_> = rows.iter().filter_map(|r| r.address.clone()).collect();
    assert!(
        addresses.contains(&"10.40.0.2".to_string()),
        "{addresses:?}"
    );

    let page = laptop.get("/panel/sessions").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body.matches("This session").count(), 1);
    assert!(page.body.contains("10.40.0.1") && page.body.contains("10.40.0.3"));
    // The page names sessions by a handle, never by their id (a credential).
    for row in &rows {
        assert!(
            !page.body.contains(&row.id),
            "a session id leaked into the page"
        );
    }
    let handles: Vec<String> = page
        .body
        .split("name=\"session\" value=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .collect();
    assert_eq!(handles.len(), 2, "an End button for each other session");

    // End the phone's session: the phone is signed out, the others stay.
    let phone_row = rows
        .iter()
        .find(|r| r.address.as_deref() == Some("10.40.0.2"))
        .unwrap();
    let phone_handle = passgate::accounts::sessions::handle_of(&phone_row.id);
    laptop
        .post("/panel/sessions/end", &[("session", &phone_handle)])
        .await
        .assert_redirect("/panel/sessions?ended=one");
    assert_ne!(phone.get("/panel/dashboard").await.status, StatusCode::OK);
    assert_eq!(tablet.get("/panel/dashboard").await.status, StatusCode::OK);
    assert_eq!(laptop.get("/panel/dashboard").await.status, StatusCode::OK);
    // Again (a reload): nothing more ends.
    laptop
        .post("/panel/sessions/end", &[("session", &phone_handle)])
        .await
        .assert_redirect("/panel/sessions?ended=one");
    assert_eq!(tablet.get("/panel/dashboard").await.status, StatusCode::OK);
    // A made-up handle, and the current session's own handle, end nothing.
    let own = session_rows(&app, bob.user_id)
        .await
        .into_iter()
        .find(|r| r.address.as_deref() == Some("10.40.0.1"))
        .unwrap();
    for handle in [
        passgate::accounts::sessions::handle_of(&own.id),
        "00".repeat(16),
    ] {
        laptop
            .post("/panel/sessions/end", &[("session", &handle)])
            .await;
        assert_eq!(laptop.get("/panel/dashboard").await.status, StatusCode::OK);
        assert_eq!(tablet.get("/panel/dashboard").await.status, StatusCode::OK);
    }

    laptop
        .post("/panel/sessions/end_others", &[])
        .await
        .assert_redirect("/panel/sessions?ended=others");
    assert_ne!(tablet.get("/panel/dashboard").await.status, StatusCode::OK);
    assert_eq!(laptop.get("/panel/dashboard").await.status, StatusCode::OK);
    assert_eq!(session_rows(&app, bob.user_id).await.len(), 1);
    let after = laptop.get("/panel/sessions").await;
    assert!(after.body.contains("You are signed in nowhere else"));
    // Without the CSRF token nothing ends.
    let mut other = signed_in_browser(&app, "bob", STRONG, "10.40.0.4:1").await;
    let forged = laptop
        .post_without_csrf("/panel/sessions/end_others", &[])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(other.get("/panel/dashboard").await.status, StatusCode::OK);
    let ended = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("sessions_ended"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(
        ended.len(),
        2,
        "one entry for the one session, one for the others"
    );
}

#[tokio::test]
async fn nobody_sees_or_ends_someone_elses_session_from_the_sessions_page() {
    let app = spawn_app().await;
    let alice = app.user("alice", STRONG, false).await;
    app.user("mallory", STRONG_2, false).await;
    let mut alices = signed_in_browser(&app, "alice", STRONG, "10.41.0.1:1").await;
    let mut mallorys = signed_in_browser(&app, "mallory", STRONG_2, "10.41.0.2:1").await;
    let page = mallorys.get("/panel/sessions").await;
    assert!(!page.body.contains("10.41.0.1"), "only one's own sessions");
    let alices_row = &session_rows(&app, alice.user_id).await[0];
    let handle = passgate::accounts::sessions::handle_of(&alices_row.id);
    mallorys
        .post("/panel/sessions/end", &[("session", &handle)])
        .await;
    mallorys.post("/panel/sessions/end_others", &[]).await;
    assert_eq!(alices.get("/panel/dashboard").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_api_ends_every_session_and_token_of_a_user_for_whoever_may() {
    let app = spawn_app().await;
    app.user("root", STRONG, true).await;
    let manager = app.user_with("manager", STRONG, false, None, Some(5)).await;
    let managed = app
        .user_with("managed", STRONG_2, false, Some(manager.user_id), None)
        .await;
    let stranger = app.user("stranger", STRONG_2, false).await;
    let managers_token = app.token("manager", STRONG).await;
    let managed_token = app.token("managed", STRONG_2).await;
    let strangers_token = app.token("stranger", STRONG_2).await;
    let mut managed_browser = signed_in_browser(&app, "managed", STRONG_2, "10.42.0.1:1").await;

    // A manager may not end a stranger's or a superuser's sessions; nothing changes.
    for id in ["1", &stranger.user_id.to_string()] {
        app.api(
            "DELETE",
            &format!("/api/v2/users/{id}/sessions"),
            Some(&managers_token),
            None,
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    }
    app.api("GET", "/api/v2/users/@me", Some(&strangers_token), None)
        .await
        .assert_ok();
    // Nor may the managed user end their manager's.
    app.api(
        "DELETE",
        &format!("/api/v2/users/{}/sessions", manager.user_id),
        Some(&managed_token),
        None,
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    // Unknown users and odd ids.
    for id in ["999", "abc", "-1"] {
        let answer = app
            .api(
                "DELETE",
                &format!("/api/v2/users/{id}/sessions"),
                Some(&managers_token),
                None,
            )
            .await;
        assert_eq!(answer.code(), Some("USER_NOT_FOUND"), "{id}");
    }
    // No credentials: nothing.
    app.api(
        "DELETE",
        &format!("/api/v2/users/{}/sessions", managed.user_id),
        None,
        None,
    )
    .await
    .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");

    // The manager ends the managed user's sessions and tokens.
    app.api(
        "DELETE",
        &format!("/api/v2/users/{}/sessions", managed.user_id),
        Some(&managers_token),
        None,
    )
    .await
    .assert_ok();
    assert_ne!(
        managed_browser.get("/panel/dashboard").await.status,
        StatusCode::OK
    );
    app.api("GET", "/api/v2/users/@me", Some(&managed_token), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    app.api_login("managed", STRONG_2).await.assert_ok();
    // The manager is still signed in.
    app.api("GET", "/api/v2/users/@me", Some(&managers_token), None)
        .await
        .assert_ok();

    // @me ends one's own, including the token used.
    app.api(
        "DELETE",
        "/api/v2/users/@me/sessions",
        Some(&strangers_token),
        None,
    )
    .await
    .assert_ok();
    app.api("GET", "/api/v2/users/@me", Some(&strangers_token), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
}

#[tokio::test]
async fn an_administrator_ends_all_sessions_from_the_edit_page() {
    let app = spawn_app().await;
    app.user("root", STRONG, true).await;
    let bob = app.user("bob", STRONG_2, false).await;
    let bobs_token = app.token("bob", STRONG_2).await;
    let mut bobs = signed_in_browser(&app, "bob", STRONG_2, "10.43.0.1:1").await;
    let mut admin = signed_in_browser(&app, "root", STRONG, "10.43.0.2:1").await;
    let edit = admin
        .get(&format!("/panel/edit_user?id={}", bob.user_id))
        .await;
    assert!(edit.body.contains("End all sessions"));
    admin
        .post(
            &format!("/panel/users/end_sessions?id={}", bob.user_id),
            &[],
        )
        .await
        .assert_redirect(&format!(
            "/panel/edit_user?id={}&sessions_ended=1",
            bob.user_id
        ));
    assert_ne!(bobs.get("/panel/dashboard").await.status, StatusCode::OK);
    app.api("GET", "/api/v2/users/@me", Some(&bobs_token), None)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    assert_eq!(admin.get("/panel/dashboard").await.status, StatusCode::OK);
    // Bob cannot end root's sessions through the same form.
    let mut bobs = signed_in_browser(&app, "bob", STRONG_2, "10.43.0.3:1").await;
    let refused = bobs.post("/panel/users/end_sessions?id=1", &[]).await;
    assert!(refused.status.is_client_error(), "{}", refused.status);
    assert_eq!(admin.get("/panel/dashboard").await.status, StatusCode::OK);
}
