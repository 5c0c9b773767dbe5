//! Database migrations for passgate (sea-orm-migration), run by the application itself.
//!
//! Order matters: [`Migrator::steps`] lists them oldest first. The names recorded in
//! `seaql_migrations` are the module names (`m20260101_000001_base`, …).

pub use sea_orm_migration;
pub use sea_orm_migration::prelude::*;
pub use undo::{Loss, Step};

mod undo;

mod m20260101_000001_base;
mod m20260216_000001_temp_password;
mod m20261203_000001_crafty_preferences;
mod m20261203_000002_mfa;
mod m20261203_000003_reset_links;
mod m20261203_000005_passkeys;
mod m20261203_000006_session_details;
mod m20261206_000001_roles;
mod m20261206_000002_apps;
mod m20261206_000003_oidc;
mod m20261206_000004_passkey_handles;
mod m20261206_000005_overview;
mod m20261206_000006_one_time_results;
mod m20261206_000007_session_id_hashes;
mod m20261206_000008_overview_speed;

/// All passgate migrations, oldest first.
pub struct Migrator;

impl Migrator {
    /// Every migration, oldest first, each with what its `down` loses ([`Step`]); the first
    /// is the base, which `passgate migrate down` never undoes.
    pub fn steps() -> Vec<Box<dyn Step>> {
        vec![
            Box::new(m20260101_000001_base::Migration),
            Box::new(m20260216_000001_temp_password::Migration),
            Box::new(m20261203_000001_crafty_preferences::Migration),
            Box::new(m20261203_000002_mfa::Migration),
            Box::new(m20261203_000003_reset_links::Migration),
            Box::new(m20261203_000005_passkeys::Migration),
            Box::new(m20261203_000006_session_details::Migration),
            Box::new(m20261206_000001_roles::Migration),
            Box::new(m20261206_000002_apps::Migration),
            Box::new(m20261206_000003_oidc::Migration),
            Box::new(m20261206_000004_passkey_handles::Migration),
            Box::new(m20261206_000005_overview::Migration),
            Box::new(m20261206_000006_one_time_results::Migration),
            Box::new(m20261206_000007_session_id_hashes::Migration),
            Box::new(m20261206_000008_overview_speed::Migration),
        ]
    }
}

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        Self::steps()
            .into_iter()
            .map(|step| step as Box<dyn MigrationTrait>)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm_migration::sea_orm::{
        ConnectOptions, Database, DatabaseConnection, DbBackend, Statement,
    };

    /// The tables of later migrations (the base has [`TABLES`]).
    const LATER_TABLES: [&str; 22] = [
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
        "activity_days",
        "app_sign_ins",
        "one_time_results",
        "roles",
        "user_roles",
        "viewer_activity_days",
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

    pub(crate) async fn memory_db() -> DatabaseConnection {
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

    pub(crate) async fn strings(db: &DatabaseConnection, sql: &str) -> Vec<String> {
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
        v.push("passkey_handle".into());
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
                "source_ip",
                "app_id"
            ]
        );
        assert_eq!(
            columns(db, "login_throttle").await,
            [
                "throttle_key",
                "failures",
                "window_start",
                "locked_until",
                "user_id"
            ]
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
                "last_used",
                "discoverable"
            ]
        );
        assert_eq!(
            columns(db, "roles").await,
            [
                "role_id",
                "role_name",
                "created",
                "last_update",
                "manager",
                "mfa_required"
            ]
        );
        assert_eq!(columns(db, "user_roles").await, ["user_id", "role_id"]);
        assert_eq!(
            columns(db, "webauthn_ceremonies").await,
            ["id", "user_id", "purpose", "state", "expires"]
        );
        assert_eq!(
            columns(db, "one_time_results").await,
            ["owner", "id", "user_id", "sealed", "created", "expires"]
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
                "idx_app_sign_ins_app_last",
                "idx_app_sign_ins_user_last_app",
                "idx_apps_name",
                "idx_audit_log_created",
                "idx_audit_log_target_id",
                "idx_login_throttle_user_id",
                "idx_oidc_grants_expires",
                "idx_oidc_grants_sid",
                "idx_oidc_grants_user_id",
                "idx_oidc_tokens_expires",
                "idx_oidc_tokens_grant_id",
                "idx_one_time_results_expires",
                "idx_one_time_results_user_id",
                "idx_passkeys_credential_id",
                "idx_passkeys_user_id",
                "idx_recovery_codes_user_hash",
                "idx_reset_links_state_expires",
                "idx_reset_links_user_id",
                "idx_roles_manager",
                "idx_sessions_expiry_date",
                "idx_sessions_user_id",
                "idx_sso_sessions_expires",
                "idx_sso_sessions_user_id",
                "idx_totp_devices_user_id",
                "idx_totp_enrolments_user_id",
                "idx_user_permissions_user_permission",
                "idx_users_enabled_mfa",
                "idx_users_last_login",
                "idx_users_manager",
                "idx_users_passkey_handle",
                "idx_users_password_expires",
                "idx_users_require_password_change",
                "idx_user_roles_role_id",
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

        // A signed-in session holding a one-time result in clear, as sessions did before.
        exec(
            &db,
            r#"INSERT INTO sessions (id, user_id, data, expiry_date) VALUES ('abc', 1,
             '{"user_id":1,"one_time":{"r":[1,{"kind":"reset","password":"Clear-Text-1"}]}}',
             '2999-01-01 00:00:00')"#,
        )
        .await;

        // Upgrade in place: the existing user gets the harmless defaults.
        Migrator::up(&db, None).await.expect("temp password up");
        assert_full_schema(&db).await;
        // The session stays, under the hash of its id, without the result.
        assert_eq!(
            strings(&db, "SELECT id || ' ' || data FROM sessions").await,
            ["ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad {\"user_id\":1}"]
        );
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

        // Alice has a passkey user handle: 16 random bytes as 32 hex digits.
        let handle = strings(
            &db,
            "SELECT passkey_handle FROM users WHERE username = 'alice'",
        )
        .await
        .remove(0);
        assert_eq!(handle.len(), 32, "{handle}");
        assert!(
            handle
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
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

    #[tokio::test]
    async fn roles_follow_their_users_and_their_migration() {
        let db = memory_db().await;
        Migrator::up(&db, None).await.expect("up");
        for name in ["alice", "bob"] {
            exec(
                &db,
                &format!(
                    "INSERT INTO users (username, password, created, last_update, security_stamp) \
                     VALUES ('{name}', 'h', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 's')"
                ),
            )
            .await;
        }
        exec(
            &db,
            "INSERT INTO roles (role_name, created, last_update, manager) \
             VALUES ('finance', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1), \
             ('ops', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1)",
        )
        .await;
        let dup = db
            .execute_unprepared(
                "INSERT INTO roles (role_name, created, last_update) \
                 VALUES ('finance', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
            )
            .await;
        assert!(dup.is_err(), "role_name is unique");
        assert_eq!(
            strings(
                &db,
                "SELECT quote(mfa_required) FROM roles WHERE role_id = 1"
            )
            .await,
            ["0"],
            "mfa_required defaults to false"
        );
        exec(
            &db,
            "INSERT INTO user_roles (user_id, role_id) VALUES (1, 1), (2, 1), (2, 2)",
        )
        .await;
        let twice = db
            .execute_unprepared("INSERT INTO user_roles (user_id, role_id) VALUES (2, 2)")
            .await;
        assert!(twice.is_err(), "a membership exists once");
        let orphan = db
            .execute_unprepared("INSERT INTO user_roles (user_id, role_id) VALUES (2, 99)")
            .await;
        assert!(
            orphan.is_err(),
            "no membership of a role that does not exist"
        );

        // The manager goes: the roles stay, without a manager; their memberships go with them.
        exec(&db, "DELETE FROM users WHERE user_id = 1").await;
        assert_eq!(
            strings(&db, "SELECT quote(manager) FROM roles ORDER BY role_id").await,
            ["NULL", "NULL"]
        );
        assert_eq!(
            strings(
                &db,
                "SELECT user_id || ':' || role_id FROM user_roles ORDER BY role_id"
            )
            .await,
            ["2:1", "2:2"]
        );
        // A role goes: its memberships go with it.
        exec(&db, "DELETE FROM roles WHERE role_id = 1").await;
        assert_eq!(
            strings(&db, "SELECT user_id || ':' || role_id FROM user_roles").await,
            ["2:2"]
        );

        // Down to before the roles (and whatever came after them): both tables go, the users
        // stay; up again.
        let from_roles = all_migrations()
            .iter()
            .rev()
            .position(|m| m == "m20261206_000001_roles")
            .expect("the roles migration is listed") as u32
            + 1;
        Migrator::down(&db, Some(from_roles))
            .await
            .expect("roles down");
        let left = tables(&db).await;
        assert!(!left.contains(&"roles".to_string()), "{left:?}");
        assert!(!left.contains(&"user_roles".to_string()), "{left:?}");
        assert_eq!(strings(&db, "SELECT username FROM users").await, ["bob"]);
        Migrator::up(&db, None).await.expect("roles up again");
        assert_full_schema(&db).await;
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
        exec(
            &db,
            r#"INSERT INTO sessions (id, user_id, data, expiry_date) VALUES ('abc', 1,
             '{"user_id":1,"generated":{"reset:2":"Clear-Text-1"}}', '2999-01-01 00:00:00')"#,
        )
        .await;
        Migrator::up(&db, None).await.expect("temp password up");
        assert_eq!(user_columns(db.clone()).await, full_user_columns());
        assert_eq!(
            pg_strings(&db, "SELECT id || ' ' || data FROM sessions").await,
            ["ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad {\"user_id\":1}"]
        );
        assert_eq!(
            pg_strings(
                &db,
                "SELECT concat_ws(',', enabled, superuser, lang, last_ip, \
                 require_password_change, password_expires IS NULL) FROM users"
            )
            .await,
            ["t,f,en,,f,t"]
        );
        let handles = pg_strings(&db, "SELECT passkey_handle FROM users").await;
        assert_eq!(handles.len(), 1);
        assert_eq!(handles[0].len(), 32, "{}", handles[0]);
        assert!(handles[0].chars().all(|c| c.is_ascii_hexdigit()));
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
