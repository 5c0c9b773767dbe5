//! Prometheus metrics (SPEC §17), scraped from a real server process (the recorder is one per
//! process): after a scripted walk every counter moved by exactly what happened, the gauges
//! match the database, no label carries a username, an address or a token, and `/metrics`
//! is only on its own listener.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use passgate::accounts::mfa::totp;
use passgate::entities::{login_throttle, passkeys, reset_links, sessions, totp_devices, users};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse};

use crate::helpers::decode_base32;
use crate::helpers::*;
use crate::mfa::stable_step;
use crate::passkeys::{ORIGIN, authenticator};
use crate::serving::{
    Browser, HttpResponse, Server, api, api_login, api_token, first_admin, free_port,
    process_database, try_http,
};

/// Every sample of an exposition: `name{labels}` as rendered → value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a sample line");
            (series.to_string(), value.parse().expect("a number"))
        })
        .collect()
}

async fn scrape(metrics: SocketAddr) -> (String, BTreeMap<String, f64>) {
    let response = try_http(metrics, "GET", "/metrics", &[], None)
        .await
        .expect("scrape");
    assert_eq!(response.status, 200, "{}", response.body);
    assert!(
        response
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")),
        "{:?}",
        response.headers
    );
    let parsed = samples(&response.body);
    (response.body, parsed)
}

/// The value of one series (0 when absent).
fn value(samples: &BTreeMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

fn ok(response: &HttpResponse) -> Value {
    assert!(
        (200..300).contains(&response.status),
        "{}: {}",
        response.status,
        response.body
    );
    response.json()["data"].clone()
}

async fn create_user(server: &Server, token: &str, name: &str) -> i32 {
    let created = api(
        server,
        "POST",
        "/api/v2/users",
        Some(token),
        Some(json!({"username": name, "password": STRONG, "require_password_change": false})),
    )
    .await;
    ok(&created)["user_id"].as_str().unwrap().parse().unwrap()
}

/// A server with metrics on its own address, on a database of its own.
struct Metered {
    server: Server,
    metrics: SocketAddr,
    url: String,
    _pg: Option<crate::helpers::PgDatabase>,
}

async fn metrics_server(name: &str, dir: &std::path::Path, public_url: &str) -> Metered {
    let (url, pg) = process_database(dir).await;
    let metrics = free_port();
    let mut server = Server::start_with(
        name,
        &url,
        dir,
        &[
            ("PASSGATE_METRICS_BIND", metrics.to_string()),
            ("PASSGATE_PUBLIC_URL", public_url.into()),
        ],
    );
    server.wait_ready().await;
    Metered {
        server,
        metrics,
        url,
        _pg: pg,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_scripted_walk_each_counter_moved_by_what_happened() {
    let dir = tempfile::tempdir().unwrap();
    let Metered {
        server,
        metrics,
        url,
        _pg,
    } = metrics_server("metrics", dir.path(), ORIGIN).await;
    let (first, before) = scrape(metrics).await;
    // Every series is shown from the start, at 0, also those of features still to come.
    for series in [
        "passgate_sign_ins_total{outcome=\"passkey_refused\"}",
        "passgate_resets_total{kind=\"setup_link\"}",
        "passgate_reset_links_used_total{kind=\"reset_link\"}",
        "passgate_forced_password_changes_total",
        "passgate_forward_auth_decisions_total{outcome=\"deny\"}",
        "passgate_oidc_issued_total{kind=\"code\"}",
        "passgate_oidc_refreshed_total",
        "passgate_oidc_revoked_total{kind=\"refresh_token\"}",
        "passgate_argon2_queue_depth",
        "passgate_audit_stream_failures_total",
    ] {
        assert_eq!(before.get(series), Some(&0.0), "{series} in:\n{first}");
    }
    let mut secrets: Vec<String> = vec![STRONG.into(), STRONG_2.into(), STRONG_3.into()];

    // The first admin: the printed password (a success), the forced change.
    let first = first_admin(&server, server.admin_password(), STRONG_2).await; // success 1, forced 1
    let admin = first.token.clone();
    secrets.extend([first.printed, first.first_token, first.token]);

    let bob = create_user(&server, &admin, "mx_bob").await;
    let carol = create_user(&server, &admin, "mx_carol").await;
    let dave = create_user(&server, &admin, "mx_dave").await;
    create_user(&server, &admin, "mx_erin").await;
    create_user(&server, &admin, "mx_fay").await;
    create_user(&server, &admin, "mx_gus").await;

    assert_eq!(api_login(&server, "mx_bob", STRONG_3).await.status, 401); // wrong_password 1
    assert_eq!(api_login(&server, "mx_ghost", STRONG).await.status, 401); // unknown_user 1

    // A temporary password for bob (a reset), his sign-in with it and his forced change.
    let reset = api(
        &server,
        "POST",
        &format!("/api/v2/users/{bob}/reset-password"),
        Some(&admin),
        Some(json!({"expires_hours": 24, "require_password_change": true})),
    )
    .await;
    let temporary = ok(&reset)["password"].as_str().unwrap().to_string(); // resets temporary_password 1
    secrets.push(temporary.clone());
    let bobs = api_token(&server, "mx_bob", &temporary).await; // success 2
    let changed = api(
        &server,
        "PATCH",
        "/api/v2/users/@me",
        Some(&bobs),
        Some(json!({"password": STRONG_3})),
    )
    .await;
    ok(&changed); // forced 2
    secrets.push(bobs);

    // Carol's temporary password has expired.
    let reset = api(
        &server,
        "POST",
        &format!("/api/v2/users/{carol}/reset-password"),
        Some(&admin),
        Some(json!({"password": STRONG_3, "expires_hours": 1, "require_password_change": true})),
    )
    .await;
    ok(&reset); // resets temporary_password 2
    let db = passgate::db::connect(&url, 1).await.unwrap();
    users::Entity::update_many()
        .col_expr(
            users::Column::PasswordExpires,
            sea_orm::sea_query::Expr::value(Some(
                passgate::accounts::clock::now() - time::Duration::hours(1),
            )),
        )
        .filter(users::Column::UserId.eq(carol))
        .exec(&db)
        .await
        .unwrap();
    assert_eq!(api_login(&server, "mx_carol", STRONG_3).await.status, 401); // temp_password_expired 1

    // Dave is disabled.
    ok(&api(
        &server,
        "PATCH",
        &format!("/api/v2/users/{dave}"),
        Some(&admin),
        Some(json!({"enabled": false})),
    )
    .await);
    assert_eq!(api_login(&server, "mx_dave", STRONG).await.status, 403); // disabled 1

    // Erin guesses five times; the sixth attempt is refused by the lock, right password or not.
    for _ in 0..5 {
        assert_eq!(api_login(&server, "mx_erin", STRONG_3).await.status, 401); // wrong_password 2..6
    }
    assert_eq!(api_login(&server, "mx_erin", STRONG).await.status, 429); // locked 1

    // Fay enrols a TOTP device; a wrong code, then the right one.
    let fays = api_token(&server, "mx_fay", STRONG).await; // success 3
    let started = ok(&api(&server, "POST", "/api/v2/users/@me/totp", Some(&fays), None).await);
    let secret = decode_base32(started["otp"]["totp_secret"].as_str().unwrap());
    let step = stable_step().await;
    let verified = ok(&api(
        &server,
        "POST",
        &format!(
            "/api/v2/users/@me/totp/{}/verify",
            started["otp"]["id"].as_str().unwrap()
        ),
        Some(&fays),
        Some(json!({"name": "phone", "totp": totp::code_at_step(&secret, step - 1)})),
    )
    .await);
    for code in verified["backup_codes"].as_array().unwrap() {
        secrets.push(code.as_str().unwrap().to_string());
    }
    let step = stable_step().await;
    let right = totp::code_at_step(&secret, step);
    let wrong = format!("{:06}", (right.parse::<u32>().unwrap() + 1) % 1_000_000);
    let with = |code: &str| json!({"username": "mx_fay", "password": STRONG, "totp": code});
    assert_eq!(
        api(
            &server,
            "POST",
            "/api/v2/auth/login",
            None,
            Some(with(&wrong))
        )
        .await
        .status,
        401
    ); // second_factor_wrong 1
    ok(&api(
        &server,
        "POST",
        "/api/v2/auth/login",
        None,
        Some(with(&right)),
    )
    .await); // success 4

    // Gus registers a passkey and signs in with it; a replayed answer is refused.
    let gus = api_token(&server, "mx_gus", STRONG).await; // success 5
    let mut device = authenticator();
    let origin = webauthn_authenticator_rs::prelude::Url::parse(ORIGIN).unwrap();
    let started = ok(&api(
        &server,
        "POST",
        "/api/v2/users/@me/passkeys",
        Some(&gus),
        None,
    )
    .await);
    let options: CreationChallengeResponse =
        serde_json::from_value(json!({"publicKey": started["options"]})).unwrap();
    let credential = device.do_registration(origin.clone(), options).unwrap();
    ok(&api(
        &server,
        "POST",
        &format!(
            "/api/v2/users/@me/passkeys/{}/verify",
            started["challenge_id"].as_str().unwrap()
        ),
        Some(&gus),
        Some(json!({"name": "key", "credential": credential})),
    )
    .await);
    let options = ok(&api(
        &server,
        "POST",
        "/api/v2/auth/passkey/login/options",
        None,
        Some(json!({"username": "mx_gus"})),
    )
    .await);
    let request: RequestChallengeResponse =
        serde_json::from_value(json!({"publicKey": options["options"]})).unwrap();
    let answer = serde_json::to_value(device.do_authentication(origin, request).unwrap()).unwrap();
    let verify = json!({"challenge_id": options["challenge_id"], "credential": answer});
    ok(&api(
        &server,
        "POST",
        "/api/v2/auth/passkey/login/verify",
        None,
        Some(verify.clone()),
    )
    .await); // passkey 1
    assert_eq!(
        api(
            &server,
            "POST",
            "/api/v2/auth/passkey/login/verify",
            None,
            Some(verify)
        )
        .await
        .status,
        401
    ); // passkey_refused 1

    // A reset link for bob, used in a browser; a set-up link for a newcomer, left live.
    let link = ok(&api(
        &server,
        "POST",
        &format!("/api/v2/users/{bob}/reset-link"),
        Some(&admin),
        Some(json!({})),
    )
    .await); // resets reset_link 1
    let link_url = link["url"].as_str().unwrap().to_string();
    secrets.push(link_url.clone());
    let path = link_url.strip_prefix(ORIGIN).unwrap().to_string();
    secrets.push(path.trim_start_matches("/reset/").to_string());
    let mut browser = Browser::default();
    assert_eq!(
        browser.request(&server, "GET", &path, None).await.status,
        200
    );
    let used = browser
        .request(
            &server,
            "POST",
            &path,
            Some(&[("new_password", STRONG), ("confirm_password", STRONG)]),
        )
        .await;
    assert_eq!(used.status, 303, "{}", used.body); // reset_links_used reset_link 1
    let setup = ok(&api(
        &server,
        "POST",
        "/api/v2/users",
        Some(&admin),
        Some(json!({"username": "mx_hal", "setup_link": true})),
    )
    .await); // resets setup_link 1
    secrets.push(setup["url"].as_str().unwrap().to_string());

    let (text, after) = scrape(metrics).await;
    let moved = |series: &str| value(&after, series) - value(&before, series);
    let expected: &[(&str, f64)] = &[
        ("passgate_sign_ins_total{outcome=\"success\"}", 5.0),
        ("passgate_sign_ins_total{outcome=\"wrong_password\"}", 6.0),
        ("passgate_sign_ins_total{outcome=\"unknown_user\"}", 1.0),
        ("passgate_sign_ins_total{outcome=\"locked\"}", 1.0),
        ("passgate_sign_ins_total{outcome=\"disabled\"}", 1.0),
        (
            "passgate_sign_ins_total{outcome=\"temp_password_expired\"}",
            1.0,
        ),
        (
            "passgate_sign_ins_total{outcome=\"second_factor_wrong\"}",
            1.0,
        ),
        (
            "passgate_sign_ins_total{outcome=\"password_not_allowed\"}",
            0.0,
        ),
        ("passgate_sign_ins_total{outcome=\"passkey\"}", 1.0),
        ("passgate_sign_ins_total{outcome=\"passkey_refused\"}", 1.0),
        ("passgate_resets_total{kind=\"temporary_password\"}", 2.0),
        ("passgate_resets_total{kind=\"reset_link\"}", 1.0),
        ("passgate_resets_total{kind=\"setup_link\"}", 1.0),
        ("passgate_reset_links_used_total{kind=\"reset_link\"}", 1.0),
        ("passgate_reset_links_used_total{kind=\"setup_link\"}", 0.0),
        ("passgate_forced_password_changes_total", 2.0),
        // The requests themselves, by template: the link page once each way.
        (
            "passgate_http_requests_total{route=\"/reset/{token}\",method=\"GET\",status=\"200\"}",
            1.0,
        ),
        (
            "passgate_http_requests_total{route=\"/reset/{token}\",method=\"POST\",status=\"303\"}",
            1.0,
        ),
        (
            "passgate_http_requests_total{route=\"/api/v2/auth/login\",method=\"POST\",status=\"429\"}",
            1.0,
        ),
        (
            "passgate_http_requests_total{route=\"/api/v2/auth/login\",method=\"POST\",status=\"403\"}",
            1.0,
        ),
        (
            "passgate_http_requests_total{route=\"/api/v2/users/{id}/reset-password\",method=\"POST\",status=\"200\"}",
            2.0,
        ),
    ];
    let mut wrong = Vec::new();
    for (series, want) in expected {
        if moved(series) != *want {
            wrong.push(format!(
                "{series}: moved by {}, expected {want}",
                moved(series)
            ));
        }
    }
    // Nothing else of these families moved.
    let listed: BTreeSet<&str> = expected.iter().map(|(s, _)| *s).collect();
    for series in after.keys() {
        let family = [
            "passgate_sign_ins_total",
            "passgate_resets_total",
            "passgate_reset_links_used_total",
            "passgate_forward_auth",
            "passgate_oidc_",
            "passgate_forced_password_changes_total",
            "passgate_audit_",
        ];
        if family.iter().any(|f| series.starts_with(f))
            && !listed.contains(series.as_str())
            && moved(series) != 0.0
        {
            wrong.push(format!("{series}: moved by {}, expected 0", moved(series)));
        }
    }
    assert!(wrong.is_empty(), "{}\n\n{text}", wrong.join("\n"));
    // The latency histogram counts what the counter counts.
    let login_requests: f64 = after
        .iter()
        .filter(|(s, _)| {
            s.starts_with(
                "passgate_http_requests_total{route=\"/api/v2/auth/login\",method=\"POST\"",
            )
        })
        .map(|(_, v)| v)
        .sum();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        // The histogram is folded in every few seconds.
        let (_, now) = scrape(metrics).await;
        let counted = value(
            &now,
            "passgate_http_request_duration_seconds_count{route=\"/api/v2/auth/login\",method=\"POST\"}",
        );
        if counted >= login_requests {
            assert_eq!(
                value(
                    &now,
                    "passgate_http_request_duration_seconds_bucket{route=\"/api/v2/auth/login\",method=\"POST\",le=\"+Inf\"}"
                ),
                counted
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "histogram {counted} < counter {login_requests}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // The gauges are the database's state at the scrape.
    let (_, gauges) = scrape(metrics).await;
    let now = passgate::accounts::clock::now();
    let count = |n: u64| n as f64;
    let checks = [
        (
            "passgate_users",
            count(users::Entity::find().count(&db).await.unwrap()),
        ),
        (
            "passgate_users_enabled",
            count(
                users::Entity::find()
                    .filter(users::Column::Enabled.eq(true))
                    .count(&db)
                    .await
                    .unwrap(),
            ),
        ),
        (
            "passgate_users_password_change_pending",
            count(
                users::Entity::find()
                    .filter(users::Column::RequirePasswordChange.eq(true))
                    .count(&db)
                    .await
                    .unwrap(),
            ),
        ),
        (
            "passgate_users_temporary_password_expired",
            count(
                users::Entity::find()
                    .filter(users::Column::PasswordExpires.lte(now))
                    .count(&db)
                    .await
                    .unwrap(),
            ),
        ),
        (
            "passgate_usernames_locked",
            count(
                login_throttle::Entity::find()
                    .filter(login_throttle::Column::ThrottleKey.starts_with("user:"))
                    .filter(login_throttle::Column::LockedUntil.gt(now))
                    .count(&db)
                    .await
                    .unwrap(),
            ),
        ),
        (
            "passgate_reset_links_live",
            count(
                reset_links::Entity::find()
                    .filter(reset_links::Column::State.eq("live"))
                    .filter(reset_links::Column::Expires.gt(now))
                    .count(&db)
                    .await
                    .unwrap(),
            ),
        ),
        (
            "passgate_sessions",
            count(
                sessions::Entity::find()
                    .filter(sessions::Column::UserId.is_not_null())
                    .filter(sessions::Column::ExpiryDate.gt(now))
                    .count(&db)
                    .await
                    .unwrap(),
            ),
        ),
    ];
    let with_factor = {
        let mut ids: BTreeSet<i32> = totp_devices::Entity::find()
            .all(&db)
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.user_id)
            .collect();
        ids.extend(
            passkeys::Entity::find()
                .all(&db)
                .await
                .unwrap()
                .into_iter()
                .map(|p| p.user_id),
        );
        ids.len() as f64
    };
    for (series, in_db) in checks
        .iter()
        .chain([("passgate_users_with_second_factor", with_factor)].iter())
    {
        assert_eq!(value(&gauges, series), *in_db, "{series}");
    }
    // And what the walk left: 8 users (one disabled), carol pending with an expired password,
    // erin locked, fay and gus with a factor, hal's set-up link live, bob's browser signed in.
    assert_eq!(value(&gauges, "passgate_users"), 8.0);
    assert_eq!(value(&gauges, "passgate_users_enabled"), 7.0);
    assert_eq!(
        value(&gauges, "passgate_users_temporary_password_expired"),
        1.0
    );
    assert_eq!(value(&gauges, "passgate_usernames_locked"), 1.0);
    assert_eq!(value(&gauges, "passgate_users_with_second_factor"), 2.0);
    assert_eq!(value(&gauges, "passgate_reset_links_live"), 1.0);
    assert_eq!(value(&gauges, "passgate_sessions"), 1.0);
    assert_eq!(value(&gauges, "passgate_argon2_queue_depth"), 0.0);

    // No label carries a username, an address, a password or a token.
    let labels: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| Some(&l[l.find('{')? + 1..l.rfind('}')?]))
        .flat_map(|labels| {
            labels
                .split("\",")
                .map(|pair| pair.split_once("=\"").map_or(pair, |(_, v)| v))
        })
        .collect();
    let mut forbidden: Vec<String> = ["mx_", "admin", "127.0.0.1", "ghost"]
        .map(String::from)
        .to_vec();
    forbidden.extend(secrets);
    forbidden.extend([bob, carol, dave].map(|id| format!("/{id}")));
    for label in &labels {
        for bad in &forbidden {
            assert!(
                !label.contains(bad.as_str()),
                "a label holds {bad}: {label}"
            );
        }
    }
    // Route labels are templates only.
    for label in labels.iter().filter(|l| l.starts_with('/')) {
        assert!(
            label.split('/').all(|seg| seg.parse::<u64>().is_err()),
            "a path in a label: {label}"
        );
    }
    db.close().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_off_by_default_and_never_on_the_public_listener() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/passgate.db?mode=rwc", dir.path().display());
    let mut plain = Server::start("plain", &url, dir.path());
    plain.wait_ready().await;
    let public = try_http(plain.addr, "GET", "/metrics", &[], None)
        .await
        .unwrap();
    assert_eq!(public.status, 404);
    assert!(!public.body.contains("passgate_"));
    drop(plain);

    let metrics = free_port();
    let mut server = Server::start_with(
        "with",
        &url,
        dir.path(),
        &[("PASSGATE_METRICS_BIND", metrics.to_string())],
    );
    server.wait_ready().await;
    assert_eq!(
        try_http(server.addr, "GET", "/metrics", &[], None)
            .await
            .unwrap()
            .status,
        404
    );
    let scraped = try_http(metrics, "GET", "/metrics", &[], None)
        .await
        .unwrap();
    assert_eq!(scraped.status, 200);
    // The metrics listener serves nothing else.
    for path in ["/", "/healthz", "/login", "/api/v2"] {
        assert_eq!(
            try_http(metrics, "GET", path, &[], None)
                .await
                .unwrap()
                .status,
            404,
            "{path}"
        );
    }
}

/// The OpenID Connect relying party's side of [`openid_connect_codes_and_tokens_are_counted`].
struct Rp<'a> {
    server: &'a Server,
    client_id: String,
    secret: String,
}

const RP_REDIRECT: &str = "https://wiki.example.org/oauth2/callback";

impl Rp<'_> {
    /// A code for the user signed in to `browser`.
    async fn code(&self, browser: &mut Browser) -> String {
        let query = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", RP_REDIRECT),
            ("scope", "openid offline_access"),
            ("state", "s-1"),
        ])
        .unwrap();
        let answer = browser
            .request(
                self.server,
                "GET",
                &format!("/oauth2/authorize?{query}"),
                None,
            )
            .await;
        let location = answer.header("location").unwrap_or_default();
        let (_, query) = location
            .split_once('?')
            .unwrap_or_else(|| panic!("{}: {location}\n{}", answer.status, answer.body));
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
        pairs
            .into_iter()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v)
            .expect("a code")
    }

    /// POSTs `fields` to `path` with the client's secret (`client_secret_basic`).
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> HttpResponse {
        use base64::Engine as _;
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.client_id, self.secret));
        let authorization = format!("Basic {basic}");
        try_http(
            self.server.addr,
            "POST",
            path,
            &[("Authorization", authorization.as_str())],
            Some((
                "application/x-www-form-urlencoded",
                serde_urlencoded::to_string(fields).unwrap(),
            )),
        )
        .await
        .expect(path)
    }

    /// Exchanges `code`: the access and refresh tokens, or the refusal's status.
    async fn exchange(&self, code: &str) -> Result<(String, String), u16> {
        let fields = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", RP_REDIRECT),
        ];
        tokens_of(self.post("/oauth2/token", &fields).await)
    }

    async fn refresh(&self, refresh_token: &str) -> Result<(String, String), u16> {
        let fields = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        tokens_of(self.post("/oauth2/token", &fields).await)
    }
}

fn tokens_of(answer: HttpResponse) -> Result<(String, String), u16> {
    if answer.status != 200 {
        return Err(answer.status);
    }
    let json = answer.json();
    assert!(json["id_token"].is_string(), "{json}");
    Ok((
        json["access_token"].as_str().unwrap().to_string(),
        json["refresh_token"].as_str().unwrap().to_string(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_connect_codes_and_tokens_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let Metered {
        mut server,
        metrics,
        _pg,
        ..
    } = metrics_server("metrics-oidc", dir.path(), "http://passgate.test").await;
    let admin = first_admin(&server, server.admin_password(), STRONG_2)
        .await
        .token;
    create_user(&server, &admin, "mx_olga").await;
    let created = api(
        &server,
        "POST",
        "/api/v2/apps",
        Some(&admin),
        Some(json!({"name": "Wiki", "oidc": {"redirect_uris": [RP_REDIRECT]}})),
    )
    .await;
    let data = ok(&created);
    let rp = Rp {
        server: &server,
        client_id: data["client_id"].as_str().unwrap().to_string(),
        secret: data["client_secret"].as_str().unwrap().to_string(),
    };
    let (_, before) = scrape(metrics).await;

    // The laptop: a code, its tokens, a refresh, the new access token revoked (RFC 7009),
    // then the first refresh token reused: its family (the first access token and the
    // second refresh token, both live) is revoked.
    let mut laptop = Browser::default();
    laptop.login(&server, "mx_olga", STRONG).await;
    let code = rp.code(&mut laptop).await;
    let (_access_1, refresh_1) = rp.exchange(&code).await.expect("tokens");
    let (access_2, _refresh_2) = rp.refresh(&refresh_1).await.expect("refreshed");
    let revoked = rp
        .post("/oauth2/revoke", &[("token", access_2.as_str())])
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_eq!(rp.refresh(&refresh_1).await, Err(400), "a reuse");
    // The phone: a code redeemed, then replayed (what it gave is revoked).
    let mut phone = Browser::default();
    phone.login(&server, "mx_olga", STRONG).await;
    let code = rp.code(&mut phone).await;
    rp.exchange(&code).await.expect("tokens");
    assert_eq!(rp.exchange(&code).await, Err(400), "a replay");
    // A tablet: a code whose exchange names another redirect URI (refused, nothing issued),
    // then a second code redeemed, and the panel's sign-out ends that sign-in's grants.
    let mut tablet = Browser::default();
    tablet.login(&server, "mx_olga", STRONG).await;
    let refused = rp
        .post(
            "/oauth2/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", rp.code(&mut tablet).await.as_str()),
                ("redirect_uri", "https://wiki.example.org/elsewhere"),
            ],
        )
        .await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    let code = rp.code(&mut tablet).await;
    rp.exchange(&code).await.expect("tokens");
    tablet
        .request(&server, "GET", "/panel/sessions", None)
        .await;
    let out = tablet.request(&server, "POST", "/logout", Some(&[])).await;
    assert_eq!(out.status, 303, "{}", out.body);

    let (text, after) = scrape(metrics).await;
    let moved = |series: &str| value(&after, series) - value(&before, series);
    let expected: &[(&str, f64)] = &[
        ("passgate_oidc_issued_total{kind=\"code\"}", 4.0),
        ("passgate_oidc_issued_total{kind=\"access_token\"}", 4.0),
        ("passgate_oidc_issued_total{kind=\"refresh_token\"}", 4.0),
        ("passgate_oidc_issued_total{kind=\"id_token\"}", 4.0),
        ("passgate_oidc_refreshed_total", 1.0),
        // RFC 7009 (1), the reused refresh token's family (1), the replayed code's (1), the
        // sign-out's (1).
        ("passgate_oidc_revoked_total{kind=\"access_token\"}", 4.0),
        ("passgate_oidc_revoked_total{kind=\"refresh_token\"}", 3.0),
    ];
    let wrong: Vec<String> = expected
        .iter()
        .filter(|(series, want)| moved(series) != *want)
        .map(|(series, want)| format!("{series}: moved by {}, expected {want}", moved(series)))
        .collect();
    assert!(wrong.is_empty(), "{}\n\n{text}", wrong.join("\n"));
    for secret in [&rp.secret, &access_2, &refresh_1, &code] {
        assert!(!text.contains(secret.as_str()), "a token in the exposition");
    }
    server.stop().await;
}
