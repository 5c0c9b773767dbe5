use super::*;
use crate::accounts::oidc::clients::Client;
use crate::entities::oidc_clients;

const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn client(confidential: bool) -> Client {
    Client::from_row(oidc_clients::Model {
        app_id: 3,
        client_id: "wiki".into(),
        secret_hash: confidential.then(|| "00".repeat(32)),
        redirect_uris: r#"["https://wiki.example.org/cb","http://127.0.0.1/native"]"#.into(),
        post_logout_redirect_uris: "[]".into(),
        id_token_alg: "RS256".into(),
        created: crate::accounts::clock::now(),
        secret_created: None,
    })
}

fn params(pairs: &[(&str, &str)]) -> Params {
    Params::new(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

fn good() -> Vec<(&'static str, &'static str)> {
    vec![
        ("response_type", "code"),
        ("client_id", "wiki"),
        ("redirect_uri", "https://wiki.example.org/cb"),
        ("scope", "openid profile"),
        ("state", "st"),
        ("nonce", "n-1"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
}

fn with(changes: &[(&'static str, Option<&'static str>)]) -> Params {
    let mut pairs = good();
    for (name, value) in changes {
        pairs.retain(|(k, _)| k != name);
        if let Some(value) = value {
            pairs.push((name, value));
        }
    }
    params(&pairs)
}

fn error_code(result: Result<AuthorizationRequest, Refusal>) -> &'static str {
    match result {
        Err(Refusal::Redirect { error, state, .. }) => {
            assert_eq!(state.as_deref(), Some("st"), "state goes back");
            error.code
        }
        other => panic!("expected a redirect error, got {other:?}"),
    }
}

#[test]
fn a_good_request_passes_with_what_the_code_binds() {
    let request = check(&params(&good()), Some(&client(false)), 100).unwrap();
    assert_eq!(request.app_id, 3);
    assert_eq!(request.redirect_uri, "https://wiki.example.org/cb");
    assert_eq!(request.scope, "openid profile");
    assert_eq!(request.state.as_deref(), Some("st"));
    assert_eq!(request.nonce.as_deref(), Some("n-1"));
    assert_eq!(request.code_challenge.as_deref(), Some(CHALLENGE));
    assert_eq!(request.prompt, Prompt::Default);
    assert_eq!(request.received_at, 100);
}

#[test]
fn unknown_clients_and_unregistered_redirect_uris_get_a_page_never_a_redirect() {
    assert_eq!(
        check(&params(&good()), None, 0),
        Err(Refusal::Page(PageError::UnknownClient))
    );
    for uri in [
        None,
        Some("https://evil.example/cb"),
        Some("https://wiki.example.org/cb/../../evil"),
        Some("https://wiki.example.org/cbx"),
        Some("https://wiki.example.org.evil.com/cb"),
        Some("https://wiki.example.org/cb?next=https://evil.example"),
        Some("http://127.0.0.1:80@evil.example/native"),
    ] {
        assert_eq!(
            check(&with(&[("redirect_uri", uri)]), Some(&client(false)), 0),
            Err(Refusal::Page(PageError::UnregisteredRedirectUri)),
            "{uri:?}"
        );
    }
    let mut twice = good();
    twice.push(("redirect_uri", "https://evil.example/cb"));
    assert_eq!(
        check(&params(&twice), Some(&client(false)), 0),
        Err(Refusal::Page(PageError::UnregisteredRedirectUri))
    );
    let mut twice = good();
    twice.push(("client_id", "other"));
    assert_eq!(
        client_id(&params(&twice)),
        Err(Refusal::Page(PageError::UnknownClient))
    );
}

#[test]
fn a_loopback_redirect_uri_may_use_any_port() {
    let request = check(
        &with(&[("redirect_uri", Some("http://127.0.0.1:50123/native"))]),
        Some(&client(false)),
        0,
    )
    .unwrap();
    assert_eq!(request.redirect_uri, "http://127.0.0.1:50123/native");
}

#[test]
fn other_faults_go_back_to_the_client_with_their_code() {
    let c = client(false);
    type Changes<'a> = &'a [(&'a str, Option<&'a str>)];
    let cases: &[(Changes, &str)] = &[
        (&[("response_type", None)], "invalid_request"),
        (
            &[("response_type", Some("token"))],
            "unsupported_response_type",
        ),
        (
            &[("response_type", Some("code id_token"))],
            "unsupported_response_type",
        ),
        (&[("response_mode", Some("fragment"))], "invalid_request"),
        (&[("scope", Some("profile email"))], "invalid_scope"),
        (&[("scope", None)], "invalid_scope"),
        (
            &[("code_challenge_method", Some("plain"))],
            "invalid_request",
        ),
        (&[("code_challenge_method", None)], "invalid_request"),
        (&[("code_challenge", Some("short"))], "invalid_request"),
        (&[("code_challenge", None)], "invalid_request"),
        (&[("prompt", Some("none login"))], "invalid_request"),
        (&[("prompt", Some("sometimes"))], "invalid_request"),
        (&[("max_age", Some("-1"))], "invalid_request"),
        (&[("max_age", Some("soon"))], "invalid_request"),
        (&[("request", Some("eyJ.x.y"))], "request_not_supported"),
        (
            &[("request_uri", Some("https://x/r"))],
            "request_uri_not_supported",
        ),
    ];
    for (changes, expected) in cases {
        assert_eq!(
            error_code(check(&with(changes), Some(&c), 0)),
            *expected,
            "{changes:?}"
        );
    }
    let mut repeated = good();
    repeated.push(("scope", "openid"));
    assert_eq!(
        error_code(check(&params(&repeated), Some(&c), 0)),
        "invalid_request"
    );
}

#[test]
fn pkce_is_required_of_public_clients_only_and_only_s256() {
    let no_pkce = with(&[("code_challenge", None), ("code_challenge_method", None)]);
    assert_eq!(
        error_code(check(&no_pkce, Some(&client(false)), 0)),
        "invalid_request"
    );
    let request = check(&no_pkce, Some(&client(true)), 0).unwrap();
    assert_eq!(request.code_challenge, None);
    // Honoured for a confidential client that sends it.
    let request = check(&params(&good()), Some(&client(true)), 0).unwrap();
    assert_eq!(request.code_challenge.as_deref(), Some(CHALLENGE));
    // `plain` is refused for confidential clients too.
    assert_eq!(
        error_code(check(
            &with(&[("code_challenge_method", Some("plain"))]),
            Some(&client(true)),
            0
        )),
        "invalid_request"
    );
}

#[test]
fn prompt_max_age_and_login_hint_are_read() {
    let c = client(false);
    let r = check(&with(&[("prompt", Some("none"))]), Some(&c), 0).unwrap();
    assert_eq!(r.prompt, Prompt::None);
    let r = check(&with(&[("prompt", Some("consent login"))]), Some(&c), 0).unwrap();
    assert_eq!(r.prompt, Prompt::Login);
    let r = check(&with(&[("prompt", Some("consent"))]), Some(&c), 0).unwrap();
    assert_eq!(r.prompt, Prompt::Default);
    let r = check(&with(&[("max_age", Some("0"))]), Some(&c), 0).unwrap();
    assert_eq!(r.max_age, Some(0));
    let r = check(&with(&[("login_hint", Some("alice"))]), Some(&c), 0).unwrap();
    assert_eq!(r.login_hint.as_deref(), Some("alice"));
    let long = "x".repeat(LOGIN_HINT_MAX + 1);
    let mut pairs = good();
    pairs.push(("login_hint", &long));
    let r = check(&params(&pairs), Some(&c), 0).unwrap();
    assert_eq!(r.login_hint, None, "an overlong hint is ignored");
}

#[test]
fn unknown_scopes_are_dropped_and_state_is_optional() {
    let r = check(
        &with(&[("scope", Some("openid phone groups")), ("state", None)]),
        Some(&client(false)),
        0,
    )
    .unwrap();
    assert_eq!(r.scope, "openid groups");
    assert_eq!(r.state, None);
}
