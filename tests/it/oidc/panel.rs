//! OpenID Connect clients in the panel's application pages (SPEC §16 with §15.1), as a
//! superuser uses them without JavaScript — plain forms, 303s — and with htmx: the secret of a
//! confidential client shown once (a one-time result) and working at `/oauth2/token`, a new
//! secret after a confirmation (the old one refused at once), refusals beside the field, and
//! everyone else refused.

use axum::http::StatusCode;
use passgate::accounts::apps;
use passgate::accounts::oidc::Alg;
use passgate::accounts::permissions::Caller;

use super::{Ask, ISSUER, REDIRECT, Registered, code_for, exchange, provider};
use crate::helpers::*;

async fn app_names(app: &TestApp) -> Vec<String> {
    apps::list(&app.db, &Caller::operator())
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect()
}

async fn app_id(app: &TestApp, name: &str) -> i32 {
    apps::get_by_name(&app.db, &Caller::operator(), name)
        .await
        .unwrap()
        .app_id
}

/// The fields of the new-application form for an OpenID Connect client.
fn client_form<'a>(
    name: &'a str,
    client_type: &'a str,
    redirect_uris: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("policy", "one_factor"),
        ("oidc", "on"),
        ("client_type", client_type),
        ("redirect_uris", redirect_uris),
        (
            "post_logout_redirect_uris",
            "https://wiki.example.org/signed-out",
        ),
        ("alg", "RS256"),
    ]
}

/// A superuser's browser on the new-application form.
async fn root_at_new_app(app: &TestApp) -> Client<'_> {
    app.user("root", STRONG, true).await;
    let mut browser = signed_in_browser(app, "root", STRONG, "127.0.0.1:1").await;
    browser.get("/panel/apps/new").await;
    browser
}

/// Every audit entry's detail.
async fn audit_details(app: &TestApp) -> Vec<(String, String)> {
    passgate::accounts::audit::page(&app.db, None, 1, 200)
        .await
        .unwrap()
        .0
        .into_iter()
        .map(|e| (e.action, e.detail))
        .collect()
}

/// The code exchange at `/oauth2/token` with `client_secret_basic`: its status.
async fn token_status(
    app: &TestApp,
    client: &Registered,
    user: &passgate::entities::users::Model,
) -> (StatusCode, serde_json::Value) {
    let code = code_for(app, client, user, Ask::default()).await;
    exchange(app, client, &code, &[]).await
}

#[tokio::test]
async fn a_confidential_client_made_in_the_panel_shows_its_secret_once_and_it_works() {
    let app = provider().await;
    let alice = app.user("alice", STRONG_2, false).await;
    let mut browser = root_at_new_app(&app).await;
    let form = browser.get("/panel/apps/new").await;
    assert!(form.body.contains("<legend>OpenID Connect</legend>"));
    assert!(
        form.body
            .contains("name=\"alg\" type=\"radio\" value=\"RS256\" checked"),
        "RS256 by default"
    );

    let created = browser
        .post(
            "/panel/apps/new",
            &client_form("Wiki", "confidential", &format!("{REDIRECT}\r\n")),
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let result_url = created.location().unwrap().to_string();
    let shown = follow_result(&mut browser, created).await;
    assert_eq!(shown.status, StatusCode::OK);
    let secret = input_value(&shown.body, "client-secret").expect("the secret, shown once");
    assert!(secret.starts_with("pgs_"), "{secret}");
    assert!(!result_url.contains(&secret), "never in a URL");
    assert!(
        shown.body.contains("data-copy=\"client-secret\""),
        "a copy button"
    );
    let client_id = input_value(&shown.body, "client-id").expect("the client id");
    assert!(shown.body.contains(ISSUER));
    assert!(
        shown
            .body
            .contains("https://passgate.example/.well-known/openid-configuration")
    );
    // A reload shows nothing and makes nothing.
    let again = browser.get(&result_url).await;
    assert!(input_value(&again.body, "client-secret").is_none());
    assert!(!again.body.contains(&secret));
    assert!(again.body.contains("Already shown"), "{}", again.body);
    // It leads back to the application, not to the users.
    let id = app_id(&app, "Wiki").await;
    assert!(
        again.body.contains(&format!(
            "href=\"/panel/apps/{id}\" data-close-dialog>Back to the application</a>"
        )),
        "{}",
        again.body
    );
    assert!(!again.body.contains("Back to the users"));

    let saved = apps::get(&app.db, &Caller::operator(), id).await.unwrap();
    let settings = saved.oidc.expect("a client").settings;
    assert_eq!(settings.redirect_uris, [REDIRECT]);
    assert_eq!(
        settings.post_logout_redirect_uris,
        ["https://wiki.example.org/signed-out"]
    );
    assert!(!settings.public);
    assert_eq!(settings.alg, Alg::Rs256);

    // The secret works at the token endpoint (client_secret_basic).
    let client = Registered {
        app_id: id,
        client_id: client_id.clone(),
        secret: Some(secret.clone()),
    };
    let (status, body) = token_status(&app, &client, &alice).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["access_token"].is_string());

    // The application's page shows the client id and the URLs a relying party needs.
    let page = browser.get(&format!("/panel/apps/{id}")).await;
    assert_eq!(
        input_value(&page.body, "client-id").as_deref(),
        Some(client_id.as_str())
    );
    assert!(page.body.contains("data-copy=\"client-id\""));
    assert!(page.body.contains("/.well-known/openid-configuration"));
    assert!(!page.body.contains(&secret), "never shown again");
    assert!(
        page.body
            .contains(&format!("href=\"/panel/apps/{id}/secret\""))
    );

    // A new secret, after a confirmation page (a plain form).
    let confirm = browser.get(&format!("/panel/apps/{id}/secret")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm
            .body
            .contains(&format!("action=\"/panel/apps/{id}/secret\"")),
        "{}",
        confirm.body
    );
    let renewed = browser.post(&format!("/panel/apps/{id}/secret"), &[]).await;
    let renewed_url = renewed.location().unwrap().to_string();
    let shown = follow_result(&mut browser, renewed).await;
    let new_secret = input_value(&shown.body, "client-secret").expect("the new secret");
    assert_ne!(new_secret, secret);
    assert!(!renewed_url.contains(&new_secret));
    let again = browser.get(&renewed_url).await;
    assert!(
        input_value(&again.body, "client-secret").is_none(),
        "shown once"
    );
    // The reload made no third secret: the one shown still works, the old one stops.
    let (status, body) = token_status(&app, &client, &alice).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "invalid_client");
    let renewed_client = Registered {
        secret: Some(new_secret.clone()),
        ..client
    };
    let (status, body) = token_status(&app, &renewed_client, &alice).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Audited, without a secret.
    let audit = audit_details(&app).await;
    assert_eq!(
        audit
            .iter()
            .filter(|(action, _)| action == "app_client_secret_regenerated")
            .count(),
        1
    );
    assert!(
        audit
            .iter()
            .all(|(_, detail)| !detail.contains(&secret) && !detail.contains(&new_secret)),
        "no secret in the audit log"
    );
    let audit_page = browser.get("/panel/audit").await;
    assert!(
        audit_page.body.contains("Wiki: a new client secret"),
        "{}",
        audit_page.body
    );
}

#[tokio::test]
async fn with_htmx_a_new_secret_is_loaded_into_the_dialog_once() {
    let app = provider().await;
    let mut browser = root_at_new_app(&app).await;
    let created = browser
        .post(
            "/panel/apps/new",
            &client_form("Wiki", "confidential", REDIRECT),
        )
        .await;
    follow_result(&mut browser, created).await;
    let id = app_id(&app, "Wiki").await;
    browser.get(&format!("/panel/apps/{id}/secret")).await;
    let renewed = browser
        .hx_post(&format!("/panel/apps/{id}/secret"), &[])
        .await;
    assert_eq!(renewed.status, StatusCode::OK);
    let location: serde_json::Value =
        serde_json::from_str(renewed.header("hx-location").expect("HX-Location")).unwrap();
    let path = location["path"].as_str().unwrap().to_string();
    assert!(path.starts_with("/panel/result/"), "{path}");
    let dialog = browser.hx_get(&path).await;
    assert!(dialog.body.starts_with("<dialog"), "{}", dialog.body);
    assert!(input_value(&dialog.body, "client-secret").is_some());
    let again = browser.hx_get(&path).await;
    assert!(input_value(&again.body, "client-secret").is_none());
    assert!(
        again.body.contains(&format!(
            "href=\"/panel/apps/{id}\" data-close-dialog>Back to the application</a>"
        )),
        "{}",
        again.body
    );
    // The link's target comes from a fixed set: a forged `back` leads to the users table.
    let forged = path.replace(&format!("back=app-{id}"), "back=//evil.example");
    assert_ne!(forged, path);
    let page = browser.get(&forged).await;
    assert!(
        page.body
            .contains("href=\"/panel/panel_config\" data-close-dialog>Back to the users</a>"),
        "{} {}",
        page.status,
        page.body
    );
    assert!(!page.body.contains("evil.example"));
}

#[tokio::test]
async fn a_public_client_gets_no_secret_and_its_page_shows_the_client_id() {
    let app = provider().await;
    let mut browser = root_at_new_app(&app).await;
    let created = browser
        .post(
            "/panel/apps/new",
            &client_form("Desktop", "public", "http://127.0.0.1/callback"),
        )
        .await;
    let id = app_id(&app, "Desktop").await;
    created.assert_redirect(&format!("/panel/apps/{id}?done=created#client-title"));
    let page = browser.get(&format!("/panel/apps/{id}?done=created")).await;
    assert!(page.body.contains("The application was registered."));
    let client = apps::get(&app.db, &Caller::operator(), id)
        .await
        .unwrap()
        .oidc
        .expect("a client");
    assert!(client.settings.public);
    assert_eq!(
        input_value(&page.body, "client-id").as_deref(),
        Some(client.client_id.as_str())
    );
    assert!(input_value(&page.body, "client-secret").is_none());
    assert!(
        !page.body.contains(&format!("/panel/apps/{id}/secret")),
        "nothing to regenerate"
    );
    assert!(page.body.contains("value=\"public\" checked"));
    // Asking for a secret anyway is refused and audits nothing.
    let refused = browser.get(&format!("/panel/apps/{id}/secret")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let refused = browser.post(&format!("/panel/apps/{id}/secret"), &[]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        audit_details(&app)
            .await
            .iter()
            .all(|(action, _)| action != "app_client_secret_regenerated")
    );

    // Made confidential on its page: its first secret is shown once.
    let mut fields = client_form("Desktop", "confidential", "http://127.0.0.1/callback");
    fields.retain(|(k, _)| *k != "post_logout_redirect_uris");
    let saved = browser.post(&format!("/panel/apps/{id}"), &fields).await;
    let shown = follow_result(&mut browser, saved).await;
    assert!(
        input_value(&shown.body, "client-secret").is_some_and(|s| s.starts_with("pgs_")),
        "{}",
        shown.body
    );
    // Unchecked: it is no client any more.
    let mut off = client_form("Desktop", "confidential", "http://127.0.0.1/callback");
    off.retain(|(k, _)| *k != "oidc");
    // That ends its sign-ins: asked first (`panel_confirm.rs`), applied when confirmed.
    let asked = browser.post(&format!("/panel/apps/{id}"), &off).await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(asked.body.contains("OpenID Connect will be turned off"));
    let confirm = super::panel_confirm::hidden_fields(&asked.body);
    let confirm: Vec<(&str, &str)> = confirm
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    browser
        .post(&format!("/panel/apps/{id}"), &confirm)
        .await
        .assert_redirect("/panel/apps?done=updated");
    let saved = apps::get(&app.db, &Caller::operator(), id).await.unwrap();
    assert!(saved.oidc.is_none());
}

#[tokio::test]
async fn bad_client_settings_are_said_beside_the_field_and_nothing_is_stored() {
    let app = provider().await;
    let mut browser = root_at_new_app(&app).await;
    let typed = "https://wiki.example.org/cb\nhttp://wiki.example.org/cb";
    let refused = browser
        .post(
            "/panel/apps/new",
            &client_form("Wiki", "confidential", typed),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused.body.contains("id=\"redirect_uris-error\""),
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("Not an https URL (or http on localhost, 127.0.0.1 or [::1]) without user info or fragment: http://wiki.example.org/cb")
    );
    assert!(refused.body.contains("aria-invalid=\"true\""));
    // What was typed is kept.
    assert!(refused.body.contains(typed), "{}", refused.body);
    assert!(
        refused
            .body
            .contains("name=\"oidc\" type=\"checkbox\" value=\"on\" checked")
    );
    assert!(refused.body.contains("value=\"Wiki\""));
    assert!(app_names(&app).await.is_empty(), "nothing stored");

    // No redirect URI at all; a post-logout URI with a fragment; a tampered algorithm.
    let empty = browser
        .post(
            "/panel/apps/new",
            &client_form("Wiki", "confidential", " \r\n"),
        )
        .await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(
        empty.body.contains("Give one to 20 redirect URIs"),
        "{}",
        empty.body
    );
    let mut fields = client_form("Wiki", "confidential", REDIRECT);
    fields[5].1 = "https://wiki.example.org/bye#x";
    let bad_logout = browser.post("/panel/apps/new", &fields).await;
    assert_eq!(bad_logout.status, StatusCode::BAD_REQUEST);
    assert!(
        bad_logout
            .body
            .contains("id=\"post_logout_redirect_uris-error\"")
    );
    let mut fields = client_form("Wiki", "confidential", REDIRECT);
    fields[6].1 = "HS256";
    let bad_alg = browser.post("/panel/apps/new", &fields).await;
    assert_eq!(bad_alg.status, StatusCode::BAD_REQUEST);
    assert!(bad_alg.body.contains("id=\"alg-error\""));
    let mut fields = client_form("Wiki", "confidential", REDIRECT);
    fields[3].1 = "secretless";
    let bad_type = browser.post("/panel/apps/new", &fields).await;
    assert_eq!(bad_type.status, StatusCode::BAD_REQUEST);
    assert!(bad_type.body.contains("id=\"client_type-error\""));
    assert!(app_names(&app).await.is_empty(), "nothing stored");

    // On an existing client: refused, its settings and secret as they were.
    let created = browser
        .post(
            "/panel/apps/new",
            &client_form("Wiki", "confidential", REDIRECT),
        )
        .await;
    follow_result(&mut browser, created).await;
    let id = app_id(&app, "Wiki").await;
    let before = apps::get(&app.db, &Caller::operator(), id).await.unwrap();
    browser.get(&format!("/panel/apps/{id}")).await;
    let refused = browser
        .post(
            &format!("/panel/apps/{id}"),
            &client_form("Wiki", "public", "https://wiki.example.org/cb?x#y"),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.contains("id=\"redirect_uris-error\""));
    assert!(
        refused.body.contains("value=\"public\" checked"),
        "kept as typed"
    );
    assert!(
        input_value(&refused.body, "client-id").is_some(),
        "the client as it still is"
    );
    let after = apps::get(&app.db, &Caller::operator(), id).await.unwrap();
    assert_eq!(after, before);
}

#[tokio::test]
async fn only_a_superuser_with_the_csrf_token_manages_clients_in_the_panel() {
    let app = provider().await;
    let alice = app.user("alice", STRONG_2, false).await;
    app.user_with("manager", STRONG, false, None, Some(-1))
        .await;
    let mut root = root_at_new_app(&app).await;
    let created = root
        .post(
            "/panel/apps/new",
            &client_form("Wiki", "confidential", REDIRECT),
        )
        .await;
    let shown = follow_result(&mut root, created).await;
    let id = app_id(&app, "Wiki").await;
    let client = Registered {
        app_id: id,
        client_id: input_value(&shown.body, "client-id").unwrap(),
        secret: input_value(&shown.body, "client-secret"),
    };
    let before = apps::get(&app.db, &Caller::operator(), id).await.unwrap();

    // A USER_CONFIG manager: refused on every route, nothing made or changed.
    let mut manager = signed_in_browser(&app, "manager", STRONG, "127.0.0.2:1").await;
    let paths = [
        "/panel/apps/new".to_string(),
        format!("/panel/apps/{id}"),
        format!("/panel/apps/{id}/secret"),
    ];
    for path in &paths {
        let page = manager.get(path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(!page.body.contains(&client.client_id), "{path}");
        let posted = manager
            .post(path, &client_form("Mine", "confidential", REDIRECT))
            .await;
        assert_eq!(posted.status, StatusCode::FORBIDDEN, "{path}");
        assert!(!posted.body.contains("pgs_"), "{path}");
        // The superuser's own posts without the CSRF token change nothing either.
        let forged = root
            .post_without_csrf(path, &client_form("Forged", "public", REDIRECT))
            .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(app_names(&app).await, ["Wiki"]);
    let after = apps::get(&app.db, &Caller::operator(), id).await.unwrap();
    assert_eq!(after, before);
    let (status, body) = token_status(&app, &client, &alice).await;
    assert_eq!(status, StatusCode::OK, "the secret was not renewed: {body}");
    assert!(
        audit_details(&app)
            .await
            .iter()
            .all(|(action, _)| action != "app_client_secret_regenerated")
    );
}
