//! `passgate user …` as an operator runs it (the built binary): generated passwords meet a
//! configured minimum above 16 everywhere, policy refusals in words, `--password-stdin` from
//! a pipe and from a terminal, `unlock` of an unknown user, reset links and
//! `PASSGATE_PUBLIC_URL`.

use axum::http::StatusCode;
use passgate::accounts::credentials::{ResetOptions, ResetRequest, reset_password};
use passgate::accounts::password::Policy;
use passgate::accounts::users::{self, NewUser};
use passgate::accounts::{audit::Actor, permissions::Caller};
use serde_json::json;

use crate::helpers::*;
use crate::process::{Operator, api_login};

/// The password printed after `label` ("password: ", "temporary password: ").
fn printed_password<'a>(out: &'a str, label: &str) -> &'a str {
    out.split(label)
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no '{label}' in: {out}"))
}

#[tokio::test]
async fn a_minimum_above_sixteen_holds_for_the_first_admin_and_the_cli() {
    for min in [17usize, 40, 128] {
        let dir = tempfile::tempdir().unwrap();
        let op = Operator::new(dir.path()).env("PASSGATE_MIN_PASSWORD_LENGTH", min.to_string());
        let mut server = op.spawn_server();
        server.wait_ready().await;
        let admin = server.first_admin_password();
        assert_eq!(admin.chars().count(), min);
        assert_eq!(api_login(&server, "admin", &admin).await.status, 200);
        let out = op.run(&["user", "create", "bob"]).ok().to_string();
        assert_eq!(printed_password(&out, "password: ").chars().count(), min);
        let out = op.run(&["user", "reset-password", "bob"]).ok().to_string();
        let temporary = printed_password(&out, "temporary password: ");
        assert_eq!(temporary.chars().count(), min);
        assert_eq!(api_login(&server, "bob", temporary).await.status, 200);
    }
}

#[tokio::test]
async fn configured_minimums_get_passwords_that_meet_them() {
    let app = spawn_app().await;
    // Around the default of 16 and at both ends; every minimum from 8 to 128 is checked
    // without hashing in `password::generation`'s tests.
    for min in [8usize, 15, 16, 17, 18, 33, 64, 100, 127, 128] {
        let policy = Policy::new(min, 3).unwrap();
        let new = NewUser {
            require_mfa: false,
            username: format!("user{min}"),
            password: None,
            email: None,
            superuser: false,
            manager: None,
            lang: "en".into(),
            require_password_change: true,
            expires_hours: -1,
            enabled: true,
            permissions: Vec::new(),
            roles: Vec::new(),
            preferences: Default::default(),
            setup_link: None,
        };
        let created = users::create(
            &app.db,
            &app.state.hasher,
            &policy,
            &Actor::cli(),
            &Caller::operator(),
            new,
        )
        .await
        .unwrap_or_else(|e| panic!("create with minimum {min}: {e}"));
        let generated = created.generated.expect("a generated password");
        assert_eq!(generated.expose().chars().count(), min.max(16));
        let reset = reset_password(
            &app.db,
            &app.state.hasher,
            &policy,
            &Actor::cli(),
            &Caller::operator(),
            &created.user,
            ResetRequest {
                password: None.into(),
                options: ResetOptions::default(),
            },
        )
        .await
        .unwrap_or_else(|e| panic!("reset with minimum {min}: {e}"));
        let temporary = reset.generated.expect("a generated temporary password");
        assert_eq!(temporary.expose().chars().count(), min.max(16));
        assert_eq!(
            policy.check(&created.user.username, temporary.expose()),
            Ok(())
        );
    }
}

#[tokio::test]
async fn the_api_and_the_web_default_to_the_configured_minimum() {
    let app = spawn_app_with(|raw| raw.min_password_length = Some("20".into())).await;
    let strong = "Tidal-Marble-Orchard-47-Lantern";
    app.user("root", strong, true).await;
    let alice = app
        .user("alice", "Quiet-Lantern-Harbor-83-Violin", false)
        .await;
    let token = app.token("root", strong).await;
    let path = format!("/api/v2/users/{}/reset-password", alice.user_id);
    let reset = app.api("POST", &path, Some(&token), Some(json!({}))).await;
    let password = reset.assert_ok()["password"]
        .as_str()
        .expect("the generated password")
        .to_string();
    assert_eq!(password.chars().count(), 20);
    // A length below the minimum is refused in words naming the minimum.
    let short = app
        .api("POST", &path, Some(&token), Some(json!({"length": 16})))
        .await;
    assert_eq!(short.status, StatusCode::BAD_REQUEST);
    assert!(
        short.json.to_string().contains("from 20 to 128"),
        "{}",
        short.json
    );
    // The web's reset dialog offers 20 first and selects it; nothing shorter.
    let mut browser = signed_in_browser(&app, "root", strong, "10.9.9.9:1").await;
    let page = browser
        .get(&format!("/panel/users/{}/reset_password", alice.user_id))
        .await;
    assert!(
        page.body
            .contains(r#"<option value="20" selected>20</option>"#),
        "{}",
        page.body
    );
    assert!(!page.body.contains(r#"<option value="16""#));
}

#[test]
fn policy_refusals_are_words_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let op = Operator::new(dir.path());
    op.run(&["migrate", "up"]).ok();
    let ran = op.run_with_stdin(&["user", "create", "carol", "--password-stdin"], "short\n");
    let stderr = ran.fails(1);
    assert!(
        stderr.contains("at least 8 characters") && !stderr.contains("tooShort"),
        "{stderr}"
    );
    let ran = op.run_with_stdin(
        &["user", "create", "carol", "--password-stdin"],
        "password123\n",
    );
    assert!(ran.fails(1).contains("too common"), "{}", ran.stderr);
    assert!(!op.run(&["user", "list"]).ok().contains("carol"));
}

#[tokio::test]
async fn password_stdin_drops_trailing_spaces_and_asks_twice_without_echo_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let op = Operator::new(dir.path());
    let mut server = op.spawn_server();
    server.wait_ready().await;
    op.run_with_stdin(
        &[
            "user",
            "create",
            "carol",
            "--password-stdin",
            "--no-require-change",
        ],
        &format!("{STRONG}   \r\n"),
    )
    .ok();
    assert_eq!(api_login(&server, "carol", STRONG).await.status, 200);
    // On a terminal: asked twice, nothing typed is shown.
    let shown = op.run_on_terminal(
        &[
            "user",
            "create",
            "dave",
            "--password-stdin",
            "--no-require-change",
        ],
        &format!("{STRONG_2}\n{STRONG_2}\n"),
    );
    assert_eq!(shown.code(), 0, "{}", shown.stdout);
    assert!(shown.stdout.contains("New password:") && shown.stdout.contains("The same again:"));
    assert!(!shown.stdout.contains(STRONG_2), "echoed: {}", shown.stdout);
    assert_eq!(api_login(&server, "dave", STRONG_2).await.status, 200);
    // Two different entries: refused, nothing made.
    let shown = op.run_on_terminal(
        &["user", "create", "erin", "--password-stdin"],
        &format!("{STRONG_2}\n{STRONG_3}\n"),
    );
    assert_ne!(shown.code(), 0);
    assert!(
        shown.stdout.contains("the two passwords differ"),
        "{}",
        shown.stdout
    );
    assert!(!op.run(&["user", "list"]).ok().contains("erin"));
}

#[test]
fn unlock_of_an_unknown_user_fails() {
    let dir = tempfile::tempdir().unwrap();
    let op = Operator::new(dir.path());
    op.run(&["migrate", "up"]).ok();
    op.run(&["user", "create", "root", "--superuser"]).ok();
    let stderr = op.run(&["user", "unlock", "nobody"]).fails(1).to_string();
    assert!(stderr.contains("no user named 'nobody'"), "{stderr}");
    assert!(
        op.run(&["user", "unlock", "root"])
            .ok()
            .contains("'root' was not locked")
    );
}

#[test]
fn reset_links_use_the_public_url_and_say_when_it_is_unset() {
    let dir = tempfile::tempdir().unwrap();
    let op = Operator::new(dir.path());
    op.run(&["migrate", "up"]).ok();
    op.run(&["user", "create", "root", "--superuser"]).ok();
    let ran = op.run(&["user", "reset-link", "root"]);
    ran.ok();
    assert!(
        ran.stderr.contains("PASSGATE_PUBLIC_URL is not set"),
        "{}",
        ran.stderr
    );
    let ran = op
        .clone()
        .env("PASSGATE_PUBLIC_URL", "https://pass.example.org/")
        .run(&["user", "reset-link", "root"]);
    let link = ran.ok().lines().last().unwrap_or_default().to_string();
    assert!(
        link.starts_with("https://pass.example.org/reset/"),
        "{link}"
    );
    assert!(
        !ran.stderr.contains("PASSGATE_PUBLIC_URL"),
        "{}",
        ran.stderr
    );
}
