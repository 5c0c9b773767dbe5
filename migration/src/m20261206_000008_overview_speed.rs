//! The overview within 3× the users table (SPEC §18's bench), for superusers and managers.
//!
//! - `viewer_activity_days`: per user, the chart's events (sign-ins, failed sign-ins, resets
//!   per UTC day) about the users a `USER_CONFIG` holder sees — themselves and the users they
//!   manage. A manager's chart then reads at most 90 rows instead of every audit entry about
//!   their users of a month. Kept by the database: a trigger on `audit_log` inserts adds each
//!   event to its user's own rows and to their manager's; a change of manager moves the
//!   user's own rows from the old manager's to the new one's; a deleted user's rows are taken
//!   out of their manager's and deleted. The audit log's events are counted in when the
//!   migration runs.
//! - Indexes where the counts' plans read the table: `users (enabled, require_mfa,
//!   superuser)` replaces `users (enabled)` (the *second factor required* card decides on the
//!   index alone); `app_sign_ins (user_id, last_sign_in, app_id)` replaces `(user_id)` (a
//!   manager's per-app numbers read their users' recent sign-ins on the index alone);
//!   `login_throttle (user_id)` (the users table's *locked* badge of a page of users).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

impl crate::Step for Migration {
    fn down_loses(&self) -> crate::Loss {
        crate::Loss {
            tables: &["viewer_activity_days"],
            columns: &[],
            emptied: &[],
            in_words: "the managers' daily sign-in counts (recounted from the audit log by the \
                       next up)",
        }
    }
}

/// Indexes this migration adds: (name, table, columns).
const ADDED: [(&str, &str, &[&str]); 3] = [
    (
        "idx_users_enabled_mfa",
        "users",
        &["enabled", "require_mfa", "superuser"],
    ),
    (
        "idx_app_sign_ins_user_last_app",
        "app_sign_ins",
        &["user_id", "last_sign_in", "app_id"],
    ),
    ("idx_login_throttle_user_id", "login_throttle", &["user_id"]),
];

/// Indexes of `m20261206_000005_overview` that the added ones make redundant (a prefix of
/// theirs): dropped by `up`, made again by `down`.
const REPLACED: [(&str, &str, &[&str]); 2] = [
    ("idx_users_enabled", "users", &["enabled"]),
    ("idx_app_sign_ins_user_id", "app_sign_ins", &["user_id"]),
];

/// The chart's series of an audit entry over the row `NEW` (NULL: not charted), as
/// `m20261206_000005_overview` and `accounts::overview` classify it (a test holds them
/// together).
const SERIES_CASE: &str = "CASE \
    WHEN NEW.action = 'login' THEN 'sign_in' \
    WHEN NEW.action = 'login_failed' THEN 'sign_in_failed' \
    WHEN NEW.action = 'password_reset' THEN 'reset' \
    WHEN NEW.action = 'reset_link_created' AND NEW.detail LIKE 'purpose=reset %' THEN 'reset' \
    END";

fn create_index(name: &str, table: &str, columns: &[&str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(Alias::new(table));
    for column in columns {
        index.col(Alias::new(*column));
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in REPLACED {
            manager
                .drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        for (name, table, columns) in ADDED {
            manager
                .create_index(create_index(name, table, columns))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ViewerActivityDays::Table)
                    .col(
                        ColumnDef::new(ViewerActivityDays::ViewerId)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ViewerActivityDays::Day).date().not_null())
                    .col(
                        ColumnDef::new(ViewerActivityDays::Series)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ViewerActivityDays::Events)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(ViewerActivityDays::ViewerId)
                            .col(ViewerActivityDays::Day)
                            .col(ViewerActivityDays::Series),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_viewer_activity_days_viewer_id")
                            .from(ViewerActivityDays::Table, ViewerActivityDays::ViewerId)
                            .to(Users::Table, Users::UserId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
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
        let drop_triggers = match db.get_database_backend() {
            DbBackend::Postgres => vec![
                "DROP TRIGGER IF EXISTS audit_log_viewer_rollup ON audit_log",
                "DROP TRIGGER IF EXISTS users_viewer_rollup_moved ON users",
                "DROP TRIGGER IF EXISTS users_viewer_rollup_deleted ON users",
                "DROP FUNCTION IF EXISTS passgate_viewer_rollup_audit()",
                "DROP FUNCTION IF EXISTS passgate_viewer_rollup_moved()",
                "DROP FUNCTION IF EXISTS passgate_viewer_rollup_deleted()",
            ],
            _ => vec![
                "DROP TRIGGER IF EXISTS audit_log_viewer_rollup",
                "DROP TRIGGER IF EXISTS users_viewer_rollup_moved",
                "DROP TRIGGER IF EXISTS users_viewer_rollup_deleted",
            ],
        };
        for statement in drop_triggers {
            db.execute_unprepared(statement).await?;
        }
        manager
            .drop_table(Table::drop().table(ViewerActivityDays::Table).to_owned())
            .await?;
        for (name, table, _) in ADDED {
            manager
                .drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        for (name, table, columns) in REPLACED {
            manager
                .create_index(create_index(name, table, columns))
                .await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

/// The statements that keep `viewer_activity_days`, then the ones that count in what the audit
/// log holds. A UTC day is the first ten characters of the stored timestamp on SQLite and the
/// timestamp's date on PostgreSQL (both store UTC without a zone).
fn rollup_sql(backend: DbBackend) -> Vec<String> {
    let series_of_old = SERIES_CASE.replace("NEW.", "");
    // A user's own rows taken out of (`-`) or added to (`+`) their manager's `{manager}`;
    // `{user}` is the user. Nothing happens without a manager, or when one is their own.
    let take_out = |user: &str, manager: &str| {
        format!(
            "UPDATE viewer_activity_days SET events = events - (SELECT own.events \
               FROM viewer_activity_days own WHERE own.viewer_id = {user} \
               AND own.day = viewer_activity_days.day AND own.series = viewer_activity_days.series) \
             WHERE viewer_id = {manager} AND {manager} <> {user} AND EXISTS (SELECT 1 \
               FROM viewer_activity_days own WHERE own.viewer_id = {user} \
               AND own.day = viewer_activity_days.day AND own.series = viewer_activity_days.series); \
             DELETE FROM viewer_activity_days WHERE viewer_id = {manager} AND events <= 0"
        )
    };
    let add_to = |user: &str, manager: &str| {
        format!(
            "INSERT INTO viewer_activity_days (viewer_id, day, series, events) \
             SELECT {manager}, day, series, events FROM viewer_activity_days \
             WHERE viewer_id = {user} AND {manager} IS NOT NULL AND {manager} <> {user} \
             ON CONFLICT (viewer_id, day, series) DO UPDATE \
             SET events = viewer_activity_days.events + excluded.events"
        )
    };
    // The event's user and their manager (not their own), each a row to count it in.
    let count_in = |day: &str| {
        format!(
            "INSERT INTO viewer_activity_days (viewer_id, day, series, events) \
             SELECT viewer, {day}, {SERIES_CASE}, 1 FROM ( \
               SELECT user_id AS viewer FROM users WHERE user_id = NEW.target_id \
               UNION ALL SELECT manager FROM users WHERE user_id = NEW.target_id \
               AND manager IS NOT NULL AND manager <> user_id) AS viewers WHERE TRUE \
             ON CONFLICT (viewer_id, day, series) DO UPDATE \
             SET events = viewer_activity_days.events + 1"
        )
    };
    let backfill = |day: &str| {
        vec![
            format!(
                "INSERT INTO viewer_activity_days (viewer_id, day, series, events) \
                 SELECT target_id, {day}, {series_of_old}, COUNT(*) FROM audit_log \
                 WHERE {series_of_old} IS NOT NULL \
                 AND target_id IN (SELECT user_id FROM users) GROUP BY 1, 2, 3"
            ),
            "INSERT INTO viewer_activity_days (viewer_id, day, series, events) \
             SELECT users.manager, own.day, own.series, SUM(own.events) \
             FROM viewer_activity_days own JOIN users ON users.user_id = own.viewer_id \
             WHERE users.manager IS NOT NULL AND users.manager <> users.user_id \
             GROUP BY users.manager, own.day, own.series"
                .to_string(),
        ]
    };
    match backend {
        DbBackend::Postgres => {
            let mut pg = vec![
                format!(
                    "CREATE FUNCTION passgate_viewer_rollup_audit() RETURNS trigger AS $$ \
                     BEGIN \
                       IF NEW.target_id IS NOT NULL AND ({SERIES_CASE}) IS NOT NULL THEN \
                         {insert}; \
                       END IF; \
                       RETURN NULL; \
                     END $$ LANGUAGE plpgsql",
                    insert = count_in("CAST(NEW.created AS DATE)")
                ),
                "CREATE TRIGGER audit_log_viewer_rollup AFTER INSERT ON audit_log \
                 FOR EACH ROW EXECUTE FUNCTION passgate_viewer_rollup_audit()"
                    .to_string(),
                format!(
                    "CREATE FUNCTION passgate_viewer_rollup_moved() RETURNS trigger AS $$ \
                     BEGIN \
                       IF OLD.manager IS NOT NULL THEN {out}; END IF; \
                       {add}; \
                       RETURN NULL; \
                     END $$ LANGUAGE plpgsql",
                    out = take_out("NEW.user_id", "OLD.manager"),
                    add = add_to("NEW.user_id", "NEW.manager")
                ),
                "CREATE TRIGGER users_viewer_rollup_moved AFTER UPDATE OF manager ON users \
                 FOR EACH ROW WHEN (OLD.manager IS DISTINCT FROM NEW.manager) \
                 EXECUTE FUNCTION passgate_viewer_rollup_moved()"
                    .to_string(),
                format!(
                    "CREATE FUNCTION passgate_viewer_rollup_deleted() RETURNS trigger AS $$ \
                     BEGIN \
                       IF OLD.manager IS NOT NULL THEN {out}; END IF; \
                       DELETE FROM viewer_activity_days WHERE viewer_id = OLD.user_id; \
                       RETURN OLD; \
                     END $$ LANGUAGE plpgsql",
                    out = take_out("OLD.user_id", "OLD.manager")
                ),
                "CREATE TRIGGER users_viewer_rollup_deleted BEFORE DELETE ON users \
                 FOR EACH ROW EXECUTE FUNCTION passgate_viewer_rollup_deleted()"
                    .to_string(),
            ];
            pg.extend(backfill("CAST(created AS DATE)"));
            pg
        }
        _ => {
            let mut sqlite = vec![
                format!(
                    "CREATE TRIGGER audit_log_viewer_rollup AFTER INSERT ON audit_log \
                     WHEN NEW.target_id IS NOT NULL AND ({SERIES_CASE}) IS NOT NULL \
                     BEGIN {insert}; END",
                    insert = count_in("substr(NEW.created, 1, 10)")
                ),
                format!(
                    "CREATE TRIGGER users_viewer_rollup_moved AFTER UPDATE OF manager ON users \
                     WHEN OLD.manager IS NOT NEW.manager \
                     BEGIN {out}; {add}; END",
                    out = take_out("NEW.user_id", "OLD.manager"),
                    add = add_to("NEW.user_id", "NEW.manager")
                ),
                format!(
                    "CREATE TRIGGER users_viewer_rollup_deleted BEFORE DELETE ON users \
                     BEGIN {out}; \
                     DELETE FROM viewer_activity_days WHERE viewer_id = OLD.user_id; END",
                    out = take_out("OLD.user_id", "OLD.manager")
                ),
            ];
            sqlite.extend(backfill("substr(created, 1, 10)"));
            sqlite
        }
    }
}

#[derive(DeriveIden)]
enum ViewerActivityDays {
    Table,
    ViewerId,
    Day,
    Series,
    Events,
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

    fn user(name: &str, manager: &str) -> String {
        format!(
            "INSERT INTO users (username, password, manager, created, last_update, security_stamp) \
             VALUES ('{name}', 'h', {manager}, '2026-12-01 00:00:00', '2026-12-01 00:00:00', 's')"
        )
    }

    fn audit(created: &str, action: &str, target: &str, detail: &str) -> String {
        format!(
            "INSERT INTO audit_log (created, target_id, action, detail) \
             VALUES ('{created}', {target}, '{action}', '{detail}')"
        )
    }

    const ROWS: &str = "SELECT viewer_id || ' ' || day || ' ' || series || ' ' || events \
                        FROM viewer_activity_days ORDER BY viewer_id, day, series";

    #[tokio::test]
    async fn the_managers_rows_count_the_audit_log_as_it_was_and_as_it_grows() {
        let db = memory_db().await;
        exec(&db, "PRAGMA foreign_keys = ON").await;
        let before = Migrator::migrations()
            .iter()
            .position(|m| m.name() == "m20261206_000008_overview_speed")
            .expect("the migration is listed") as u32;
        Migrator::up(&db, Some(before)).await.expect("up to before");
        // 1 manages 2; 3 is nobody's.
        exec(&db, &user("boss", "NULL")).await;
        exec(&db, &user("anna", "1")).await;
        exec(&db, &user("carl", "NULL")).await;
        for (created, action, target, detail) in [
            ("2026-12-01 08:00:00", "login", "2", ""),
            ("2026-12-01 09:00:00", "login", "2", ""),
            (
                "2026-12-01 10:00:00",
                "login_failed",
                "3",
                "incorrect credentials",
            ),
            (
                "2026-12-02 10:00:00",
                "reset_link_created",
                "2",
                "purpose=setup x",
            ),
            (
                "2026-12-02 11:00:00",
                "password_reset",
                "1",
                "expires=never",
            ),
            ("2026-12-02 12:00:00", "login", "42", ""),
        ] {
            exec(&db, &audit(created, action, target, detail)).await;
        }
        Migrator::up(&db, None).await.expect("up");
        assert_eq!(
            strings(&db, ROWS).await,
            [
                "1 2026-12-01 sign_in 2",
                "1 2026-12-02 reset 1",
                "2 2026-12-01 sign_in 2",
                "3 2026-12-01 sign_in_failed 1",
            ],
            "counted in: each user's own, and anna's for her manager; no row for a user \
             that does not exist"
        );
        // As it grows; then carl gets boss as manager and brings his days along.
        exec(&db, &audit("2026-12-03 00:00:00", "login", "2", "")).await;
        exec(&db, "UPDATE users SET manager = 1 WHERE user_id = 3").await;
        assert_eq!(
            strings(&db, ROWS).await,
            [
                "1 2026-12-01 sign_in 2",
                "1 2026-12-01 sign_in_failed 1",
                "1 2026-12-02 reset 1",
                "1 2026-12-03 sign_in 1",
                "2 2026-12-01 sign_in 2",
                "2 2026-12-03 sign_in 1",
                "3 2026-12-01 sign_in_failed 1",
            ]
        );
        // Anna is deleted: her rows go, and so does her part of boss's.
        exec(&db, "DELETE FROM users WHERE user_id = 2").await;
        assert_eq!(
            strings(&db, ROWS).await,
            [
                "1 2026-12-01 sign_in_failed 1",
                "1 2026-12-02 reset 1",
                "3 2026-12-01 sign_in_failed 1",
            ]
        );

        // Down: the table and the triggers go, the replaced indexes come back; up again
        // recounts.
        Migrator::down(&db, Some(1)).await.expect("down");
        assert!(
            strings(
                &db,
                "SELECT name FROM sqlite_master WHERE name IN ('viewer_activity_days', \
                 'audit_log_viewer_rollup', 'users_viewer_rollup_moved', \
                 'users_viewer_rollup_deleted', 'idx_users_enabled_mfa')"
            )
            .await
            .is_empty()
        );
        assert_eq!(
            strings(
                &db,
                "SELECT name FROM sqlite_master WHERE name IN ('idx_users_enabled', \
                 'idx_app_sign_ins_user_id') ORDER BY name"
            )
            .await,
            ["idx_app_sign_ins_user_id", "idx_users_enabled"]
        );
        exec(&db, "DELETE FROM users WHERE user_id = 3").await;
        Migrator::up(&db, None).await.expect("up again");
        assert_eq!(strings(&db, ROWS).await, ["1 2026-12-02 reset 1"]);
    }
}
