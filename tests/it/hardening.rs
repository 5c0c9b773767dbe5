//! SPEC §3a from the attacker's side: what an API key may do to its owner's account, and
//! who may skip `current_password` during a forced change.

use axum::http::StatusCode;
use passgate::accounts::credentials::ResetOptions;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::json;

use crate::helpers::*;

const ATTACKER_CHOSEN: &str = "Attacker-Chosen-Pass-991!";

async fn login(app: &TestApp, username: &str, password: &str) -> ApiResponse {
    app.api_login(username, password).await
}

/// The reported hole: a read-only monitoring key of a superuser, left in place by an admin
/// reset, tried to set a password of its choosing on the flagged account.
#[tokio::test]
async fn a_leftover_monitoring_key_cannot_take_over_a_reset_superuser() {
    let app = spawn_app().await;
    app.user("root", STRONG, true).await;
    let boss = app.user("boss2", STRONG, true).await;
    let monitor = app.api_key(&boss, &[], false).await;
    app.reset("boss2", STRONG_2, ResetOptions::default()).await;

    let patch = app
        .patch_me(&monitor, json!({"password": ATTACKER_CHOSEN}))
        .await;
    patch.assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
    // Even knowing the temporary password, a narrow key does not change the password.
    let with_current = app
        .patch_me(
            &monitor,
            json!({"password": ATTACKER_CHOSEN, "current_password": STRONG_2}),
        )
        .await;
    with_current.assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");

    login(&app, "boss2", ATTACKER_CHOSEN)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "INCORRECT_CREDENTIALS");
    let boss = app.find("boss2").await;
    assert!(boss.require_password_change, "still flagged");
    // The temporary password still works and still leads to the forced change.
    let data = login(&app, "boss2", STRONG_2).await;
    assert_eq!(data.assert_ok()["require_password_change"], true);
}

#[tokio::test]
async fn a_full_access_key_needs_the_temporary_password_to_finish_a_forced_change() {
    let app = spawn_app().await;
    app.user("root", STRONG, true).await;
    let bob = app.user("bob", STRONG, false).await;
    let key = app.api_key(&bob, &[], true).await;
    app.reset("bob", STRONG_2, ResetOptions::default()).await;

    let without = app
        .patch_me(&key, json!({"password": ATTACKER_CHOSEN}))
        .await;
    without.assert_error(StatusCode::BAD_REQUEST, "INCORRECT_CURRENT_PASSWORD");
    let wrong = app
        .patch_me(
            &key,
            json!({"password": ATTACKER_CHOSEN, "current_password": STRONG}),
        )
        .await;
    wrong.assert_error(StatusCode::BAD_REQUEST, "INCORRECT_CURRENT_PASSWORD");
    assert!(app.find("bob").await.require_password_change);

    let right = app
        .patch_me(
            &key,
            json!({"password": STRONG_3, "current_password": STRONG_2}),
        )
        .await;
    right.assert_ok();
    let bob = app.find("bob").await;
    assert!(!bob.require_password_change);
    login(&app, "bob", STRONG_3).await.assert_ok();
}

#[tokio::test]
async fn a_sign_in_with_the_temporary_password_skips_current_password() {
    let app = spawn_app().await;
    app.user("bob", STRONG, false).await;
    app.reset("bob", STRONG_2, ResetOptions::default()).await;
    let token = app.token("bob", STRONG_2).await;
    let response = app.patch_me(&token, json!({"password": STRONG_3})).await;
    let data = response.assert_ok();
    assert!(data["token"].is_string(), "a fresh token: {data}");
    login(&app, "bob", STRONG_3).await.assert_ok();
}

/// A token from a sign-in made before the flag was set (as a later "require a change at next
/// sign-in" that keeps the password would do) proves nothing about a temporary password.
#[tokio::test]
async fn a_sign_in_from_before_the_flag_must_still_give_the_current_password() {
    let app = spawn_app().await;
    let bob = app.user("bob", STRONG, false).await;
    let token = app.token("bob", STRONG).await;
    let mut flagged: passgate::entities::users::ActiveModel = app.find("bob").await.into();
    flagged.require_password_change = Set(true);
    flagged.update(&app.db).await.expect("flag");

    let without = app.patch_me(&token, json!({"password": STRONG_3})).await;
    without.assert_error(StatusCode::BAD_REQUEST, "INCORRECT_CURRENT_PASSWORD");
    let with_current = app
        .patch_me(
            &token,
            json!({"password": STRONG_3, "current_password": STRONG}),
        )
        .await;
    with_current.assert_ok();
    assert!(!app.find("bob").await.require_password_change);
    assert_ne!(app.find("bob").await.security_stamp, bob.security_stamp);
}

#[tokio::test]
async fn a_narrow_key_cannot_change_its_owners_identity_keys_or_sessions() {
    let app = spawn_app().await;
    let bob = app.user("bob", STRONG, false).await;
    let holder = app.user_with("carol", STRONG, false, None, Some(-1)).await;
    for (owner, permissions) in [(&bob, &[][..]), (&holder, &["USER_CONFIG"][..])] {
        let key = app.api_key(owner, permissions, false).await;
        let other_key = app.api_key(owner, &[], false).await;
        let other_id = other_key
            .trim_start_matches("pgk_")
            .split('_')
            .next()
            .unwrap_or_default()
            .to_string();
        let stamp = app.find(&owner.username).await.security_stamp;
        let refused = [
            (
                "PATCH",
                "/api/v2/users/@me".to_string(),
                json!({"password": ATTACKER_CHOSEN, "current_password": STRONG}),
            ),
            (
                "PATCH",
                "/api/v2/users/@me".to_string(),
                json!({"username": "taken_over"}),
            ),
            (
                "PATCH",
                "/api/v2/users/@me".to_string(),
                json!({"email": "attacker@example.com"}),
            ),
            (
                "POST",
                "/api/v2/users/@me/key".to_string(),
                json!({"name": "mine", "permissions": [], "full_access": false}),
            ),
            (
                "DELETE",
                format!("/api/v2/users/@me/key/{other_id}"),
                json!({}),
            ),
            (
                "POST",
                "/api/v2/auth/invalidate_tokens".to_string(),
                json!({}),
            ),
        ];
        for (method, path, body) in refused {
            let response = app.api(method, &path, Some(&key), Some(body.clone())).await;
            response.assert_error(StatusCode::FORBIDDEN, "ACCESS_DENIED");
        }
        let after = app.find(&owner.username).await;
        assert_eq!(after.username, owner.username);
        assert_eq!(after.email, owner.email);
        assert_eq!(after.security_stamp, stamp, "no session ended");
        let keys = app
            .api("GET", "/api/v2/users/@me/key", Some(&key), None)
            .await;
        assert_eq!(
            keys.assert_ok().as_array().map(Vec::len),
            Some(2),
            "listing still works"
        );
        // What the key may still do to its owner: the language.
        app.patch_me(&key, json!({"lang": "de"})).await.assert_ok();
    }
}

#[tokio::test]
async fn a_full_access_key_may_change_its_owners_identity_and_keys() {
    let app = spawn_app().await;
    let bob = app.user("bob", STRONG, false).await;
    let key = app.api_key(&bob, &[], true).await;
    app.patch_me(&key, json!({"email": "bob@example.com"}))
        .await
        .assert_ok();
    app.api(
        "POST",
        "/api/v2/users/@me/key",
        Some(&key),
        Some(json!({"name": "second", "permissions": [], "full_access": false})),
    )
    .await
    .assert_ok();
    app.api(
        "POST",
        "/api/v2/auth/invalidate_tokens",
        Some(&key),
        Some(json!({})),
    )
    .await
    .assert_ok();
}

// ---------------------------------------------------------------------------------------
// Item 2: `current_password` guesses count in the user's bucket.

#[tokio::test]
async fn the_sixth_wrong_current_password_through_the_api_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    app.user("bob", STRONG, false).await;
    let token = app.token("bob", STRONG).await;
    for guess in 1..=5 {
        let response = app.patch_me(&token, json!({"password": STRONG_3, "current_password": format!("Wrong-Guess-{guess}-xyz")}))
            .await;
        response.assert_error(StatusCode::BAD_REQUEST, "INCORRECT_CURRENT_PASSWORD");
    }
    let before = app.find("bob").await;
    // The sixth, even with the right password, is refused before anything is checked.
    let sixth = app
        .patch_me(
            &token,
            json!({"password": STRONG_3, "current_password": STRONG}),
        )
        .await;
    sixth.assert_error(StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_ATTEMPTS");
    assert!(sixth.headers.get("retry-after").is_some());
    let after = app.find("bob").await;
    assert_eq!(after.password, before.password, "password unchanged");
    assert_eq!(after.security_stamp, before.security_stamp);
    // The same bucket as sign-ins: the account is locked there too.
    login(&app, "bob", STRONG)
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_ATTEMPTS");
}

#[tokio::test]
async fn wrong_current_passwords_in_the_web_form_lock_the_change_too() {
    let app = spawn_app().await;
    app.user("bob", STRONG, false).await;
    let mut browser = app.client();
    browser
        .login("bob", STRONG)
        .await
        .assert_redirect("/panel/dashboard");
    browser.get("/panel/change_password").await;
    for guess in 1..=5 {
        let page = browser
            .post(
                "/panel/change_password",
                &[
                    ("current_password", &format!("Wrong-Guess-{guess}-xyz")),
                    ("new_password", STRONG_3),
                    ("confirm_password", STRONG_3),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "guess {guess}");
    }
    let page = browser
        .post(
            "/panel/change_password",
            &[
                ("current_password", STRONG),
                ("new_password", STRONG_3),
                ("confirm_password", STRONG_3),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(page.body.contains("Too many"), "said beside the field");
    assert!(
        page.body.contains("id=\"current_password\""),
        "the form is shown again"
    );
    app.client_from("10.9.9.9:1")
        .login("bob", STRONG)
        .await
        .status
        .eq(&StatusCode::TOO_MANY_REQUESTS)
        .then_some(())
        .expect("the user's bucket is locked");
}

#[tokio::test]
async fn a_right_current_password_takes_its_attempt_back() {
    let app = spawn_app().await;
    app.user("bob", STRONG, false).await;
    let token = app.token("bob", STRONG).await;
    for guess in 1..=4 {
        app.patch_me(
            &token,
            json!({"password": STRONG_3, "current_password": format!("Wrong-Guess-{guess}-xyz")}),
        )
        .await
        .assert_error(StatusCode::BAD_REQUEST, "INCORRECT_CURRENT_PASSWORD");
    }
    // A policy refusal after the right current password is no guess: not counted.
    app.patch_me(
        &token,
        json!({"password": "password", "current_password": STRONG}),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "PASSWORD_POLICY");
    let changed = app
        .patch_me(
            &token,
            json!({"password": STRONG_3, "current_password": STRONG}),
        )
        .await;
    changed.assert_ok();
}

// ---------------------------------------------------------------------------------------
// Item 3: the throttle stores no typed text; IPv6 by /64; ports in forwarded hops.

#[tokio::test]
async fn a_password_typed_as_username_is_neither_stored_nor_echoed() {
    let app = spawn_app().await;
    let typed = "My-Secret-Passphrase-42";
    let mut browser = app.client();
    browser.get("/login").await;
    let page = browser.login(typed, "whatever-else-1").await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(!page.body.contains(typed), "not echoed into the form");
    let hx = app.client().hx_login(typed, "whatever-else-1").await;
    assert!(!hx.body.contains(typed), "not echoed into the fragment");
    let rows = passgate::entities::login_throttle::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert!(!rows.is_empty(), "the attempt was counted");
    for row in &rows {
        let key = row.throttle_key.to_lowercase();
        assert!(
            !key.contains(&typed.to_lowercase()),
            "stored in clear: {key}"
        );
    }
    // Named the same way (any case, spaces around), the bucket is the same.
    let before = rows.len();
    browser
        .login(&format!("  {}  ", typed.to_uppercase()), "x-1")
        .await;
    let rows = passgate::entities::login_throttle::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), before);
    let audit = passgate::entities::audit_log::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    assert!(
        audit.iter().all(|e| !e.detail.contains(typed)
            && !e.target_name.clone().unwrap_or_default().contains(typed))
    );
}

#[tokio::test]
async fn ipv6_clients_are_counted_by_their_64_network() {
    let app = spawn_app().await;
    // Twenty failures from twenty addresses of one /64, each a different username.
    for i in 0..20 {
        let mut browser = app.client_from(&format!("[2001:db8:1:2::{:x}]:4000", i + 1));
        let page = browser
            .login(&format!("ghost_{i}"), "Wrong-Guess-Number-1")
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let mut same_net = app.client_from("[2001:db8:1:2:ffff:ffff:ffff:ffff]:4000");
    let page = same_net.login("ghost_new", "Wrong-Guess-Number-1").await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    // The next /64 is somebody else.
    app.user("alice", STRONG, false).await;
    app.client_from("[2001:db8:1:3::1]:4000")
        .login("alice", STRONG)
        .await
        .assert_redirect("/panel/dashboard");
}

#[tokio::test]
async fn forwarded_hops_with_ports_name_the_client() {
    let app = spawn_app_with(|raw| raw.trusted_proxies = Some("10.0.0.1".into())).await;
    for i in 0..20 {
        let mut browser = app.client_from("10.0.0.1:4000");
        browser.extra_headers.push((
            "x-forwarded-for".into(),
            format!("[2001:db8:7::{:x}]:{}", i + 1, 40000 + i),
        ));
        browser
            .login(&format!("ghost_{i}"), "Wrong-Guess-Number-1")
            .await;
    }
    let mut browser = app.client_from("10.0.0.1:4000");
    browser
        .extra_headers
        .push(("x-forwarded-for".into(), "[2001:db8:7::99]:443".into()));
    let page = browser.login("ghost_new", "Wrong-Guess-Number-1").await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy is not locked out.
    let mut other = app.client_from("10.0.0.1:4000");
    other
        .extra_headers
        .push(("x-forwarded-for".into(), "198.51.100.7:5678".into()));
    let page = other.login("ghost_new", "Wrong-Guess-Number-1").await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
}

// ---------------------------------------------------------------------------------------
// Item 4: the operator lifts a lock.

async fn lock_out(app: &TestApp, username: &str) {
    for i in 0..5 {
        app.client_from(&format!("10.5.0.{i}:1"))
            .login(username, "Wrong-Guess-Number-1")
            .await;
    }
    let page = app.client_from("10.5.1.1:1").login(username, STRONG).await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn cli_unlock_lifts_a_username_lock() {
    use passgate::cli::{Command, UserCommand, run_admin};
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    lock_out(&app, "alice").await;
    let config = passgate::config::Config::for_database(&app.database_url);
    let output = run_admin(
        &config,
        Command::User(UserCommand::Unlock {
            username: "Alice".into(),
        }),
    )
    .await
    .expect("unlock");
    assert_eq!(output, "unlocked 'alice'");
    app.client_from("10.5.2.1:1")
        .login("alice", STRONG)
        .await
        .assert_redirect("/panel/dashboard");
    let again = run_admin(
        &config,
        Command::User(UserCommand::Unlock {
            username: "alice".into(),
        }),
    )
    .await
    .expect("unlock");
    assert_eq!(again, "'alice' was not locked");
}

#[tokio::test]
async fn cli_reset_password_also_lifts_the_lock() {
    use passgate::cli::{Command, UserCommand, run_admin};
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    lock_out(&app, "alice").await;
    let config = passgate::config::Config::for_database(&app.database_url);
    let output = run_admin(
        &config,
        Command::User(UserCommand::ResetPassword {
            username: "alice".into(),
            expires_hours: -1,
            no_require_change: false,
            password_stdin: false,
        }),
    )
    .await
    .expect("reset");
    let password = output
        .split("temporary password: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .expect("printed")
        .to_string();
    app.client_from("10.5.2.1:1")
        .login("alice", &password)
        .await
        .assert_redirect("/panel/change_password");
}

// ---------------------------------------------------------------------------------------
// Item 5: no session row for a visitor who has not signed in.

async fn session_rows(app: &TestApp) -> usize {
    passgate::entities::sessions::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn anonymous_visitors_leave_no_session_rows() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let before = session_rows(&app).await;
    for i in 0..50 {
        let mut browser = app.client_from(&format!("10.7.0.{}:1", i % 250));
        assert_eq!(browser.get("/login").await.status, StatusCode::OK);
    }
    // Failed sign-ins, htmx or not, pages behind the gate and unknown pages: still none.
    let mut browser = app.client();
    browser.get("/login").await;
    browser.login("alice", "Wrong-Guess-Number-1").await;
    browser.hx_login("alice", "Wrong-Guess-Number-1").await;
    browser.get("/panel/dashboard").await;
    browser.get("/no/such/page").await;
    assert_eq!(session_rows(&app).await, before);
    // A sign-in makes exactly one; signing out removes it.
    browser
        .login("alice", STRONG)
        .await
        .assert_redirect("/panel/dashboard");
    assert_eq!(session_rows(&app).await, before + 1);
    browser.get("/panel/dashboard").await;
    browser.post("/logout", &[]).await;
    assert_eq!(session_rows(&app).await, before);
}

#[tokio::test]
async fn the_sign_in_form_refuses_a_missing_forged_or_foreign_csrf_token() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    // No token at all.
    let mut browser = app.client();
    browser.get("/login").await;
    let page = browser
        .post_without_csrf("/login", &[("username", "alice"), ("password", STRONG)])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // The token of the form but not the cookie (another browser's page, replayed).
    let mut victim = app.client_from("10.8.0.1:1");
    let mut attacker = app.client_from("10.8.0.2:1");
    attacker.get("/login").await;
    victim.csrf = attacker.csrf.clone();
    let page = victim
        .post("/login", &[("username", "alice"), ("password", STRONG)])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // A cookie and field both made up (equal, but not signed by the server).
    let mut forger = app.client_from("10.8.0.3:1");
    forger
        .cookies
        .insert("passgate_csrf".into(), "made-up.0000".into());
    forger.csrf = Some("made-up.0000".into());
    let page = forger
        .post("/login", &[("username", "alice"), ("password", STRONG)])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // The browser's own page and cookie: accepted; a cross-site post with them: refused.
    let mut own = app.client_from("10.8.0.4:1");
    own.get("/login").await;
    own.extra_headers
        .push(("sec-fetch-site".into(), "cross-site".into()));
    let page = own
        .post("/login", &[("username", "alice"), ("password", STRONG)])
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    own.extra_headers.clear();
    own.post("/login", &[("username", "alice"), ("password", STRONG)])
        .await
        .assert_redirect("/panel/dashboard");
    assert!(app.find("alice").await.last_login.is_some());
}

// ---------------------------------------------------------------------------------------
// Item 6: the absolute session lifetime.

/// Moves the sign-in time of `user_id`'s session `seconds` into the past, as if the user had
/// been busy all along (the idle expiry stays far away).
async fn signed_in_earlier(app: &TestApp, user_id: i32, seconds: i64) {
    use passgate::entities::sessions;
    use sea_orm::{ColumnTrait, QueryFilter};
    let row = sessions::Entity::find()
        .filter(sessions::Column::UserId.eq(user_id))
        .one(&app.db)
        .await
        .unwrap()
        .expect("session row");
    let mut data: serde_json::Value = serde_json::from_str(&row.data).unwrap();
    let signed_in_at = data["signed_in_at"].as_i64().expect("signed_in_at");
    data["signed_in_at"] = json!(signed_in_at - seconds);
    let mut active: sessions::ActiveModel = row.into();
    active.data = Set(data.to_string());
    active.update(&app.db).await.unwrap();
}

async fn session_rows_of(app: &TestApp, user_id: i32) -> usize {
    use passgate::entities::sessions;
    use sea_orm::{ColumnTrait, QueryFilter};
    sessions::Entity::find()
        .filter(sessions::Column::UserId.eq(user_id))
        .all(&app.db)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn a_busy_session_still_ends_at_its_absolute_lifetime() {
    let app = spawn_app_with(|raw| raw.session_max_hours = Some("1".into())).await;
    let alice = app.user("alice", STRONG, false).await;
    let mut browser = app.client();
    browser
        .login("alice", STRONG)
        .await
        .assert_redirect("/panel/dashboard");
    assert_eq!(browser.get("/panel/dashboard").await.status, StatusCode::OK);
    // Signed in 59 minutes ago: still within the hour.
    signed_in_earlier(&app, alice.user_id, 59 * 60).await;
    assert_eq!(browser.get("/panel/dashboard").await.status, StatusCode::OK);
    // An hour and a second: over, however busy.
    signed_in_earlier(&app, alice.user_id, 62).await;
    browser
        .get("/panel/dashboard")
        .await
        .assert_redirect("/login?ended=ended");
    assert_eq!(
        session_rows_of(&app, alice.user_id).await,
        0,
        "the ended session's row is gone"
    );
    // The session holds no end of its own: the sign-in time is the one truth.
    browser.login("alice", STRONG).await;
    let data = passgate::entities::sessions::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .expect("the new session")
        .data;
    assert!(!data.contains("ends_at"), "{data}");
}

#[tokio::test]
async fn lowering_the_session_lifetime_ends_sessions_signed_in_before_the_change() {
    // Signed in under the default (seven days): alice and carol three hours ago, bob half an
    // hour ago.
    let app = spawn_app().await;
    let mut browsers = Vec::new();
    for (name, peer, ago) in [
        ("alice", "127.0.0.1:1", 3 * 3600),
        ("carol", "127.0.0.2:1", 3 * 3600),
        ("bob", "127.0.0.3:1", 30 * 60),
    ] {
        let user = app.user(name, STRONG, false).await;
        let mut browser = app.client_from(peer);
        browser
            .login(name, STRONG)
            .await
            .assert_redirect("/panel/dashboard");
        signed_in_earlier(&app, user.user_id, ago).await;
        browsers.push((user, peer, browser.cookies.clone()));
    }
    // After an incident the administrator lowers the limit to two hours and restarts.
    let lowered = app
        .restarted_with(|config| config.session_max_lifetime = time::Duration::hours(2))
        .await;
    let [
        (alice, alice_peer, alice_cookies),
        (carol, _, carol_cookies),
        (bob, bob_peer, bob_cookies),
    ] = browsers.try_into().expect("three");
    // Alice's session is past the new limit: ended at her next page.
    let mut browser = lowered.client_from(alice_peer);
    browser.cookies = alice_cookies;
    browser
        .get("/panel/dashboard")
        .await
        .assert_redirect("/login?ended=ended");
    assert_eq!(session_rows_of(&lowered, alice.user_id).await, 0);
    // Carol's too, at her next API call with the cookie.
    let cookie = format!("passgate_session={}", carol_cookies["passgate_session"]);
    lowered
        .api_raw(
            "GET",
            "/api/v2/users/@me",
            &[("cookie", cookie.as_str())],
            Vec::new(),
        )
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "ACCESS_DENIED");
    assert_eq!(session_rows_of(&lowered, carol.user_id).await, 0);
    // Bob signed in within the new limit and stays.
    let mut browser = lowered.client_from(bob_peer);
    browser.cookies = bob_cookies;
    assert_eq!(browser.get("/panel/dashboard").await.status, StatusCode::OK);
    assert_eq!(session_rows_of(&lowered, bob.user_id).await, 1);
}

#[tokio::test]
async fn the_session_lifetime_defaults_to_seven_days() {
    let app = spawn_app().await;
    assert_eq!(
        app.state.config.session_max_lifetime,
        time::Duration::hours(168)
    );
}

// ---------------------------------------------------------------------------------------
// Item 8: a secret sent with the wrong type is not echoed.

#[tokio::test]
async fn a_wrongly_typed_secret_is_named_but_never_echoed() {
    let app = spawn_app().await;
    app.user("root", STRONG, true).await;
    let bob = app.user("bob", STRONG, false).await;
    let token = app.token("root", STRONG).await;
    let secret_number = 98765432109_i64;
    let reset = format!("/api/v2/users/{}/reset-password", bob.user_id);
    let login = "/api/v2/auth/login".to_string();
    let me = "/api/v2/users/@me".to_string();
    let users = "/api/v2/users".to_string();
    let cases = [
        (
            "POST",
            &login,
            json!({"username": "bob", "password": secret_number}),
            "password",
        ),
        (
            "POST",
            &login,
            json!({"username": "bob", "password": [secret_number]}),
            "password",
        ),
        ("PATCH", &me, json!({"password": secret_number}), "password"),
        (
            "PATCH",
            &me,
            json!({"password": STRONG_2, "current_password": secret_number}),
            "current_password",
        ),
        (
            "POST",
            &reset,
            json!({"password": secret_number}),
            "password",
        ),
        (
            "POST",
            &users,
            json!({"username": "carl", "password": secret_number}),
            "password",
        ),
        ("POST", &reset, json!({"length": "98765432109"}), "length"),
        (
            "POST",
            &users,
            json!({"username": "carl", "password": {"nested": secret_number}}),
            "password",
        ),
        (
            "POST",
            &users,
            json!({"username": "carl", "password": 98765.4321}),
            "password",
        ),
    ];
    for (method, path, body, field) in cases {
        let response = app
            .api(method, path, Some(&token), Some(body.clone()))
            .await;
        response.assert_error(StatusCode::BAD_REQUEST, "INVALID_JSON_SCHEMA");
        let text = response.json.to_string();
        assert!(!text.contains("98765"), "{method} {path} {body}: {text}");
        let message = response.json["error_data"].as_str().unwrap_or_default();
        assert!(
            message.starts_with(&format!("{field}:")),
            "names the field: {message}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Item 9: the password never equals the username, also after a rename.

#[tokio::test]
async fn a_rename_to_the_current_password_is_refused() {
    let app = spawn_app().await;
    app.user("root", STRONG, true).await;
    // A password that is also a valid username (and passes the policy for "bob").
    let bob = app.user("bob", "zq7_harbor_lantern_9", false).await;
    let root = app.token("root", STRONG).await;
    let own = app.token("bob", "zq7_harbor_lantern_9").await;
    for token in [&root, &own] {
        let path = if token == &own {
            "/api/v2/users/@me".to_string()
        } else {
            format!("/api/v2/users/{}", bob.user_id)
        };
        let response = app
            .api(
                "PATCH",
                &path,
                Some(token),
                Some(json!({"username": "ZQ7_harbor_lantern_9"})),
            )
            .await;
        response.assert_error(StatusCode::BAD_REQUEST, "PASSWORD_POLICY");
    }
    assert_eq!(app.find("bob").await.username, "bob");
    // Renamed and given a new password at once: checked against the new name.
    let both = app
        .api(
            "PATCH",
            &format!("/api/v2/users/{}", bob.user_id),
            Some(&root),
            Some(json!({"username": "new_name_bob", "password": "new_name_bob"})),
        )
        .await;
    both.assert_error(StatusCode::BAD_REQUEST, "PASSWORD_POLICY");
    // Any other name is fine.
    app.api(
        "PATCH",
        &format!("/api/v2/users/{}", bob.user_id),
        Some(&root),
        Some(json!({"username": "robert"})),
    )
    .await
    .assert_ok();
}

// ---------------------------------------------------------------------------------------
// Item 7: slow clients are cut off (a real socket against the real connection loop).

struct RealServer {
    address: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for RealServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The app served over TCP by the production connection loop, with short limits so the test
/// does not wait long (the defaults, 10 s and 30 s, are checked in `config`'s unit tests).
async fn real_server(app: &TestApp, headers_secs: u64, body_secs: u64) -> RealServer {
    let mut shared = (*app.state).clone();
    let mut config = (*shared.config).clone();
    config.timeouts = passgate::config::ClientTimeouts {
        headers: std::time::Duration::from_secs(headers_secs),
        body: std::time::Duration::from_secs(body_secs),
    };
    shared.config = std::sync::Arc::new(config);
    let router = passgate::app(passgate::state::AppState::from(shared));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(passgate::serve_connections(
        listener,
        router,
        passgate::config::ClientTimeouts {
            headers: std::time::Duration::from_secs(headers_secs),
            body: std::time::Duration::from_secs(body_secs),
        },
        async move {
            let _ = stopped.await;
        },
    ));
    RealServer {
        address,
        stop: Some(stop),
    }
}

/// Reads until the server closes the connection; what it said, if anything. Bounded by a
/// generous limit so a server that never closes fails the test instead of hanging it.
async fn read_until_closed(stream: &mut tokio::net::TcpStream) -> String {
    use tokio::io::AsyncReadExt;
    let mut received = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        stream.read_to_end(&mut received),
    )
    .await;
    assert!(read.is_ok(), "the server kept a stalled connection open");
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn a_client_that_stalls_in_its_headers_is_disconnected() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app().await;
    let server = real_server(&app, 1, 2).await;
    let mut stream = tokio::net::TcpStream::connect(server.address)
        .await
        .unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        .await
        .unwrap();
    // Never finishes the headers: the server closes the connection without an answer
    // from the app (hyper may say 408).
    let said = read_until_closed(&mut stream).await;
    assert!(
        said.is_empty() || said.starts_with("HTTP/1.1 408"),
        "{said}"
    );
    // The server is still fine for everyone else.
    let mut ok = tokio::net::TcpStream::connect(server.address)
        .await
        .unwrap();
    ok.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    assert!(read_until_closed(&mut ok).await.starts_with("HTTP/1.1 200"));
}

#[tokio::test]
async fn a_client_that_trickles_its_body_gets_408_and_changes_nothing() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let server = real_server(&app, 5, 1).await;
    let mut stream = tokio::net::TcpStream::connect(server.address)
        .await
        .unwrap();
    let body = format!(r#"{{"username":"alice","password":"{STRONG}"}}"#);
    let head = format!(
        "POST /api/v2/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // Half the body, then nothing more.
    stream.write_all(&body.as_bytes()[..10]).await.unwrap();
    let said = read_until_closed(&mut stream).await;
    assert!(said.starts_with("HTTP/1.1 408"), "{said}");
    assert!(
        said.to_ascii_lowercase().contains("connection: close"),
        "{said}"
    );
    assert!(
        app.find("alice").await.last_login.is_none(),
        "nobody signed in"
    );
}

#[tokio::test]
async fn the_web_form_asks_for_the_current_password_unless_the_sign_in_used_the_temporary_one() {
    let app = spawn_app().await;
    app.user("bob", STRONG, false).await;
    // Flagged after signing in with the real password: the form asks for it.
    let mut browser = app.client();
    browser
        .login("bob", STRONG)
        .await
        .assert_redirect("/panel/dashboard");
    let mut flagged: passgate::entities::users::ActiveModel = app.find("bob").await.into();
    flagged.require_password_change = Set(true);
    flagged.update(&app.db).await.expect("flag");
    let page = browser.get("/panel/change_password").await;
    assert!(
        page.body.contains("name=\"current_password\""),
        "asks for it"
    );
    let refused = browser
        .post(
            "/panel/change_password",
            &[("new_password", STRONG_3), ("confirm_password", STRONG_3)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        app.find("bob").await.require_password_change,
        "nothing changed"
    );
    // Signed in with a temporary password: the form does not ask.
    app.reset("bob", STRONG_2, ResetOptions::default()).await;
    let mut browser = app.client();
    browser
        .login("bob", STRONG_2)
        .await
        .assert_redirect("/panel/change_password");
    let page = browser.get("/panel/change_password").await;
    assert!(!page.body.contains("name=\"current_password\""));
    browser
        .post(
            "/panel/change_password",
            &[("new_password", STRONG_3), ("confirm_password", STRONG_3)],
        )
        .await
        .assert_redirect("/panel/dashboard");
}
