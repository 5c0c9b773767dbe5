//! Arriving with `rd` (SPEC §15.4): the walk carries it through every step — password,
//! second factor, forced change, enrolment, the app's `two_factor` — with and without
//! JavaScript, and ends at the app; a signed-in user is sent on without a password; a
//! refused user lands on the access-denied page (audited); every forged `rd` is dropped.

use axum::http::StatusCode;
use passgate::accounts::apps::Policy;
use passgate::accounts::credentials::ResetOptions;
use passgate::paths::url_encode;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::helpers::*;
use crate::sso_support::*;

const WIKI_PAGE: &str = "http://wiki.passgate.test/page?x=1";
const VAULT: &str = "http://vault.passgate.test/";

async fn with_apps() -> TestApp {
    let app = sso_app().await;
    register(
        &app,
        "Wiki",
        &["wiki.passgate.test"],
        &[],
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
    register(&app, "Old", &["old.passgate.test"], &[], Policy::Deny).await;
    app
}

fn with_rd(path: &str, rd: &str) -> String {
    format!("{path}?rd={}", url_encode(rd))
}

/// The value of the hidden `rd` field of a page, unescaped.
fn rd_in(body: &str) -> Option<String> {
    let start = body.find(r#"name="rd" value=""#)? + r#"name="rd" value=""#.len();
    let end = body[start..].find('"')? + start;
    Some(body[start..end].replace("&amp;", "&"))
}

/// RFC 4648 base32, decoded here so the test does not trust the server's encoder.
fn decode_base32(text: &str) -> Vec<u8> {
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut buffer, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for c in text.chars().filter(|c| *c != '=' && *c != ' ') {
        buffer = (buffer << 5) | alphabet.find(c).expect("base32") as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

/// The code of `base32` for the current step plus `offset` (the server accepts the current
/// step and the one before, so a code made now is still good if the step turns meanwhile).
pub(crate) fn code(base32: &str, offset: i64) -> String {
    use passgate::accounts::mfa::totp;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    totp::code_at_step(&decode_base32(base32), totp::step_at(now) + offset)
}

/// A TOTP device for `name`, set up through the API (verified with the previous step's
/// code, so the current one stays free for a sign-in); returns its secret and the recovery
/// codes.
pub(crate) async fn enrol_totp(app: &TestApp, name: &str, password: &str) -> (String, Vec<String>) {
    let token = app.token(name, password).await;
    let started = app
        .api("POST", "/api/v2/users/@me/totp", Some(&token), None)
        .await;
    let otp = started.assert_ok()["otp"].clone();
    let secret = otp["totp_secret"].as_str().unwrap().to_string();
    let id = otp["id"].as_str().unwrap();
    let verified = app
        .api(
            "POST",
            &format!("/api/v2/users/@me/totp/{id}/verify"),
            Some(&token),
            Some(serde_json::json!({"name": "phone", "totp": code(&secret, -1)})),
        )
        .await;
    let codes = verified.assert_ok()["backup_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    (secret, codes)
}

async fn allowed(app: &TestApp, browser: &Client<'_>, url: &str) -> bool {
    let answer = Ask::nginx(url).with_cookie(browser).send(app).await;
    answer.status == StatusCode::OK
}

#[tokio::test]
async fn the_sign_in_page_names_the_app_and_the_walk_ends_there() {
    let app = with_apps().await;
    app.user("alice", STRONG, false).await;
    let mut browser = app.client();
    let page = browser.get(&with_rd("/login", WIKI_PAGE)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("Sign in to continue to <strong>Wiki</strong>"),
        "{}",
        page.body
    );
    assert_eq!(rd_in(&page.body).as_deref(), Some(WIKI_PAGE));
    // German too.
    browser
        .extra_headers
        .push(("accept-language".into(), "de".into()));
    let german = browser.get(&with_rd("/login", WIKI_PAGE)).await;
    assert!(
        german
            .body
            .contains("um zu <strong>Wiki</strong> weiterzugehen"),
        "{}",
        german.body
    );
    browser.extra_headers.clear();
    let done = browser
        .post(
            "/login",
            &[
                ("username", "alice"),
                ("password", STRONG),
                ("rd", WIKI_PAGE),
            ],
        )
        .await;
    done.assert_redirect(WIKI_PAGE);
    assert!(allowed(&app, &browser, WIKI_PAGE).await);
    // A wrong password keeps the destination.
    let mut other = app.client();
    other.get(&with_rd("/login", WIKI_PAGE)).await;
    let refused = other
        .post(
            "/login",
            &[
                ("username", "alice"),
                ("password", "wrong"),
                ("rd", WIKI_PAGE),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(rd_in(&refused.body).as_deref(), Some(WIKI_PAGE));
    // The issue is audited with the app.
    let issued = passgate::entities::audit_log::Entity::find()
        .filter(passgate::entities::audit_log::Column::Action.eq("sso_session_issued"))
        .all(&app.db)
        .await
        .unwrap();
    assert!(
        issued.iter().any(|e| e.detail.contains("app=Wiki")),
        "{issued:?}"
    );
}

#[tokio::test]
async fn the_forced_change_carries_rd_with_and_without_javascript() {
    let app = with_apps().await;
    for hx in [false, true] {
        let name = if hx { "carol" } else { "bob" };
        app.user(name, STRONG, false).await;
        app.reset(name, STRONG_2, ResetOptions::default()).await;
        let mut browser = app.client();
        browser.get(&with_rd("/login", WIKI_PAGE)).await;
        let fields = [
            ("username", name),
            ("password", STRONG_2),
            ("rd", WIKI_PAGE),
        ];
        if hx {
            // In place: the change form, carrying rd.
            let swapped = browser.hx_post("/login", &fields).await;
            assert_eq!(swapped.status, StatusCode::OK);
            assert_eq!(rd_in(&swapped.body).as_deref(), Some(WIKI_PAGE));
            assert_eq!(
                swapped.header("hx-push-url"),
                Some(with_rd("/panel/change_password", WIKI_PAGE).as_str())
            );
            // Before the change, the apps are closed to the temporary password.
            assert!(!allowed(&app, &browser, WIKI_PAGE).await);
            let changed = browser
                .hx_post(
                    "/panel/change_password",
                    &[
                        ("new_password", STRONG_3),
                        ("confirm_password", STRONG_3),
                        ("rd", WIKI_PAGE),
                    ],
                )
                .await;
            assert_eq!(
                changed.header("hx-redirect"),
                Some(WIKI_PAGE),
                "{}",
                changed.body
            );
        } else {
            let to_change = browser.post("/login", &fields).await;
            to_change.assert_redirect(&with_rd("/panel/change_password", WIKI_PAGE));
            let form = browser
                .get(&with_rd("/panel/change_password", WIKI_PAGE))
                .await;
            assert_eq!(rd_in(&form.body).as_deref(), Some(WIKI_PAGE));
            // Browsers hold the form's 303 to the app against `form-action`: the app's
            // origin must be in it (http here: the test's cookies are not Secure), and
            // nothing outside the domain.
            let csp = form.header("content-security-policy").unwrap_or_default();
            let form_action = csp
                .split(';')
                .map(str::trim)
                .find(|d| d.starts_with("form-action"))
                .unwrap_or_default();
            assert_eq!(
                form_action,
                "form-action 'self' https://passgate.test:* https://*.passgate.test:* \
                 http://passgate.test:* http://*.passgate.test:*"
            );
            let changed = browser
                .post(
                    "/panel/change_password",
                    &[
                        ("new_password", STRONG_3),
                        ("confirm_password", STRONG_3),
                        ("rd", WIKI_PAGE),
                    ],
                )
                .await;
            changed.assert_redirect(WIKI_PAGE);
        }
        assert!(
            allowed(&app, &browser, WIKI_PAGE).await,
            "{name} reaches the app"
        );
    }
}

#[tokio::test]
async fn a_signed_in_user_is_sent_on_without_a_password() {
    let app = with_apps().await;
    app.user("alice", STRONG, false).await;
    let mut browser = app.client();
    browser
        .login("alice", STRONG)
        .await
        .assert_redirect("/panel/dashboard");
    // Every sign-in issues the SSO session, so the app opens at once.
    assert!(allowed(&app, &browser, WIKI_PAGE).await);
    // Without one (ended on the sessions page, say), /login?rd= issues one and sends on.
    browser.cookies.remove("passgate_sso");
    assert!(!allowed(&app, &browser, WIKI_PAGE).await);
    let sent = browser.get(&with_rd("/login", WIKI_PAGE)).await;
    sent.assert_redirect(WIKI_PAGE);
    assert!(allowed(&app, &browser, WIKI_PAGE).await);
    // A second app too.
    register(
        &app,
        "Files",
        &["files.passgate.test"],
        &[],
        Policy::OneFactor,
    )
    .await;
    assert!(allowed(&app, &browser, "http://files.passgate.test/x").await);
}

#[tokio::test]
async fn an_app_that_needs_two_factors_walks_through_enrolment_first() {
    let app = with_apps().await;
    app.user("dave", STRONG, false).await;
    let mut browser = app.client();
    browser.get(&with_rd("/login", VAULT)).await;
    let answer = browser
        .post(
            "/login",
            &[("username", "dave"), ("password", STRONG), ("rd", VAULT)],
        )
        .await;
    // No factor yet: the set-up page, carrying rd.
    let setup = with_rd("/panel/security/totp/setup", VAULT);
    answer.assert_redirect(&setup);
    let page = browser.get(&setup).await;
    assert_eq!(rd_in(&page.body).as_deref(), Some(VAULT));
    let started = browser.post("/panel/security/totp", &[("rd", VAULT)]).await;
    let shown = follow_result(&mut browser, started).await;
    assert_eq!(rd_in(&shown.body).as_deref(), Some(VAULT), "{}", shown.body);
    let secret = shown
        .body
        .split("<p class=\"secret\"><code>")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the secret is shown")
        .replace(' ', "");
    let action = shown
        .body
        .split("action=\"/panel/security/totp/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(|rest| format!("/panel/security/totp/{rest}"))
        .expect("the verify form");
    let code = code(&secret, 0);
    let verified = browser
        .post(
            &action,
            &[("name", "phone"), ("code", &code), ("rd", VAULT)],
        )
        .await;
    let codes = follow_result(&mut browser, verified).await;
    let resume = with_rd("/login", VAULT);
    assert!(
        codes
            .body
            .contains(&format!("href=\"{}\"", resume.replace('&', "&amp;"))),
        "{}",
        codes.body
    );
    // "I have stored them" goes on through the walk's resume point to the app, with a
    // session that passed the factor it just set up.
    browser.get(&resume).await.assert_redirect(VAULT);
    assert!(allowed(&app, &browser, VAULT).await);
}

#[tokio::test]
async fn a_session_without_a_second_factor_proves_one_for_an_app_that_needs_it() {
    let app = with_apps().await;
    app.user("erin", STRONG, false).await;
    let (secret, recovery_codes) = enrol_totp(&app, "erin", STRONG).await;
    let mut browser = app.client();
    browser.get(&with_rd("/login", VAULT)).await;
    let asked = browser
        .post(
            "/login",
            &[("username", "erin"), ("password", STRONG), ("rd", VAULT)],
        )
        .await;
    asked.assert_redirect(&with_rd("/login/second_factor", VAULT));
    browser.get(&with_rd("/login/second_factor", VAULT)).await;
    let proved = browser
        .post(
            "/login/second_factor",
            &[("code", &code(&secret, 0)), ("rd", VAULT)],
        )
        .await;
    proved.assert_redirect(VAULT);
    assert!(allowed(&app, &browser, VAULT).await);
    // A session that passed no second factor although its user has one: one signed in
    // before this version recorded it (the panel's and the SSO session's mark cleared).
    app.db
        .execute_unprepared(
            "UPDATE sessions SET data = replace(data, '\"second_factor\":true', '\"second_factor\":false')",
        )
        .await
        .unwrap();
    app.db
        .execute_unprepared("UPDATE sso_sessions SET second_factor = false")
        .await
        .unwrap();
    assert!(
        allowed(&app, &browser, WIKI_PAGE).await,
        "one factor is enough for the wiki"
    );
    let asked = Ask::traefik(VAULT).with_cookie(&browser).send(&app).await;
    assert_eq!(asked.status, StatusCode::FOUND);
    let step = format!("{PUBLIC}{}", with_rd("/login/second_factor", VAULT));
    assert_eq!(asked.location(), Some(step.as_str()));
    // The code page proves it for the signed-in user, and the walk ends at the vault.
    let page = browser.get(&with_rd("/login/second_factor", VAULT)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("erin"));
    assert_eq!(rd_in(&page.body).as_deref(), Some(VAULT));
    // (This step's code was spent at the sign-in: a recovery code proves it now.)
    let proved = browser
        .post(
            "/login/second_factor",
            &[("recovery_code", recovery_codes[0].as_str()), ("rd", VAULT)],
        )
        .await;
    proved.assert_redirect(VAULT);
    assert!(allowed(&app, &browser, VAULT).await);
    // Once proved, the page has nothing to ask and sends on.
    browser
        .get(&with_rd("/login/second_factor", VAULT))
        .await
        .assert_redirect(&with_rd("/login", VAULT));
}

#[tokio::test]
async fn a_refused_user_lands_on_the_access_denied_page_and_it_is_audited() {
    let app = with_apps().await;
    app.user("frank", STRONG, false).await;
    let mut browser = app.client();
    let old = "http://old.passgate.test/";
    browser.get(&with_rd("/login", old)).await;
    let answer = browser
        .post(
            "/login",
            &[("username", "frank"), ("password", STRONG), ("rd", old)],
        )
        .await;
    let denied = with_rd("/denied", old);
    answer.assert_redirect(&denied);
    let page = browser.get(&denied).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(
        page.body
            .contains("You do not have access to <strong>Old</strong>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("frank"), "who is signed in");
    assert!(
        page.body.contains("action=\"/logout\""),
        "a way to sign in as someone else"
    );
    let refused = passgate::entities::audit_log::Entity::find()
        .filter(passgate::entities::audit_log::Column::Action.eq("sso_refused"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].detail, "app=Old reason=policy");
    // The same refusal as the proxy gives it to a browser: a page of its own, styled from
    // passgate's address.
    let answer = Ask::traefik(old).with_cookie(&browser).send(&app).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(
        answer.body.contains("<strong>Old</strong>"),
        "{}",
        answer.body
    );
    assert!(
        answer.body.contains(&format!("href=\"{PUBLIC}/assets/")),
        "{}",
        answer.body
    );
    let csp = answer.header("content-security-policy").unwrap();
    assert!(csp.contains(&format!("style-src {PUBLIC}")), "{csp}");
    // A script gets the bare status.
    let answer = Ask::traefik(old)
        .with_cookie(&browser)
        .header("accept", "application/json")
        .send(&app)
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(!answer.body.contains("Old"), "{}", answer.body);
}

#[tokio::test]
async fn a_forged_rd_is_never_followed_nor_echoed() {
    let app = with_apps().await;
    app.user("gina", STRONG, false).await;
    for forged in [
        "http://evilpassgate.test/",
        "http://passgate.test.evil.com/",
        "//evil.com/",
        "javascript:alert(1)//wiki.passgate.test",
        "http://gina@wiki.passgate.test/",
        "http://wiki.passgate.test\\@evil.com/",
        "http:\\\\evil.com",
        "http://wiki.passgate.test%2F@evil.com/",
        "http://evil.com%23.passgate.test/",
        "/panel/users",
    ] {
        let mut browser = app.client();
        let page = browser.get(&with_rd("/login", forged)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(rd_in(&page.body), None, "{forged} is not carried");
        assert!(
            !page.body.contains("<script>alert"),
            "{forged} is not echoed"
        );
        assert!(!page.body.contains("evil"), "{forged} is not echoed");
        let done = browser
            .post(
                "/login",
                &[("username", "gina"), ("password", STRONG), ("rd", forged)],
            )
            .await;
        done.assert_redirect("/panel/dashboard");
        // Signed in already: still never followed.
        browser
            .get(&with_rd("/login", forged))
            .await
            .assert_redirect("/panel/dashboard");
        let dashboard = browser.get("/panel/dashboard").await;
        assert_eq!(dashboard.status, StatusCode::OK, "{forged}");
        let out = browser.post("/logout", &[("rd", forged)]).await;
        assert_eq!(
            (out.status, out.location()),
            (StatusCode::SEE_OTHER, Some("/login")),
            "{forged}"
        );
    }
}

#[tokio::test]
async fn markup_in_an_rd_inside_the_domain_is_carried_escaped_only() {
    let app = with_apps().await;
    let mut browser = app.client();
    let rd = "http://wiki.passgate.test/\"><script>alert(1)</script>";
    let page = browser.get(&with_rd("/login", rd)).await;
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    assert_eq!(
        rd_in(&page.body).as_deref(),
        Some("http://wiki.passgate.test/%22%3E%3Cscript%3Ealert(1)%3C/script%3E")
    );
}

#[tokio::test]
async fn sign_out_with_rd_confirms_then_goes_on_to_a_url_inside_the_domain() {
    let app = with_apps().await;
    app.user("hank", STRONG, false).await;
    let mut browser = app.client();
    browser.login("hank", STRONG).await;
    let page = browser.get(&with_rd("/logout", WIKI_PAGE)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("method=\"post\" action=\"/logout\""),
        "{}",
        page.body
    );
    assert_eq!(rd_in(&page.body).as_deref(), Some(WIKI_PAGE));
    assert!(
        allowed(&app, &browser, WIKI_PAGE).await,
        "a GET signs nobody out"
    );
    let out = browser.post("/logout", &[("rd", WIKI_PAGE)]).await;
    out.assert_redirect(WIKI_PAGE);
    assert!(!allowed(&app, &browser, WIKI_PAGE).await);
    assert_eq!(
        browser.get("/panel/dashboard").await.status,
        StatusCode::SEE_OTHER
    );
    // Without a valid CSRF token nothing happens.
    let mut other = app.client();
    other.login("hank", STRONG).await;
    let forged = other
        .post_without_csrf("/logout", &[("rd", WIKI_PAGE)])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(allowed(&app, &other, WIKI_PAGE).await);
}

#[tokio::test]
async fn the_sessions_page_lists_the_sso_session_and_ends_it() {
    let app = with_apps().await;
    app.user("ivy", STRONG, false).await;
    let mut browser = app.client();
    browser.login("ivy", STRONG).await;
    let page = browser.get("/panel/sessions").await;
    assert!(
        page.body.contains("Single sign-on: apps on passgate.test"),
        "{}",
        page.body
    );
    let handle = {
        let row = page
            .body
            .split("<tr>")
            .find(|row| row.contains("Single sign-on"))
            .expect("the SSO row");
        row.split("name=\"session\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("an end button on this browser's SSO session")
            .to_string()
    };
    browser
        .post("/panel/sessions/end", &[("session", &handle)])
        .await
        .assert_redirect("/panel/sessions?ended=one");
    assert!(
        !allowed(&app, &browser, WIKI_PAGE).await,
        "the apps ask again"
    );
    assert_eq!(
        browser.get("/panel/dashboard").await.status,
        StatusCode::OK,
        "the panel stays"
    );
}
