//! The forward-auth endpoints (SPEC §15.2) as nginx, Traefik and Caddy ask them — every rule
//! in its order — and from the attacker's side: an untrusted peer, a spoofed host, headers
//! that do not parse, the SSO cookie replayed against the panel and the API.

use axum::http::StatusCode;
use passgate::accounts::apps::Policy;
use passgate::accounts::credentials::ResetOptions;
use sea_orm::EntityTrait;

use crate::helpers::*;
use crate::sso_support::*;

async fn with_apps() -> TestApp {
    let app = sso_app().await;
    register(
        &app,
        "Wiki",
        &["wiki.passgate.test"],
        &["/public/"],
        Policy::OneFactor,
    )
    .await;
    register(
        &app,
        "Vault",
        &["vault.passgate.test"],
        &[],
        Policy::TwoFactor,
    )
    .await;
    register(
        &app,
        "Old",
        &["old.passgate.test"],
        &["/public/"],
        Policy::Deny,
    )
    .await;
    app.user_with("alice", STRONG, false, None, None).await;
    app
}

#[tokio::test]
async fn without_a_session_the_browser_is_sent_to_sign_in_with_its_url() {
    let app = with_apps().await;
    let url = "http://wiki.passgate.test/page?x=1&y=%2F";
    // Traefik and Caddy: a page load is redirected, 302 for GET/HEAD/OPTIONS, 303 otherwise.
    for (method, status) in [
        ("GET", StatusCode::FOUND),
        ("HEAD", StatusCode::FOUND),
        ("OPTIONS", StatusCode::FOUND),
        ("POST", StatusCode::SEE_OTHER),
        ("DELETE", StatusCode::SEE_OTHER),
    ] {
        let answer = Ask::traefik(url).method(method).send(&app).await;
        assert_eq!(answer.status, status, "{method}: {}", answer.body);
        assert_eq!(answer.location(), Some(sign_in_url(url, method).as_str()));
    }
    // Not a page load: 401 (still naming the page, for clients that want it).
    for headers in [
        vec![("accept", "application/json")],
        vec![("accept", "*/*")],
        vec![("accept", HTML), ("x-requested-with", "XMLHttpRequest")],
    ] {
        let mut ask = Ask::traefik(url);
        ask.headers = headers.iter().map(|(n, v)| (*n, v.to_string())).collect();
        let answer = ask.send(&app).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{headers:?}");
        assert_eq!(answer.location(), Some(sign_in_url(url, "GET").as_str()));
    }
    let mut no_accept = Ask::traefik(url);
    no_accept.headers.clear();
    assert_eq!(no_accept.send(&app).await.status, StatusCode::UNAUTHORIZED);
    // nginx: always 401 with the Location (its error_page turns it into the redirect).
    let answer = Ask::nginx(url).method("POST").send(&app).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.location(), Some(sign_in_url(url, "POST").as_str()));
    // A cookie that names no session is no session.
    let forged = Ask::nginx(url).header("cookie", "passgate_sso=forged-token-value");
    assert_eq!(forged.send(&app).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unknown_hosts_deny_and_public_paths_are_decided_before_any_session() {
    let app = with_apps().await;
    let browser = signed_in_to(&app, "alice", STRONG, "http://wiki.passgate.test/").await;
    for url in [
        "http://intranet.passgate.test/",
        "http://evilwiki.passgate.test/",
        "http://wiki.passgate.test.evil.test/",
        "http://old.passgate.test/",
        "http://old.passgate.test/public/x",
    ] {
        for signed_in in [false, true] {
            let mut ask = Ask::traefik(url);
            if signed_in {
                ask = ask.with_cookie(&browser);
            }
            let answer = ask.send(&app).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{url} {signed_in}");
            assert!(answer.header("remote-user").is_none(), "{url}");
        }
    }
    // A public path: 200 with all four headers, empty, whoever asks.
    for signed_in in [false, true] {
        let mut ask = Ask::nginx("http://wiki.passgate.test/public/readme.txt?v=2");
        if signed_in {
            ask = ask.with_cookie(&browser);
        }
        let answer = ask.send(&app).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(
            identity(&answer),
            [
                Some(String::new()),
                Some(String::new()),
                Some(String::new()),
                Some(String::new())
            ]
        );
    }
    // The path spelled to climb out of the public prefix is not public.
    for path in [
        "/public/../admin",
        "/public/%2e%2e/admin",
        "/public/%2E%2E%2Fadmin",
        "/public//../admin",
        "/public\\..\\admin",
    ] {
        let url = format!("http://wiki.passgate.test{path}");
        let answer = Ask::nginx(&url).send(&app).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{path}");
    }
}

#[tokio::test]
async fn a_signed_in_user_gets_the_four_identity_headers() {
    let app = with_apps().await;
    passgate::entities::users::Entity::update_many()
        .col_expr(
            passgate::entities::users::Column::Email,
            sea_orm::sea_query::Expr::value("alice@passgate.test"),
        )
        .exec(&app.db)
        .await
        .unwrap();
    let browser = signed_in_to(&app, "alice", STRONG, "http://wiki.passgate.test/").await;
    for ask in [
        Ask::nginx("http://wiki.passgate.test/page"),
        Ask::traefik("http://wiki.passgate.test/page"),
        Ask::traefik("http://WIKI.passgate.test:8080/page").method("PUT"),
    ] {
        let answer = ask.with_cookie(&browser).send(&app).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert_eq!(
            identity(&answer),
            [
                Some("alice".into()),
                Some(String::new()),
                Some("alice".into()),
                Some("alice@passgate.test".into())
            ]
        );
    }
    // The vault needs a second factor alice has never set up: enrolment first, never 200.
    let answer = Ask::traefik("http://vault.passgate.test/")
        .with_cookie(&browser)
        .send(&app)
        .await;
    assert_eq!(answer.status, StatusCode::FOUND);
    assert_eq!(
        answer.location(),
        Some(
            format!(
                "{PUBLIC}/panel/security/totp/setup?rd={}",
                passgate::paths::url_encode("http://vault.passgate.test/")
            )
            .as_str()
        )
    );
}

#[tokio::test]
async fn a_missing_step_is_asked_for_never_passed() {
    let app = with_apps().await;
    let browser = signed_in_to(&app, "alice", STRONG, "http://wiki.passgate.test/").await;
    let url = "http://wiki.passgate.test/doc";
    // An administrator requires a change (a bulk action: the sessions stay): the next
    // request goes to the change page.
    passgate::entities::users::Entity::update_many()
        .col_expr(
            passgate::entities::users::Column::RequirePasswordChange,
            sea_orm::sea_query::Expr::value(true),
        )
        .exec(&app.db)
        .await
        .unwrap();
    let answer = Ask::nginx(url).with_cookie(&browser).send(&app).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        answer.location(),
        Some(
            format!(
                "{PUBLIC}/panel/change_password?rd={}",
                passgate::paths::url_encode(url)
            )
            .as_str()
        )
    );
    let answer = Ask::traefik(url)
        .with_cookie(&browser)
        .header("accept", "application/json")
        .send(&app)
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(
        answer.body.contains("PASSWORD_CHANGE_REQUIRED"),
        "{}",
        answer.body
    );
}

#[tokio::test]
async fn only_a_trusted_proxy_may_ask_and_bad_headers_are_refused() {
    let app = with_apps().await;
    let browser = signed_in_to(&app, "alice", STRONG, "http://wiki.passgate.test/").await;
    for endpoint in [
        Ask::nginx("http://wiki.passgate.test/"),
        Ask::traefik("http://wiki.passgate.test/"),
    ] {
        let answer = endpoint
            .with_cookie(&browser)
            .from("10.9.9.9:5000")
            .send(&app)
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN);
        assert!(
            answer.body.contains("\"UNTRUSTED_PROXY\""),
            "{}",
            answer.body
        );
        assert!(answer.header("remote-user").is_none());
    }
    // The trusted proxy with headers that name no request: 400, nothing decided.
    let cases: [(&str, Vec<(&str, &str)>); 6] = [
        (
            "/api/authz/auth-request",
            vec![("x-original-method", "GET")],
        ),
        (
            "/api/authz/auth-request",
            vec![
                ("x-original-method", "get"),
                ("x-original-url", "http://wiki.passgate.test/"),
            ],
        ),
        (
            "/api/authz/auth-request",
            vec![
                ("x-original-method", "GET"),
                ("x-original-url", "wiki.passgate.test/"),
            ],
        ),
        (
            "/api/authz/forward-auth",
            vec![
                ("x-forwarded-method", "GET"),
                ("x-forwarded-proto", "http"),
                ("x-forwarded-uri", "/"),
            ],
        ),
        (
            "/api/authz/forward-auth",
            vec![
                ("x-forwarded-method", "GET"),
                ("x-forwarded-proto", "http"),
                ("x-forwarded-host", "wiki.passgate.test, old.passgate.test"),
                ("x-forwarded-uri", "/"),
            ],
        ),
        (
            "/api/authz/forward-auth",
            vec![
                ("x-forwarded-method", "GET"),
                ("x-forwarded-proto", "gopher"),
                ("x-forwarded-host", "wiki.passgate.test"),
                ("x-forwarded-uri", "/"),
            ],
        ),
    ];
    for (endpoint, headers) in cases {
        let mut builder = axum::http::Request::builder().uri(endpoint);
        for (name, value) in &headers {
            builder = builder.header(*name, *value);
        }
        let mut request = builder.body(axum::body::Body::empty()).unwrap();
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo::<std::net::SocketAddr>(
                "127.0.0.1:1".parse().unwrap(),
            ));
        let answer = send(&app, request).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{headers:?}: {}",
            answer.body
        );
        assert!(
            answer.body.contains("INVALID_FORWARDED_HEADERS"),
            "{}",
            answer.body
        );
    }
}

#[tokio::test]
async fn a_spoofed_host_decides_for_the_host_the_proxy_names() {
    let app = with_apps().await;
    let browser = signed_in_to(&app, "alice", STRONG, "http://wiki.passgate.test/").await;
    // nginx names the request in X-Original-URL; the client's X-Forwarded-Host (passed on in
    // the subrequest) names nothing.
    let answer = Ask::nginx("http://old.passgate.test/")
        .with_cookie(&browser)
        .header("x-forwarded-host", "wiki.passgate.test")
        .header("x-forwarded-uri", "/")
        .send(&app)
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    // Traefik names it in X-Forwarded-Host; an X-Original-URL beside it names nothing.
    let answer = Ask::traefik("http://old.passgate.test/")
        .with_cookie(&browser)
        .header("x-original-url", "http://wiki.passgate.test/")
        .send(&app)
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_sso_cookie_opens_neither_the_panel_nor_the_api() {
    let app = with_apps().await;
    let browser = signed_in_to(&app, "alice", STRONG, "http://wiki.passgate.test/").await;
    let token = browser.cookies["passgate_sso"].clone();
    let mut replay = app.client();
    for cookie in ["passgate_sso", "passgate_session"] {
        replay.cookies.clear();
        replay.cookies.insert(cookie.into(), token.clone());
        let page = replay.get("/panel/dashboard").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{cookie}");
        assert!(page.location().unwrap().starts_with("/login"), "{cookie}");
        let api = app
            .api_raw(
                "GET",
                "/api/v2/users/@me",
                &[("cookie", &format!("{cookie}={token}"))],
                Vec::new(),
            )
            .await;
        api.assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
        let bearer = app
            .api_raw(
                "GET",
                "/api/v2/users/@me",
                &[("authorization", &format!("Bearer {token}"))],
                Vec::new(),
            )
            .await;
        bearer.assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    }
    // The database holds only a hash of the token.
    let stored = passgate::entities::sso_sessions::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].id, token);
    assert_eq!(stored[0].id, passgate::auth::sso::id_of(&token));
}

#[tokio::test]
async fn every_stamp_rotation_and_sign_out_ends_the_sso_session() {
    let app = with_apps().await;
    let url = "http://wiki.passgate.test/";
    let allowed = |answer: &TestResponse| answer.status == StatusCode::OK;
    // An administrator's reset.
    let browser = signed_in_to(&app, "alice", STRONG, url).await;
    assert!(allowed(
        &Ask::nginx(url).with_cookie(&browser).send(&app).await
    ));
    app.reset("alice", STRONG_2, ResetOptions::default()).await;
    assert_eq!(
        Ask::nginx(url)
            .with_cookie(&browser)
            .send(&app)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // End all sessions (the API, as the user).
    passgate::entities::users::Entity::update_many()
        .col_expr(
            passgate::entities::users::Column::RequirePasswordChange,
            sea_orm::sea_query::Expr::value(false),
        )
        .col_expr(
            passgate::entities::users::Column::PasswordExpires,
            sea_orm::sea_query::Expr::value(Option::<time::PrimitiveDateTime>::None),
        )
        .exec(&app.db)
        .await
        .unwrap();
    let browser = signed_in_to(&app, "alice", STRONG_2, url).await;
    assert!(allowed(
        &Ask::nginx(url).with_cookie(&browser).send(&app).await
    ));
    let token = app.token("alice", STRONG_2).await;
    app.api("DELETE", "/api/v2/users/@me/sessions", Some(&token), None)
        .await
        .assert_ok();
    assert_eq!(
        Ask::nginx(url)
            .with_cookie(&browser)
            .send(&app)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Sign-out.
    let mut browser = signed_in_to(&app, "alice", STRONG_2, url).await;
    let sso_before = browser.cookies["passgate_sso"].clone();
    browser.get("/panel/dashboard").await;
    let out = browser.post("/logout", &[]).await;
    out.assert_redirect("/login");
    assert!(
        !browser.cookies.contains_key("passgate_sso"),
        "the cookie is cleared"
    );
    let cleared = out.headers.get_all("set-cookie").iter().any(|v| {
        let v = v.to_str().unwrap();
        v.starts_with("passgate_sso=;")
            && v.contains("Domain=passgate.test")
            && v.contains("Max-Age=0")
    });
    assert!(cleared, "{:?}", out.headers);
    let replayed = Ask::nginx(url)
        .header("cookie", &format!("passgate_sso={sso_before}"))
        .send(&app)
        .await;
    assert_eq!(
        replayed.status,
        StatusCode::UNAUTHORIZED,
        "the old cookie names nothing"
    );
    // Disabling the user.
    let browser = signed_in_to(&app, "alice", STRONG_2, url).await;
    passgate::entities::users::Entity::update_many()
        .col_expr(
            passgate::entities::users::Column::Enabled,
            sea_orm::sea_query::Expr::value(false),
        )
        .exec(&app.db)
        .await
        .unwrap();
    assert_eq!(
        Ask::nginx(url)
            .with_cookie(&browser)
            .send(&app)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_sso_cookie_is_for_the_whole_domain_and_the_panel_cookie_is_not() {
    let app = with_apps().await;
    let mut browser = app.client();
    browser.get("/login").await;
    let done = browser
        .post("/login", &[("username", "alice"), ("password", STRONG)])
        .await;
    done.assert_redirect("/panel/dashboard");
    let cookies: Vec<String> = done
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    let sso = cookies
        .iter()
        .find(|c| c.starts_with("passgate_sso="))
        .expect("every sign-in issues one");
    for part in ["Domain=passgate.test", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(sso.contains(part), "{sso}");
    }
    let panel = cookies
        .iter()
        .find(|c| c.starts_with("passgate_session="))
        .expect("a panel cookie");
    assert!(
        !panel.to_ascii_lowercase().contains("domain="),
        "host-only: {panel}"
    );
}

#[tokio::test]
async fn a_session_ended_on_another_instance_ends_here_at_the_next_request() {
    let first = with_apps().await;
    let second = first.second_instance().await;
    let url = "http://wiki.passgate.test/";
    let browser = signed_in_to(&first, "alice", STRONG, url).await;
    // The other instance decides with the same session …
    let answer = Ask::traefik(url).with_cookie(&browser).send(&second).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header("remote-user"), Some("alice"));
    // … and *end all sessions* on it ends the session on the first one.
    let token = second.token("alice", STRONG).await;
    second
        .api("DELETE", "/api/v2/users/@me/sessions", Some(&token), None)
        .await
        .assert_ok();
    let answer = Ask::traefik(url).with_cookie(&browser).send(&first).await;
    assert_eq!(answer.status, StatusCode::FOUND);
}

#[tokio::test]
async fn a_decision_costs_at_most_one_database_statement() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let app = with_apps().await;
    let browser = signed_in_to(&app, "alice", STRONG, "http://wiki.passgate.test/").await;
    // An instance on the same database whose connection counts every statement it runs
    // (sea-orm's metric callback).
    let statements = Arc::new(AtomicUsize::new(0));
    let mut counted_db = passgate::db::connect(&app.database_url, 2).await.unwrap();
    let counter = statements.clone();
    counted_db.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let state = passgate::AppState::load(counted_db, (*app.state.config).clone())
        .await
        .unwrap();
    let counted = TestApp::from_parts(
        state,
        app.database_url.clone(),
        passgate::app,
        tempfile::tempdir().unwrap(),
    );
    let take = || statements.swap(0, Ordering::SeqCst);
    take();
    // The applications are read once and cached (at most 5 s); then each decision costs
    // the session's one statement at most.
    let first = Ask::nginx("http://wiki.passgate.test/")
        .with_cookie(&browser)
        .send(&counted)
        .await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(take() > 1, "the first decision read the applications");
    for (ask, status, expected) in [
        (
            Ask::nginx("http://wiki.passgate.test/page"),
            StatusCode::OK,
            1,
        ),
        (
            Ask::traefik("http://wiki.passgate.test/a?b"),
            StatusCode::OK,
            1,
        ),
        (
            Ask::traefik("http://vault.passgate.test/"),
            StatusCode::FOUND,
            1,
        ),
        (
            Ask::nginx("http://wiki.passgate.test/public/x"),
            StatusCode::OK,
            0,
        ),
        (
            Ask::nginx("http://old.passgate.test/"),
            StatusCode::FORBIDDEN,
            0,
        ),
        (
            Ask::nginx("http://nobody.passgate.test/"),
            StatusCode::FORBIDDEN,
            0,
        ),
    ] {
        let url = ask.url.to_string();
        let answer = ask.with_cookie(&browser).send(&counted).await;
        assert_eq!(answer.status, status, "{url}");
        assert_eq!(take(), expected, "statements for {url}");
    }
    // Without a cookie nothing is read at all.
    let answer = Ask::nginx("http://wiki.passgate.test/")
        .send(&counted)
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(take(), 0);
}

/// A role made and a user's roles set through the API, as an administrator does.
pub(crate) async fn role(app: &TestApp, root: &str, name: &str, mfa_required: bool) -> i64 {
    let made = app
        .api(
            "POST",
            "/api/v2/roles",
            Some(root),
            Some(serde_json::json!({"name": name, "servers": [], "mfa_required": mfa_required})),
        )
        .await;
    made.assert_ok()["role_id"].as_i64().unwrap()
}

pub(crate) async fn set_roles(app: &TestApp, root: &str, username: &str, roles: &[i64]) {
    let user = app.find(username).await;
    app.api(
        "PATCH",
        &format!("/api/v2/users/{}", user.user_id),
        Some(root),
        Some(serde_json::json!({ "roles": roles })),
    )
    .await
    .assert_ok();
}

#[tokio::test]
async fn an_app_opens_only_to_its_roles_and_a_removed_member_is_refused_at_once() {
    let app = with_apps().await;
    app.user("root", STRONG, true).await;
    let root = app.token("root", STRONG).await;
    let staff = role(&app, &root, "Staff", false).await;
    let admins = role(&app, &root, "admins", false).await;
    let created = app
        .api(
            "POST",
            "/api/v2/apps",
            Some(&root),
            Some(serde_json::json!({
                "name": "Grafana", "hosts": ["grafana.passgate.test"],
                "allowed_roles": [admins], "policy": "one_factor"
            })),
        )
        .await;
    let grafana = created.assert_ok()["app_id"].as_i64().unwrap();
    // A role that does not exist is refused, naming the field; nothing changes.
    let refused = app
        .api(
            "PATCH",
            &format!("/api/v2/apps/{grafana}"),
            Some(&root),
            Some(serde_json::json!({"allowed_roles": [admins, 9999]})),
        )
        .await;
    refused.assert_error(StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
    assert!(
        refused.json.to_string().contains("allowed_roles"),
        "{}",
        refused.json
    );

    set_roles(&app, &root, "alice", &[staff]).await;
    let url = "http://grafana.passgate.test/d/1";
    let browser = signed_in_to(&app, "alice", STRONG, "http://wiki.passgate.test/").await;
    // Outside the app's roles: 403, and the wiki (no roles) still says who she is.
    let answer = Ask::nginx(url).with_cookie(&browser).send(&app).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let wiki = Ask::nginx("http://wiki.passgate.test/")
        .with_cookie(&browser)
        .send(&app)
        .await;
    assert_eq!(wiki.header("remote-groups"), Some("staff"));
    // Given the role: the same cookie opens it on the next request, with both groups.
    set_roles(&app, &root, "alice", &[staff, admins]).await;
    let answer = Ask::nginx(url).with_cookie(&browser).send(&app).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.header("remote-groups"), Some("admins,staff"));
    // The role taken away: her cookie is refused on the very next request.
    set_roles(&app, &root, "alice", &[staff]).await;
    let answer = Ask::nginx(url).with_cookie(&browser).send(&app).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    // An application opened to a role again (PATCH with a real role) lets her in.
    app.api(
        "PATCH",
        &format!("/api/v2/apps/{grafana}"),
        Some(&root),
        Some(serde_json::json!({"allowed_roles": [staff]})),
    )
    .await
    .assert_ok();
    let answer = Ask::nginx(url).with_cookie(&browser).send(&app).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

#[tokio::test]
async fn a_role_that_requires_a_second_factor_sends_its_members_to_enrolment() {
    let app = with_apps().await;
    app.user("root", STRONG, true).await;
    let root = app.token("root", STRONG).await;
    let browser = signed_in_to(&app, "alice", STRONG, "http://wiki.passgate.test/").await;
    let url = "http://wiki.passgate.test/";
    assert_eq!(
        Ask::traefik(url)
            .with_cookie(&browser)
            .send(&app)
            .await
            .status,
        StatusCode::OK
    );
    let strict = role(&app, &root, "strict", true).await;
    set_roles(&app, &root, "alice", &[strict]).await;
    // On her next request, never 200: the set-up page first, carrying the app's URL.
    let answer = Ask::traefik(url).with_cookie(&browser).send(&app).await;
    assert_eq!(answer.status, StatusCode::FOUND);
    assert_eq!(
        answer.location(),
        Some(
            format!(
                "{PUBLIC}/panel/security/totp/setup?rd={}",
                passgate::paths::url_encode(url)
            )
            .as_str()
        )
    );
}
