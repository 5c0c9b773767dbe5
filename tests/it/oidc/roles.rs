//! An application opened only to some roles (SPEC §14, §16): a member gets a code and her
//! role names as `groups`, a non-member gets `access_denied`, and a member taken out of the
//! role can no longer refresh.

use axum::http::StatusCode;
use passgate::accounts::oidc::Alg;
use serde_json::json;

use super::authorize::{authorize_path, param, signed_in};
use super::{REDIRECT, confidential, exchange, provider, refresh, register, userinfo};
use crate::forward_auth::{role, set_roles};
use crate::helpers::STRONG;

#[tokio::test]
async fn only_the_apps_roles_get_codes_and_a_removed_member_cannot_refresh() {
    let app = provider().await;
    app.user("root", STRONG, true).await;
    app.user("alice", STRONG, false).await;
    app.user("bob", STRONG, false).await;
    let root = app.token("root", STRONG).await;
    let staff = role(&app, &root, "Staff", false).await;
    let wiki_users = role(&app, &root, "wiki-users", false).await;
    let client = register(&app, confidential(Alg::Rs256)).await;
    app.api(
        "PATCH",
        &format!("/api/v2/apps/{}", client.app_id),
        Some(&root),
        Some(json!({"allowed_roles": [wiki_users]})),
    )
    .await
    .assert_ok();
    set_roles(&app, &root, "alice", &[staff, wiki_users]).await;
    set_roles(&app, &root, "bob", &[staff]).await;
    let scope = [("scope", "openid profile groups offline_access")];

    // Bob holds another role only: access_denied at the client, no code, audited.
    let mut bob = signed_in(&app, "bob", STRONG).await;
    let answer = bob.get(&authorize_path(&client.client_id, &scope)).await;
    let location = answer.location().unwrap().to_string();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(param(&location, "error").as_deref(), Some("access_denied"));
    assert!(param(&location, "code").is_none());
    super::attacks::assert_audited(&app, "oidc_refused", "access_denied").await;

    // Alice is a member: a code, tokens, and her role names as `groups`.
    let mut alice = signed_in(&app, "alice", STRONG).await;
    let answer = alice.get(&authorize_path(&client.client_id, &scope)).await;
    let location = answer.location().unwrap().to_string();
    let code = param(&location, "code").unwrap_or_else(|| panic!("a code: {location}"));
    let (status, tokens) = exchange(&app, &client, &code, &[]).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    let (status, claims) = userinfo(&app, access).await;
    assert_eq!(status, StatusCode::OK, "{claims}");
    assert_eq!(claims["groups"], json!(["staff", "wiki-users"]));
    let (status, refreshed) =
        refresh(&app, &client, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");

    // Taken out of the app's role (her other role stays, her password too): no refresh.
    set_roles(&app, &root, "alice", &[staff]).await;
    let (status, refused) =
        refresh(&app, &client, refreshed["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["error"], "invalid_grant");
    super::attacks::assert_audited(&app, "oidc_refresh_refused", "not_admitted").await;
    // And a new authorization request is refused too.
    let answer = alice.get(&authorize_path(&client.client_id, &scope)).await;
    assert_eq!(
        param(answer.location().unwrap(), "error").as_deref(),
        Some("access_denied")
    );
}
