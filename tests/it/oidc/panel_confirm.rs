//! An edit of an application that ends OpenID Connect sign-ins (SPEC §16 with §15.1): turning
//! its OpenID Connect off or making its confidential client public is shown on a confirmation
//! page first (plain forms: no JavaScript needed) and applied only by the confirmed POST, which
//! carries the whole edit and the version of the application it was reviewed against — a
//! stale, tampered or repeated confirmation applies nothing else. And from the attacker's
//! side: after such a change, or the application's deletion, through the panel or the API,
//! every access and refresh token issued earlier stops working.

use axum::http::StatusCode;
use passgate::accounts::apps::{self, AppChanges};
use passgate::accounts::audit::Actor;
use passgate::accounts::oidc::Alg;
use passgate::accounts::oidc::clients::ClientChanges;
use passgate::accounts::permissions::Caller;
use passgate::entities::users::Model as User;
use serde_json::json;

use super::{
    Ask, REDIRECT, Registered, code_for, confidential, exchange, post_form, provider, refresh,
    register_named, userinfo,
};
use crate::helpers::*;

/// Alice signed in to `client`: an access token and a refresh token.
async fn signed_in_tokens(app: &TestApp, client: &Registered, alice: &User) -> (String, String) {
    let code = code_for(app, client, alice, Ask::default()).await;
    let (status, tokens) = exchange(app, client, &code, &[]).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(userinfo(app, &access).await.0, StatusCode::OK);
    (access, refresh)
}

/// A refresh with only the client id (what a public client sends, and all an attacker needs
/// once the client is public).
async fn refresh_as_public(app: &TestApp, client_id: &str, token: &str) -> (StatusCode, String) {
    let (status, json, _) = post_form(
        app,
        "/oauth2/token",
        None,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
            ("client_id", client_id),
        ],
    )
    .await;
    (
        status,
        json["error"].as_str().unwrap_or_default().to_string(),
    )
}

/// The application form as its page shows it, with `change` made.
fn edit_fields(name: &str, client_type: &str, oidc: bool) -> Vec<(String, String)> {
    let mut fields = vec![
        ("name", name),
        ("description", ""),
        ("hosts", ""),
        ("public_paths", ""),
        ("policy", "one_factor"),
        ("client_type", client_type),
        ("redirect_uris", REDIRECT),
        (
            "post_logout_redirect_uris",
            "https://wiki.example.org/signed-out",
        ),
        ("alg", "RS256"),
    ];
    if oidc {
        fields.push(("oidc", "on"));
    }
    fields
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn refs(fields: &[(String, String)]) -> Vec<(&str, &str)> {
    fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// The hidden fields of the confirmation page's form (without the CSRF token, which the
/// browser adds itself).
pub(super) fn hidden_fields(body: &str) -> Vec<(String, String)> {
    let decode = |v: &str| {
        v.replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    body.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .filter_map(|rest| {
            let (name, rest) = rest.split_once('"')?;
            let value = rest.split_once("value=\"")?.1.split_once('"')?.0;
            Some((name.to_string(), decode(value)))
        })
        .filter(|(name, _)| name != "csrf_token")
        .collect()
}

fn with(fields: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> =
        fields.iter().filter(|(k, _)| k != name).cloned().collect();
    fields.push((name.into(), value.into()));
    fields
}

async fn audit_actions(app: &TestApp, action: &str) -> Vec<String> {
    passgate::accounts::audit::page(&app.db, None, 1, 500)
        .await
        .unwrap()
        .0
        .into_iter()
        .filter(|e| e.action == action)
        .map(|e| e.detail)
        .collect()
}

/// Someone else's change of the application (the CLI's, or another administrator's).
async fn changed_by_operator(app: &TestApp, app_id: i32, changes: AppChanges) -> apps::Saved {
    apps::update(
        &app.db,
        &app.state.apps,
        &Actor::cli(),
        &Caller::operator(),
        app_id,
        changes,
    )
    .await
    .unwrap()
}

async fn root_browser(app: &TestApp) -> Client<'_> {
    app.user("root", STRONG, true).await;
    signed_in_browser(app, "root", STRONG, "127.0.0.1:1").await
}

async fn oidc_of(app: &TestApp, id: i32) -> Option<passgate::accounts::oidc::clients::ClientInfo> {
    apps::get(&app.db, &Caller::operator(), id)
        .await
        .unwrap()
        .oidc
}

/// A confidential client "Wiki", alice, and root's browser on its page (the page's path).
async fn wiki_and_root(app: &TestApp) -> (User, Registered, Client<'_>, String) {
    let alice = app.user("alice", STRONG_2, false).await;
    let client = register_named(app, "Wiki", confidential(Alg::Rs256)).await;
    let mut root = root_browser(app).await;
    let page = format!("/panel/apps/{}", client.app_id);
    root.get(&page).await;
    (alice, client, root, page)
}

#[tokio::test]
async fn turning_openid_connect_off_asks_first_and_the_confirmed_edit_ends_every_token() {
    let app = provider().await;
    let (alice, client, mut root, page) = wiki_and_root(&app).await;
    let (access, refresh_token) = signed_in_tokens(&app, &client, &alice).await;

    // Saved with OpenID Connect unchecked: a confirmation page, nothing changed yet.
    let edit = edit_fields("Wiki", "confidential", false);
    let asked = root.post(&page, &refs(&edit)).await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    assert!(asked.body.contains("OpenID Connect will be turned off"));
    assert!(asked.body.contains(&client.client_id), "names the client");
    assert!(
        asked
            .body
            .contains("1 user signed in to it through passgate loses their tokens"),
        "{}",
        asked.body
    );
    assert!(asked.body.contains(&format!("href=\"{page}\">Cancel</a>")));
    assert!(oidc_of(&app, client.app_id).await.is_some(), "not applied");
    assert_eq!(userinfo(&app, &access).await.0, StatusCode::OK);
    let confirm = hidden_fields(&asked.body);
    for (name, value) in &edit {
        assert!(
            confirm.contains(&(name.clone(), value.clone())),
            "the confirmation carries {name}"
        );
    }
    assert!(confirm.contains(&("review_ends".into(), "client".into())));

    // Without the CSRF token: refused, nothing applied.
    let forged = root.post_without_csrf(&page, &refs(&confirm)).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(oidc_of(&app, client.app_id).await.is_some());

    // Confirmed: applied (PRG), audited with what ended.
    let updated_before = audit_actions(&app, "app_updated").await.len();
    root.post(&page, &refs(&confirm))
        .await
        .assert_redirect("/panel/apps?done=updated");
    assert!(oidc_of(&app, client.app_id).await.is_none());
    let updated = audit_actions(&app, "app_updated").await;
    assert_eq!(updated.len(), updated_before + 1);
    assert!(updated[0].contains("ended=client"), "{}", updated[0]);

    // The attacker's side: the old tokens replayed.
    assert_eq!(userinfo(&app, &access).await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = refresh(&app, &client, &refresh_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"], "invalid_client", "the client is gone");

    // A second click on Confirm (or the form re-sent) repeats nothing.
    root.post(&page, &refs(&confirm))
        .await
        .assert_redirect("/panel/apps?done=updated");
    assert_eq!(
        audit_actions(&app, "app_updated").await.len(),
        updated_before + 1
    );

    // Turned on again, it is a new client: the old refresh token is no grant of it.
    let again = changed_by_operator(
        &app,
        client.app_id,
        AppChanges {
            oidc: Some(Some(ClientChanges {
                redirect_uris: Some(vec![REDIRECT.into()]),
                ..ClientChanges::default()
            })),
            ..AppChanges::default()
        },
    )
    .await;
    let renewed = Registered {
        app_id: client.app_id,
        client_id: again.app.oidc.unwrap().client_id,
        secret: again.client_secret.map(|s| s.expose().to_string()),
    };
    assert_ne!(renewed.client_id, client.client_id);
    let (status, body) = refresh(&app, &renewed, &refresh_token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(userinfo(&app, &access).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn making_a_confidential_client_public_asks_first_and_its_old_tokens_stop_working() {
    let app = provider().await;
    let (alice, client, mut root, page) = wiki_and_root(&app).await;
    let (_, first_refresh) = signed_in_tokens(&app, &client, &alice).await;

    let asked = root
        .post(&page, &refs(&edit_fields("Wiki", "public", true)))
        .await;
    assert_eq!(asked.status, StatusCode::OK);
    assert!(
        asked
            .body
            .contains("its client secret stops working at once")
    );
    assert!(!oidc_of(&app, client.app_id).await.unwrap().settings.public);
    // Cancel is a link back to the page: the application stays as it is.
    let cancelled = root.get(&page).await;
    assert!(cancelled.body.contains("value=\"confidential\" checked"));
    let (status, _) = refresh(&app, &client, &first_refresh).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "nothing ended before the confirmation"
    );

    // Alice signs in once more: the tokens an attacker might have copied.
    let (access, refresh_token) = signed_in_tokens(&app, &client, &alice).await;
    let confirm = hidden_fields(&asked.body);
    assert!(confirm.contains(&("review_ends".into(), "secret".into())));
    root.post(&page, &refs(&confirm))
        .await
        .assert_redirect("/panel/apps?done=updated");
    let now = oidc_of(&app, client.app_id).await.unwrap();
    assert!(now.settings.public);
    assert_eq!(now.client_id, client.client_id, "the same client id");

    // A stolen refresh token would need no secret any more: it must be dead.
    assert_eq!(userinfo(&app, &access).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refresh_as_public(&app, &client.client_id, &refresh_token).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".to_string())
    );
    // And the old secret no longer authenticates anyone.
    let (status, body) = refresh(&app, &client, &refresh_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn an_edit_that_ends_nothing_saves_at_once_and_keeps_the_tokens() {
    let app = provider().await;
    let (alice, client, mut root, page) = wiki_and_root(&app).await;
    let (access, _) = signed_in_tokens(&app, &client, &alice).await;
    root.post(
        &page,
        &refs(&edit_fields("Team wiki", "confidential", true)),
    )
    .await
    .assert_redirect("/panel/apps?done=updated");
    let saved = apps::get(&app.db, &Caller::operator(), client.app_id)
        .await
        .unwrap();
    assert_eq!(saved.name, "Team wiki");
    assert_eq!(saved.oidc.unwrap().client_id, client.client_id);
    assert_eq!(userinfo(&app, &access).await.0, StatusCode::OK);
    assert!(
        audit_actions(&app, "app_updated")
            .await
            .iter()
            .all(|d| !d.contains("ended="))
    );
}

#[tokio::test]
async fn a_stale_or_tampered_confirmation_applies_nothing_else() {
    let app = provider().await;
    let (alice, client, mut root, page) = wiki_and_root(&app).await;
    let (access, _) = signed_in_tokens(&app, &client, &alice).await;
    let asked = root
        .post(&page, &refs(&edit_fields("Wiki", "confidential", false)))
        .await;
    let confirm = hidden_fields(&asked.body);

    // Claiming that the edit ends nothing: the confirmation again, nothing applied.
    let understated: Vec<(String, String)> = confirm
        .iter()
        .filter(|(k, _)| k != "review_ends")
        .cloned()
        .collect();
    let again = root.post(&page, &refs(&understated)).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.body.contains("OpenID Connect will be turned off"));
    // A word that means nothing: refused.
    let nonsense = with(&confirm, "review_ends", "everything");
    assert_eq!(
        root.post(&page, &refs(&nonsense)).await.status,
        StatusCode::BAD_REQUEST
    );
    // The confirmation of one edit with other fields swapped in: asked again, as it is now.
    let swapped = with(&confirm, "client_type", "public");
    let swapped = with(&swapped, "oidc", "on");
    let asked_swapped = root.post(&page, &refs(&swapped)).await;
    assert_eq!(asked_swapped.status, StatusCode::OK);
    assert!(asked_swapped.body.contains("The client becomes public"));
    assert!(oidc_of(&app, client.app_id).await.is_some());

    // Someone else changes the application meanwhile: the old confirmation applies nothing,
    // and the page says what the edit does now.
    changed_by_operator(
        &app,
        client.app_id,
        AppChanges {
            description: Some("moved to the new wiki".into()),
            ..AppChanges::default()
        },
    )
    .await;
    let stale = root.post(&page, &refs(&confirm)).await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert!(stale.body.contains("Someone changed this application"));
    assert!(stale.body.contains("OpenID Connect will be turned off"));
    let current = apps::get(&app.db, &Caller::operator(), client.app_id)
        .await
        .unwrap();
    assert!(current.oidc.is_some());
    assert_eq!(current.description, "moved to the new wiki");
    assert_eq!(userinfo(&app, &access).await.0, StatusCode::OK);

    // Someone else turned it off and renamed it: the edit now ends nothing, but it is not
    // what was reviewed — the form again with what was typed, nothing saved.
    changed_by_operator(
        &app,
        client.app_id,
        AppChanges {
            name: Some("Old wiki".into()),
            oidc: Some(None),
            ..AppChanges::default()
        },
    )
    .await;
    let stale = root.post(&page, &refs(&confirm)).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(
        stale
            .body
            .contains("Nothing was saved: someone changed this application")
    );
    assert_eq!(input_value(&stale.body, "name").as_deref(), Some("Wiki"));
    let current = apps::get(&app.db, &Caller::operator(), client.app_id)
        .await
        .unwrap();
    assert_eq!(current.name, "Old wiki");
}

#[tokio::test]
async fn only_a_superuser_confirms_an_edit() {
    let app = provider().await;
    let (_, client, mut root, page) = wiki_and_root(&app).await;
    let asked = root
        .post(&page, &refs(&edit_fields("Wiki", "confidential", false)))
        .await;
    let confirm = hidden_fields(&asked.body);
    app.user_with("manager", STRONG, false, None, Some(-1))
        .await;
    let mut manager = signed_in_browser(&app, "manager", STRONG, "127.0.0.2:1").await;
    let refused = manager.post(&page, &refs(&confirm)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!refused.body.contains(&client.client_id));
    let refused = manager
        .post(&page, &refs(&edit_fields("Wiki", "confidential", false)))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(oidc_of(&app, client.app_id).await.is_some());
}

#[tokio::test]
async fn the_api_and_a_deletion_end_the_same_tokens() {
    let app = provider().await;
    let alice = app.user("alice", STRONG_2, false).await;
    app.user("root", STRONG, true).await;
    let token = app.token("root", STRONG).await;

    // PATCH `public: true`: the same rule as the panel, without a confirmation.
    let wiki = register_named(&app, "Wiki", confidential(Alg::Rs256)).await;
    let (access, refresh_token) = signed_in_tokens(&app, &wiki, &alice).await;
    app.api(
        "PATCH",
        &format!("/api/v2/apps/{}", wiki.app_id),
        Some(&token),
        Some(json!({"oidc": {"public": true}})),
    )
    .await
    .assert_ok();
    assert_eq!(userinfo(&app, &access).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refresh_as_public(&app, &wiki.client_id, &refresh_token).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".to_string())
    );

    // PATCH `oidc: null`.
    let files = register_named(&app, "Files", confidential(Alg::Rs256)).await;
    let (access, refresh_token) = signed_in_tokens(&app, &files, &alice).await;
    app.api(
        "PATCH",
        &format!("/api/v2/apps/{}", files.app_id),
        Some(&token),
        Some(json!({"oidc": null})),
    )
    .await
    .assert_ok();
    assert_eq!(userinfo(&app, &access).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refresh(&app, &files, &refresh_token).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Deleted in the panel (the CLI's `app remove` and the API's DELETE call the same
    // `apps::delete`).
    let chat = register_named(&app, "Chat", confidential(Alg::Rs256)).await;
    let (access, refresh_token) = signed_in_tokens(&app, &chat, &alice).await;
    let mut root = signed_in_browser(&app, "root", STRONG, "127.0.0.1:1").await;
    root.get(&format!("/panel/apps/{}/delete", chat.app_id))
        .await;
    let delete = root
        .post(&format!("/panel/apps/{}/delete", chat.app_id), &[])
        .await;
    delete.assert_redirect("/panel/apps?done=deleted");
    assert_eq!(userinfo(&app, &access).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refresh(&app, &chat, &refresh_token).await.0,
        StatusCode::UNAUTHORIZED
    );
    let grants: Vec<(i64,)> = {
        use sea_orm::{ConnectionTrait, Statement};
        app.db
            .query_all_raw(Statement::from_string(
                app.db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM oidc_tokens",
            ))
            .await
            .unwrap()
            .iter()
            .map(|row| (row.try_get::<i64>("", "n").unwrap(),))
            .collect()
    };
    assert_eq!(grants, [(0,)], "no token of the three clients is left");
}
