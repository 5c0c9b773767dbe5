//! Serializing the few decisions that count rows before writing (the last enabled superuser,
//! `USER_CONFIG` quotas), so two concurrent requests cannot both pass the same count.

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::accounts::error::Result;

/// Lock keys, one per kind of decision.
pub const SUPERUSERS: i64 = 0x7061_7373_0001;
pub const QUOTAS: i64 = 0x7061_7373_0002;
/// Removing a second factor (the last one may be protected by policy).
pub const FACTORS: i64 = 0x7061_7373_0003;

/// Takes an exclusive lock for the rest of the transaction `txn`: a PostgreSQL advisory
/// transaction lock; on SQLite the database write lock (taken by a write that changes
/// nothing), which also makes every later read in the transaction see the latest commit.
pub async fn exclusive(txn: &impl ConnectionTrait, key: i64) -> Result<()> {
    match txn.get_database_backend() {
        DbBackend::Postgres => {
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_advisory_xact_lock($1)",
                [key.into()],
            ))
            .await?;
        }
        _ => {
            txn.execute_unprepared("UPDATE settings SET value = value WHERE 1 = 0")
                .await?;
        }
    }
    Ok(())
}
