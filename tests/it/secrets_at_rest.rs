//! No secret at rest in clear (SPEC §2, §6, §9, §10), from the side of someone who copies the
//! database: after every flow that shows a secret — before the page that shows it and after —
//! the SQLite file and its WAL, read while the server runs (on PostgreSQL: every row of every
//! table), hold none of the secrets seen so far, in clear or encoded (base32, base64 in both
//! alphabets and at every byte alignment, hex), nor any session cookie.

use aho_corasick::AhoCorasick;
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use passgate::accounts::mfa::totp;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement};
use serde_json::json;

use crate::helpers::*;

/// Every byte the database keeps: on SQLite the file, its WAL and the WAL index as they are on
/// disk now (the server still running); on PostgreSQL every row of every table, as text.
async fn stored_bytes(app: &TestApp) -> Vec<u8> {
    if app.db.get_database_backend() == DbBackend::Postgres {
        let tables = app
            .db
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema()",
            ))
            .await
            .unwrap();
        let mut all = Vec::new();
        for table in tables {
            let name: String = table.try_get_by_index(0).unwrap();
            for row in app
                .db
                .query_all_raw(Statement::from_string(
                    DbBackend::Postgres,
                    format!("SELECT t::text FROM \"{name}\" t"),
                ))
                .await
                .unwrap()
            {
                all.extend(row.try_get_by_index::<String>(0).unwrap().into_bytes());
                all.push(b'\n');
            }
        }
        return all;
    }
    let path = app
        .database_url
        .strip_prefix("sqlite://")
        .and_then(|rest| rest.split('?').next())
        .expect("a SQLite file URL");
    let mut all = std::fs::read(path).expect("the database file");
    assert!(all.len() > 4096, "a real database file, not an empty one");
    for suffix in ["-wal", "-shm"] {
        if let Ok(bytes) = std::fs::read(format!("{path}{suffix}")) {
            all.extend(bytes);
        }
    }
    all
}

/// The part of `encode(prefix ‖ secret)` that depends on the secret alone, for every length
/// of prefix that shifts the alignment: what any encoding of a larger value holding `secret`
/// contains. `bits` is the bits per character (5 for base32, 6 for base64).
fn aligned_cores(secret: &[u8], bits: usize, encode: impl Fn(&[u8]) -> String) -> Vec<String> {
    let period = if bits == 5 { 5 } else { 3 };
    (0..period)
        .map(|prefix| {
            let mut input = vec![0u8; prefix];
            input.extend_from_slice(secret);
            let encoded = encode(&input);
            let first = (8 * prefix).div_ceil(bits);
            let last = (8 * (prefix + secret.len())) / bits;
            encoded.get(first..last).unwrap_or("").to_string()
        })
        .collect()
}

/// Every form of `secret` a database could hold it in.
fn forms_of(secret: &[u8]) -> Vec<Vec<u8>> {
    let mut forms = vec![secret.to_vec()];
    forms.push(hex::encode(secret).into_bytes());
    forms.push(hex::encode_upper(secret).into_bytes());
    for core in aligned_cores(secret, 5, encode_base32) {
        forms.push(core.to_lowercase().into_bytes());
        forms.push(core.into_bytes());
    }
    for core in aligned_cores(secret, 6, |b| STANDARD.encode(b)) {
        forms.push(core.into_bytes());
    }
    for core in aligned_cores(secret, 6, |b| URL_SAFE.encode(b)) {
        forms.push(core.into_bytes());
    }
    forms
}

/// The secrets a test has seen so far, each under a name for the failure message.
#[derive(Default)]
struct Secrets {
    named: Vec<(String, Vec<u8>)>,
}

impl Secrets {
    /// A secret as it was shown (its text).
    fn text(&mut self, name: &str, value: &str) {
        assert!(
            value.len() >= 8,
            "{name}: '{value}' is too short to look for"
        );
        self.named
            .push((name.to_string(), value.as_bytes().to_vec()));
    }

    /// A secret's bytes, when what was shown is their encoding (a TOTP key in base32, a
    /// token in base64url).
    fn raw(&mut self, name: &str, value: &[u8]) {
        self.named.push((format!("{name} (bytes)"), value.to_vec()));
    }

    /// Fails naming the first secret found in the database, and where.
    async fn assert_none_stored(&self, app: &TestApp, step: &str) {
        let haystack = stored_bytes(app).await;
        let mut patterns = Vec::new();
        let mut owners = Vec::new();
        for (name, secret) in &self.named {
            for form in forms_of(secret) {
                if form.len() >= 8 {
                    patterns.push(form);
                    owners.push(name.as_str());
                }
            }
        }
        let matcher = AhoCorasick::new(&patterns).expect("patterns");
        if let Some(found) = matcher.find(&haystack) {
            let pattern = &patterns[found.pattern().as_usize()];
            panic!(
                "after {step}: {} is in the database at byte {} as {:?}",
                owners[found.pattern().as_usize()],
                found.start(),
                String::from_utf8_lossy(pattern)
            );
        }
    }
}

/// The one-time results waiting in the database.
async fn waiting(app: &TestApp) -> usize {
    passgate::entities::one_time_results::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .len()
}

fn session_of(browser: &Client<'_>, secrets: &mut Secrets, name: &str) {
    let cookie = browser.session_cookie().expect("a session cookie").clone();
    secrets.text(name, &cookie);
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(&cookie)
        .expect("a session id is base64url");
    secrets.raw(name, &bytes);
}

/// The recovery codes on a page (`XXXX-XXXX-XXXX-XXXX`).
fn codes_on(body: &str) -> Vec<String> {
    body.split("<li><code>")
        .skip(1)
        .filter_map(|rest| rest.split("</code>").next())
        .map(str::to_string)
        .collect()
}

fn note_codes(secrets: &mut Secrets, name: &str, codes: &[String]) {
    assert_eq!(codes.len(), 10, "{codes:?}");
    for code in codes {
        secrets.text(name, code);
        secrets.text(name, &code.replace('-', ""));
    }
}

#[test]
fn the_scanner_finds_a_secret_inside_any_encoding_of_a_larger_value() {
    let secret = b"Tidal-Marble-Orchard-47";
    let forms = forms_of(secret);
    for prefix in ["", "x", "xy", "xyz", "wxyz"] {
        let value = [prefix.as_bytes(), secret, b"-and-more"].concat();
        for encoded in [
            STANDARD.encode(&value),
            URL_SAFE.encode(&value),
            encode_base32(&value),
            encode_base32(&value).to_lowercase(),
            hex::encode(&value),
            hex::encode_upper(&value),
        ] {
            assert!(
                forms
                    .iter()
                    .any(|form| encoded.as_bytes().windows(form.len()).any(|w| w == form)),
                "{encoded} (prefix {prefix:?})"
            );
        }
    }
}

#[tokio::test]
async fn shown_secrets_are_never_in_the_database_before_or_after_display() {
    let app = spawn_app().await;
    let mut secrets = Secrets::default();
    // The first start's password, printed once.
    let first = passgate::accounts::bootstrap::ensure_admin(
        &app.db,
        &app.state.hasher,
        &app.state.config.policy,
    )
    .await
    .unwrap()
    .expect("an empty database gets an admin");
    secrets.text("the first admin's password", first.expose());
    app.user("root", STRONG, true).await;
    app.user("ops", STRONG, true).await;
    let bob = app.user("bob", STRONG_2, false).await;
    let mut admin = signed_in_browser(&app, "root", STRONG, "127.0.0.1:1").await;
    session_of(&admin, &mut secrets, "the administrator's session cookie");
    secrets.assert_none_stored(&app, "signing in").await;

    // 1. The reset dialog without JavaScript: Generate (a draft shown once on the form),
    //    then the reset with that password (a result shown once).
    let reset_url = format!("/panel/users/{}/reset_password", bob.user_id);
    admin.get(&reset_url).await;
    let generated = admin
        .post(
            &reset_url,
            &[
                ("intent", "generate"),
                ("length", "20"),
                ("expires_hours", "-1"),
                ("require_password_change", "true"),
            ],
        )
        .await;
    let draft_url = generated.location().expect("303 to the draft").to_string();
    assert_eq!(
        waiting(&app).await,
        2,
        "the draft and the generated password"
    );
    let draft = admin.get(&draft_url).await;
    let password = input_value(&draft.body, "reset-password").expect("the draft's password");
    secrets.text("a generated password (draft)", &password);
    secrets
        .assert_none_stored(&app, "the Generate button's draft was shown")
        .await;
    assert_eq!(waiting(&app).await, 1, "the draft is gone once shown");
    let done = admin
        .post(
            &reset_url,
            &[
                ("intent", "reset"),
                ("password", &password),
                ("length", "20"),
                ("expires_hours", "-1"),
                ("require_password_change", "true"),
            ],
        )
        .await;
    assert_eq!(
        waiting(&app).await,
        1,
        "the result waits (the draft's slot is used)"
    );
    secrets
        .assert_none_stored(&app, "a reset, before its result is shown")
        .await;
    let shown = follow_result(&mut admin, done).await;
    assert_eq!(
        input_value(&shown.body, "reset-result").as_deref(),
        Some(password.as_str())
    );
    assert_eq!(waiting(&app).await, 0, "shown, and gone");
    secrets
        .assert_none_stored(&app, "a reset's result was shown")
        .await;

    // 2. The same with htmx: Generate answers the form in place; the reset's result waits.
    let generated = admin
        .hx_post(
            &reset_url,
            &[
                ("intent", "generate"),
                ("length", "18"),
                ("expires_hours", "4"),
            ],
        )
        .await;
    let password = input_value(&generated.body, "reset-password").expect("generated in place");
    secrets.text("a generated password (htmx)", &password);
    secrets.assert_none_stored(&app, "Generate with htmx").await;
    let done = admin
        .hx_post(
            &reset_url,
            &[
                ("intent", "reset"),
                ("password", &password),
                ("length", "18"),
                ("expires_hours", "4"),
            ],
        )
        .await;
    let location: serde_json::Value =
        serde_json::from_str(done.header("hx-location").expect("HX-Location")).unwrap();
    secrets
        .assert_none_stored(&app, "an htmx reset, before its result is shown")
        .await;
    let shown = admin.hx_get(location["path"].as_str().unwrap()).await;
    assert_eq!(
        input_value(&shown.body, "reset-result").as_deref(),
        Some(password.as_str())
    );
    secrets
        .assert_none_stored(&app, "an htmx reset's result was shown")
        .await;

    // 3. A password the server generates at the reset itself.
    let done = admin
        .post(
            &reset_url,
            &[
                ("intent", "reset"),
                ("length", "16"),
                ("expires_hours", "-1"),
            ],
        )
        .await;
    secrets
        .assert_none_stored(&app, "a generated reset, before its result")
        .await;
    let shown = follow_result(&mut admin, done).await;
    let password = input_value(&shown.body, "reset-result").expect("the password");
    secrets.text("a password generated at the reset", &password);
    secrets
        .assert_none_stored(&app, "a generated reset's result was shown")
        .await;

    // 4. A reset link made in the dialog.
    let link_url = format!("/panel/users/{}/reset_link", bob.user_id);
    admin.get(&link_url).await;
    let made = admin.post(&link_url, &[("expires_hours", "6")]).await;
    secrets
        .assert_none_stored(&app, "a reset link, before it is shown")
        .await;
    let shown = follow_result(&mut admin, made).await;
    let link = input_value(&shown.body, "link-result").expect("the link");
    let token = link.rsplit('/').next().unwrap().to_string();
    secrets.text("a reset link's token", &token);
    secrets.raw(
        "a reset link's token",
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&token)
            .unwrap(),
    );
    secrets
        .assert_none_stored(&app, "a reset link was shown")
        .await;

    // 5. A new user: Generate without JavaScript, then the account with that password.
    admin.get("/panel/users/new").await;
    let drafted = admin
        .post(
            "/panel/users/new",
            &[
                ("username", "carol"),
                ("length", "22"),
                ("require_password_change", "true"),
                ("expires_hours", "-1"),
                ("intent", "generate"),
            ],
        )
        .await;
    let draft_url = drafted.location().expect("303 to the draft").to_string();
    secrets
        .assert_none_stored(&app, "the new-user form's draft, before it is shown")
        .await;
    let draft = admin.get(&draft_url).await;
    let password = input_value(&draft.body, "password").expect("the draft's password");
    secrets.text("a new user's generated password", &password);
    secrets
        .assert_none_stored(&app, "the new-user form's draft was shown")
        .await;
    let created = admin
        .post(
            "/panel/users/new",
            &[
                ("username", "carol"),
                ("length", "22"),
                ("require_password_change", "true"),
                ("expires_hours", "-1"),
                ("password", &password),
                ("intent", "save"),
            ],
        )
        .await;
    secrets
        .assert_none_stored(&app, "a new user, before the result")
        .await;
    let shown = follow_result(&mut admin, created).await;
    assert_eq!(
        input_value(&shown.body, "created-password").as_deref(),
        Some(password.as_str())
    );
    secrets
        .assert_none_stored(&app, "a new user's password was shown")
        .await;

    // 6. A new user with a set-up link instead of a password.
    let created = admin
        .post(
            "/panel/users/new",
            &[
                ("username", "dave"),
                ("length", "16"),
                ("expires_hours", "-1"),
                ("setup_link", "true"),
                ("intent", "save"),
            ],
        )
        .await;
    secrets
        .assert_none_stored(&app, "a set-up link, before it is shown")
        .await;
    let shown = follow_result(&mut admin, created).await;
    let link = input_value(&shown.body, "link-result").expect("the set-up link");
    let token = link.rsplit('/').next().unwrap().to_string();
    secrets.text("a set-up link's token", &token);
    secrets
        .assert_none_stored(&app, "a set-up link was shown")
        .await;

    // 7. An authenticator without JavaScript: its key, then the recovery codes, each shown
    //    once; then new codes.
    let started = admin.post("/panel/security/totp", &[]).await;
    secrets
        .assert_none_stored(&app, "an enrolment, before its key is shown")
        .await;
    let page = admin.get(started.location().expect("to the key")).await;
    let key_bytes = crate::mfa::secret_on_page(&page.body).expect("the key as text");
    let key = encode_base32(&key_bytes);
    secrets.text("a TOTP key (base32)", &key);
    secrets.raw("a TOTP key", &key_bytes);
    secrets
        .assert_none_stored(&app, "an enrolment's key was shown")
        .await;
    let action = page
        .body
        .split("action=\"")
        .map(|rest| rest.split('"').next().unwrap_or(""))
        .find(|a| a.ends_with("/verify"))
        .expect("the verify form")
        .to_string();
    // The previous step's code enrols (the skew allows it), so the current one is left for
    // the renewal below (a step is accepted once).
    let step = crate::mfa::stable_step().await;
    let verified = admin
        .post(
            &action,
            &[
                ("name", "Phone"),
                ("code", &totp::code_at_step(&key_bytes, step - 1)),
            ],
        )
        .await;
    assert_eq!(verified.status, StatusCode::SEE_OTHER, "{}", verified.body);
    session_of(&admin, &mut secrets, "the session cookie after enrolment");
    secrets
        .assert_none_stored(&app, "recovery codes, before they are shown")
        .await;
    let codes = admin.get(verified.location().expect("to the codes")).await;
    note_codes(&mut secrets, "a recovery code", &codes_on(&codes.body));
    secrets
        .assert_none_stored(&app, "recovery codes were shown")
        .await;
    admin.get("/panel/security").await;
    let renewed = admin
        .post(
            "/panel/security/totp/renew",
            &[("code", &totp::code_at_step(&key_bytes, step))],
        )
        .await;
    assert_eq!(renewed.status, StatusCode::SEE_OTHER, "{}", renewed.body);
    session_of(&admin, &mut secrets, "the session cookie after renewal");
    secrets
        .assert_none_stored(&app, "renewed codes, before they are shown")
        .await;
    let codes = admin.get(renewed.location().expect("to the codes")).await;
    note_codes(
        &mut secrets,
        "a renewed recovery code",
        &codes_on(&codes.body),
    );
    secrets
        .assert_none_stored(&app, "renewed codes were shown")
        .await;

    // 8. The API shows secrets in its answers only: a generated password, a key, a link, an
    //    enrolment's key.
    let erin = app.user("erin", STRONG_3, false).await;
    let token = app.token("erin", STRONG_3).await;
    secrets.text("a login token", &token);
    let bobs_key = app
        .api(
            "POST",
            "/api/v2/users/@me/key",
            Some(&token),
            Some(json!({"name": "script"})),
        )
        .await;
    secrets.text(
        "an API key",
        bobs_key.assert_ok()["token"].as_str().expect("the key"),
    );
    let enrolment = app
        .api("POST", "/api/v2/users/@me/totp", Some(&token), None)
        .await;
    let key = enrolment.assert_ok()["otp"]["totp_secret"]
        .as_str()
        .unwrap()
        .to_string();
    secrets.text("a TOTP key started through the API", &key);
    secrets.raw("a TOTP key started through the API", &decode_base32(&key));
    let root = app.token("ops", STRONG).await;
    let reset = app
        .api(
            "POST",
            &format!("/api/v2/users/{}/reset-password", erin.user_id),
            Some(&root),
            Some(json!({})),
        )
        .await;
    secrets.text(
        "a password generated through the API",
        reset.assert_ok()["password"].as_str().unwrap(),
    );
    let link = app
        .api(
            "POST",
            &format!("/api/v2/users/{}/reset-link", erin.user_id),
            Some(&root),
            Some(json!({})),
        )
        .await;
    let url = link.assert_ok()["url"].as_str().unwrap().to_string();
    secrets.text(
        "a reset link made through the API",
        url.rsplit('/').next().unwrap(),
    );
    secrets.assert_none_stored(&app, "the API's secrets").await;

    // 9. An OpenID Connect client's secret, made in the panel and shown once (SPEC §16), and
    //    the one made anew after the confirmation.
    admin.get("/panel/apps/new").await;
    let client = [
        ("name", "Wiki"),
        ("policy", "one_factor"),
        ("oidc", "on"),
        ("client_type", "confidential"),
        ("redirect_uris", "https://wiki.example.org/cb"),
        ("alg", "RS256"),
    ];
    let made = admin.post("/panel/apps/new", &client).await;
    assert_eq!(waiting(&app).await, 1, "the secret waits, sealed");
    let shown = follow_result(&mut admin, made).await;
    secrets.text(
        "a client secret made in the panel",
        &input_value(&shown.body, "client-secret").expect("the client secret"),
    );
    let id = passgate::accounts::apps::get_by_name(
        &app.db,
        &passgate::accounts::permissions::Caller::operator(),
        "Wiki",
    )
    .await
    .unwrap()
    .app_id;
    admin.get(&format!("/panel/apps/{id}/secret")).await;
    let renewed = admin.post(&format!("/panel/apps/{id}/secret"), &[]).await;
    let shown = follow_result(&mut admin, renewed).await;
    secrets.text(
        "a client secret made anew in the panel",
        &input_value(&shown.body, "client-secret").expect("the new client secret"),
    );
    secrets
        .assert_none_stored(&app, "client secrets were shown")
        .await;
    assert_eq!(waiting(&app).await, 0, "every result was shown and is gone");
}

/// The fields of a reset whose password the server generates.
const GENERATED_RESET: [(&str, &str); 3] = [
    ("intent", "reset"),
    ("length", "16"),
    ("expires_hours", "-1"),
];

fn reset_url(user: &passgate::entities::users::Model) -> String {
    format!("/panel/users/{}/reset_password", user.user_id)
}

/// `root`, a superuser, signed in from 127.0.0.1, and `bob`, whom root may reset.
async fn root_and_bob(app: &TestApp) -> (Client<'_>, passgate::entities::users::Model) {
    app.user("root", STRONG, true).await;
    let bob = app.user("bob", STRONG_2, false).await;
    let mut admin = signed_in_browser(app, "root", STRONG, "127.0.0.1:1").await;
    admin.get(&reset_url(&bob)).await;
    (admin, bob)
}

/// A reset of `user` by `admin`: where its result waits.
async fn reset_waiting(admin: &mut Client<'_>, user: &passgate::entities::users::Model) -> String {
    let done = admin.post(&reset_url(user), &GENERATED_RESET).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    done.location().expect("to the result").to_string()
}

#[tokio::test]
async fn a_result_is_shown_only_to_the_session_that_made_it() {
    let app = spawn_app().await;
    let (mut admin, bob) = root_and_bob(&app).await;
    app.user("other", STRONG, true).await;
    let result = reset_waiting(&mut admin, &bob).await;
    // The same administrator in another browser, and another administrator: nothing.
    let mut elsewhere = signed_in_browser(&app, "root", STRONG, "127.0.0.2:1").await;
    let mut other = signed_in_browser(&app, "other", STRONG, "127.0.0.3:1").await;
    for browser in [&mut elsewhere, &mut other] {
        let page = browser.get(&result).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(input_value(&page.body, "reset-result").is_none());
    }
    // A form's remembered password is not a result: its slot cannot be asked for by URL.
    let generated = admin
        .hx_post(
            &reset_url(&bob),
            &[
                ("intent", "generate"),
                ("length", "16"),
                ("expires_hours", "-1"),
            ],
        )
        .await;
    assert_eq!(generated.status, StatusCode::OK);
    for slot in [
        format!("slot:generated:reset:{}", bob.user_id),
        format!("generated:reset:{}", bob.user_id),
    ] {
        let page = admin.get(&format!("/panel/result/{slot}")).await;
        assert_eq!(page.status, StatusCode::OK, "{slot}: {}", page.body);
        assert!(page.body.contains("Already shown"), "{slot}");
    }
    // Its own session sees it, once.
    let page = admin.get(&result).await;
    assert!(input_value(&page.body, "reset-result").is_some());
    let again = admin.get(&result).await;
    assert!(input_value(&again.body, "reset-result").is_none());
    // Another user signing in over this browser's session does not inherit what waits there.
    let result = reset_waiting(&mut admin, &bob).await;
    admin.get("/login").await;
    admin
        .post("/login", &[("username", "other"), ("password", STRONG)])
        .await
        .assert_redirect("/panel/dashboard");
    let page = admin.get(&result).await;
    assert!(page.body.contains("other"), "signed in as the other user");
    assert!(input_value(&page.body, "reset-result").is_none());
}

#[tokio::test]
async fn two_tabs_of_one_session_keep_both_results() {
    let app = spawn_app().await;
    let (mut admin, bob) = root_and_bob(&app).await;
    let carol = app.user("carol", STRONG_3, false).await;
    // Both resets answered at once, from two tabs of the same session (before, the later
    // save of the whole session dropped the other's result).
    let tab = || {
        let mut tab = app.client_from("127.0.0.1:1");
        tab.cookies = admin.cookies.clone();
        tab.csrf = admin.csrf.clone();
        tab
    };
    let (mut tab_a, mut tab_b) = (tab(), tab());
    let (url_a, url_b) = (reset_url(&bob), reset_url(&carol));
    let (a, b) = tokio::join!(
        tab_a.post(&url_a, &GENERATED_RESET),
        tab_b.post(&url_b, &GENERATED_RESET)
    );
    for done in [a, b] {
        let shown = follow_result(&mut admin, done).await;
        assert!(
            input_value(&shown.body, "reset-result").is_some(),
            "each tab's result is there: {}",
            shown.body
        );
    }
}

#[tokio::test]
async fn signing_out_forgets_what_was_not_shown() {
    let app = spawn_app().await;
    let (mut admin, bob) = root_and_bob(&app).await;
    reset_waiting(&mut admin, &bob).await;
    assert_eq!(waiting(&app).await, 1);
    admin.post("/logout", &[]).await;
    assert_eq!(waiting(&app).await, 0);
}

#[tokio::test]
async fn deleted_content_does_not_linger_in_the_database_file() {
    let app = spawn_app().await;
    if app.db.get_database_backend() != DbBackend::Sqlite {
        return; // PostgreSQL keeps no free space an outsider reads; nothing to check there.
    }
    app.user("root", STRONG, true).await;
    let marker = "lingering-marker-3e9b1c@example.org";
    let gone = app.user("gone", STRONG_2, false).await;
    app.db
        .execute_unprepared(&format!(
            "UPDATE users SET email = '{marker}' WHERE user_id = {}",
            gone.user_id
        ))
        .await
        .unwrap();
    let root = app.token("root", STRONG).await;
    app.api(
        "DELETE",
        &format!("/api/v2/users/{}", gone.user_id),
        Some(&root),
        None,
    )
    .await
    .assert_ok();
    // Everything written back into the file, the WAL emptied: only the file is left to read.
    app.db
        .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
        .await
        .unwrap();
    let bytes = stored_bytes(&app).await;
    assert!(
        !bytes
            .windows(marker.len())
            .any(|window| window == marker.as_bytes()),
        "a deleted row's bytes are still in the file"
    );
}
