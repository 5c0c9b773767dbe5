//! The command line (lock-out recovery) and the first start.

use axum::http::StatusCode;
use passgate::accounts::bootstrap::ensure_admin;
use passgate::cli::{Command, UserCommand, run_admin};
use passgate::config::Config;

use crate::helpers::*;

#[tokio::test]
async fn cli_reset_password_ends_an_open_session_and_its_password_works() {
    let app = spawn_app().await;
    app.user("alice", STRONG, true).await;
    let mut browser = app.client();
    browser.login("alice", STRONG).await;
    assert_eq!(browser.get("/panel/dashboard").await.status, StatusCode::OK);

    let config = Config::for_database(&app.database_url);
    let command = Command::User(UserCommand::ResetPassword {
        username: "alice".into(),
        expires_hours: 2,
        no_require_change: false,
        password_stdin: false,
    });
    let output = run_admin(&config, command).await.expect("reset works");
    let password = output
        .split("temporary password: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .expect("the output shows the generated password")
        .to_string();
    assert_eq!(password.chars().count(), 16);

    browser
        .get("/panel/dashboard")
        .await
        .assert_redirect("/login?ended=reset");
    let user = app.find("alice").await;
    assert!(user.require_password_change);
    assert!(user.password_expires.is_some());
    let mut fresh = app.client_from("10.4.4.4:1");
    fresh
        .login("alice", &password)
        .await
        .assert_redirect("/panel/change_password");
    let audit = passgate::entities::audit_log::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    let reset = audit
        .iter()
        .find(|e| e.action == "password_reset")
        .expect("audited");
    assert_eq!(reset.actor_name.as_deref(), Some("cli"));
    assert!(
        !reset.detail.contains(&password),
        "no password in the audit log"
    );
}

#[tokio::test]
async fn cli_reset_of_unknown_user_fails_cleanly() {
    let app = spawn_app().await;
    let config = Config::for_database(&app.database_url);
    let command = Command::User(UserCommand::ResetPassword {
        username: "nobody".into(),
        expires_hours: -1,
        no_require_change: false,
        password_stdin: false,
    });
    let err = run_admin(&config, command).await.unwrap_err();
    assert!(err.to_string().contains("no user named 'nobody'"));
}

#[tokio::test]
async fn cli_lists_users_with_their_status() {
    let app = spawn_app().await;
    app.user("alice", STRONG, true).await;
    app.user("bob", STRONG_2, false).await;
    app.reset("bob", STRONG_3, Default::default()).await;
    let config = Config::for_database(&app.database_url);
    let out = run_admin(&config, Command::User(UserCommand::List))
        .await
        .unwrap();
    let bob = out.lines().find(|l| l.contains("\tbob\t")).unwrap();
    assert!(bob.contains("change pending"));
    let alice = out.lines().find(|l| l.contains("\talice\t")).unwrap();
    assert!(alice.ends_with("ok"));
}

#[tokio::test]
async fn first_start_creates_a_flagged_admin_once() {
    let app = spawn_app().await;
    let password = ensure_admin(&app.db, &app.state.hasher, &app.state.config.policy)
        .await
        .unwrap()
        .expect("an empty database gets an admin");
    assert!(
        ensure_admin(&app.db, &app.state.hasher, &app.state.config.policy)
            .await
            .unwrap()
            .is_none()
    );
    let admin = app.find("admin").await;
    assert!(admin.superuser);
    assert!(admin.require_password_change);
    assert!(admin.password_expires.is_none());
    let mut browser = app.client();
    browser
        .login("admin", password.expose())
        .await
        .assert_redirect("/panel/change_password");
    browser.get("/panel/change_password").await;
    browser
        .post(
            "/panel/change_password",
            &[("new_password", STRONG), ("confirm_password", STRONG)],
        )
        .await
        .assert_redirect("/panel/dashboard");
    let mut again = app.client_from("10.5.5.5:1");
    assert_eq!(
        again.login("admin", password.expose()).await.status,
        StatusCode::UNAUTHORIZED
    );
}

use sea_orm::EntityTrait;

/// The binary started as `cargo run --release` starts it (no PASSGATE_PUBLIC_URL, a loopback
/// bind): it prints where to open it, http://localhost:PORT, and passkeys are on there.
#[test]
fn the_first_start_prints_the_localhost_url_where_passkeys_work() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_passgate"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PASSGATE_BIND", format!("127.0.0.1:{port}"))
        .env("PASSGATE_LOG", "warn")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start passgate");
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let child = Kill(child);
    // Read the console up to the line that says it is listening (an event, not a delay).
    let (sender, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut console = Vec::new();
    let listening = loop {
        match lines.recv_timeout(std::time::Duration::from_secs(120)) {
            Ok(line) if line.contains("listening on") => break line,
            Ok(line) => console.push(line),
            Err(_) => {
                drop(child);
                let mut errors = String::new();
                stderr.read_to_string(&mut errors).ok();
                panic!("passgate did not start: {console:?}\n{errors}");
            }
        }
    };
    let url = format!("http://localhost:{port}");
    assert!(listening.contains(&format!("{url}/login")), "{listening}");
    assert!(
        console
            .iter()
            .any(|line| line.contains("Created the superuser 'admin'")),
        "{console:?}"
    );
    // The sign-in page there offers a passkey.
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET /login HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut page = String::new();
    stream.read_to_string(&mut page).unwrap();
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("data-passkey=\"login\""), "{page}");
    drop(child);
    let mut errors = String::new();
    stderr.read_to_string(&mut errors).ok();
    assert!(!errors.contains("passkeys are off"), "{errors}");
}
