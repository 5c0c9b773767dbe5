//! Database migrations for passgate (sea-orm-migration), run by the application itself.
//!
//! Order matters: [`Migrator::migrations`] lists them oldest first. The names recorded in
//! `seaql_migrations` are the module names (`m20260101_000001_base`,
//! `m20260216_000001_temp_password`, `m20261203_000001_crafty_preferences`,
//! `m20261203_000002_mfa`, `m20261203_000003_reset_links`, `m20261203_000005_passkeys`, `m20261203_000006_session_details`, `m20261206_000002_apps`, `m20261206_000003_oidc`).

pub use sea_orm_migration;
pub use sea_orm_migration::prelude::*;

mod m20260101_000001_base;
mod m20260216_000001_temp_password;
mod m20261203_000001_crafty_preferences;
mod m20261203_000002_mfa;
mod m20261203_000003_reset_links;
mod m20261203_000005_passkeys;
mod m20261203_000006_session_details;
mod m20261206_000002_apps;
mod m20261206_000003_oidc;

/// All passgate migrations, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_base::Migration),
            Box::new(m20260216_000001_temp_password::Migration),
            Box::new(m20261203_000001_crafty_preferences::Migration),
            Box::new(m20261203_000002_mfa::Migration),
            Box::new(m20261203_000003_reset_links::Migration),
            Box::new(m20261203_000005_passkeys::Migration),
            Box::new(m20261203_000006_session_details::Migration),
            Box::new(m20261206_000002_apps::Migration),
            Box::new(m20261206_000003_oidc::Migration),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm_migration::sea_orm::{
        ConnectOptions, Database, DatabaseConnection, DbBackend, Statement,
    };

    /// The tables of later migrations (the base has [`TABLES`]).
    const LATER_TABLES: [&str; 16] = [
        "totp_devices",
        "totp_enrolments",
        "recovery_codes",
        "reset_links",
        "passkeys",
        "webauthn_ceremonies",
        "apps",
        "app_hosts",
        "app_public_paths",
        "app_roles",
        "sso_sessions",
        "oidc_keys",
        "oidc_clients",
        "oidc_subjects",
        "oidc_grants",
        "oidc_tokens",
    ];

    /// Every table once all migrations ran.
    fn all_tables() -> Vec<String> {
        let mut all: Vec<&str> = TABLES.to_vec();
        all.extend(LATER_TABLES);
        sorted(&all)
    }

    /// Every migration's name, oldest first.
    fn all_migrations() -> Vec<String> {
        Migrator::migrations()
            .iter()
            .map(|m| m.name().to_string())
            .collect()
    }

    /// How many migrations came after the base.
    fn after_base() -> u32 {
        Migrator::migrations().len() as u32 - 1
    }

    const TABLES: [&str; 7] = [
        "users",
        "user_permissions",
        "api_keys",
        "sessions",
        "audit_log",
        "login_throttle",
        "settings",
    ];

    async fn memory_db() -> DatabaseConnection {
        // One connection that never closes: each SQLite in-memory connection is its own
        // database.
        let mut opts = ConnectOptions::new("sqlite::memory:");
        opts.max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .sqlx_logging(false);
        Database::connect(opts).await.expect("connect")
    }

    async fn strings(db: &DatabaseConnection, sql: &str) -> Vec<String> {
        db.query_all_raw(Statement::from_string(DbBackend::Sqlite, sql))
            .await
            .expect(sql)
            .iter()
            .map(|row| row.try_get_by_index::<String>(0).expect("string column"))
            .collect()
    }

    async fn tables(db: &DatabaseConnection) -> Vec<String> {
        strings(
            db,
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name <> 'seaql_migrations' ORDER BY name",
        )
        .await
    }

    async fn columns(db: &DatabaseConnection, table: &str) -> Vec<String> {
        strings(
            db,
            &format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"),
        )
        .await
    }

    async fn exec(db: &DatabaseConnection, sql: &str) {
        db.execute_unprepared(sql).await.expect(sql);
    }

    fn sorted(names: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = names.iter().map(|s| String::from(*s)).collect();
        v.sort();
        v
    }

    const BASE_USER_COLUMNS: [&str; 13] = [
        "user_id",
        "username",
        "password",
        "email",
        "enabled",
        "superuser",
        "manager",
        "lang",
        "created",
        "last_update",
        "last_login",
        "last_ip",
        "security_stamp",
    ];

    fn base_user_columns() -> Vec<String> {
        BASE_USER_COLUMNS.iter().map(|s| String::from(*s)).collect()
    }

    fn temp_password_user_columns() -> Vec<String> {
        let mut v = base_user_columns();
        v.push("require_password_change".into());
        v.push("password_expires".into());
        v
    }

    fn full_user_columns() -> Vec<String> {
        let mut v = temp_password_user_columns();
        for column in ["theme", "hints", "server_order", "dashboard_columns"] {
            v.push(column.into());
        }
        v.push("require_mfa".into());
        v.push("disable_password_auth".into());
        v
    }

    async fn assert_full_schema(db: &DatabaseConnection) {
        assert_eq!(tables(db).await, all_tables());
        assert_eq!(
            columns(db, "totp_devices").await,
            [
                "id",
                "user_id",
                "name",
                "secret",
                "last_step",
                "created",
                "last_used"
            ]
        );
        assert_eq!(
            columns(db, "totp_enrolments").await,
            ["id", "user_id", "secret", "created", "expires"]
        );
        assert_eq!(
            columns(db, "recovery_codes").await,
            ["id", "user_id", "code_hash", "created", "used_at"]
        );
        assert_eq!(columns(db, "users").await, full_user_columns());
        assert_eq!(
            columns(db, "user_permissions").await,
            ["id", "user_id", "permission", "quantity"]
        );
        assert_eq!(
            columns(db, "api_keys").await,
            [
                "key_id",
                "user_id",
                "name",
                "token_hash",
                "permissions",
                "full_access",
                "created",
                "last_used"
            ]
        );
        assert_eq!(
            columns(db, "sessions").await,
            [
                "id",
                "user_id",
                "data",
                "expiry_date",
                "signed_in_at",
                "last_seen",
                "address",
                "browser"
            ]
        );
        assert_eq!(
            columns(db, "audit_log").await,
            [
                "audit_id",
                "created",
                "actor_id",
                "actor_name",
                "target_id",
                "target_name",
                "action",
                "detail",
                "source_ip"
            ]
        );
        assert_eq!(
            columns(db, "login_throttle").await,
            ["throttle_key", "failures", "window_start", "locked_until"]
        );
        assert_eq!(columns(db, "settings").await, ["key", "value"]);
        assert_eq!(
            columns(db, "reset_links").await,
            [
                "link_id",
                "user_id",
                "token_hash",
                "purpose",
                "state",
                "created",
                "created_by",
                "expires",
                "ended",
                "revoke_api_keys",
                "reset_mfa"
            ]
        );
        assert_eq!(
            columns(db, "passkeys").await,
            [
                "id",
                "user_id",
                "credential_id",
                "name",
                "credential",
                "created",
                "last_used"
            ]
        );
        assert_eq!(
            columns(db, "webauthn_ceremonies").await,
            ["id", "user_id", "purpose", "state", "expires"]
        );
        let indexes = strings(
            db,
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'idx_%' \
             ORDER BY name",
        )
        .await;
        assert_eq!(
            indexes,
            sorted(&[
                "idx_api_keys_user_id",
                "idx_app_public_paths_app_path",
                "idx_apps_name",
                "idx_audit_log_created",
                "idx_audit_log_target_id",
                "idx_oidc_grants_expires",
                "idx_oidc_grants_sid",
                "idx_oidc_grants_user_id",
                "idx_oidc_tokens_expires",
                "idx_oidc_tokens_grant_id",
                "idx_passkeys_credential_id",
                "idx_passkeys_user_id",
                "idx_recovery_codes_user_hash",
                "idx_reset_links_user_id",
                "idx_sessions_expiry_date",
                "idx_sessions_user_id",
                "idx_sso_sessions_expires",
                "idx_sso_sessions_user_id",
                "idx_totp_devices_user_id",
                "idx_totp_enrolments_user_id",
                "idx_user_permissions_user_permission",
                "idx_webauthn_ceremonies_expires",
            ])
        );
    }

    async fn applied(db: &DatabaseConnection) -> Vec<String> {
        strings(db, "SELECT version FROM seaql_migrations ORDER BY version").await
    }

    #[tokio::test]
    async fn up_down_up_on_sqlite() {
        let db = memory_db().await;

        // Base only, with a user in it, as an old installation would be.
        Migrator::up(&db, Some(1)).await.expect("base up");
        assert_eq!(tables(&db).await, sorted(&TABLES));
        assert_eq!(columns(&db, "users").await, base_user_columns());
        exec(
            &db,
            "INSERT INTO users (username, password, created, last_update, security_stamp) \
             VALUES ('alice', '$argon2id$x', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 's')",
        )
        .await;

        // Upgrade in place: the existing user gets the harmless defaults.
        Migrator::up(&db, None).await.expect("temp password up");
        assert_full_schema(&db).await;
        assert_eq!(applied(&db).await, all_migrations());
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT enabled, superuser, lang, last_ip, require_password_change, \
                 password_expires IS NULL FROM users WHERE username = 'alice'",
            ))
            .await
            .unwrap()
            .expect("alice survives the upgrade");
        assert!(row.try_get_by_index::<bool>(0).unwrap());
        assert!(!row.try_get_by_index::<bool>(1).unwrap());
        assert_eq!(row.try_get_by_index::<String>(2).unwrap(), "en");
        assert_eq!(row.try_get_by_index::<String>(3).unwrap(), "");
        assert!(!row.try_get_by_index::<bool>(4).unwrap());
        assert!(row.try_get_by_index::<bool>(5).unwrap());
        let row = db
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT theme, hints, server_order, dashboard_columns FROM users \
                 WHERE username = 'alice'",
            ))
            .await
            .unwrap()
            .expect("alice has Crafty's defaults");
        assert_eq!(row.try_get_by_index::<String>(0).unwrap(), "default");
        assert!(row.try_get_by_index::<bool>(1).unwrap());
        assert_eq!(row.try_get_by_index::<String>(2).unwrap(), "");
        assert_eq!(
            row.try_get_by_index::<String>(3).unwrap(),
            "server,actions,cpuUsage,memUsage,size,players,status"
        );

        // Foreign keys: manager is set null, permissions cascade.
        exec(
            &db,
            "INSERT INTO users (username, password, manager, created, last_update, \
             security_stamp) VALUES ('bob', 'h', 1, '2026-01-01 00:00:00', \
             '2026-01-01 00:00:00', 't')",
        )
        .await;
        exec(
            &db,
            "INSERT INTO user_permissions (user_id, permission) VALUES (1, 'USER_CONFIG')",
        )
        .await;
        let dup = db
            .execute_unprepared(
                "INSERT INTO user_permissions (user_id, permission) VALUES (1, 'USER_CONFIG')",
            )
            .await;
        assert!(dup.is_err(), "(user_id, permission) is unique");
        exec(&db, "DELETE FROM users WHERE user_id = 1").await;
        assert_eq!(
            strings(
                &db,
                "SELECT quote(manager) FROM users WHERE username = 'bob'"
            )
            .await,
            ["NULL"]
        );
        assert!(
            strings(&db, "SELECT permission FROM user_permissions")
                .await
                .is_empty()
        );

        // A device and recovery codes go with their user (cascade) and with the migration.
        exec(
            &db,
            "INSERT INTO totp_devices (user_id, name, secret, created) \
             SELECT user_id, 'phone', 'x', '2026-01-01 00:00:00' FROM users",
        )
        .await;
        exec(
            &db,
            "INSERT INTO recovery_codes (user_id, code_hash, created) \
             SELECT user_id, 'h', '2026-01-01 00:00:00' FROM users",
        )
        .await;

        // Down to the base: the later tables and the temp-password columns go, the data stays.
        Migrator::down(&db, Some(after_base()))
            .await
            .expect("down to the base");
        assert_eq!(tables(&db).await, sorted(&TABLES));
        assert_eq!(columns(&db, "users").await, base_user_columns());
        assert_eq!(strings(&db, "SELECT username FROM users").await, ["bob"]);

        // All the way down, then up again.
        Migrator::down(&db, None).await.expect("base down");
        assert!(tables(&db).await.is_empty());
        assert!(applied(&db).await.is_empty());

        Migrator::up(&db, None).await.expect("up again");
        assert_full_schema(&db).await;
        assert_eq!(applied(&db).await, all_migrations());
    }

    /// The same round trip on PostgreSQL, when `MIGRATION_TEST_PG_URL` names an empty
    /// database (e.g. `postgres://migtest:migtest@localhost/migtest`); skipped otherwise.
    #[tokio::test]
    async fn up_down_up_on_postgres() {
        let Ok(url) = std::env::var("MIGRATION_TEST_PG_URL") else {
            eprintln!("MIGRATION_TEST_PG_URL not set, skipping");
            return;
        };
        let db = Database::connect(url.as_str()).await.expect("connect");
        let tables = |db: DatabaseConnection| async move {
            pg_strings(
                &db,
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name <> 'seaql_migrations' \
                 ORDER BY table_name",
            )
            .await
        };
        let user_columns = |db: DatabaseConnection| async move {
            pg_strings(
                &db,
                "SELECT column_name::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = 'users' \
                 ORDER BY ordinal_position",
            )
            .await
        };

        Migrator::up(&db, Some(1)).await.expect("base up");
        assert_eq!(tables(db.clone()).await, sorted(&TABLES));
        assert_eq!(user_columns(db.clone()).await, base_user_columns());
        exec(
            &db,
            "INSERT INTO users (username, password, created, last_update, security_stamp) \
             VALUES ('alice', 'h', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 's')",
        )
        .await;
        Migrator::up(&db, None).await.expect("temp password up");
        assert_eq!(user_columns(db.clone()).await, full_user_columns());
        assert_eq!(
            pg_strings(
                &db,
                "SELECT concat_ws(',', enabled, superuser, lang, last_ip, \
                 require_password_change, password_expires IS NULL) FROM users"
            )
            .await,
            ["t,f,en,,f,t"]
        );
        let types = pg_strings(
            &db,
            "SELECT data_type::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = 'users' \
             AND column_name IN ('created', 'password_expires') ORDER BY column_name",
        )
        .await;
        assert_eq!(
            types,
            ["timestamp without time zone", "timestamp without time zone"]
        );

        assert_eq!(tables(db.clone()).await, all_tables());
        Migrator::down(&db, Some(after_base()))
            .await
            .expect("down to the base");
        assert_eq!(user_columns(db.clone()).await, base_user_columns());
        assert_eq!(tables(db.clone()).await, sorted(&TABLES));
        Migrator::down(&db, None).await.expect("base down");
        assert!(tables(db.clone()).await.is_empty());
        Migrator::up(&db, None).await.expect("up again");
        assert_eq!(tables(db.clone()).await, all_tables());
        assert_eq!(user_columns(db.clone()).await, full_user_columns());
        Migrator::down(&db, None).await.expect("clean up");
    }

    async fn pg_strings(db: &DatabaseConnection, sql: &str) -> Vec<String> {
        db.query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await
            .expect(sql)
            .iter()
            .map(|row| row.try_get_by_index::<String>(0).expect("string column"))
            .collect()
    }
}
