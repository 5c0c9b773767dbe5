//! Signing in and out on the web.

use axum::http::StatusCode;
use passgate::accounts::credentials::ResetOptions;
use sea_orm::{ActiveModelTrait, Set};

use crate::helpers::*;

#[tokio::test]
async fn correct_password_lands_on_the_dashboard() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let mut browser = app.client();
    browser
        .login("alice", STRONG)
        .await
        .assert_redirect("/panel/dashboard");
    let page = browser.get("/panel/dashboard").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("alice"));
    assert!(app.find("alice").await.last_login.is_some());
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let mut a = app.client_from("10.1.0.1:1");
    let mut b = app.client_from("10.1.0.2:1");
    let wrong = a.login("alice", "Not-The-Password-1").await;
    let unknown = b.login("nobody", "Not-The-Password-1").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("Incorrect username or password."));
    let strip = |body: &str, user: &str| {
        body.replace(csrf_in(body).unwrap().as_str(), "")
            .replace(&format!("value=\"{user}\""), "")
    };
    assert_eq!(strip(&wrong.body, "alice"), strip(&unknown.body, "nobody"));
    assert!(a.get("/panel/dashboard").await.location() == Some("/login"));
}

#[tokio::test]
async fn usernames_are_case_insensitive_at_login() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let mut browser = app.client();
    browser
        .login("ALICE", STRONG)
        .await
        .assert_redirect("/panel/dashboard");
}

#[tokio::test]
async fn expired_temp_password_is_refused_at_login() {
    let app = spawn_app().await;
    app.user("bob", STRONG, false).await;
    let user = app
        .reset(
            "bob",
            STRONG_2,
            ResetOptions {
                expires_hours: 1,
                ..Default::default()
            },
        )
        .await;
    let mut active: passgate::entities::users::ActiveModel = user.into();
    active.password_expires = Set(Some(
        passgate::accounts::clock::now() - time::Duration::minutes(1),
    ));
    active.update(&app.db).await.unwrap();

    let mut browser = app.client();
    let page = browser.login("bob", STRONG_2).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(
        page.body.contains("temporary password has expired"),
        "{}",
        page.body
    );
    // A wrong password never reveals the expiry.
    let wrong = browser
        .post(
            "/login",
            &[("username", "bob"), ("password", "Wrong-Guess-123")],
        )
        .await;
    assert!(wrong.body.contains("Incorrect username or password."));
    assert!(!wrong.body.contains("expired"));
}

#[tokio::test]
async fn temp_password_expiring_ends_an_open_session() {
    let app = spawn_app().await;
    app.user("bob", STRONG, false).await;
    app.reset(
        "bob",
        STRONG_2,
        ResetOptions {
            expires_hours: 1,
            ..Default::default()
        },
    )
    .await;
    let mut browser = app.client();
    browser
        .login("bob", STRONG_2)
        .await
        .assert_redirect("/panel/change_password");
    assert_eq!(
        browser.get("/panel/change_password").await.status,
        StatusCode::OK
    );

    let user = app.find("bob").await;
    let mut active: passgate::entities::users::ActiveModel = user.into();
    active.password_expires = Set(Some(
        passgate::accounts::clock::now() - time::Duration::seconds(1),
    ));
    active.update(&app.db).await.unwrap();

    browser
        .get("/panel/change_password")
        .await
        .assert_redirect("/login?ended=expired");
    // The session is gone for good, not just refused once.
    browser
        .get("/panel/dashboard")
        .await
        .assert_redirect("/login");
}

#[tokio::test]
async fn disabled_account_is_refused_after_a_correct_password() {
    let app = spawn_app().await;
    let user = app.user("carol", STRONG, false).await;
    let mut active: passgate::entities::users::ActiveModel = user.into();
    active.enabled = Set(false);
    if let Err(e) = active.update(&app.db).await {
        use sea_orm::ConnectionTrait;
        let rows = app.db.query_all_raw(sea_orm::Statement::from_string(app.db.get_database_backend(), "select username, typeof(require_password_change) t, typeof(enabled) e, quote(require_password_change) q from users")).await.unwrap();
        for r in rows {
            println!(
                "ROW {:?} {:?} {:?} {:?}",
                r.try_get::<String>("", "username"),
                r.try_get::<String>("", "t"),
                r.try_get::<String>("", "e"),
                r.try_get::<String>("", "q")
            );
        }
        let cols = app
            .db
            .query_all_raw(sea_orm::Statement::from_string(
                app.db.get_database_backend(),
                "select name from pragma_table_info('users')",
            ))
            .await
            .unwrap();
        for r in cols {
            println!("COL {:?}", r.try_get::<String>("", "name"));
        }
        panic!("{e}");
    }
    let mut browser = app.client();
    let page = browser.login("carol", STRONG).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("This account is disabled"));
    let wrong = browser
        .post(
            "/login",
            &[("username", "carol"), ("password", "Wrong-Guess-123")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let mut browser = app.client();
    browser.login("alice", STRONG).await;
    browser.get("/panel/dashboard").await;
    browser.post("/logout", &[]).await.assert_redirect("/login");
    browser
        .get("/panel/dashboard")
        .await
        .assert_redirect("/login");
}

#[tokio::test]
async fn htmx_login_redirects_with_hx_redirect() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let mut browser = app.client();
    let page = browser.hx_login("alice", STRONG).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.header("hx-redirect"), Some("/panel/dashboard"));
}

#[tokio::test]
async fn signed_in_visitor_of_login_page_goes_home() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    let mut browser = app.client();
    browser.login("alice", STRONG).await;
    browser
        .get("/login")
        .await
        .assert_redirect("/panel/dashboard");
}

#[tokio::test]
async fn login_page_speaks_the_browser_language() {
    let app = spawn_app().await;
    let mut browser = app.client();
    browser
        .extra_headers
        .push(("accept-language".into(), "de-DE,de;q=0.9,en;q=0.5".into()));
    let page = browser.get("/login").await;
    assert!(page.body.contains("lang=\"de\""));
    assert!(page.body.contains("Benutzername"));
    let refused = browser
        .post(
            "/login",
            &[("username", "x_y_z"), ("password", "Falsches-Passwort-1")],
        )
        .await;
    assert!(
        refused
            .body
            .contains("Benutzername oder Passwort ist falsch.")
    );
}

#[tokio::test]
async fn a_reset_committed_during_the_password_check_wins_over_the_sign_in() {
    use passgate::accounts::users::record_login;
    let app = spawn_app().await;
    // The account as the login read it, before its slow password check.
    let before = app.user("alice", STRONG, false).await;
    app.reset("alice", STRONG_2, ResetOptions::default()).await;
    // Recording the sign-in checks the stamp read before: the reset changed it.
    assert!(
        record_login(&app.db, &before, "192.0.2.1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(app.find("alice").await.last_login.is_none());
    // With the account as it is now, the sign-in is recorded and the fresh row returned.
    let now = app.find("alice").await;
    let recorded = record_login(&app.db, &now, "192.0.2.1")
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(recorded.last_ip, "192.0.2.1");
    assert!(recorded.last_login.is_some());
    assert!(recorded.require_password_change);
}

/// The `value` the username field is rendered with, and which field has the focus.
fn username_field(body: &str) -> (String, bool, bool) {
    let input = |name: &str| {
        let at = body
            .find(&format!("name=\"{name}\""))
            .unwrap_or_else(|| panic!("no {name} field in {body}"));
        let start = body[..at].rfind("<input").expect("an input");
        let end = at + body[at..].find('>').expect("end of the input");
        body[start..end].to_string()
    };
    let username = input("username");
    let value = username
        .split("value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("")
        .to_string();
    (
        value,
        username.contains("autofocus"),
        input("password").contains("autofocus"),
    )
}

#[tokio::test]
async fn a_wrong_password_keeps_a_well_formed_username_and_focuses_the_password() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    app.user("bob", STRONG, false).await;
    // With and without htmx, a known name or an unknown one (the same answer either way),
    // typed in any case and with spaces around: the name comes back in its stored form.
    for (typed, kept) in [("  Alice ", "alice"), ("nobody_2", "nobody_2")] {
        let page = app.client().login(typed, "Not-The-Password-1").await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert_eq!(username_field(&page.body), (kept.to_string(), false, true));
        let fragment = app.client().hx_login(typed, "Not-The-Password-1").await;
        assert_eq!(fragment.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            username_field(&fragment.body),
            (kept.to_string(), false, true)
        );
    }
    // The person types only the password again.
    let mut browser = app.client();
    let refused = browser.login("Bob", "Not-The-Password-1").await;
    let (kept, _, _) = username_field(&refused.body);
    assert_eq!(kept, "bob");
    browser
        .post("/login", &[("username", &kept), ("password", STRONG)])
        .await
        .assert_redirect("/panel/dashboard");
}

#[tokio::test]
async fn a_username_that_could_be_a_password_is_cleared() {
    let app = spawn_app().await;
    app.user("alice", STRONG, false).await;
    // What `user create` refuses: punctuation, spaces inside, too short or too long, letters
    // outside a-z, markup. Any of these may be a password typed into the wrong field.
    for typed in [
        "Tidal-Marble-Orchard-47",
        "correct horse",
        "x9",
        "abcdefghijklmnopqrstu",
        "jürgen",
        "<b>alice</b>",
        "alice@example.org",
    ] {
        for hx in [false, true] {
            let mut browser = app.client();
            let page = if hx {
                browser.hx_login(typed, "Not-The-Password-1").await
            } else {
                browser.login(typed, "Not-The-Password-1").await
            };
            assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{typed}");
            assert_eq!(
                username_field(&page.body),
                (String::new(), true, false),
                "{typed} (htmx: {hx})"
            );
            if typed.len() > 4 {
                assert!(!page.body.contains(typed), "{typed} echoed");
            }
        }
    }
    // A well-formed name is kept after any refusal, the lock included.
    let mut browser = app.client_from("10.9.0.1:1");
    for _ in 0..5 {
        browser.login("alice", "Not-The-Password-1").await;
    }
    let locked = browser.login("alice", "Not-The-Password-1").await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(username_field(&locked.body).0, "alice");
}
