//! The code flow as a relying party sees it, driven by the `openidconnect` library: discovery,
//! code + PKCE, the ID token's signature and claims checked by the library, userinfo, refresh,
//! and a key rotation the library follows.

use axum::http::StatusCode;
use openidconnect::{
    AuthorizationCode, Nonce, OAuth2TokenResponse, PkceCodeChallenge, TokenResponse as _,
};
use passgate::accounts::audit::Actor;
use passgate::accounts::oidc::Alg;

use super::{
    Ask, REDIRECT, code_for, confidential, exchange, provider, public_native, register, rp,
    userinfo,
};
use crate::helpers::{STRONG, TestApp};

const NONCE: &str = "n-0S6_WzA2Mj";

async fn alice(app: &TestApp) -> passgate::entities::users::Model {
    let alice = app.user("alice", STRONG, false).await;
    sqlx_email(app, alice.user_id, "alice@example.org").await;
    app.find("alice").await
}

async fn sqlx_email(app: &TestApp, user_id: i32, email: &str) {
    use passgate::entities::users;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    users::Entity::update_many()
        .col_expr(users::Column::Email, Expr::value(Some(email.to_string())))
        .filter(users::Column::UserId.eq(user_id))
        .exec(&app.db)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_relying_party_signs_in_with_code_and_pkce_and_reads_userinfo() {
    let app = provider().await;
    let user = alice(&app).await;
    let client = register(&app, confidential(Alg::Rs256)).await;
    let rp = rp(&app, &client, REDIRECT).await;
    let http = super::Http::to(&app);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let code = code_for(
        &app,
        &client,
        &user,
        Ask {
            challenge: Some(challenge.as_str()),
            ..Ask::default()
        },
    )
    .await;

    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http.client())
        .await
        .expect("the code exchange");
    let id_token = tokens.id_token().expect("an ID token");
    let claims = id_token
        .claims(&rp.id_token_verifier(), &Nonce::new(NONCE.into()))
        .expect("signature, issuer, audience, expiry and nonce hold");
    assert_eq!(claims.issuer().as_str(), super::ISSUER);
    assert_eq!(claims.audiences()[0].as_str(), client.client_id);
    assert_eq!(
        claims.preferred_username().map(|u| u.as_str()),
        Some("alice")
    );
    assert_eq!(
        claims.email().map(|e| e.as_str()),
        Some("alice@example.org")
    );
    assert_eq!(claims.email_verified(), Some(false));
    let amr: Vec<&str> = claims
        .auth_method_refs()
        .expect("amr")
        .iter()
        .map(|m| m.as_str())
        .collect();
    assert_eq!(amr, ["pwd"]);
    assert!(claims.auth_time().is_some());
    assert_eq!(claims.additional_claims().sid.as_deref(), Some("sid-test"));
    assert_eq!(claims.additional_claims().groups.as_deref(), Some(&[][..]));
    let lifetime = claims.expiration().timestamp() - claims.issue_time().timestamp();
    assert!(
        (300..=3600).contains(&lifetime),
        "exp {lifetime} s after iat"
    );
    assert_eq!(
        tokens.expires_in().map(|d| d.as_secs()),
        Some(600),
        "access tokens live ten minutes"
    );
    assert!(tokens.refresh_token().is_some(), "offline_access was asked");

    let info: openidconnect::UserInfoClaims<super::Extra, openidconnect::core::CoreGenderClaim> =
        rp.user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&http.client())
        .await
        .expect("userinfo for the same subject");
    assert_eq!(info.preferred_username().map(|u| u.as_str()), Some("alice"));
    assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.org"));
}

#[tokio::test]
async fn sub_is_random_stable_and_the_same_for_every_client() {
    let app = provider().await;
    let user = alice(&app).await;
    let wiki = register(&app, confidential(Alg::Rs256)).await;
    let forge = register(&app, confidential(Alg::Es256)).await;
    let mut subs = Vec::new();
    for client in [&wiki, &wiki, &forge] {
        let code = code_for(&app, client, &user, Ask::default()).await;
        let (status, tokens) = exchange(&app, client, &code, &[]).await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        let (_, info) = userinfo(&app, tokens["access_token"].as_str().unwrap()).await;
        subs.push(info["sub"].as_str().unwrap().to_string());
    }
    assert_eq!(subs[0], subs[1]);
    assert_eq!(
        subs[0], subs[2],
        "subject type public: one sub for every client"
    );
    assert_ne!(subs[0], user.user_id.to_string(), "not the user id");
    assert_ne!(subs[0], "alice", "not the username");
    assert!(subs[0].len() >= 32);
    let bob = app.user("bob", STRONG, false).await;
    let code = code_for(&app, &wiki, &bob, Ask::default()).await;
    let (_, tokens) = exchange(&app, &wiki, &code, &[]).await;
    let (_, info) = userinfo(&app, tokens["access_token"].as_str().unwrap()).await;
    assert_ne!(info["sub"], subs[0]);
}

#[tokio::test]
async fn an_es256_client_gets_es256_id_tokens_the_library_verifies() {
    let app = provider().await;
    let user = alice(&app).await;
    let client = register(&app, confidential(Alg::Es256)).await;
    let rp = rp(&app, &client, REDIRECT).await;
    let http = super::Http::to(&app);
    let code = code_for(&app, &client, &user, Ask::default()).await;
    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .request_async(&http.client())
        .await
        .expect("exchange");
    let id_token = tokens.id_token().unwrap();
    assert_eq!(
        *id_token.signing_alg().unwrap(),
        openidconnect::core::CoreJwsSigningAlgorithm::EcdsaP256Sha256
    );
    id_token
        .claims(&rp.id_token_verifier(), &Nonce::new(NONCE.into()))
        .expect("verified with the P-256 key of the JWKS");
}

#[tokio::test]
async fn a_public_client_exchanges_its_code_with_pkce_and_no_secret() {
    let app = provider().await;
    let user = alice(&app).await;
    let client = register(&app, public_native()).await;
    assert!(client.secret.is_none());
    let redirect = "http://127.0.0.1:49152/callback";
    let rp = rp(&app, &client, redirect).await;
    let http = super::Http::to(&app);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let code = code_for(
        &app,
        &client,
        &user,
        Ask {
            challenge: Some(challenge.as_str()),
            redirect_uri: redirect,
            scope: "openid profile",
            ..Ask::default()
        },
    )
    .await;
    let tokens = rp
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http.client())
        .await
        .expect("exchange with client_id and verifier only");
    assert!(tokens.refresh_token().is_none(), "no offline_access");
    let claims = tokens
        .id_token()
        .unwrap()
        .claims(&rp.id_token_verifier(), &Nonce::new(NONCE.into()))
        .unwrap();
    assert!(claims.email().is_none(), "email was not asked");
    assert!(claims.additional_claims().groups.is_none());
}

#[tokio::test]
async fn refresh_tokens_rotate_and_the_library_gets_fresh_id_tokens() {
    let app = provider().await;
    let user = alice(&app).await;
    let client = register(&app, confidential(Alg::Rs256)).await;
    let rp = rp(&app, &client, REDIRECT).await;
    let http = super::Http::to(&app);
    let code = code_for(&app, &client, &user, Ask::default()).await;
    let first = rp
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .request_async(&http.client())
        .await
        .unwrap();
    let first_claims = first
        .id_token()
        .unwrap()
        .claims(&rp.id_token_verifier(), &Nonce::new(NONCE.into()))
        .unwrap()
        .clone();
    let refresh_1 = first.refresh_token().unwrap().clone();
    let second = rp
        .exchange_refresh_token(&refresh_1)
        .unwrap()
        .request_async(&http.client())
        .await
        .expect("refresh");
    let refresh_2 = second.refresh_token().expect("a new refresh token").clone();
    assert_ne!(refresh_1.secret(), refresh_2.secret(), "rotated");
    assert_ne!(
        first.access_token().secret(),
        second.access_token().secret()
    );
    let claims = second
        .id_token()
        .expect("an ID token on refresh")
        .claims(&rp.id_token_verifier(), &Nonce::new(NONCE.into()))
        .unwrap();
    assert_eq!(claims.subject(), first_claims.subject());
    assert_eq!(
        claims.auth_time(),
        first_claims.auth_time(),
        "auth_time stays the original sign-in"
    );
    // The new pair works; the first access token too, until it expires.
    let (status, _) = userinfo(&app, second.access_token().secret()).await;
    assert_eq!(status, StatusCode::OK);
    let third = rp
        .exchange_refresh_token(&refresh_2)
        .unwrap()
        .request_async(&http.client())
        .await;
    assert!(third.is_ok(), "the rotated token refreshes once more");
    // A scope narrower than granted is allowed; a wider one is not.
    let refresh_3 = third.unwrap().refresh_token().unwrap().secret().to_string();
    let (status, body, _) = super::post_form(
        &app,
        "/oauth2/token",
        Some((&client.client_id, client.secret.as_deref().unwrap())),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh_3),
            ("scope", "openid profile"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "openid profile");
    let (_, info) = userinfo(&app, body["access_token"].as_str().unwrap()).await;
    assert!(info.get("email").is_none(), "the narrower token reads less");
    // The refresh token still carries the whole grant: a later refresh may ask for it all.
    let refresh_4 = body["refresh_token"].as_str().unwrap();
    let (status, body, _) = super::post_form(
        &app,
        "/oauth2/token",
        Some((&client.client_id, client.secret.as_deref().unwrap())),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_4),
            ("scope", "openid profile email phone"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"], "openid profile email");
    let (_, info) = userinfo(&app, body["access_token"].as_str().unwrap()).await;
    assert_eq!(info["email"], "alice@example.org");
}

#[tokio::test]
async fn after_a_key_rotation_new_tokens_verify_with_the_new_key_set() {
    let app = provider().await;
    let user = alice(&app).await;
    let client = register(&app, confidential(Alg::Rs256)).await;
    let http = super::Http::to(&app);
    let before = rp(&app, &client, REDIRECT).await;
    let code = code_for(&app, &client, &user, Ask::default()).await;
    let old = before
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .request_async(&http.client())
        .await
        .unwrap();
    let oidc = app.state.oidc.as_ref().unwrap();
    oidc.keys.rotate(&app.db, &Actor::cli()).await.unwrap();
    // A relying party that reads the key set again verifies old and new tokens alike.
    let after = rp(&app, &client, REDIRECT).await;
    let code = code_for(&app, &client, &user, Ask::default()).await;
    let new = after
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .request_async(&http.client())
        .await
        .unwrap();
    for tokens in [&old, &new] {
        tokens
            .id_token()
            .unwrap()
            .claims(&after.id_token_verifier(), &Nonce::new(NONCE.into()))
            .expect("verifies with the published keys");
    }
    // One that kept the old key set cannot verify the new key's tokens.
    assert!(
        new.id_token()
            .unwrap()
            .claims(&before.id_token_verifier(), &Nonce::new(NONCE.into()))
            .is_err()
    );
}

#[tokio::test]
async fn concurrent_code_exchanges_all_succeed() {
    // Found by the benchmark: on SQLite a transaction that read before it wrote failed with
    // "database is locked" (500) when another exchange committed in between.
    let app = provider().await;
    let user = alice(&app).await;
    let client = register(&app, confidential(Alg::Rs256)).await;
    let mut codes = Vec::new();
    for _ in 0..16 {
        codes.push(super::code_for(&app, &client, &user, super::Ask::default()).await);
    }
    let mut exchanges = tokio::task::JoinSet::new();
    for code in codes {
        let router = app.router.clone();
        let basic = {
            use base64::Engine;
            let pair = format!("{}:{}", client.client_id, client.secret.clone().unwrap());
            base64::engine::general_purpose::STANDARD.encode(pair)
        };
        exchanges.spawn(async move {
            use tower::ServiceExt;
            let body = serde_urlencoded::to_string([
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", super::REDIRECT),
            ])
            .unwrap();
            let mut request = axum::http::Request::builder()
                .method("POST")
                .uri("/oauth2/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("authorization", format!("Basic {basic}"))
                .body(axum::body::Body::from(body))
                .unwrap();
            request.extensions_mut().insert(axum::extract::ConnectInfo(
                std::net::SocketAddr::from(([10, 0, 0, 9], 40000)),
            ));
            router.oneshot(request).await.unwrap().status()
        });
    }
    while let Some(status) = exchanges.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
}
