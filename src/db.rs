//! Connecting to the database (SQLite tuned for a server, or PostgreSQL) and running migrations.

use std::time::Duration;

use migration::Migrator;
use migration::sea_orm_migration::MigratorTrait;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr};

/// Opens a pool. SQLite gets WAL, a busy timeout and foreign keys on every connection.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        options.map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    }
    Database::connect(options).await
}

/// Migrates on a connection of its own, then opens the pool the app uses. (A pooled SQLite
/// connection opened while the schema changes can keep statements prepared against the old
/// schema; a fresh pool after the migration cannot.)
pub async fn open(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let migrator = connect(url, 1).await?;
    migrate(&migrator).await?;
    migrator.close().await?;
    connect(url, max_connections).await
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// True when the database answers a trivial query.
pub async fn ping(db: &impl ConnectionTrait) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}
