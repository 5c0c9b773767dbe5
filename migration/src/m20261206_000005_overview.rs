//! The administrator's overview (SPEC §18): what its numbers read, kept cheap to read.
//!
//! - Indexes on `users` for each card's condition (pending, expiry, enabled, last sign-in, the
//!   manager a `USER_CONFIG` holder sees by) and on live reset links, so a count reads the
//!   users in that state, not the whole table.
//! - `login_throttle.user_id`: the user whose username bucket is locked (the bucket's key is a
//!   keyed hash, so *locked now* could not be read from it). Set when a bucket locks.
//! - `audit_log.app_id`: the application an entry is about (an SSO session or an OIDC grant
//!   issued for it), as a column rather than inside the free-text detail.
//! - `activity_days`: sign-ins (succeeded, failed) and password resets per UTC day, and
//!   `app_sign_ins`: each user's latest sign-in to each application. Both are kept by a
//!   trigger on `audit_log` inserts, so they agree with the audit log whoever writes it, in
//!   the same transaction; the chart then reads 90 rows instead of every sign-in of a month.
//!   The rows already in the audit log are counted in when the migration runs.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

impl crate::Step for Migration {
    fn down_loses(&self) -> crate::Loss {
        crate::Loss {
            tables: &["activity_days", "app_sign_ins"],
            columns: &[("login_throttle", "user_id"), ("audit_log", "app_id")],
            emptied: &[],
            in_words: "the overview's daily sign-in counts (recounted from the audit log by the \
                       next up), each user's latest sign-in to each application, which user a \
                       locked username is, and which application an audit entry is about",
        }
    }
}

/// The indexes on existing tables: (name, table, columns).
const INDEXES: [(&str, &str, &[&str]); 6] = [
    (
        "idx_users_require_password_change",
        "users",
        &["require_password_change", "password_expires"],
    ),
    ("idx_users_password_expires", "users", &["password_expires"]),
    ("idx_users_enabled", "users", &["enabled"]),
    ("idx_users_last_login", "users", &["last_login"]),
    ("idx_users_manager", "users", &["manager"]),
    (
        "idx_reset_links_state_expires",
        "reset_links",
        &["state", "expires"],
    ),
];

/// Which audit entries the chart counts, as SQL over the new row `NEW` (a sign-in, a failed
/// sign-in, a password reset by an administrator: a temporary password or a reset link, but
/// not a new user's set-up link). The same series names are `accounts::overview::Series`.
const SERIES_CASE: &str = "CASE \
    WHEN NEW.action = 'login' THEN 'sign_in' \
    WHEN NEW.action = 'login_failed' THEN 'sign_in_failed' \
    WHEN NEW.action = 'password_reset' THEN 'reset' \
    WHEN NEW.action = 'reset_link_created' AND NEW.detail LIKE 'purpose=reset %' THEN 'reset' \
    END";

/// The audit actions that sign a user in to an application (an SSO session, an OIDC grant).
const APP_SIGN_IN_ACTIONS: &str = "('sso_session_issued', 'oidc_granted')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, columns) in INDEXES {
            let mut index = Index::create();
            index.name(name).table(Alias::new(table));
            for column in columns {
                index.col(Alias::new(*column));
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(LoginThrottle::Table)
                    .add_column(ColumnDef::new(LoginThrottle::UserId).integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AuditLog::Table)
                    .add_column(ColumnDef::new(AuditLog::AppId).integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ActivityDays::Table)
                    .col(ColumnDef::new(ActivityDays::Day).date().not_null())
                    .col(
                        ColumnDef::new(ActivityDays::Series)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ActivityDays::Events)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(ActivityDays::Day)
                            .col(ActivityDays::Series),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AppSignIns::Table)
                    .col(ColumnDef::new(AppSignIns::AppId).integer().not_null())
                    .col(ColumnDef::new(AppSignIns::UserId).integer().not_null())
                    .col(
                        ColumnDef::new(AppSignIns::LastSignIn)
                            .timestamp()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(AppSignIns::AppId)
                            .col(AppSignIns::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_app_sign_ins_app_id")
                            .from(AppSignIns::Table, AppSignIns::AppId)
                            .to(Apps::Table, Apps::AppId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_app_sign_ins_user_id")
                            .from(AppSignIns::Table, AppSignIns::UserId)
                            .to(Users::Table, Users::UserId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_app_sign_ins_app_last")
                    .table(AppSignIns::Table)
                    .col(AppSignIns::AppId)
                    .col(AppSignIns::LastSignIn)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_app_sign_ins_user_id")
                    .table(AppSignIns::Table)
                    .col(AppSignIns::UserId)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for statement in rollup_sql(db.get_database_backend()) {
            db.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let drop_trigger = match db.get_database_backend() {
            DbBackend::Postgres => vec![
                "DROP TRIGGER IF EXISTS audit_log_rollup ON audit_log",
                "DROP FUNCTION IF EXISTS passgate_audit_rollup()",
            ],
            _ => vec!["DROP TRIGGER IF EXISTS audit_log_rollup"],
        };
        for statement in drop_trigger {
            db.execute_unprepared(statement).await?;
        }
        for table in [
            AppSignIns::Table.into_iden(),
            ActivityDays::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(AuditLog::Table)
                    .drop_column(AuditLog::AppId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(LoginThrottle::Table)
                    .drop_column(LoginThrottle::UserId)
                    .to_owned(),
            )
            .await?;
        for (name, table, _) in INDEXES {
            manager
                .drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

/// The trigger that keeps `activity_days` and `app_sign_ins`, and the statements that count in
/// what the audit log already holds. A UTC day is the first ten characters of the stored
/// timestamp on SQLite (`YYYY-MM-DD HH:MM:SS`) and the timestamp's date on PostgreSQL (both
/// store UTC without a zone).
fn rollup_sql(backend: DbBackend) -> Vec<String> {
    let app_guard = format!(
        "NEW.app_id IS NOT NULL AND NEW.target_id IS NOT NULL \
         AND NEW.action IN {APP_SIGN_IN_ACTIONS} \
         AND EXISTS (SELECT 1 FROM apps WHERE apps.app_id = NEW.app_id) \
         AND EXISTS (SELECT 1 FROM users WHERE users.user_id = NEW.target_id)"
    );
    let series_of_old = SERIES_CASE.replace("NEW.", "");
    let app_actions_old = APP_SIGN_IN_ACTIONS;
    match backend {
        DbBackend::Postgres => vec![
            format!(
                "CREATE FUNCTION passgate_audit_rollup() RETURNS trigger AS $$ \
                 DECLARE new_series TEXT := {SERIES_CASE}; \
                 BEGIN \
                   IF new_series IS NOT NULL THEN \
                     INSERT INTO activity_days (day, series, events) \
                     VALUES (CAST(NEW.created AS DATE), new_series, 1) \
                     ON CONFLICT (day, series) DO UPDATE SET events = activity_days.events + 1; \
                   END IF; \
                   IF {app_guard} THEN \
                     INSERT INTO app_sign_ins (app_id, user_id, last_sign_in) \
                     VALUES (NEW.app_id, NEW.target_id, NEW.created) \
                     ON CONFLICT (app_id, user_id) DO UPDATE SET last_sign_in = \
                       GREATEST(app_sign_ins.last_sign_in, EXCLUDED.last_sign_in); \
                   END IF; \
                   RETURN NULL; \
                 END $$ LANGUAGE plpgsql"
            ),
            "CREATE TRIGGER audit_log_rollup AFTER INSERT ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION passgate_audit_rollup()"
                .to_string(),
            format!(
                "INSERT INTO activity_days (day, series, events) \
                 SELECT CAST(created AS DATE), {series_of_old}, COUNT(*) FROM audit_log \
                 WHERE {series_of_old} IS NOT NULL GROUP BY 1, 2"
            ),
            format!(
                "INSERT INTO app_sign_ins (app_id, user_id, last_sign_in) \
                 SELECT app_id, target_id, MAX(created) FROM audit_log \
                 WHERE action IN {app_actions_old} \
                 AND app_id IN (SELECT app_id FROM apps) \
                 AND target_id IN (SELECT user_id FROM users) GROUP BY app_id, target_id"
            ),
        ],
        _ => vec![
            format!(
                "CREATE TRIGGER audit_log_rollup AFTER INSERT ON audit_log \
                 WHEN ({SERIES_CASE}) IS NOT NULL OR ({app_guard}) \
                 BEGIN \
                   INSERT INTO activity_days (day, series, events) \
                   SELECT substr(NEW.created, 1, 10), {SERIES_CASE}, 1 \
                   WHERE ({SERIES_CASE}) IS NOT NULL \
                   ON CONFLICT (day, series) DO UPDATE SET events = events + 1; \
                   INSERT INTO app_sign_ins (app_id, user_id, last_sign_in) \
                   SELECT NEW.app_id, NEW.target_id, NEW.created WHERE {app_guard} \
                   ON CONFLICT (app_id, user_id) DO UPDATE SET last_sign_in = \
                     max(last_sign_in, excluded.last_sign_in); \
                 END"
            ),
            format!(
                "INSERT INTO activity_days (day, series, events) \
                 SELECT substr(created, 1, 10), {series_of_old}, COUNT(*) FROM audit_log \
                 WHERE {series_of_old} IS NOT NULL GROUP BY 1, 2"
            ),
            format!(
                "INSERT INTO app_sign_ins (app_id, user_id, last_sign_in) \
                 SELECT app_id, target_id, MAX(created) FROM audit_log \
                 WHERE action IN {app_actions_old} \
                 AND app_id IN (SELECT app_id FROM apps) \
                 AND target_id IN (SELECT user_id FROM users) GROUP BY app_id, target_id"
            ),
        ],
    }
}

#[derive(DeriveIden)]
enum LoginThrottle {
    Table,
    UserId,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    AppId,
}

#[derive(DeriveIden)]
enum ActivityDays {
    Table,
    Day,
    Series,
    Events,
}

#[derive(DeriveIden)]
enum AppSignIns {
    Table,
    AppId,
    UserId,
    LastSignIn,
}

#[derive(DeriveIden)]
enum Apps {
    Table,
    AppId,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    UserId,
}

#[cfg(test)]
mod tests {
    use crate::tests::{memory_db, strings};
    use crate::{Migrator, MigratorTrait};
    use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseConnection};

    async fn exec(db: &DatabaseConnection, sql: &str) {
        db.execute_unprepared(sql).await.expect(sql);
    }

    fn audit(created: &str, action: &str, target: &str, detail: &str) -> String {
        format!(
            "INSERT INTO audit_log (created, target_id, action, detail) \
             VALUES ('{created}', {target}, '{action}', '{detail}')"
        )
    }

    const DAYS: &str = "SELECT day || ' ' || series || ' ' || events FROM activity_days \
                        ORDER BY day, series";

    #[tokio::test]
    async fn the_rollups_count_the_audit_log_as_it_was_and_as_it_grows() {
        let db = memory_db().await;
        exec(&db, "PRAGMA foreign_keys = ON").await;
        let before = Migrator::migrations()
            .iter()
            .position(|m| m.name() == "m20261206_000005_overview")
            .expect("the migration is listed") as u32;
        Migrator::up(&db, Some(before)).await.expect("up to before");
        exec(
            &db,
            "INSERT INTO users (username, password, created, last_update, security_stamp) \
             VALUES ('alice', 'h', '2026-12-01 00:00:00', '2026-12-01 00:00:00', 's')",
        )
        .await;
        exec(
            &db,
            "INSERT INTO apps (name, policy, created, last_update) \
             VALUES ('Wiki', 'one_factor', '2026-12-01 00:00:00', '2026-12-01 00:00:00')",
        )
        .await;
        // What an installation already holds: counted in by the migration.
        for (created, action, detail) in [
            ("2026-12-01 23:59:59", "login", ""),
            ("2026-12-01 08:00:00", "login", ""),
            (
                "2026-12-01 09:00:00",
                "login_failed",
                "incorrect credentials",
            ),
            ("2026-12-01 10:00:00", "password_reset", "expires=never"),
            (
                "2026-12-01 11:00:00",
                "reset_link_created",
                "purpose=reset expires=x",
            ),
            (
                "2026-12-01 12:00:00",
                "reset_link_created",
                "purpose=setup expires=x",
            ),
            ("2026-12-01 13:00:00", "user_updated", ""),
        ] {
            exec(&db, &audit(created, action, "1", detail)).await;
        }
        Migrator::up(&db, None).await.expect("up");
        assert_eq!(
            strings(&db, DAYS).await,
            [
                "2026-12-01 reset 2",
                "2026-12-01 sign_in 2",
                "2026-12-01 sign_in_failed 1"
            ]
        );
        // New entries are counted as they are written; midnight UTC starts a new day.
        exec(&db, &audit("2026-12-02 00:00:00", "login", "1", "")).await;
        exec(
            &db,
            &audit("2026-12-02 00:00:01", "login_failed", "NULL", "x"),
        )
        .await;
        exec(
            &db,
            &audit(
                "2026-12-02 00:00:02",
                "reset_link_created",
                "1",
                "purpose=setup x",
            ),
        )
        .await;
        assert_eq!(
            strings(&db, DAYS).await[3..],
            ["2026-12-02 sign_in 1", "2026-12-02 sign_in_failed 1"]
        );
        // An application sign-in keeps the user's latest; an unknown app or no user is left
        // out, and never fails the audit entry itself.
        for (created, app, target) in [
            ("2026-12-02 10:00:00", "1", "1"),
            ("2026-12-03 10:00:00", "1", "1"),
            ("2026-12-02 12:00:00", "1", "1"),
            ("2026-12-03 11:00:00", "99", "1"),
            ("2026-12-03 12:00:00", "1", "NULL"),
            ("2026-12-03 13:00:00", "1", "42"),
        ] {
            exec(
                &db,
                &format!(
                    "INSERT INTO audit_log (created, target_id, action, app_id) \
                     VALUES ('{created}', {target}, 'sso_session_issued', {app})"
                ),
            )
            .await;
        }
        assert_eq!(
            strings(
                &db,
                "SELECT app_id || ' ' || user_id || ' ' || last_sign_in FROM app_sign_ins"
            )
            .await,
            ["1 1 2026-12-03 10:00:00"]
        );
        assert_eq!(
            strings(&db, "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log").await,
            ["16"]
        );
        // Deleting the app takes its sign-ins along.
        exec(&db, "DELETE FROM apps").await;
        assert!(
            strings(&db, "SELECT user_id FROM app_sign_ins")
                .await
                .is_empty()
        );

        // Down (with the migrations after it): the tables, the columns and the trigger go; the
        // audit log stays writable.
        let after = Migrator::migrations().len() as u32 - before;
        Migrator::down(&db, Some(after)).await.expect("down");
        let tables = strings(
            &db,
            "SELECT name FROM sqlite_master WHERE name IN \
             ('activity_days', 'app_sign_ins', 'audit_log_rollup')",
        )
        .await;
        assert!(tables.is_empty(), "{tables:?}");
        exec(&db, &audit("2026-12-04 00:00:00", "login", "1", "")).await;
        Migrator::up(&db, None).await.expect("up again");
        assert_eq!(
            strings(&db, DAYS).await.len(),
            6,
            "recounted from the audit log"
        );
    }
}
