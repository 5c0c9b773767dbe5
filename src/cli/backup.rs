//! `passgate backup PATH` and `passgate restore PATH` (SQLite; PostgreSQL has pg_dump and
//! pg_restore). A backup is credential material: it is created readable by its owner only.

use std::path::{Path, PathBuf};

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

use crate::config::Config;
use crate::db::{self, SchemaState, sqlite_file};

const PG_BACKUP: &str = "for PostgreSQL use pg_dump, e.g. `pg_dump --format=custom \
                         --file=passgate.dump DBNAME` (restore with pg_restore)";

/// `VACUUM INTO` a new file (0600), a consistent snapshot taken while servers keep running
/// (readers and writers are not blocked for long; WAL mode).
pub(super) async fn backup(database_url: &str, path: &Path) -> anyhow::Result<String> {
    let source = sqlite_source(database_url, "backup", PG_BACKUP)?;
    if !source.exists() {
        return Err(db::no_database(&source));
    }
    let target = path
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the backup path must be valid UTF-8"))?;
    // The empty file first, 0600: VACUUM INTO fills an empty file and keeps its mode.
    sqlite_file::create_private(path).map_err(|err| match err.kind() {
        std::io::ErrorKind::AlreadyExists => {
            anyhow::anyhow!("{} already exists; choose a new file name", path.display())
        }
        _ => anyhow::anyhow!("cannot create {}: {err}", path.display()),
    })?;
    let db = db::connect(database_url, 1).await?;
    let result = db
        .execute_unprepared(&format!("VACUUM INTO '{}'", target.replace('\'', "''")))
        .await;
    db.close().await.ok();
    if let Err(err) = result {
        std::fs::remove_file(path).ok();
        anyhow::bail!("backup to {} failed: {err}", path.display());
    }
    Ok(format!(
        "backed up {} to {} (readable by its owner only: keep it as safe as the key file)",
        source.display(),
        path.display()
    ))
}

/// Puts a backup in place of the (stopped) SQLite database: the backup is copied beside the
/// database and checked there (a SQLite file, intact, with passgate's schema, not from a newer
/// passgate) before anything is replaced; the database it replaces is kept, renamed with its
/// `-wal` and `-shm` files.
pub(super) async fn restore(config: &Config, backup: &Path) -> anyhow::Result<String> {
    let live = sqlite_source(
        &config.database_url,
        "restore",
        "for PostgreSQL stop every instance and use pg_restore, e.g. `pg_restore --clean \
         --dbname=DBNAME passgate.dump`",
    )?;
    if !backup.is_file() {
        anyhow::bail!("there is no backup file at {}", backup.display());
    }
    if live.exists() && std::fs::canonicalize(&live)? == std::fs::canonicalize(backup)? {
        anyhow::bail!("{} is the database itself", backup.display());
    }
    refuse_if_in_use(&live)?;
    let mut head = [0u8; 16];
    let is_sqlite = std::fs::File::open(backup)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && &head == b"SQLite format 3\0";
    if !is_sqlite {
        anyhow::bail!(
            "{} is not a passgate database (not a SQLite file); nothing was changed",
            backup.display()
        );
    }
    let staged = companion(&live, ".restoring");
    std::fs::remove_file(&staged).ok();
    let copied = sqlite_file::create_private(&staged)
        .and_then(|mut file| {
            std::io::copy(&mut std::fs::File::open(backup)?, &mut file)?;
            file.sync_all()
        })
        .map_err(|err| anyhow::anyhow!("cannot copy the backup to {}: {err}", staged.display()));
    let checked = match copied {
        Ok(()) => check_backup(&staged, backup).await,
        Err(err) => Err(err),
    };
    let state = match checked {
        Ok(state) => state,
        Err(err) => {
            for file in sqlite_file::with_companions(&staged) {
                std::fs::remove_file(file).ok();
            }
            return Err(err);
        }
    };
    // Checked again: a server could have started while the copy was made and checked.
    refuse_if_in_use(&live)?;
    let kept = if live.exists() {
        let stamp = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .unwrap_or_default();
        let kept = companion(&live, &format!(".replaced-{stamp}"));
        for (from, to) in sqlite_file::with_companions(&live)
            .into_iter()
            .zip(sqlite_file::with_companions(&kept))
        {
            if from.exists() {
                std::fs::rename(&from, &to)?;
            }
        }
        Some(kept)
    } else {
        None
    };
    std::fs::rename(&staged, &live)?;
    if let Some(dir) = live.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir).and_then(|d| d.sync_all()).ok();
    }
    let mut out = format!("restored {} into {}", backup.display(), live.display());
    if let Some(kept) = kept {
        out.push_str(&format!(
            "; the database it replaced is kept as {} (remove it once you are sure: it is \
             credential material)",
            kept.display()
        ));
    }
    if let SchemaState::Behind { pending } = state {
        out.push_str(&format!(
            "; the backup is from an older passgate: the next start applies {} migration(s) \
             (or run `passgate migrate up`)",
            pending.len()
        ));
    }
    Ok(out)
}

/// The SQLite file of `url`, or the refusal naming what to use instead.
fn sqlite_source(url: &str, command: &str, postgres: &str) -> anyhow::Result<PathBuf> {
    if !url.starts_with("sqlite:") {
        anyhow::bail!("{command} works on SQLite only; {postgres}");
    }
    sqlite_file(url).ok_or_else(|| anyhow::anyhow!("{command} needs a SQLite database file"))
}

fn refuse_if_in_use(live: &Path) -> anyhow::Result<()> {
    if sqlite_file::in_use(live)? {
        anyhow::bail!(
            "{} is open in another process: stop passgate first (e.g. `systemctl stop \
             passgate`); nothing was changed",
            live.display()
        );
    }
    Ok(())
}

/// `path` with `suffix` appended to its file name.
fn companion(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The staged copy must be an intact passgate database that this passgate understands.
async fn check_backup(staged: &Path, backup: &Path) -> anyhow::Result<SchemaState> {
    let url = format!("sqlite://{}?mode=rw", staged.display());
    let conn = Database::connect(url.as_str()).await?;
    let result = inspect(&conn, backup).await;
    conn.close().await.ok();
    result
}

async fn inspect(conn: &DatabaseConnection, backup: &Path) -> anyhow::Result<SchemaState> {
    let not_passgate = |why: &str| {
        anyhow::anyhow!(
            "{} is not a passgate database ({why}); nothing was changed",
            backup.display()
        )
    };
    let check = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "PRAGMA quick_check",
        ))
        .await
        .map_err(|_| not_passgate("SQLite cannot read it"))?
        .and_then(|row| row.try_get_by_index::<String>(0).ok());
    if check.as_deref() != Some("ok") {
        anyhow::bail!(
            "{} is damaged (SQLite's quick_check: {}); nothing was changed",
            backup.display(),
            check.unwrap_or_default()
        );
    }
    let schema = db::schema::read(conn)
        .await
        .map_err(|_| not_passgate("SQLite cannot read it"))?;
    let base = schema.known.first().cloned().unwrap_or_default();
    let manager = migration::sea_orm_migration::SchemaManager::new(conn);
    if !schema.applied.contains(&base) || !manager.has_table("users").await? {
        return Err(not_passgate("no passgate tables in it"));
    }
    schema.refuse_if_ahead()?;
    Ok(schema.state())
}
