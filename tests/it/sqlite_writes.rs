//! Use cases on SQLite are not refused for a write another connection committed while they
//! ran (`accounts::transaction::begin`: `BEGIN IMMEDIATE`). A transaction that reads first and
//! writes later is otherwise refused outright (`SQLITE_BUSY_SNAPSHOT`, no busy timeout waits it
//! out): a 500 for whoever saved an application or reset a password while a background job or
//! another request wrote.

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, TransactionTrait};

/// Two connections to one new database with a table: the second never waits for a lock.
async fn two_connections(dir: &std::path::Path) -> (DatabaseConnection, DatabaseConnection) {
    let url = format!("sqlite://{}/writes.db?mode=rwc", dir.display());
    let first = passgate::db::connect(&url, 1).await.unwrap();
    first
        .execute_unprepared("CREATE TABLE t (n INTEGER NOT NULL)")
        .await
        .unwrap();
    let other = passgate::db::connect(&url, 1).await.unwrap();
    other
        .execute_unprepared("PRAGMA busy_timeout = 0")
        .await
        .unwrap();
    (first, other)
}

async fn count(conn: &impl ConnectionTrait) -> i64 {
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(*) AS n FROM t",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

#[tokio::test]
async fn a_use_cases_transaction_writes_after_reading_whatever_others_write_meanwhile() {
    let dir = tempfile::tempdir().unwrap();
    let (db, other) = two_connections(dir.path()).await;

    // What SQLite does to a transaction begun the default way: it reads, another connection
    // commits a write, and its own write is refused.
    let deferred = db.begin().await.unwrap();
    assert_eq!(count(&deferred).await, 0);
    other
        .execute_unprepared("INSERT INTO t VALUES (1)")
        .await
        .expect("nothing holds the write lock yet");
    let refused = deferred
        .execute_unprepared("INSERT INTO t VALUES (2)")
        .await
        .expect_err("a write after another connection's commit");
    assert!(
        refused.to_string().contains("locked") || refused.to_string().contains("busy"),
        "{refused}"
    );
    deferred.rollback().await.unwrap();

    // A use case's transaction holds the write lock from its start: the other connection
    // waits (here it does not wait and is told), the use case's write goes through.
    let txn = passgate::accounts::transaction::begin(&db).await.unwrap();
    assert_eq!(count(&txn).await, 1);
    let waits = other.execute_unprepared("INSERT INTO t VALUES (3)").await;
    assert!(waits.is_err(), "the use case's transaction holds the lock");
    txn.execute_unprepared("INSERT INTO t VALUES (4)")
        .await
        .expect("the use case's own write");
    txn.commit().await.unwrap();
    other
        .execute_unprepared("INSERT INTO t VALUES (5)")
        .await
        .expect("the other connection writes after the commit");
    assert_eq!(count(&db).await, 3);
}
