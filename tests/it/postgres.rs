//! PostgreSQL only (skipped with a note unless `PASSGATE_TEST_POSTGRES_URL` is set): migrations
//! started by several instances at once, two real server processes on one database behaving
//! as one, the upgrade from the base schema, and recovery when the database goes away.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use migration::Migrator;
use migration::sea_orm_migration::MigratorTrait;
use passgate::accounts::password::Hasher;
use passgate::accounts::secret::Secret;
use passgate::config::Config;
use passgate::{AppState, app, db};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::*;
use crate::serving::*;

/// The admin URL, or `None` after printing why the test does nothing.
fn postgres(test: &str) -> Option<String> {
    let url = postgres_admin_url();
    if url.is_none() {
        eprintln!("{test}: PASSGATE_TEST_POSTGRES_URL is not set; skipped (PostgreSQL only)");
    }
    url
}

/// Every migration's name, oldest first.
fn every_migration() -> Vec<String> {
    Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect()
}

async fn applied_migrations(conn: &DatabaseConnection) -> Vec<String> {
    conn.query_all_raw(Statement::from_string(
        DbBackend::Postgres,
        "SELECT version FROM seaql_migrations ORDER BY version",
    ))
    .await
    .expect("seaql_migrations")
    .iter()
    .map(|row| row.try_get_by_index::<String>(0).unwrap())
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn instances_starting_at_once_migrate_once() {
    let Some(admin) = postgres("instances_starting_at_once_migrate_once") else {
        return;
    };
    let database = PgDatabase::create_empty(&admin).await;
    // Four instances start on the empty database at the same moment.
    let starts = (0..4).map(|_| {
        let url = database.url.clone();
        tokio::spawn(async move { db::open(&url, 2).await })
    });
    let mut pools = Vec::new();
    for start in starts {
        pools.push(
            start
                .await
                .unwrap()
                .expect("every instance starts, none trips over another's migration"),
        );
    }
    assert_eq!(applied_migrations(&pools[0]).await, every_migration());
    for pool in pools {
        pool.close().await.ok();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_starting_instance_waits_while_another_holds_the_migration_lock() {
    let Some(admin) = postgres("a_starting_instance_waits_while_another_holds_the_migration_lock")
    else {
        return;
    };
    let database = PgDatabase::create_empty(&admin).await;
    // Stand-in for an instance in the middle of migrating: it holds the lock.
    let holder = db::migrator_connection(&database.url).await.unwrap();
    holder
        .execute_unprepared(&format!(
            "SELECT pg_advisory_lock({})",
            db::MIGRATION_LOCK_KEY
        ))
        .await
        .unwrap();
    let url = database.url.clone();
    let starting = tokio::spawn(async move { db::open(&url, 2).await });
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        !starting.is_finished(),
        "the second instance must wait for the lock"
    );
    let nothing_yet = holder
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'seaql_migrations' \
             AND table_schema = current_schema()",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert_eq!(
        nothing_yet, 0,
        "it did not migrate behind the holder's back"
    );
    holder
        .execute_unprepared(&format!(
            "SELECT pg_advisory_unlock({})",
            db::MIGRATION_LOCK_KEY
        ))
        .await
        .unwrap();
    let pool = tokio::time::timeout(Duration::from_secs(20), starting)
        .await
        .expect("it proceeds once the lock is free")
        .unwrap()
        .expect("and migrates");
    assert_eq!(applied_migrations(&pool).await, every_migration());
    // The lock is free again (session locks end with the migrator's connection anyway).
    let free = holder
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT pg_try_advisory_lock({})", db::MIGRATION_LOCK_KEY),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<bool>(0)
        .unwrap();
    assert!(free);
    holder.close().await.ok();
    pool.close().await.ok();
}

#[tokio::test]
async fn base_schema_users_can_log_in_after_the_upgrade_on_postgres() {
    let Some(admin) = postgres("base_schema_users_can_log_in_after_the_upgrade_on_postgres") else {
        return;
    };
    let database = PgDatabase::create_empty(&admin).await;
    let conn = db::connect(&database.url, 1).await.unwrap();
    Migrator::up(&conn, Some(1))
        .await
        .expect("the base migration alone");
    let hash = Hasher::new(1)
        .hash(&Secret::new(STRONG.into()))
        .await
        .unwrap();
    for (name, superuser) in [("olduser", false), ("oldadmin", true)] {
        conn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO users (username, password, email, enabled, superuser, lang, created, \
             last_update, last_ip, security_stamp) \
             VALUES ($1, $2, NULL, $3, $4, 'en', '2026-01-05 10:00:00', '2026-01-05 10:00:00', '', $5)",
            [
                name.into(),
                hash.clone().into(),
                true.into(),
                superuser.into(),
                format!("stamp-{name}").into(),
            ],
        ))
        .await
        .expect("insert into the old schema");
    }
    conn.close().await.unwrap();

    let conn = db::open(&database.url, 4).await.expect("upgrade in place");
    let state = AppState::load(conn, Config::for_database(&database.url))
        .await
        .unwrap();
    let upgraded = TestApp::from_parts(
        state,
        database.url.clone(),
        app,
        tempfile::tempdir().unwrap(),
    );
    for name in ["olduser", "oldadmin"] {
        let user = upgraded.find(name).await;
        assert!(!user.require_password_change);
        assert!(user.password_expires.is_none());
        let mut browser = upgraded.client();
        browser
            .login(name, STRONG)
            .await
            .assert_redirect("/panel/dashboard");
        assert_eq!(browser.get("/panel/dashboard").await.status.as_u16(), 200);
    }
    assert_eq!(upgraded.find("olduser").await.theme, "default");
    // And back down to the base and up again on PostgreSQL, with the users kept.
    let after_base = every_migration().len() as u32 - 1;
    Migrator::down(&upgraded.db, Some(after_base))
        .await
        .expect("down to the base");
    Migrator::up(&upgraded.db, None).await.expect("up again");
    assert!(!upgraded.find("olduser").await.require_password_change);
    assert!(upgraded.find("olduser").await.hints);
    upgraded.db.clone().close().await.ok();
}

// ---------------------------------------------------------------------------------------
// Two real server processes (`crate::process`).

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_on_one_database_behave_as_one() {
    let Some(admin) = postgres("two_server_processes_on_one_database_behave_as_one") else {
        return;
    };
    let database = PgDatabase::create_empty(&admin).await;
    let dir = tempfile::tempdir().unwrap();
    // Both start at once on the empty database: one migrates, the other waits.
    let mut a = Server::start("a", &database.url, dir.path());
    let mut b = Server::start("b", &database.url, dir.path());
    a.wait_ready().await;
    b.wait_ready().await;

    // The test's own handle on the same database, to create users directly.
    let conn = db::connect(&database.url, 2).await.unwrap();
    let state = AppState::load(conn, Config::for_database(&database.url))
        .await
        .unwrap();
    let direct = TestApp::from_parts(
        state,
        database.url.clone(),
        app,
        tempfile::tempdir().unwrap(),
    );
    let alice = direct.user("alice", STRONG, true).await;
    let bob = direct.user("bob", STRONG_2, false).await;
    let admins = direct
        .state
        .db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*) FROM users WHERE username = 'admin'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert_eq!(admins, 1, "the two first starts created one admin");

    // 1. A web session made through A is valid on B.
    let mut alice_browser = Browser::default();
    let login = alice_browser.login(&a, "alice", STRONG).await;
    assert_eq!(login.status, 303, "{}", login.body);
    assert_eq!(login.header("location"), Some("/panel/dashboard"));
    let on_b = alice_browser
        .request(&b, "GET", "/panel/dashboard", None)
        .await;
    assert_eq!(on_b.status, 200, "the session from A works on B");

    // 2. Both sign and accept the same login tokens.
    let alice_token_a = api_token(&a, "alice", STRONG).await;
    let alice_token_b = api_token(&b, "alice", STRONG).await;
    for (server, token) in [(&b, &alice_token_a), (&a, &alice_token_b)] {
        let me = api(server, "GET", "/api/v2/users/@me", Some(token), None).await;
        assert_eq!(me.status, 200, "{}", me.body);
        assert_eq!(me.json()["data"]["username"], "alice");
    }

    // 3. A reset through A ends bob's session and token on B at once.
    let mut bob_browser = Browser::default();
    assert_eq!(bob_browser.login(&b, "bob", STRONG_2).await.status, 303);
    assert_eq!(
        bob_browser
            .request(&b, "GET", "/panel/dashboard", None)
            .await
            .status,
        200
    );
    let bob_token_b = api_token(&b, "bob", STRONG_2).await;
    let reset = api(
        &a,
        "POST",
        &format!("/api/v2/users/{}/reset-password", bob.user_id),
        Some(&alice_token_a),
        Some(json!({"password": STRONG_3, "require_password_change": true})),
    )
    .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    let page = bob_browser
        .request(&b, "GET", "/panel/dashboard", None)
        .await;
    assert_eq!(page.status, 303, "bob's session on B ended");
    assert_eq!(page.header("location"), Some("/login?ended=reset"));
    let me = api(&b, "GET", "/api/v2/users/@me", Some(&bob_token_b), None).await;
    assert_eq!(me.status, 401, "bob's token from B ended: {}", me.body);

    // 4. The forced change on B clears the flag A sees, and bob's new token works on A.
    let login = api_login(&b, "bob", STRONG_3).await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert_eq!(login.json()["data"]["require_password_change"], true);
    let flagged = login.json()["data"]["token"].as_str().unwrap().to_string();
    let seen_by_a = api(
        &a,
        "GET",
        &format!("/api/v2/users/{}", bob.user_id),
        Some(&alice_token_a),
        None,
    )
    .await;
    assert_eq!(seen_by_a.json()["data"]["require_password_change"], true);
    let gated = api(&a, "GET", "/api/v2/users/@me", Some(&flagged), None).await;
    assert_eq!(gated.status, 403, "the gate holds on A too: {}", gated.body);
    let new_password = "Amber-Falcon-Trellis-58";
    let changed = api(
        &b,
        "PATCH",
        "/api/v2/users/@me",
        Some(&flagged),
        Some(json!({"password": new_password, "current_password": STRONG_3})),
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let fresh = changed.json()["data"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let seen_by_a = api(
        &a,
        "GET",
        &format!("/api/v2/users/{}", bob.user_id),
        Some(&alice_token_a),
        None,
    )
    .await;
    assert_eq!(seen_by_a.status, 200, "{}", seen_by_a.body);
    assert_eq!(seen_by_a.json()["data"]["require_password_change"], false);
    assert_eq!(
        api(&a, "GET", "/api/v2/users/@me", Some(&fresh), None)
            .await
            .status,
        200
    );
    assert_eq!(
        api(&a, "GET", "/api/v2/users/@me", Some(&flagged), None)
            .await
            .status,
        401,
        "the token of the temporary password ended everywhere"
    );

    // 5. Throttling counts the failures on both: 3 on A and 2 on B lock carol on either.
    let carol = direct.user("carol", STRONG, false).await;
    for (i, server) in [&a, &b, &a, &b, &a].into_iter().enumerate() {
        let failed = api_login(server, "carol", "Wrong-Guess-Number-1").await;
        assert_eq!(failed.status, 401, "attempt {i}: {}", failed.body);
    }
    for server in [&b, &a] {
        let locked = api_login(server, "carol", STRONG).await;
        assert_eq!(locked.status, 429, "{}", locked.body);
        assert!(locked.header("retry-after").is_some());
    }
    assert!(
        direct.find("carol").await.last_login.is_none(),
        "nobody signed in"
    );
    assert_eq!(carol.username, "carol");
    assert_eq!(alice.username, "alice");

    direct.db.clone().close().await.ok();
    drop((a, b));
}

// ---------------------------------------------------------------------------------------
// The database going away and coming back.

/// A TCP forwarder in front of PostgreSQL that can cut every connection and refuse new ones
/// (as a database restart or a network failure looks to the app), then let them through
/// again. Unlike stopping the real server, it leaves the other tests running in parallel
/// alone.
struct Outage {
    addr: SocketAddr,
    down: Arc<AtomicBool>,
    cut: tokio::sync::watch::Sender<u64>,
    task: tokio::task::JoinHandle<()>,
}

impl Outage {
    async fn start(upstream: String) -> Outage {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let down = Arc::new(AtomicBool::new(false));
        let (cut, _) = tokio::sync::watch::channel(0u64);
        let task = {
            let down = down.clone();
            let cut = cut.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((mut client, _)) = listener.accept().await else {
                        continue;
                    };
                    if down.load(Ordering::SeqCst) {
                        drop(client); // refused: closed at once
                        continue;
                    }
                    let upstream = upstream.clone();
                    let mut cut = cut.subscribe();
                    tokio::spawn(async move {
                        let Ok(mut server) = TcpStream::connect(&upstream).await else {
                            return;
                        };
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                            _ = cut.changed() => {}
                        }
                    });
                }
            })
        };
        Outage {
            addr,
            down,
            cut,
            task,
        }
    }

    fn go_down(&self) {
        self.down.store(true, Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
    }

    fn come_back(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `host:port` of a PostgreSQL URL (port 5432 when absent).
fn host_port(url: &str) -> String {
    let after = url.find("://").map_or(0, |i| i + 3);
    let authority = url[after..].split(['/', '?']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or(authority);
    if host.contains(':') && !host.ends_with(']') {
        host.to_string()
    } else {
        format!("{host}:5432")
    }
}

/// The same URL with its `host:port` replaced.
fn via(url: &str, host_port: &str) -> String {
    let after = url.find("://").map_or(0, |i| i + 3);
    let end = url[after..]
        .find(['/', '?'])
        .map_or(url.len(), |i| i + after);
    let authority = &url[after..end];
    let userinfo = authority
        .rfind('@')
        .map_or(String::new(), |i| authority[..=i].to_string());
    format!("{}{userinfo}{host_port}{}", &url[..after], &url[end..])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_gives_503_and_the_app_recovers_by_itself() {
    let Some(admin) = postgres("an_unreachable_database_gives_503_and_the_app_recovers_by_itself")
    else {
        return;
    };
    let database = PgDatabase::create(&admin).await;
    let outage = Outage::start(host_port(&database.url)).await;
    let url = via(&database.url, &outage.addr.to_string());
    let mut config = Config::for_database(&url);
    config.acquire_timeout = Duration::from_secs(2);
    let conn = db::open_with(&url, config.pool()).await.unwrap();
    let state = AppState::load(conn, config).await.unwrap();
    let app = TestApp::from_parts(state, url, app, tempfile::tempdir().unwrap());
    app.user("alice", STRONG, true).await;
    let token = app.token("alice", STRONG).await;
    let mut browser = app.client();
    browser
        .login("alice", STRONG)
        .await
        .assert_redirect("/panel/dashboard");

    outage.go_down();
    let started = Instant::now();
    app.api("GET", "/api/v2/users/@me", Some(&token), None)
        .await
        .assert_error(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "DATABASE_UNAVAILABLE",
        );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "bounded by the acquire timeout"
    );
    app.api(
        "POST",
        "/api/v2/auth/login",
        None,
        Some(json!({"username": "alice", "password": STRONG})),
    )
    .await
    .assert_error(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "DATABASE_UNAVAILABLE",
    );
    // Web pages get an HTML error page. It is a 503 only once the session layer passes store
    // errors on as database errors: src/auth/session.rs (`session_error`) and
    // src/auth/session_store.rs (`backend`) turn them into strings and `Error::Internal`
    // today, so a page whose session cannot be loaded is still a 500.
    let page = browser.get("/panel/dashboard").await;
    assert!(page.status.is_server_error(), "{}", page.body);
    assert!(
        page.header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "an HTML error page"
    );
    assert_eq!(browser.get("/healthz").await.status.as_u16(), 503);

    outage.come_back();
    // No restart: the pool reconnects on its own.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let me = app
            .api("GET", "/api/v2/users/@me", Some(&token), None)
            .await;
        if me.status.is_success() {
            break;
        }
        assert!(Instant::now() < deadline, "did not recover: {}", me.json);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        browser.get("/panel/dashboard").await.status.as_u16(),
        200,
        "the web session survived the outage"
    );
    app.db.clone().close().await.ok();
}
