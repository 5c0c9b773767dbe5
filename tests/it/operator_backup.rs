//! Backups as an operator takes and restores them with the built binary (SPEC §17): a backup
//! taken while the server is under load is consistent and private, `restore` refuses what is
//! not a passgate database or comes from a newer passgate and waits for the server to stop,
//! and with `PASSGATE_SECRET_KEY_FILE` a backup alone mints no token.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use passgate::accounts::signing_key::SigningKey;
use passgate::auth::tokens;
use passgate::entities::{audit_log, settings, users};
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, QueryFilter,
};
use serde_json::json;

use crate::helpers::STRONG_2;
use crate::process::{Operator, Server, api, api_token, serving_with_root};

async fn open(path: &Path) -> DatabaseConnection {
    let url = format!("sqlite://{}?mode=rw", path.display());
    Database::connect(url.as_str()).await.unwrap()
}

async fn usernames(path: &Path) -> Vec<String> {
    let conn = open(path).await;
    let names = users::Entity::find()
        .all(&conn)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    conn.close().await.unwrap();
    names
}

/// Creates users through the API from `workers` tasks until `stop`; counts them in `made`.
fn load(
    server: &Arc<Server>,
    token: &str,
    workers: usize,
    stop: &Arc<AtomicBool>,
    made: &Arc<AtomicUsize>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..workers)
        .map(|worker| {
            let (server, token) = (server.clone(), token.to_string());
            let (stop, made) = (stop.clone(), made.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    let body = json!({
                        "username": format!("load{worker}x{n}"),
                        "password": STRONG_2,
                        "require_password_change": false,
                    });
                    let created =
                        api(&*server, "POST", "/api/v2/users", Some(&token), Some(body)).await;
                    assert_eq!(created.status, 201, "{}", created.body);
                    made.fetch_add(1, Ordering::SeqCst);
                    n += 1;
                }
            })
        })
        .collect()
}

/// Waits until `made` reached `at_least` (the load tasks advance it).
async fn until(made: &AtomicUsize, at_least: usize) {
    while made.load(Ordering::SeqCst) < at_least {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_under_load_restores_consistently_and_restore_refuses_what_it_must() {
    let dir = tempfile::tempdir().unwrap();
    let op = Operator::new(dir.path()).umask(0o000);
    let (server, token) = serving_with_root(&op).await;
    let server = Arc::new(server);
    let (stop, made) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let workers = load(&server, &token, 3, &stop, &made);
    until(&made, 6).await;
    let backup = dir.path().join("backup.db");
    let backup_arg = backup.display().to_string();
    let taken = {
        let op = op.clone();
        tokio::task::spawn_blocking(move || op.run(&["backup", &backup_arg]))
            .await
            .unwrap()
    };
    assert!(
        taken.ok().contains("readable by its owner only"),
        "{}",
        taken.stdout
    );
    let after_backup = made.load(Ordering::SeqCst);
    until(&made, after_backup + 3).await;
    stop.store(true, Ordering::SeqCst);
    for worker in workers {
        worker.await.unwrap();
    }
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Consistent: every user in the copy has the audit entry written in its transaction.
    let copied = usernames(&backup).await;
    let conn = open(&backup).await;
    let integrity = conn
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<String>(0)
        .unwrap();
    assert_eq!(integrity, "ok");
    for name in copied.iter().filter(|n| n.starts_with("load")) {
        let audited = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("user_created"))
            .filter(audit_log::Column::TargetName.eq(name.as_str()))
            .one(&conn)
            .await
            .unwrap();
        assert!(
            audited.is_some(),
            "{name} has its audit entry in the backup"
        );
    }
    conn.close().await.unwrap();
    let live = usernames(&op.database()).await;
    assert!(
        copied.len() > 6 && copied.len() < live.len(),
        "{} < {}",
        copied.len(),
        live.len()
    );

    // Restore refuses while the server runs, and changes nothing.
    let stderr = op.run(&["restore", "backup.db"]).fails(1).to_string();
    assert!(stderr.contains("stop passgate first"), "{stderr}");
    let mut server = Arc::into_inner(server).expect("the load tasks are done");
    server.stop();
    assert_eq!(usernames(&op.database()).await, live);

    // Not a passgate database: a text file, a SQLite file of something else; a newer one.
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    let other = dir.path().join("other.db");
    let url = format!("sqlite://{}?mode=rwc", other.display());
    let conn = Database::connect(url.as_str()).await.unwrap();
    conn.execute_unprepared("CREATE TABLE t (x INTEGER)")
        .await
        .unwrap();
    conn.close().await.unwrap();
    std::fs::copy(&backup, dir.path().join("newer.db")).unwrap();
    let conn = open(&dir.path().join("newer.db")).await;
    conn.execute_unprepared(
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m20990101_000001_future', 0);
         UPDATE settings SET value = '9.9.9' WHERE key = 'passgate_version';",
    )
    .await
    .unwrap();
    conn.close().await.unwrap();
    for (file, says) in [
        ("notes.txt", "is not a passgate database"),
        ("other.db", "is not a passgate database"),
        ("newer.db", "migrated by passgate 9.9.9"),
        ("missing.db", "there is no backup file"),
    ] {
        let stderr = op.run(&["restore", file]).fails(1).to_string();
        assert!(stderr.contains(says), "{file}: {stderr}");
    }
    assert_eq!(
        usernames(&op.database()).await,
        live,
        "still the live database"
    );

    let out = op.run(&["restore", "backup.db"]).ok().to_string();
    assert!(out.contains("is kept as"), "{out}");
    let kept = out
        .split("kept as ")
        .nth(1)
        .and_then(|rest| rest.split(" (").next())
        .expect("the kept file")
        .to_string();
    assert_eq!(
        usernames(&dir.path().join(&kept)).await,
        live,
        "the replaced database is kept"
    );
    assert_eq!(
        std::fs::metadata(op.database())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let mut server = op.spawn_server();
    server.wait_ready().await;
    assert_eq!(usernames(&op.database()).await, copied);
    let one = copied.iter().find(|n| n.starts_with("load")).unwrap();
    assert!(!api_token(&server, one, STRONG_2).await.is_empty());
    server.stop();
}

/// Tokens a thief could mint for `username` from the database file alone: the stored signing
/// key taken as base64url, as raw text, and as the base64 behind a `v1:` prefix.
async fn forged_tokens(database: &Path, username: &str) -> Vec<String> {
    use base64::Engine;
    let conn = open(database).await;
    let stored = settings::Entity::find_by_id("token_signing_key".to_string())
        .one(&conn)
        .await
        .unwrap()
        .expect("a signing key row")
        .value;
    let user = users::Entity::find()
        .filter(users::Column::Username.eq(username))
        .one(&conn)
        .await
        .unwrap()
        .expect("the user");
    conn.close().await.unwrap();
    let mut keys = vec![stored.as_bytes().to_vec()];
    let engines = [
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
        base64::engine::general_purpose::STANDARD,
    ];
    for text in [stored.as_str(), stored.trim_start_matches("v1:")] {
        keys.extend(engines.iter().filter_map(|e| e.decode(text).ok()));
    }
    keys.into_iter()
        .map(|key| tokens::issue(&SigningKey::from_bytes(key), &user))
        .collect()
}

#[tokio::test]
async fn with_a_key_file_a_backup_alone_mints_no_token() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("secret.key");
    std::fs::write(&key_file, [7u8; 32]).unwrap();
    for with_key_file in [false, true] {
        let work = tempfile::tempdir_in(dir.path()).unwrap();
        let mut op = Operator::new(work.path());
        if with_key_file {
            op = op.env("PASSGATE_SECRET_KEY_FILE", key_file.display().to_string());
        }
        let (mut server, _) = serving_with_root(&op).await;
        op.run(&["backup", "copy.db"]).ok();
        let mut accepted = 0;
        for forged in forged_tokens(&work.path().join("copy.db"), "root").await {
            let me = api(&server, "GET", "/api/v2/users/@me", Some(&forged), None).await;
            if me.status == 200 {
                accepted += 1;
            } else {
                assert_eq!(me.status, 401, "{}", me.body);
            }
        }
        if with_key_file {
            assert_eq!(
                accepted, 0,
                "a token minted from the backup alone was accepted"
            );
        } else {
            // What the key file closes: without it the backup signs tokens.
            assert!(accepted > 0, "the forging script itself must work");
        }
        server.stop();
    }
}
