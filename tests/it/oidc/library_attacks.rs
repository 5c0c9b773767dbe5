//! The attacks of SPEC §16 as the `openidconnect` crate meets them: a forged redirect URI,
//! a wrong PKCE verifier, a replayed code, a reused refresh token and a security-stamp
//! rotation each get the RFC 6749 error the library parses (`invalid_grant`), and the
//! attempts that must change nothing leave the rightful client's code or tokens working.

use openidconnect::core::{CoreErrorResponseType, CoreGenderClaim};
use openidconnect::{
    AccessToken, AuthorizationCode, OAuth2TokenResponse, PkceCodeVerifier, RefreshToken,
    RequestTokenError, UserInfoClaims,
};
use passgate::accounts::credentials::ResetOptions;
use passgate::accounts::oidc::Alg;

use super::authorize::{param, signed_in};
use super::{Extra, Http, REDIRECT, Rp, TokenResponse, confidential, provider, register, rp};
use crate::helpers::{Client, STRONG, STRONG_2, TestApp};

type Answer = Result<
    TokenResponse,
    RequestTokenError<
        super::HttpError,
        openidconnect::StandardErrorResponse<CoreErrorResponseType>,
    >,
>;

fn assert_invalid_grant(answer: &Answer, what: &str) {
    match answer {
        Err(RequestTokenError::ServerResponse(error)) => {
            assert_eq!(
                error.error(),
                &CoreErrorResponseType::InvalidGrant,
                "{what}"
            );
        }
        Err(other) => panic!("{what}: not an RFC 6749 error: {other:?}"),
        Ok(_) => panic!("{what}: accepted"),
    }
}

/// A code issued to `rp` in `browser`, with its PKCE verifier.
async fn code(rp: &Rp, browser: &mut Client<'_>) -> (String, PkceCodeVerifier) {
    let (path, _, _, verifier) = super::walk::request(rp, &[("scope", "offline_access")]);
    let answer = browser.get(&path).await;
    let location = answer.location().expect("back to the client").to_string();
    (param(&location, "code").expect("a code"), verifier)
}

async fn redeem(app: &TestApp, rp: &Rp, code: &str, verifier: PkceCodeVerifier) -> Answer {
    rp.exchange_code(AuthorizationCode::new(code.into()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&Http::to(app).client())
        .await
}

async fn refresh(app: &TestApp, rp: &Rp, token: &RefreshToken) -> Answer {
    rp.exchange_refresh_token(token)
        .unwrap()
        .request_async(&Http::to(app).client())
        .await
}

async fn userinfo_works(app: &TestApp, rp: &Rp, token: &AccessToken) -> bool {
    let info: Result<UserInfoClaims<Extra, CoreGenderClaim>, _> = rp
        .user_info(token.clone(), None)
        .unwrap()
        .request_async(&Http::to(app).client())
        .await;
    info.is_ok()
}

#[tokio::test]
async fn forged_redirect_wrong_verifier_and_replay_get_invalid_grant() {
    let app = provider().await;
    app.user("alice", STRONG, false).await;
    let client = register(&app, confidential(Alg::Rs256)).await;
    let honest = rp(&app, &client, REDIRECT).await;
    let forged = rp(
        &app,
        &client,
        "https://wiki.example.org/oauth2/callback/../evil",
    )
    .await;
    let mut browser = signed_in(&app, "alice", STRONG).await;
    let (code, verifier) = code(&honest, &mut browser).await;
    let secret = verifier.secret().clone();
    // The code presented with another redirect URI, then with a wrong verifier.
    let answer = redeem(&app, &forged, &code, PkceCodeVerifier::new(secret.clone())).await;
    assert_invalid_grant(&answer, "a forged redirect_uri");
    let wrong = PkceCodeVerifier::new(format!("{}x", &secret[1..]));
    assert_invalid_grant(
        &redeem(&app, &honest, &code, wrong).await,
        "a wrong verifier",
    );
    // Neither used the code up: the rightful exchange works.
    let tokens = redeem(&app, &honest, &code, PkceCodeVerifier::new(secret.clone()))
        .await
        .expect("the rightful exchange");
    assert!(userinfo_works(&app, &honest, tokens.access_token()).await);
    // Replayed, even with everything right: refused, and what the first use gave is revoked.
    let replay = redeem(&app, &honest, &code, PkceCodeVerifier::new(secret)).await;
    assert_invalid_grant(&replay, "a replayed code");
    assert!(!userinfo_works(&app, &honest, tokens.access_token()).await);
    let refreshed = refresh(&app, &honest, tokens.refresh_token().unwrap()).await;
    assert_invalid_grant(&refreshed, "the replayed code's refresh token");
}

#[tokio::test]
async fn a_reused_refresh_token_and_a_stamp_rotation_end_the_apps_tokens() {
    let app = provider().await;
    app.user("alice", STRONG, false).await;
    let client = register(&app, confidential(Alg::Rs256)).await;
    let rp = rp(&app, &client, REDIRECT).await;
    let mut browser = signed_in(&app, "alice", STRONG).await;
    let (code_1, verifier) = code(&rp, &mut browser).await;
    let first = redeem(&app, &rp, &code_1, verifier).await.unwrap();
    let second = refresh(&app, &rp, first.refresh_token().unwrap())
        .await
        .unwrap();
    // A thief replays the first refresh token: refused, and the family is gone.
    let stolen = refresh(&app, &rp, first.refresh_token().unwrap()).await;
    assert_invalid_grant(&stolen, "a reused refresh token");
    let rightful = refresh(&app, &rp, second.refresh_token().unwrap()).await;
    assert_invalid_grant(&rightful, "the family's newer refresh token");
    assert!(!userinfo_works(&app, &rp, second.access_token()).await);
    // A new sign-in's tokens, then the administrator resets the password: the very next
    // userinfo and refresh are refused.
    let (code_2, verifier) = code(&rp, &mut browser).await;
    let fresh = redeem(&app, &rp, &code_2, verifier).await.unwrap();
    assert!(userinfo_works(&app, &rp, fresh.access_token()).await);
    app.reset("alice", STRONG_2, ResetOptions::default()).await;
    assert!(!userinfo_works(&app, &rp, fresh.access_token()).await);
    let after = refresh(&app, &rp, fresh.refresh_token().unwrap()).await;
    assert_invalid_grant(&after, "a refresh after a reset");
}
