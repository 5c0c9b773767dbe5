//! `passgate migrate up|down|status`. A down never undoes the base migration, names what it
//! drops (each migration states it, `migration::Loss`), and asks before dropping data.

use migration::Loss;
use migration::Migrator;
use migration::sea_orm_migration::MigratorTrait;
use sea_orm::sea_query::{Alias, Asterisk, Expr, Func, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::MigrateCommand;
use super::prompt;
use crate::config::Config;
use crate::db::{self, Create};

pub(super) async fn run(config: &Config, cmd: MigrateCommand) -> anyhow::Result<String> {
    let url = &config.database_url;
    let create = match cmd {
        MigrateCommand::Up => Create::IfUrlAllows,
        MigrateCommand::Down { .. } | MigrateCommand::Status => Create::Never,
    };
    // One connection, and on PostgreSQL the same advisory lock a starting server takes, so a
    // manual migration never runs alongside an instance's.
    if let (MigrateCommand::Down { .. }, Some(file)) = (cmd, db::sqlite_file(url))
        && db::sqlite_file::in_use(&file)?
    {
        anyhow::bail!(
            "{} is open in another process: stop passgate before rolling back (its running \
             code expects the schema it has); nothing was changed",
            file.display()
        );
    }
    let conn = db::reach(url, create, config.acquire_timeout).await?;
    let result = match cmd {
        MigrateCommand::Up => db::with_migration_lock(&conn, up(&conn)).await,
        MigrateCommand::Down { yes } => down(&conn, url, yes).await,
        MigrateCommand::Status => Ok(db::schema::status_report(&db::schema::read(&conn).await?)),
    };
    conn.close().await.ok();
    result
}

async fn up(conn: &DatabaseConnection) -> anyhow::Result<String> {
    Ok(match db::migrate(conn).await? {
        0 => "nothing to apply: the database is up to date".into(),
        n => format!("applied {n} migration(s)"),
    })
}

/// Undoes the newest migration after saying what goes with it; asks (or needs `yes`) when
/// that holds data. Under the migration lock, the newest migration must still be the one
/// asked about.
async fn down(conn: &DatabaseConnection, url: &str, yes: bool) -> anyhow::Result<String> {
    let schema = db::schema::read(conn).await?;
    schema.refuse_if_ahead()?;
    let Some(step) = schema.last_undoable() else {
        anyhow::bail!(match schema.applied.len() {
            0 => "nothing to roll back: no migration is applied".to_string(),
            _ => format!(
                "nothing to roll back: only the base migration is applied, and passgate never \
                 undoes it (it holds every user); to start over, remove {}",
                db::describe(url)
            ),
        });
    };
    let name = step.name().to_string();
    let loss = step.down_loses();
    let held = rows_lost(conn, &loss).await?;
    if !held.is_empty() {
        let question = format!(
            "Undoing {name} drops {}. Holding data now: {}.",
            loss.in_words,
            held.join(", ")
        );
        match (yes, prompt::confirm(&question)?) {
            (true, _) | (false, Some(true)) => {}
            (false, Some(false)) => anyhow::bail!("nothing was changed"),
            (false, None) => anyhow::bail!(
                "{question} Nothing was changed: run it on a terminal to be asked, or add --yes"
            ),
        }
    }
    db::with_migration_lock(conn, async {
        let now = db::schema::read(conn).await?;
        anyhow::ensure!(
            now.applied.last() == Some(&name),
            "the database changed meanwhile (its newest migration is no longer {name}); nothing \
             was changed"
        );
        Migrator::down(conn, Some(1)).await?;
        anyhow::Ok(())
    })
    .await?;
    Ok(format!("rolled back {name}: dropped {}", loss.in_words))
}

/// What the down would take that holds data now: "totp_devices: 3 row(s)" for a dropped
/// or emptied table, "users.require_mfa: 12 row(s)" for dropped columns of a table that stays.
async fn rows_lost(conn: &DatabaseConnection, loss: &Loss) -> anyhow::Result<Vec<String>> {
    let mut held = Vec::new();
    for table in loss.tables.iter().chain(loss.emptied) {
        let rows = count_rows(conn, table).await?;
        if rows > 0 {
            held.push(format!("{table}: {rows} row(s)"));
        }
    }
    let mut tables: Vec<&str> = loss.columns.iter().map(|(table, _)| *table).collect();
    tables.dedup();
    for table in tables {
        let rows = count_rows(conn, table).await?;
        if rows > 0 {
            let columns: Vec<String> = loss
                .columns
                .iter()
                .filter(|(t, _)| *t == table)
                .map(|(t, c)| format!("{t}.{c}"))
                .collect();
            held.push(format!("{}: {rows} row(s)", columns.join(", ")));
        }
    }
    Ok(held)
}

async fn count_rows(conn: &DatabaseConnection, table: &str) -> anyhow::Result<i64> {
    let query = Query::select()
        .expr_as(Func::count(Expr::col(Asterisk)), Alias::new("n"))
        .from(Alias::new(table))
        .to_owned();
    Ok(match conn.query_one(&query).await? {
        Some(row) => row.try_get::<i64>("", "n")?,
        None => 0,
    })
}
