//! The token side from an attacker's seat: replayed codes, codes for another client or
//! redirect URI, PKCE downgrades and wrong verifiers, reused refresh tokens, tokens after a
//! reset, forged client credentials, other clients' tokens.

use axum::http::StatusCode;
use passgate::accounts::credentials::ResetOptions;
use passgate::accounts::oidc::Alg;
use passgate::entities::{oidc_grants, oidc_tokens};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::Value;

use super::{
    Ask, REDIRECT, code_for, confidential, exchange, post_form, provider, public_native, refresh,
    register, userinfo,
};
use crate::helpers::{STRONG, STRONG_2, TestApp};

// RFC 7636 appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn token(body: &Value, name: &str) -> String {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {body}"))
        .to_string()
}

#[track_caller]
fn assert_oauth_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["error"], code, "{body}");
    assert!(body["error_description"].is_string(), "{body}");
}

async fn signed_in(app: &TestApp) -> (super::Registered, passgate::entities::users::Model) {
    let user = app.user("alice", STRONG, false).await;
    let client = register(app, confidential(Alg::Rs256)).await;
    (client, user)
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_revokes_what_the_first_use_gave() {
    let app = provider().await;
    let (client, user) = signed_in(&app).await;
    let code = code_for(&app, &client, &user, Ask::default()).await;
    let (status, first) = exchange(&app, &client, &code, &[]).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let access = token(&first, "access_token");
    let refresh_token = token(&first, "refresh_token");
    assert_eq!(userinfo(&app, &access).await.0, StatusCode::OK);

    let (status, again) = exchange(&app, &client, &code, &[]).await;
    assert_oauth_error(status, &again, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_eq!(
        userinfo(&app, &access).await.0,
        StatusCode::UNAUTHORIZED,
        "the first exchange's access token is revoked"
    );
    let (status, body) = refresh(&app, &client, &refresh_token).await;
    assert_oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    crate::oidc::attacks::assert_audited(&app, "oidc_revoked", "code_replayed").await;
}

pub async fn assert_audited(app: &TestApp, action: &str, detail_part: &str) {
    let (entries, _, _) = passgate::accounts::audit::page(&app.db, None, 1, 100)
        .await
        .unwrap();
    let entry = entries
        .iter()
        .find(|e| e.action == action && e.detail.contains(detail_part));
    assert!(
        entry.is_some(),
        "no {action} entry with {detail_part}: {:?}",
        entries
            .iter()
            .map(|e| (&e.action, &e.detail))
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_code_works_only_for_its_client_and_redirect_uri_and_within_a_minute() {
    let app = provider().await;
    let (client, user) = signed_in(&app).await;
    let other = register(&app, confidential(Alg::Rs256)).await;
    let code = code_for(&app, &client, &user, Ask::default()).await;

    let (status, body) = exchange(&app, &other, &code, &[]).await;
    assert_oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    let (status, body, _) = post_form(
        &app,
        "/oauth2/token",
        Some((&client.client_id, client.secret.as_deref().unwrap())),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            (
                "redirect_uri",
                "https://wiki.example.org/oauth2/callback/../evil",
            ),
        ],
    )
    .await;
    assert_oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    let (status, body, _) = post_form(
        &app,
        "/oauth2/token",
        Some((&client.client_id, client.secret.as_deref().unwrap())),
        &[("grant_type", "authorization_code"), ("code", &code)],
    )
    .await;
    assert_oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    // None of that used the code up: the rightful client still redeems it.
    let (status, body) = exchange(&app, &client, &code, &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A code past its minute is refused.
    let late = code_for(&app, &client, &user, Ask::default()).await;
    let expired = passgate::accounts::clock::now() - time::Duration::seconds(1);
    oidc_grants::Entity::update_many()
        .col_expr(oidc_grants::Column::CodeExpires, Expr::value(expired))
        .filter(oidc_grants::Column::CodeUsed.is_null())
        .exec(&app.db)
        .await
        .unwrap();
    let (status, body) = exchange(&app, &client, &late, &[]).await;
    assert_oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    // An unknown code, or a token passed as a code, is no code.
    for fake in [
        "pgc_AAAA",
        &token(&body_of(&app, &client, &user).await, "access_token"),
    ] {
        let (status, body) = exchange(&app, &client, fake, &[]).await;
        assert_oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    }
}

async fn body_of(
    app: &TestApp,
    client: &super::Registered,
    user: &passgate::entities::users::Model,
) -> Value {
    let code = code_for(app, client, user, Ask::default()).await;
    exchange(app, client, &code, &[]).await.1
}

#[tokio::test]
async fn pkce_cannot_be_downgraded_or_guessed() {
    let app = provider().await;
    let (client, user) = signed_in(&app).await;
    let with_pkce = || Ask {
        challenge: Some(CHALLENGE),
        ..Ask::default()
    };
    // Wrong verifier, the challenge itself (plain), no verifier at all.
    for extra in [
        vec![(
            "code_verifier",
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX",
        )],
        vec![("code_verifier", CHALLENGE)],
        vec![],
    ] {
        let code = code_for(&app, &client, &user, with_pkce()).await;
        let (status, body) = exchange(&app, &client, &code, &extra).await;
        assert_oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    }
    // A verifier for a code requested without a challenge: a downgrade, refused.
    let code = code_for(&app, &client, &user, Ask::default()).await;
    let (status, body) = exchange(&app, &client, &code, &[("code_verifier", VERIFIER)]).await;
    assert_oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    // The right verifier works.
    let code = code_for(&app, &client, &user, with_pkce()).await;
    let (status, body) = exchange(&app, &client, &code, &[("code_verifier", VERIFIER)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_reused_refresh_token_revokes_its_whole_family() {
    let app = provider().await;
    let (client, user) = signed_in(&app).await;
    let first = body_of(&app, &client, &user).await;
    let refresh_1 = token(&first, "refresh_token");
    let (status, second) = refresh(&app, &client, &refresh_1).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let access_2 = token(&second, "access_token");
    let refresh_2 = token(&second, "refresh_token");
    // Someone replays the first refresh token (stolen, or a client's bug).
    let (status, body) = refresh(&app, &client, &refresh_1).await;
    assert_oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    // Everything of the family is gone, including what the rightful client holds now.
    let (status, body) = refresh(&app, &client, &refresh_2).await;
    assert_oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_eq!(userinfo(&app, &access_2).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        userinfo(&app, &token(&first, "access_token")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_audited(&app, "oidc_refresh_refused", "refresh_token_reused").await;
    // Another sign-in of the same user to the same app is a family of its own.
    let other = body_of(&app, &client, &user).await;
    assert_eq!(
        userinfo(&app, &token(&other, "access_token")).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_refresh_token_is_this_clients_and_carries_no_more_than_granted() {
    let app = provider().await;
    let (client, user) = signed_in(&app).await;
    let other = register(&app, confidential(Alg::Rs256)).await;
    let code = code_for(
        &app,
        &client,
        &user,
        Ask {
            scope: "openid profile offline_access",
            ..Ask::default()
        },
    )
    .await;
    let (_, body) = exchange(&app, &client, &code, &[]).await;
    let refresh_token = token(&body, "refresh_token");
    let (status, body) = refresh(&app, &other, &refresh_token).await;
    assert_oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
    let (status, body, _) = post_form(
        &app,
        "/oauth2/token",
        Some((&client.client_id, client.secret.as_deref().unwrap())),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh_token),
            ("scope", "openid email"),
        ],
    )
    .await;
    assert_oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_scope");
    // Neither attempt used it up.
    let (status, body) = refresh(&app, &client, &refresh_token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Without offline_access there is no refresh token at all.
    let code = code_for(
        &app,
        &client,
        &user,
        Ask {
            scope: "openid",
            ..Ask::default()
        },
    )
    .await;
    let (_, body) = exchange(&app, &client, &code, &[]).await;
    assert!(body.get("refresh_token").is_none(), "{body}");
}

#[tokio::test]
async fn every_stamp_rotation_revokes_access_and_refresh_tokens() {
    let app = provider().await;
    let (client, _) = signed_in(&app).await;
    let user = app.find("alice").await;
    type Rotation = fn(&TestApp) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + '_>>;
    let rotations: [(&str, Rotation); 3] = [
        ("an administrator's reset", |app| {
            Box::pin(async move {
                app.reset("alice", STRONG_2, ResetOptions::default()).await;
            })
        }),
        ("end all sessions", |app| {
            Box::pin(async move {
                let alice = app.find("alice").await;
                passgate::accounts::sessions::end_all(
                    &app.db,
                    &passgate::accounts::audit::Actor::cli(),
                    &passgate::accounts::permissions::Caller::operator(),
                    &alice,
                )
                .await
                .unwrap();
            })
        }),
        ("invalidate_tokens", |app| {
            Box::pin(async move {
                let alice = app.find("alice").await;
                let caller = passgate::accounts::permissions::Caller::signed_in(&alice, &[], false);
                passgate::accounts::credentials::invalidate_tokens(
                    &app.db,
                    &passgate::accounts::audit::Actor::user(&alice, "127.0.0.1"),
                    &caller,
                    &alice,
                )
                .await
                .unwrap();
            })
        }),
    ];
    for (what, rotate) in rotations {
        let user = app.find(&user.username).await;
        let body = body_of(&app, &client, &user).await;
        let access = token(&body, "access_token");
        let refresh_token = token(&body, "refresh_token");
        let pending_code = code_for(&app, &client, &user, Ask::default()).await;
        rotate(&app).await;
        assert_eq!(
            userinfo(&app, &access).await.0,
            StatusCode::UNAUTHORIZED,
            "{what}: access token"
        );
        let (status, body) = refresh(&app, &client, &refresh_token).await;
        assert_oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
        let (status, body) = exchange(&app, &client, &pending_code, &[]).await;
        assert_oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_grant");
        let left = oidc_tokens::Entity::find().all(&app.db).await.unwrap();
        assert!(
            left.is_empty(),
            "{what}: rows deleted in the same transaction"
        );
    }
}

#[tokio::test]
async fn a_grant_whose_stamp_is_stale_stands_for_nothing() {
    // A rotation made by a path that forgot to revoke (or a row restored from a backup):
    // the stamp check alone still refuses.
    let app = provider().await;
    let (client, user) = signed_in(&app).await;
    let body = body_of(&app, &client, &user).await;
    app.db
        .execute_unprepared("UPDATE users SET security_stamp = 'rotated-elsewhere'")
        .await
        .unwrap();
    assert_eq!(
        userinfo(&app, &token(&body, "access_token")).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = refresh(&app, &client, &token(&body, "refresh_token")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_disabled_user_refreshes_nothing() {
    let app = provider().await;
    let (client, user) = signed_in(&app).await;
    let body = body_of(&app, &client, &user).await;
    app.db
        .execute_unprepared("UPDATE users SET enabled = FALSE WHERE username = 'alice'")
        .await
        .unwrap();
    let (status, body2) = refresh(&app, &client, &token(&body, "refresh_token")).await;
    assert_oauth_error(status, &body2, StatusCode::BAD_REQUEST, "invalid_grant");
    assert_eq!(
        userinfo(&app, &token(&body, "access_token")).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn clients_must_prove_who_they_are() {
    let app = provider().await;
    let (client, user) = signed_in(&app).await;
    let public = register(&app, public_native()).await;
    let code = code_for(&app, &client, &user, Ask::default()).await;
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
    ];
    // A wrong secret in the header: 401 with the Basic challenge.
    let (status, body, headers) = post_form(
        &app,
        "/oauth2/token",
        Some((&client.client_id, "pgs_wrong")),
        &fields,
    )
    .await;
    assert_oauth_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    assert!(
        headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Basic")),
        "{headers:?}"
    );
    // No secret at all for a confidential client; a public client's id with a secret; an
    // unknown client; the header and the body both.
    let mut no_secret = fields.to_vec();
    no_secret.push(("client_id", &client.client_id));
    let (status, body, _) = post_form(&app, "/oauth2/token", None, &no_secret).await;
    assert_oauth_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    let (status, body, _) = post_form(
        &app,
        "/oauth2/token",
        Some((&public.client_id, "anything")),
        &fields,
    )
    .await;
    assert_oauth_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    let (status, body, _) =
        post_form(&app, "/oauth2/token", Some(("nobody", "pgs_x")), &fields).await;
    assert_oauth_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    let secret = client.secret.clone().unwrap();
    let mut both = fields.to_vec();
    both.push(("client_secret", &secret));
    let (status, body, _) = post_form(
        &app,
        "/oauth2/token",
        Some((&client.client_id, &secret)),
        &both,
    )
    .await;
    assert_oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    // The code survived all of it; client_secret_post works as well as Basic.
    let mut post = fields.to_vec();
    post.push(("client_id", &client.client_id));
    post.push(("client_secret", &secret));
    let (status, body, _) = post_form(&app, "/oauth2/token", None, &post).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_regenerated_secret_replaces_the_old_one_at_once() {
    let app = provider().await;
    let (client, user) = signed_in(&app).await;
    let fresh = passgate::accounts::oidc::clients::regenerate_secret(&app.db, client.app_id)
        .await
        .unwrap();
    let code = code_for(&app, &client, &user, Ask::default()).await;
    let (status, body) = exchange(&app, &client, &code, &[]).await;
    assert_oauth_error(status, &body, StatusCode::UNAUTHORIZED, "invalid_client");
    let renewed = super::Registered {
        secret: Some(fresh.expose().to_string()),
        ..client
    };
    let (status, body) = exchange(&app, &renewed, &code, &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn malformed_token_requests_get_rfc_6749_errors() {
    let app = provider().await;
    let (client, _) = signed_in(&app).await;
    let secret = client.secret.clone().unwrap();
    let auth = Some((client.client_id.as_str(), secret.as_str()));
    for (fields, status, code) in [
        (
            vec![("grant_type", "password"), ("username", "alice")],
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            vec![("grant_type", "client_credentials")],
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
        ),
        (
            vec![("code", "x")],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![("grant_type", "authorization_code")],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("grant_type", "refresh_token"),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
    ] {
        let (got, body, headers) = post_form(&app, "/oauth2/token", auth, &fields).await;
        assert_oauth_error(got, &body, status, code);
        assert_eq!(
            headers.get("cache-control").and_then(|v| v.to_str().ok()),
            Some("no-store")
        );
    }
    // JSON instead of a form.
    let (status, body, _) = super::raw(
        &app,
        "POST",
        "/oauth2/token",
        &[("content-type", "application/json")],
        br#"{"grant_type":"authorization_code"}"#.to_vec(),
    )
    .await;
    assert_oauth_error(status, &body, StatusCode::BAD_REQUEST, "invalid_request");
    // GET is not the token endpoint.
    let (status, _, _) = super::raw(&app, "GET", "/oauth2/token", &[], Vec::new()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn userinfo_wants_a_live_access_token_in_the_header() {
    let app = provider().await;
    let (client, user) = signed_in(&app).await;
    let body = body_of(&app, &client, &user).await;
    let access = token(&body, "access_token");
    let (status, _, headers) = super::raw(
        &app,
        "GET",
        &format!("/oauth2/userinfo?access_token={access}"),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "not from the query string"
    );
    assert!(
        headers
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Bearer"))
    );
    for wrong in [
        token(&body, "refresh_token"),
        token(&body, "id_token"),
        "pga_nothing".to_string(),
    ] {
        let (status, json) = userinfo(&app, &wrong).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(json["error"], "invalid_token");
    }
    // Expired.
    oidc_tokens::Entity::update_many()
        .col_expr(
            oidc_tokens::Column::Expires,
            Expr::value(passgate::accounts::clock::now() - time::Duration::seconds(1)),
        )
        .exec(&app.db)
        .await
        .unwrap();
    assert_eq!(userinfo(&app, &access).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revocation_ends_a_refresh_tokens_grant_and_only_the_clients_own() {
    let app = provider().await;
    let (client, user) = signed_in(&app).await;
    let other = register(&app, confidential(Alg::Rs256)).await;
    let body = body_of(&app, &client, &user).await;
    let access = token(&body, "access_token");
    let refresh_token = token(&body, "refresh_token");
    // Another client cannot revoke it (and is not told).
    let (status, _, _) = post_form(
        &app,
        "/oauth2/revoke",
        Some((&other.client_id, other.secret.as_deref().unwrap())),
        &[("token", &refresh_token)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(userinfo(&app, &access).await.0, StatusCode::OK);
    // Without credentials nothing happens.
    let (status, json, _) = post_form(&app, "/oauth2/revoke", None, &[("token", &access)]).await;
    assert_oauth_error(status, &json, StatusCode::UNAUTHORIZED, "invalid_client");
    // The owner revokes the access token alone…
    let secret = client.secret.clone().unwrap();
    let owner = Some((client.client_id.as_str(), secret.as_str()));
    let (status, _, _) = post_form(
        &app,
        "/oauth2/revoke",
        owner,
        &[("token", &access), ("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(userinfo(&app, &access).await.0, StatusCode::UNAUTHORIZED);
    let (status, refreshed) = refresh(&app, &client, &refresh_token).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the refresh token stands: {refreshed}"
    );
    // …then the refresh token, which takes everything of its grant.
    let access_2 = token(&refreshed, "access_token");
    let refresh_2 = token(&refreshed, "refresh_token");
    let (status, _, _) = post_form(
        &app,
        "/oauth2/revoke",
        owner,
        &[("token", &refresh_2), ("token_type_hint", "refresh_token")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(userinfo(&app, &access_2).await.0, StatusCode::UNAUTHORIZED);
    let (status, _) = refresh(&app, &client, &refresh_2).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // An unknown token: still 200, as RFC 7009 asks.
    let (status, _, _) =
        post_form(&app, "/oauth2/revoke", owner, &[("token", "pga_unknown")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_audited(&app, "oidc_revoked", "revocation_request").await;
}

#[tokio::test]
async fn introspection_is_for_confidential_clients_and_their_own_tokens() {
    let app = provider().await;
    let (client, user) = signed_in(&app).await;
    let other = register(&app, confidential(Alg::Rs256)).await;
    let public = register(&app, public_native()).await;
    let body = body_of(&app, &client, &user).await;
    let access = token(&body, "access_token");
    let secret = client.secret.clone().unwrap();
    let (status, json, _) = post_form(
        &app,
        "/oauth2/introspect",
        Some((&client.client_id, &secret)),
        &[("token", &access)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json["active"], true);
    assert_eq!(json["client_id"], client.client_id);
    assert_eq!(json["username"], "alice");
    assert_eq!(json["token_type"], "Bearer");
    assert_eq!(json["iss"], super::ISSUER);
    assert!(json["exp"].as_i64().unwrap() > json["iat"].as_i64().unwrap());
    let (_, refresh_info, _) = post_form(
        &app,
        "/oauth2/introspect",
        Some((&client.client_id, &secret)),
        &[("token", &token(&body, "refresh_token"))],
    )
    .await;
    assert_eq!(refresh_info["active"], true);
    assert_eq!(refresh_info["token_type"], "refresh_token");
    // Another client learns nothing of it.
    let (_, json, _) = post_form(
        &app,
        "/oauth2/introspect",
        Some((&other.client_id, other.secret.as_deref().unwrap())),
        &[("token", &access)],
    )
    .await;
    assert_eq!(json, serde_json::json!({"active": false}));
    // A public client may not introspect at all.
    let (status, json, _) = post_form(
        &app,
        "/oauth2/introspect",
        None,
        &[("token", &access), ("client_id", &public.client_id)],
    )
    .await;
    assert_oauth_error(status, &json, StatusCode::UNAUTHORIZED, "invalid_client");
    // After a reset the token is inactive.
    app.reset("alice", STRONG_2, ResetOptions::default()).await;
    let (_, json, _) = post_form(
        &app,
        "/oauth2/introspect",
        Some((&client.client_id, &secret)),
        &[("token", &access)],
    )
    .await;
    assert_eq!(json, serde_json::json!({"active": false}));
}

#[tokio::test]
async fn no_code_token_or_secret_is_stored_in_clear() {
    let app = provider().await;
    let (client, user) = signed_in(&app).await;
    let code = code_for(&app, &client, &user, Ask::default()).await;
    let (_, body) = exchange(&app, &client, &code, &[]).await;
    let secrets = [
        code.clone(),
        token(&body, "access_token"),
        token(&body, "refresh_token"),
        client.secret.clone().unwrap(),
    ];
    let mut stored = String::new();
    for (table, columns) in [
        ("oidc_clients", "client_id, secret_hash, redirect_uris"),
        (
            "oidc_grants",
            "scope, nonce, redirect_uri, code_hash, amr, sid",
        ),
        ("oidc_tokens", "token_hash, kind, scope"),
        ("audit_log", "action, detail"),
    ] {
        let rows = app
            .db
            .query_all_raw(sea_orm::Statement::from_string(
                app.db.get_database_backend(),
                format!("SELECT {columns} FROM {table}"),
            ))
            .await
            .unwrap();
        for row in rows {
            for i in 0..columns.split(',').count() {
                if let Ok(Some(value)) = row.try_get_by_index::<Option<String>>(i) {
                    stored.push_str(&value);
                    stored.push('\n');
                }
            }
        }
    }
    use sha2::Digest;
    let code_hash = hex::encode(sha2::Sha256::digest(code.as_bytes()));
    assert!(
        stored.contains(&code_hash),
        "the rows were read: the code's hash is there"
    );
    for secret in &secrets {
        // The random part (after the prefix) appears nowhere.
        assert!(!stored.contains(&secret[4..]), "a secret stored in clear");
    }
}

#[tokio::test]
async fn codes_and_tokens_are_honoured_by_another_instance() {
    let app = provider().await;
    let (client, user) = signed_in(&app).await;
    let second = app.second_instance().await;
    let code = code_for(&app, &client, &user, Ask::default()).await;
    let (status, body) = exchange(&second, &client, &code, &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A replay on the first instance is noticed, and revokes what the second gave.
    let (status, _) = exchange(&app, &client, &code, &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        userinfo(&second, &token(&body, "access_token")).await.0,
        StatusCode::UNAUTHORIZED
    );
    // A refresh token from one instance rotates on the other; its reuse is noticed there.
    let fresh = body_of(&app, &client, &user).await;
    let refresh_1 = token(&fresh, "refresh_token");
    let (status, _) = refresh(&second, &client, &refresh_1).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = refresh(&app, &client, &refresh_1).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A reset on one instance ends the tokens on the other.
    let again = body_of(&app, &client, &user).await;
    second
        .reset("alice", STRONG_2, ResetOptions::default())
        .await;
    assert_eq!(
        userinfo(&app, &token(&again, "access_token")).await.0,
        StatusCode::UNAUTHORIZED
    );
}
