//! Tests of the command line's own logic.

use super::*;
use crate::db;
use sea_orm::ConnectionTrait;

#[tokio::test]
async fn backup_copies_a_live_database_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/live.db?mode=rwc", dir.path().display());
    let live = db::open(&url, 1).await.unwrap();
    live.execute_unprepared("INSERT INTO settings (key, value) VALUES ('backup-test', 'kept')")
        .await
        .unwrap();
    let target = dir.path().join("copy.db");
    let out = backup::backup(&url, &target).await.expect("backup");
    assert!(out.contains("copy.db"), "{out}");

    let copy_url = format!("sqlite://{}?mode=rw", target.display());
    let copy = db::connect(&copy_url, 1).await.unwrap();
    let row = copy
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "SELECT value FROM settings WHERE key = 'backup-test'",
        ))
        .await
        .unwrap()
        .expect("the row is in the copy");
    assert_eq!(row.try_get_by_index::<String>(0).unwrap(), "kept");
    copy.close().await.unwrap();

    let before = std::fs::read(&target).unwrap();
    let err = backup::backup(&url, &target).await.unwrap_err().to_string();
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), before, "untouched");
    live.close().await.unwrap();
}

#[tokio::test]
async fn backup_points_postgres_users_to_pg_dump() {
    let err = backup::backup(
        "postgres://u:secret@localhost/db",
        std::path::Path::new("x"),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("pg_dump"), "{err}");
    assert!(!err.contains("secret"), "no credentials in the message");
    assert!(!err.contains('\n'));
}

#[test]
fn key_create_takes_the_spec_flags() {
    let cli = Cli::try_parse_from([
        "passgate",
        "key",
        "create",
        "alice",
        "--name",
        "automation",
        "--full-access",
        "--user-config",
    ])
    .expect("parses");
    match cli.command {
        Some(Command::Key(KeyCommand::Create {
            username,
            name,
            full_access,
            user_config,
        })) => {
            assert_eq!((username.as_str(), name.as_str()), ("alice", "automation"));
            assert!(full_access && user_config);
        }
        other => panic!("{other:?}"),
    }
    // A name is required: a key is told apart by it.
    assert!(Cli::try_parse_from(["passgate", "key", "create", "alice"]).is_err());
}
