//! Where a database's schema stands against this passgate's migrations: current, behind
//! (`passgate migrate up`), ahead (a newer passgate migrated it: refused, never run half
//! understood) or empty. Every passgate that applies migrations records its version in
//! `settings`, so an older one can name the version that went ahead.

use migration::sea_orm_migration::{MigratorTrait, SchemaManager};
use migration::{Migrator, Step};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

/// This passgate's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The `settings` key holding the version of the passgate that last applied a migration.
const VERSION_SETTING: &str = "passgate_version";

/// The migrations a database has and this passgate knows.
#[derive(Clone, Debug)]
pub struct Schema {
    /// Applied migrations, in the order they were applied.
    pub applied: Vec<String>,
    /// The migrations this passgate knows, oldest first.
    pub known: Vec<String>,
    /// The passgate that last applied a migration (unknown for databases from before it was
    /// recorded, and for empty ones).
    pub migrated_by: Option<String>,
}

/// How a database stands to this passgate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaState {
    /// No passgate tables yet.
    Empty,
    /// Exactly the migrations this passgate knows.
    Current,
    /// Older: these known migrations are not applied yet.
    Behind { pending: Vec<String> },
    /// Newer: these applied migrations are unknown to this passgate.
    Ahead { unknown: Vec<String> },
}

impl Schema {
    pub fn state(&self) -> SchemaState {
        let unknown: Vec<String> = self
            .applied
            .iter()
            .filter(|name| !self.known.contains(name))
            .cloned()
            .collect();
        if !unknown.is_empty() {
            return SchemaState::Ahead { unknown };
        }
        if self.applied.is_empty() {
            return SchemaState::Empty;
        }
        let pending: Vec<String> = self
            .known
            .iter()
            .filter(|name| !self.applied.contains(name))
            .cloned()
            .collect();
        if pending.is_empty() {
            SchemaState::Current
        } else {
            SchemaState::Behind { pending }
        }
    }

    /// `Err` with one line naming both versions when a newer passgate migrated the database.
    pub fn refuse_if_ahead(&self) -> anyhow::Result<()> {
        match self.state() {
            SchemaState::Ahead { unknown } => Err(anyhow::anyhow!(
                "this database was migrated by {}, newer than this passgate {VERSION}: it has \
                 migration(s) this version does not know ({}). Run that passgate version (or a \
                 newer one), or restore a backup made for {VERSION}; nothing was changed",
                self.migrated_by
                    .as_deref()
                    .map_or("a newer passgate".to_string(), |v| format!("passgate {v}")),
                unknown.join(", ")
            )),
            _ => Ok(()),
        }
    }

    /// `Err` unless the schema is exactly this passgate's: what an administrative command
    /// needs (it never migrates by itself). `place` names the database.
    pub fn require_current(&self, place: &str) -> anyhow::Result<()> {
        self.refuse_if_ahead()?;
        match self.state() {
            SchemaState::Current | SchemaState::Ahead { .. } => Ok(()),
            SchemaState::Empty => Err(anyhow::anyhow!(
                "{place} has no passgate tables yet: run `passgate migrate up` (or start \
                 `passgate serve` once, which also creates the first admin)"
            )),
            SchemaState::Behind { pending } => Err(anyhow::anyhow!(
                "{place} is behind this passgate {VERSION}: {} migration(s) not applied ({}); \
                 run `passgate migrate up` first (a starting server applies them too)",
                pending.len(),
                pending.join(", ")
            )),
        }
    }

    /// The applied migration that `migrate down` would undo (the newest), if it is a known
    /// one other than the base.
    pub fn last_undoable(&self) -> Option<Box<dyn Step>> {
        let last = self.applied.last()?;
        let mut steps = Migrator::steps();
        let at = steps.iter().position(|step| step.name() == last)?;
        (at > 0).then(|| steps.swap_remove(at))
    }
}

/// Reads the applied migrations (none when the migrations table is missing) and the
/// recorded version.
pub async fn read(conn: &DatabaseConnection) -> Result<Schema, DbErr> {
    let known = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_string())
        .collect();
    let manager = SchemaManager::new(conn);
    if !manager.has_table("seaql_migrations").await? {
        return Ok(Schema {
            applied: Vec::new(),
            known,
            migrated_by: None,
        });
    }
    let query = Query::select()
        .column(Alias::new("version"))
        .from(Alias::new("seaql_migrations"))
        .order_by(Alias::new("version"), sea_orm::Order::Asc)
        .to_owned();
    let applied = conn
        .query_all(&query)
        .await?
        .iter()
        .map(|row| row.try_get::<String>("", "version"))
        .collect::<Result<Vec<_>, _>>()?;
    let migrated_by = if manager.has_table("settings").await? {
        let query = Query::select()
            .column(Alias::new("value"))
            .from(Alias::new("settings"))
            .and_where(Expr::col(Alias::new("key")).eq(VERSION_SETTING))
            .to_owned();
        match conn.query_one(&query).await? {
            Some(row) => Some(row.try_get::<String>("", "value")?),
            None => None,
        }
    } else {
        None
    };
    Ok(Schema {
        applied,
        known,
        migrated_by,
    })
}

/// Records this passgate as the one that last applied a migration.
pub async fn record_version(conn: &impl ConnectionTrait) -> Result<(), DbErr> {
    let query = Query::insert()
        .into_table(Alias::new("settings"))
        .columns([Alias::new("key"), Alias::new("value")])
        .values_panic([VERSION_SETTING.into(), VERSION.into()])
        .on_conflict(
            OnConflict::column(Alias::new("key"))
                .update_column(Alias::new("value"))
                .to_owned(),
        )
        .to_owned();
    conn.execute(&query).await.map(|_| ())
}

/// `passgate migrate status`: both versions, then each migration and whether it is applied
/// (including those only a newer passgate knows).
pub fn status_report(schema: &Schema) -> String {
    let mut out = format!(
        "this passgate: {VERSION}\ndatabase last migrated by: {}\n",
        schema
            .migrated_by
            .as_deref()
            .map_or("(not recorded)".to_string(), |v| format!("passgate {v}"))
    );
    for name in &schema.known {
        let status = if schema.applied.contains(name) {
            "applied"
        } else {
            "pending"
        };
        out.push_str(&format!("{name}\t{status}\n"));
    }
    for name in schema.applied.iter().filter(|n| !schema.known.contains(n)) {
        out.push_str(&format!(
            "{name}\tapplied by a newer passgate (unknown to this one)\n"
        ));
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(applied: &[&str], known: &[&str]) -> Schema {
        Schema {
            applied: applied.iter().map(|s| s.to_string()).collect(),
            known: known.iter().map(|s| s.to_string()).collect(),
            migrated_by: Some("9.9.9".into()),
        }
    }

    #[test]
    fn states() {
        assert_eq!(schema(&[], &["a", "b"]).state(), SchemaState::Empty);
        assert_eq!(
            schema(&["a", "b"], &["a", "b"]).state(),
            SchemaState::Current
        );
        assert_eq!(
            schema(&["a"], &["a", "b"]).state(),
            SchemaState::Behind {
                pending: vec!["b".into()]
            }
        );
        assert_eq!(
            schema(&["a", "b", "c"], &["a", "b"]).state(),
            SchemaState::Ahead {
                unknown: vec!["c".into()]
            }
        );
    }

    #[test]
    fn ahead_names_both_versions_in_one_line() {
        let err = schema(&["a", "z_future"], &["a"])
            .refuse_if_ahead()
            .unwrap_err()
            .to_string();
        assert!(err.contains("passgate 9.9.9"), "{err}");
        assert!(err.contains(&format!("this passgate {VERSION}")), "{err}");
        assert!(err.contains("z_future") && !err.contains('\n'), "{err}");
        let report = status_report(&schema(&["a", "z_future"], &["a", "b"]));
        assert!(report.contains("passgate 9.9.9") && report.contains(VERSION));
        assert!(report.contains("b\tpending") && report.contains("z_future\tapplied by a newer"));
    }
}
