//! What undoing a migration destroys. Every migration states it beside its `up` and `down`
//! (the [`Step`] trait, which [`crate::Migrator::steps`] requires), so `passgate migrate down`
//! can name what it is about to drop and ask first, and the README can list it. The tests
//! below run each `down` and check that it drops exactly the tables and columns stated.

use sea_orm_migration::MigrationTrait;

/// The tables and columns a migration's `down` drops, and what an operator loses with them.
#[derive(Clone, Copy, Debug)]
pub struct Loss {
    /// Tables the down drops (with every row in them).
    pub tables: &'static [&'static str],
    /// `(table, column)` pairs the down drops from tables that stay.
    pub columns: &'static [(&'static str, &'static str)],
    /// Tables that stay but whose rows the down deletes (e.g. sessions it cannot convert back).
    pub emptied: &'static [&'static str],
    /// What is lost, in the operator's words (the README's list and the question before a
    /// down): "TOTP devices, recovery codes, …".
    pub in_words: &'static str,
}

/// A passgate migration: sea-orm's `up` and `down`, and what the `down` loses.
pub trait Step: MigrationTrait {
    fn down_loses(&self) -> Loss;
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use sea_orm_migration::MigratorTrait;
    use sea_orm_migration::sea_orm::DatabaseConnection;

    use crate::Migrator;
    use crate::tests::{memory_db, strings};

    type Schema = BTreeMap<String, BTreeSet<String>>;

    /// Every table (but sea-orm's own) and its columns.
    async fn schema(db: &DatabaseConnection) -> Schema {
        let mut schema = Schema::new();
        for table in strings(
            db,
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name <> 'seaql_migrations'",
        )
        .await
        {
            let columns = strings(
                db,
                &format!("SELECT name FROM pragma_table_info('{table}')"),
            )
            .await
            .into_iter()
            .collect();
            schema.insert(table, columns);
        }
        schema
    }

    #[test]
    fn every_migration_says_in_words_what_its_down_loses() {
        for step in Migrator::steps() {
            let loss = step.down_loses();
            assert!(
                loss.in_words.len() > 10 && !loss.in_words.contains('\n'),
                "{}: say in one line what its down loses",
                step.name()
            );
            assert!(
                !loss.tables.is_empty() || !loss.columns.is_empty() || !loss.emptied.is_empty(),
                "{}: a down that drops nothing needs no migration",
                step.name()
            );
        }
    }

    /// Each down, run on the schema of every migration before it, drops exactly the tables
    /// and columns its migration states: a migration cannot forget to say what it loses.
    #[tokio::test]
    async fn each_down_drops_exactly_what_its_migration_states() {
        let db = memory_db().await;
        Migrator::up(&db, None).await.expect("up");
        for step in Migrator::steps().iter().rev() {
            let before = schema(&db).await;
            Migrator::down(&db, Some(1)).await.expect("down");
            let after = schema(&db).await;
            let dropped_tables: BTreeSet<String> = before
                .keys()
                .filter(|t| !after.contains_key(*t))
                .cloned()
                .collect();
            let dropped_columns: BTreeSet<(String, String)> = after
                .iter()
                .flat_map(|(table, columns)| {
                    before[table]
                        .difference(columns)
                        .map(|column| (table.clone(), column.clone()))
                        .collect::<Vec<_>>()
                })
                .collect();
            let loss = step.down_loses();
            let stated_tables: BTreeSet<String> =
                loss.tables.iter().map(|t| t.to_string()).collect();
            let stated_columns: BTreeSet<(String, String)> = loss
                .columns
                .iter()
                .map(|(t, c)| (t.to_string(), c.to_string()))
                .collect();
            assert_eq!(dropped_tables, stated_tables, "{}: tables", step.name());
            assert_eq!(dropped_columns, stated_columns, "{}: columns", step.name());
        }
        assert!(schema(&db).await.is_empty());
    }
}
