//! Connecting to the database (SQLite tuned for a server, or PostgreSQL) and running
//! migrations; the schema guard (`schema`) and the SQLite file itself (`sqlite_file`).

use std::time::Duration;

use migration::Migrator;
use migration::sea_orm_migration::MigratorTrait;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};

pub use crate::config::{DEFAULT_ACQUIRE_TIMEOUT, PoolOptions};

pub mod schema;
pub mod sqlite_file;

pub use schema::{Schema, SchemaState, VERSION};
pub use sqlite_file::sqlite_file;

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
pub async fn open(url: &str, max_connections: u32) -> anyhow::Result<DatabaseConnection> {
    open_with(url, PoolOptions::new(max_connections)).await
}

/// [`open`] with every pool setting: what `passgate serve` starts with. A SQLite file that
/// does not exist yet is created 0600 (when the URL allows creating it); one from a newer
/// passgate is refused before anything is changed.
pub async fn open_with(url: &str, pool: PoolOptions) -> anyhow::Result<DatabaseConnection> {
    let migrator = reach(url, Create::IfUrlAllows, pool.acquire_timeout).await?;
    let migrated = migrate_locked(&migrator).await;
    migrator.close().await.ok();
    migrated?;
    Ok(connect_with(url, pool).await?)
}

/// The pool of an administrative command: the database must exist and have exactly this
/// passgate's schema (a command never migrates by itself, nor creates an empty file).
pub async fn open_for_admin(url: &str, pool: PoolOptions) -> anyhow::Result<DatabaseConnection> {
    let db = reach_with(url, Create::Never, pool).await?;
    let schema = schema::read(&db).await?;
    if let Err(refusal) = schema.require_current(&describe(url)) {
        db.close().await.ok();
        return Err(refusal);
    }
    Ok(db)
}

/// Whether opening may create a missing SQLite file.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Create {
    /// Never: a missing file is an error ("there is no database at …").
    Never,
    /// When the URL asks for it (`mode=rwc`): serving and `migrate up`.
    IfUrlAllows,
}

/// A single-connection pool for migrating (see [`migrator_connection`]), after checking the
/// SQLite file and making sure the server answers, with the cause named in one line.
pub async fn reach(
    url: &str,
    create: Create,
    timeout: Duration,
) -> anyhow::Result<DatabaseConnection> {
    prepare(url, create)?;
    probe(url, timeout).await?;
    Ok(migrator_connection(url).await?)
}

async fn reach_with(
    url: &str,
    create: Create,
    pool: PoolOptions,
) -> anyhow::Result<DatabaseConnection> {
    prepare(url, create)?;
    probe(url, pool.acquire_timeout).await?;
    Ok(connect_with(url, pool).await?)
}

/// The SQLite file: missing ones are created 0600 or refused; existing ones lose group and
/// other access.
fn prepare(url: &str, create: Create) -> anyhow::Result<()> {
    let Some(path) = sqlite_file(url) else {
        return Ok(());
    };
    if path.exists() {
        if let Err(err) = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            && err.kind() == std::io::ErrorKind::PermissionDenied
        {
            anyhow::bail!(
                "cannot open the database {}: permission denied (run passgate as the user that \
                 owns it, e.g. the service's user)",
                path.display()
            );
        }
        match sqlite_file::make_private(&path) {
            Ok(changed) => {
                for file in changed {
                    tracing::warn!(
                        file = %file.display(),
                        "the database file was readable by others; it is now 0600 (it holds credential material)"
                    );
                }
            }
            Err(err) => tracing::warn!(
                file = %path.display(),
                error = %err,
                "cannot make the database file private (0600)"
            ),
        }
        return Ok(());
    }
    let creatable = create == Create::IfUrlAllows && url.contains("mode=rwc");
    if !creatable {
        return Err(no_database(&path));
    }
    match sqlite_file::create_private(&path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
            "cannot create the database {}: the directory {} does not exist",
            path.display(),
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| ".".into(), |p| p.display().to_string())
        ),
        Err(err) => anyhow::bail!("cannot create the database {}: {err}", path.display()),
    }
}

/// "There is no database at …", with the absolute path and what to check.
pub fn no_database(path: &std::path::Path) -> anyhow::Error {
    anyhow::anyhow!(
        "there is no database at {}: check PASSGATE_DATABASE_URL (an absolute path takes three \
         slashes: sqlite:///var/lib/passgate/passgate.db), or start `passgate serve` once to \
         create it",
        std::path::absolute(path)
            .unwrap_or_else(|_| path.to_path_buf())
            .display()
    )
}

/// One direct connection, closed again: a refused connection, a wrong password or a missing
/// database is reported at once and in words ("connection refused"), where the pool would
/// retry until its acquire timeout and then say only that it timed out.
async fn probe(url: &str, timeout: Duration) -> anyhow::Result<()> {
    use sea_orm::sqlx::Connection;
    use std::str::FromStr;
    let attempt = async {
        if url.starts_with("sqlite:") {
            let options = sea_orm::sqlx::sqlite::SqliteConnectOptions::from_str(url)?;
            sea_orm::sqlx::SqliteConnection::connect_with(&options)
                .await?
                .close()
                .await
        } else {
            let options = sea_orm::sqlx::postgres::PgConnectOptions::from_str(url)?;
            sea_orm::sqlx::PgConnection::connect_with(&options)
                .await?
                .close()
                .await
        }
    };
    let cause = match tokio::time::timeout(timeout, attempt).await {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(err)) => cause_of(&err),
        Err(_) => format!("no answer within {} s", timeout.as_secs()),
    };
    anyhow::bail!("cannot connect to {}: {cause}", describe(url))
}

/// The cause of a failed connection, in a few words (never the URL).
fn cause_of(err: &sea_orm::sqlx::Error) -> String {
    use sea_orm::sqlx::Error;
    match err {
        Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
            std::io::ErrorKind::TimedOut => "timed out".into(),
            std::io::ErrorKind::PermissionDenied => "permission denied".into(),
            _ => io.to_string(),
        },
        Error::Database(db) => db.message().to_string(),
        Error::Tls(tls) => format!("TLS: {tls}"),
        other => crate::config::redact_url(&other.to_string()),
    }
}

/// The database as messages name it: the SQLite file, or PostgreSQL's host, port and
/// database (never user or password).
pub fn describe(url: &str) -> String {
    if let Some(path) = sqlite_file(url) {
        return format!("the SQLite database {}", path.display());
    }
    use std::str::FromStr;
    match sea_orm::sqlx::postgres::PgConnectOptions::from_str(url) {
        Ok(options) => format!(
            "PostgreSQL at {}:{} (database {})",
            options.get_host(),
            options.get_port(),
            options
                .get_database()
                .unwrap_or("of the same name as the user")
        ),
        Err(_) => crate::config::redact_url(url),
    }
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
/// A database a newer passgate migrated is refused, and nothing is changed.
pub async fn migrate_locked(db: &DatabaseConnection) -> anyhow::Result<()> {
    with_migration_lock(db, async { migrate(db).await.map(|_| ()) }).await
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

/// Applies every pending migration (refusing a database from a newer passgate) and records
/// this passgate's version when it applied any. Returns how many it applied.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<usize> {
    let schema = schema::read(db).await?;
    schema.refuse_if_ahead()?;
    let pending = match schema.state() {
        SchemaState::Empty => schema.known.len(),
        SchemaState::Behind { pending } => pending.len(),
        SchemaState::Current | SchemaState::Ahead { .. } => 0,
    };
    if pending > 0 {
        Migrator::up(db, None).await?;
        schema::record_version(db).await?;
    }
    Ok(pending)
}

/// True when the database answers a trivial query.
pub async fn ping(db: &impl ConnectionTrait) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}
