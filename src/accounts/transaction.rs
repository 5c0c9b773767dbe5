//! How every use case starts its transaction. On SQLite a transaction that reads first and
//! writes later is refused outright (`SQLITE_BUSY_SNAPSHOT`, which no busy timeout waits out)
//! when another connection committed a write in between — a 500 for a reset, an application
//! saved or a code redeemed while a background job or another request wrote. `BEGIN IMMEDIATE`
//! takes the write lock first and waits for it like any other writer (SQLite has one writer at
//! a time either way; readers outside the transaction are not held up, and no use case hashes
//! a password inside its transaction). PostgreSQL ignores the mode.

use sea_orm::{DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait};

/// Begins a transaction that may write (a savepoint inside one already begun).
pub async fn begin<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}
