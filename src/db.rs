//! Connecting to the database (SQLite tuned for a server, or PostgreSQL) and running migrations.

use std::time::Duration;

use migration::Migrator;
use migration::sea_orm_migration::MigratorTrait;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};

pub use crate::config::{DEFAULT_ACQUIRE_TIMEOUT, PoolOptions};

/// The key of the PostgreSQL advisory lock held while migrating ("passgate" in ASCII), so
/// that of several instances starting at once one migrates and the others wait.
pub const MIGRATION_LOCK_KEY: i64 = 0x7061_7373_6761_7465;

/// Opens a pool. SQLite gets WAL, a busy timeout, foreign keys and `secure_delete` on every
/// connection.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, PoolOptions::new(max_connections)).await
}

/// [`connect`] with every pool setting.
pub async fn connect_with(url: &str, pool: PoolOptions) -> Result<DatabaseConnection, DbErr> {
    Database::connect(connect_options(url, pool)).await
}

fn connect_options(url: &str, pool: PoolOptions) -> ConnectOptions {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(pool.max_connections)
        .min_connections(1)
        .acquire_timeout(pool.acquire_timeout)
        .connect_timeout(pool.acquire_timeout)
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        // A SQLite file cannot drop a connection the way a network peer can; the ping sqlx
        // otherwise sends on every checkout doubled the round trips of each query.
        options.test_before_acquire(false);
        options.map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // Deleted content is overwritten with zeros, so a shown one-time result or an
                // ended session does not linger in the file's free space (cost: BENCHMARKS.md).
                .pragma("secure_delete", "ON")
        });
    }
    options
}

/// Migrates on a connection of its own, then opens the pool the app uses. (A pooled SQLite
/// connection opened while the schema changes can keep statements prepared against the old
/// schema; a fresh pool after the migration cannot.)
pub async fn open(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    open_with(url, PoolOptions::new(max_connections)).await
}

/// [`open`] with every pool setting.
pub async fn open_with(url: &str, pool: PoolOptions) -> Result<DatabaseConnection, DbErr> {
    let migrator = migrator_connection(url).await?;
    let migrated = migrate_locked(&migrator).await;
    migrator.close().await.ok();
    migrated?;
    connect_with(url, pool).await
}

/// A pool of exactly one connection that is never recycled, so that a session-level
/// advisory lock taken on it stays with every statement that follows.
pub async fn migrator_connection(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = connect_options(url, PoolOptions::new(1));
    options.idle_timeout(None).max_lifetime(None);
    Database::connect(options).await
}

/// Applies every pending migration; on PostgreSQL under the advisory lock
/// [`MIGRATION_LOCK_KEY`]: an instance that starts while another migrates waits for it, then
/// finds nothing left to do. `db` must be a single-connection pool (see
/// [`migrator_connection`]). SQLite needs no lock: its writers are serialised by the file.
pub async fn migrate_locked(db: &DatabaseConnection) -> Result<(), DbErr> {
    with_migration_lock(db, async { migrate(db).await }).await
}

/// Runs `work` while holding the migration lock (PostgreSQL), or just runs it (SQLite).
pub async fn with_migration_lock<T, E: From<DbErr>>(
    db: &DatabaseConnection,
    work: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, E> {
    if db.get_database_backend() != DbBackend::Postgres {
        return work.await;
    }
    db.execute_unprepared(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
        .await?;
    let result = work.await;
    // Closing the connection would release it too; unlock explicitly all the same.
    let unlocked = db
        .execute_unprepared(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
        .await;
    let value = result?;
    unlocked?;
    Ok(value)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// True when the database answers a trivial query.
pub async fn ping(db: &impl ConnectionTrait) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}
