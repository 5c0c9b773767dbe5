//! Reset links and set-up links in the admin pages (SPEC §10), as a browser without
//! JavaScript and with htmx sees them.

use axum::http::StatusCode;
use passgate::entities::reset_links;
use sea_orm::EntityTrait;

use crate::helpers::*;

const PUBLIC: &str = "https://passgate.example.org";

async fn app_with_public_url() -> TestApp {
    spawn_app_with(|raw| raw.public_url = Some(PUBLIC.into())).await
}

#[tokio::test]
async fn the_reset_dialog_makes_a_link_shown_once_with_its_qr_code() {
    let app = app_with_public_url().await;
    app.user("admin", STRONG, true).await;
    let bob = app.user("bob", STRONG_2, false).await;
    let mut admin = signed_in_browser(&app, "admin", STRONG, "127.0.0.1:1").await;
    let form_url = format!("/panel/users/{}/reset_link", bob.user_id);
    // The temporary-password form offers the link as its other tab.
    let dialog = admin
        .get(&format!("/panel/users/{}/reset_password", bob.user_id))
        .await;
    assert!(dialog.body.contains(&format!("href=\"{form_url}\"")));
    let form = admin.get(&form_url).await;
    assert_eq!(form.status, StatusCode::OK);
    assert_eq!(
        input_value(&form.body, "link-expires").as_deref(),
        Some("24")
    );

    // A wrong expiry is said beside the field and makes nothing.
    for bad in ["0", "73", "soon", ""] {
        let refused = admin.post(&form_url, &[("expires_hours", bad)]).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{bad:?}");
        assert!(
            refused.body.contains("id=\"link-expires-error\""),
            "{bad:?}"
        );
        assert!(refused.body.contains("aria-invalid=\"true\""));
    }
    assert!(
        reset_links::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .is_empty()
    );

    let made = admin
        .post(&form_url, &[("expires_hours", "6"), ("reset_mfa", "true")])
        .await;
    let result_url = made.location().expect("303 to the result").to_string();
    let result = follow_result(&mut admin, made).await;
    let url = input_value(&result.body, "link-result").expect("the link in a read-only field");
    assert!(url.starts_with(&format!("{PUBLIC}/reset/")), "{url}");
    assert!(
        result.body.contains("<svg class=\"qr\""),
        "a QR code of the link"
    );
    assert!(result.body.contains("data-copy=\"link-result\""));
    // Shown once: a reload says so and shows no link.
    let token = url.rsplit('/').next().unwrap().to_string();
    let reload = admin.get(&result_url).await;
    assert_eq!(reload.status, StatusCode::OK);
    assert!(!reload.body.contains(&token));
    assert!(reload.body.contains("Already shown"), "{}", reload.body);
    // Nothing changed for bob yet; his row says a link is pending.
    assert_eq!(app.find("bob").await.password, bob.password);
    let table = admin.get("/panel/panel_config").await;
    assert!(table.body.contains("Reset link pending"));

    // The link works for bob.
    let path = url.strip_prefix(PUBLIC).unwrap().to_string();
    let mut bobs = app.client_from("10.30.0.1:1");
    assert_eq!(bobs.get(&path).await.status, StatusCode::OK);
    bobs.post(
        &path,
        &[("new_password", STRONG_3), ("confirm_password", STRONG_3)],
    )
    .await
    .assert_redirect("/panel/dashboard");
    app.api_login("bob", STRONG_3).await.assert_ok();
}

#[tokio::test]
async fn a_pending_link_is_revoked_from_the_dialog_and_stops_working() {
    let app = app_with_public_url().await;
    app.user("admin", STRONG, true).await;
    let bob = app.user("bob", STRONG_2, false).await;
    let mut admin = signed_in_browser(&app, "admin", STRONG, "127.0.0.1:1").await;
    let form_url = format!("/panel/users/{}/reset_link", bob.user_id);
    let made = admin.post(&form_url, &[("expires_hours", "24")]).await;
    let result = follow_result(&mut admin, made).await;
    let url = input_value(&result.body, "link-result").unwrap();
    let path = url.strip_prefix(PUBLIC).unwrap().to_string();

    let form = admin.get(&form_url).await;
    assert!(form.body.contains("A reset link is pending"));
    let revoke_url = format!("{form_url}/revoke");
    let revoked = admin.post(&revoke_url, &[]).await;
    revoked.assert_redirect(&format!("{form_url}?revoked=1"));
    let after = admin.get(&format!("{form_url}?revoked=1")).await;
    assert!(after.body.contains("The link was revoked"));
    assert!(!after.body.contains("A reset link is pending"));
    // A second submission (reload, double click) finds nothing and writes no second entry.
    admin.post(&revoke_url, &[]).await;
    let revocations = passgate::entities::audit_log::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "reset_link_revoked")
        .count();
    assert_eq!(revocations, 1);

    let page = app.client_from("10.30.0.2:1").get(&path).await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(page.body.contains("revoked"));

    // With htmx the dialog answers in place and says so.
    admin.post(&form_url, &[("expires_hours", "2")]).await;
    let in_place = admin.hx_post(&revoke_url, &[]).await;
    assert_eq!(in_place.status, StatusCode::OK);
    assert!(in_place.body.contains("<dialog"));
    assert!(in_place.body.contains("The link was revoked"));
}

#[tokio::test]
async fn who_may_not_reset_may_not_make_or_revoke_a_link() {
    let app = app_with_public_url().await;
    let root = app.user("root", STRONG, true).await;
    let manager = app.user_with("manager", STRONG, false, None, Some(5)).await;
    let managed = app
        .user_with("managed", STRONG_2, false, Some(manager.user_id), None)
        .await;
    let stranger = app.user("stranger", STRONG_2, false).await;
    let mut browser = signed_in_browser(&app, "manager", STRONG, "127.0.0.1:1").await;
    for target in [root.user_id, stranger.user_id, manager.user_id] {
        let url = format!("/panel/users/{target}/reset_link");
        let shown = browser.get(&url).await;
        assert!(
            shown.status.is_client_error(),
            "GET {url}: {}",
            shown.status
        );
        let made = browser.post(&url, &[("expires_hours", "24")]).await;
        assert!(made.status.is_client_error(), "POST {url}: {}", made.status);
        let revoked = browser.post(&format!("{url}/revoke"), &[]).await;
        assert!(revoked.status.is_client_error());
    }
    assert!(
        reset_links::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .is_empty()
    );
    // The manager's own user is fine.
    let made = browser
        .post(
            &format!("/panel/users/{}/reset_link", managed.user_id),
            &[("expires_hours", "24")],
        )
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER);
    // Without the CSRF token nothing is made.
    let forged = browser
        .post_without_csrf(
            &format!("/panel/users/{}/reset_link", managed.user_id),
            &[("expires_hours", "24")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(
        reset_links::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn the_new_user_form_can_send_a_set_up_link_instead_of_a_password() {
    let app = app_with_public_url().await;
    app.user("admin", STRONG, true).await;
    let mut admin = signed_in_browser(&app, "admin", STRONG, "127.0.0.1:1").await;
    let form = admin.get("/panel/users/new").await;
    assert!(form.body.contains("name=\"setup_link\""));
    // A password beside the link is refused beside the password field; nothing is made.
    let refused = admin
        .post(
            "/panel/users/new",
            &[
                ("username", "erin"),
                ("password", STRONG_2),
                ("setup_link", "true"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("id=\"password-error\""));
    assert!(refused.body.contains("checked"), "the choice is kept");
    assert!(
        passgate::entities::users::Entity::find()
            .all(&app.db)
            .await
            .unwrap()
            .iter()
            .all(|u| u.username != "erin")
    );

    let made = admin
        .post(
            "/panel/users/new",
            &[
                ("username", "erin"),
                ("setup_link", "true"),
                ("require_password_change", "true"),
                ("expires_hours", "5"),
            ],
        )
        .await;
    let result = follow_result(&mut admin, made).await;
    assert!(
        input_value(&result.body, "created-password").is_none(),
        "no password shown"
    );
    let url = input_value(&result.body, "link-result").expect("the set-up link");
    assert!(result.body.contains("<svg class=\"qr\""));
    let erin = app.find("erin").await;
    assert!(
        !erin.require_password_change,
        "the user chooses the password: nothing to force"
    );
    assert!(erin.password_expires.is_none());
    app.api_login("erin", STRONG_2)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_CREDENTIALS");

    let path = url.strip_prefix(PUBLIC).unwrap().to_string();
    let mut erins = app.client_from("10.30.1.1:1");
    let page = erins.get(&path).await;
    assert!(page.body.contains("erin"));
    erins
        .post(
            &path,
            &[("new_password", STRONG_3), ("confirm_password", STRONG_3)],
        )
        .await
        .assert_redirect("/panel/dashboard");
    let dashboard = erins.get("/panel/dashboard").await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(dashboard.body.contains("erin"));
}
