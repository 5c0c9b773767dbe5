//! Upgrading a database created before the temporary-password feature.

use axum::http::StatusCode;
use migration::Migrator;
use migration::sea_orm_migration::MigratorTrait;
use passgate::accounts::password::Hasher;
use passgate::accounts::secret::Secret;
use passgate::config::Config;
use passgate::{AppState, app, db};
use sea_orm::{ConnectionTrait, Statement};

#[tokio::test]
async fn base_schema_users_can_log_in_after_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/old.db?mode=rwc", dir.path().display());
    let conn = db::connect(&url, 2).await.unwrap();
    Migrator::up(&conn, Some(1))
        .await
        .expect("the base migration alone");
    let hasher = Hasher::new(1);
    let hash = hasher
        .hash(&Secret::new(crate::helpers::STRONG.into()))
        .await
        .unwrap();
    for (name, superuser) in [("olduser", false), ("oldadmin", true)] {
        conn.execute_raw(Statement::from_sql_and_values(
            conn.get_database_backend(),
            "INSERT INTO users (username, password, email, enabled, superuser, lang, created, last_update, last_ip, security_stamp) \
             VALUES (?, ?, NULL, ?, ?, 'en', '2026-01-05 10:00:00', '2026-01-05 10:00:00', '', ?)",
            [name.into(), hash.clone().into(), true.into(), superuser.into(), format!("stamp-{name}").into()],
        ))
        .await
        .expect("insert into the old schema");
    }
    // The new columns do not exist yet.
    assert!(
        conn.execute_unprepared("SELECT require_password_change FROM users")
            .await
            .is_err()
    );

    conn.close().await.unwrap();
    let conn = db::open(&url, 4).await.expect("upgrade in place");
    let state = AppState::load(conn.clone(), Config::for_database(&url))
        .await
        .unwrap();
    let upgraded = crate::helpers::TestApp::from_parts(state, url, app, dir);
    for name in ["olduser", "oldadmin"] {
        let user = upgraded.find(name).await;
        assert!(!user.require_password_change);
        assert!(user.password_expires.is_none());
        // Crafty's preferences start at Crafty's defaults.
        assert_eq!(user.theme, "default");
        assert!(user.hints);
        let mut browser = upgraded.client();
        browser
            .login(name, crate::helpers::STRONG)
            .await
            .assert_redirect("/panel/dashboard");
        assert_eq!(browser.get("/panel/dashboard").await.status, StatusCode::OK);
    }
}

#[tokio::test]
async fn every_migration_rolls_back_and_forward() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/roll.db?mode=rwc", dir.path().display());
    let conn = db::connect(&url, 1).await.unwrap();
    Migrator::up(&conn, None).await.unwrap();
    Migrator::down(&conn, Some(1))
        .await
        .expect("overview_speed down");
    assert!(
        conn.execute_unprepared("SELECT 1 FROM viewer_activity_days")
            .await
            .is_err()
    );
    Migrator::down(&conn, Some(1))
        .await
        .expect("session_id_hashes down");
    Migrator::down(&conn, Some(1))
        .await
        .expect("one_time_results down");
    assert!(
        conn.execute_unprepared("SELECT 1 FROM one_time_results")
            .await
            .is_err()
    );
    Migrator::down(&conn, Some(1)).await.expect("overview down");
    for gone in [
        "SELECT 1 FROM activity_days",
        "SELECT 1 FROM app_sign_ins",
        "SELECT app_id FROM audit_log",
        "SELECT user_id FROM login_throttle",
    ] {
        assert!(conn.execute_unprepared(gone).await.is_err(), "{gone}");
    }
    Migrator::down(&conn, Some(1))
        .await
        .expect("passkey_handles down");
    for gone in [
        "SELECT passkey_handle FROM users",
        "SELECT discoverable FROM passkeys",
    ] {
        assert!(conn.execute_unprepared(gone).await.is_err(), "{gone}");
    }
    assert!(
        conn.execute_unprepared("SELECT disable_password_auth FROM users")
            .await
            .is_ok()
    );
    Migrator::down(&conn, Some(1)).await.expect("oidc down");
    for gone in [
        "SELECT 1 FROM oidc_keys",
        "SELECT 1 FROM oidc_clients",
        "SELECT 1 FROM oidc_subjects",
        "SELECT 1 FROM oidc_grants",
        "SELECT 1 FROM oidc_tokens",
    ] {
        assert!(conn.execute_unprepared(gone).await.is_err(), "{gone}");
    }
    conn.execute_unprepared("SELECT 1 FROM apps")
        .await
        .expect("the apps stay");
    Migrator::down(&conn, Some(1)).await.expect("apps down");
    for gone in [
        "SELECT 1 FROM apps",
        "SELECT 1 FROM app_hosts",
        "SELECT 1 FROM app_public_paths",
        "SELECT 1 FROM app_roles",
        "SELECT 1 FROM sso_sessions",
    ] {
        assert!(conn.execute_unprepared(gone).await.is_err(), "{gone}");
    }
    Migrator::down(&conn, Some(1)).await.expect("roles down");
    for gone in ["SELECT 1 FROM roles", "SELECT 1 FROM user_roles"] {
        assert!(conn.execute_unprepared(gone).await.is_err(), "{gone}");
    }
    Migrator::down(&conn, Some(1))
        .await
        .expect("session_details down");
    for gone in [
        "SELECT signed_in_at FROM sessions",
        "SELECT browser FROM sessions",
    ] {
        assert!(conn.execute_unprepared(gone).await.is_err(), "{gone}");
    }
    assert!(
        conn.execute_unprepared("SELECT expiry_date FROM sessions")
            .await
            .is_ok()
    );
    Migrator::down(&conn, Some(1)).await.expect("passkeys down");
    for gone in [
        "SELECT disable_password_auth FROM users",
        "SELECT 1 FROM passkeys",
        "SELECT 1 FROM webauthn_ceremonies",
    ] {
        assert!(conn.execute_unprepared(gone).await.is_err(), "{gone}");
    }
    Migrator::down(&conn, Some(1))
        .await
        .expect("reset_links down");
    assert!(
        conn.execute_unprepared("SELECT 1 FROM reset_links")
            .await
            .is_err()
    );
    Migrator::down(&conn, Some(1)).await.expect("mfa down");
    for gone in [
        "SELECT require_mfa FROM users",
        "SELECT 1 FROM totp_devices",
    ] {
        assert!(conn.execute_unprepared(gone).await.is_err(), "{gone}");
    }
    assert!(
        conn.execute_unprepared("SELECT password_expires FROM users")
            .await
            .is_ok()
    );
    Migrator::down(&conn, Some(1))
        .await
        .expect("crafty_preferences down");
    assert!(
        conn.execute_unprepared("SELECT theme FROM users")
            .await
            .is_err()
    );
    assert!(
        conn.execute_unprepared("SELECT password_expires FROM users")
            .await
            .is_ok()
    );
    Migrator::down(&conn, Some(1))
        .await
        .expect("temp_password down");
    assert!(
        conn.execute_unprepared("SELECT password_expires FROM users")
            .await
            .is_err()
    );
    assert!(
        conn.execute_unprepared("SELECT security_stamp FROM users")
            .await
            .is_ok()
    );
    Migrator::down(&conn, None).await.expect("base down");
    assert!(
        conn.execute_unprepared("SELECT 1 FROM users")
            .await
            .is_err()
    );
    Migrator::up(&conn, None).await.expect("up again");
    assert!(
        conn.execute_unprepared(
            "SELECT password_expires, dashboard_columns, require_mfa FROM users"
        )
        .await
        .is_ok()
    );
    assert!(
        conn.execute_unprepared("SELECT state FROM reset_links")
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_session_signed_in_before_the_upgrade_stays_signed_in_and_loses_its_clear_results() {
    use passgate::accounts::sessions::stored_id;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/old.db?mode=rwc", dir.path().display());
    let conn = db::connect(&url, 2).await.unwrap();
    let before_hashing = Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261206_000006_one_time_results")
        .expect("the migration") as u32;
    Migrator::up(&conn, Some(before_hashing))
        .await
        .expect("the schema before session ids were hashed");
    let hash = Hasher::new(1)
        .hash(&Secret::new(crate::helpers::STRONG.into()))
        .await
        .unwrap();
    conn.execute_raw(Statement::from_sql_and_values(
        conn.get_database_backend(),
        "INSERT INTO users (username, password, enabled, superuser, lang, created, last_update, \
         last_ip, security_stamp) VALUES ('alice', ?, TRUE, FALSE, 'en', '2026-01-05 10:00:00', \
         '2026-01-05 10:00:00', '', 'stamp-alice')",
        [hash.into()],
    ))
    .await
    .unwrap();
    // A session as the old store wrote it: the cookie's id in clear, a result in clear.
    let cookie = tower_sessions::session::Id::default().to_string();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let data = serde_json::json!({
        "user_id": 1,
        "stamp": "stamp-alice",
        "signed_in_at": now,
        "ends_at": now + 3600,
        "one_time": {"r1": [1, {"kind": "reset", "password": "Clear-Text-Password-9"}]},
    });
    conn.execute_raw(Statement::from_sql_and_values(
        conn.get_database_backend(),
        "INSERT INTO sessions (id, user_id, data, expiry_date) VALUES (?, 1, ?, '2999-01-01 00:00:00')",
        [cookie.clone().into(), data.to_string().into()],
    ))
    .await
    .unwrap();
    conn.close().await.unwrap();

    let conn = db::open(&url, 2).await.expect("upgrade in place");
    let state = AppState::load(conn.clone(), Config::for_database(&url))
        .await
        .unwrap();
    let upgraded = crate::helpers::TestApp::from_parts(state, url, app, dir);
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT id, data FROM sessions",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let id: String = rows[0].try_get("", "id").unwrap();
    let stored: String = rows[0].try_get("", "data").unwrap();
    assert_eq!(id, stored_id(&cookie), "kept under the hash of its id");
    assert!(!stored.contains("Clear-Text-Password-9"), "{stored}");
    let mut browser = upgraded.client();
    browser
        .cookies
        .insert("passgate_session".into(), cookie.clone());
    assert_eq!(
        browser.get("/panel/dashboard").await.status,
        StatusCode::OK,
        "still signed in"
    );
}
