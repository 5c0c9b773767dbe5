//! The database as an operator meets it through the built binary: administrative commands
//! never migrate by themselves, a database from a newer passgate is refused with both
//! versions named, `migrate down` has a floor and asks before it drops data, files are 0600
//! whatever the umask, and the first admin's password is printed only once the port is bound.

use std::os::unix::fs::PermissionsExt;

use migration::Migrator;
use passgate::db::VERSION;
use sea_orm::{ConnectionTrait, Database};

use crate::process::{Operator, api_login};

/// Runs SQL on the operator's SQLite database (as `sqlite3` would).
async fn sql(op: &Operator, statements: &str) {
    let url = format!("sqlite://{}?mode=rw", op.database().display());
    let conn = Database::connect(url.as_str()).await.unwrap();
    conn.execute_unprepared(statements).await.unwrap();
    conn.close().await.unwrap();
}

fn applied(op: &Operator) -> String {
    op.run(&["migrate", "status"]).ok().to_string()
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn administrative_commands_refuse_a_schema_behind_and_never_migrate_it() {
    let dir = tempfile::tempdir().unwrap();
    let op = Operator::new(dir.path());
    op.run(&["migrate", "up"]).ok();
    op.run(&["user", "create", "root", "--superuser"]).ok();
    op.run(&["migrate", "down", "--yes"]).ok();
    let before = applied(&op);
    for args in [
        &["user", "list"][..],
        &["user", "unlock", "root"],
        &["key", "create", "root", "--name", "ci"],
    ] {
        let stderr = op.run(args).fails(1).to_string();
        assert!(
            stderr.contains("behind this passgate")
                && stderr.contains("run `passgate migrate up`")
                && stderr.lines().count() == 1,
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(applied(&op), before, "nothing migrated silently");
    op.run(&["migrate", "up"]).ok();
    assert!(op.run(&["user", "list"]).ok().contains("root"));
}

#[tokio::test]
async fn a_database_from_a_newer_passgate_is_refused_naming_both_versions() {
    let dir = tempfile::tempdir().unwrap();
    let op = Operator::new(dir.path());
    op.run(&["migrate", "up"]).ok();
    op.run(&["user", "create", "root", "--superuser"]).ok();
    // What a later passgate (9.9.9) would leave: a migration this one does not know.
    sql(
        &op,
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m20990101_000001_future', 0);
         UPDATE settings SET value = '9.9.9' WHERE key = 'passgate_version';",
    )
    .await;
    let file_before = std::fs::read(op.database()).unwrap();
    let mut server = op.spawn_server();
    let status = server.wait_exit();
    assert_eq!(status.code(), Some(1));
    let refusal: Vec<String> = server
        .log()
        .lines()
        .filter(|l| l.starts_with("passgate: "))
        .map(String::from)
        .collect();
    assert_eq!(refusal.len(), 1, "{}", server.log());
    assert!(
        refusal[0].contains("migrated by passgate 9.9.9")
            && refusal[0].contains(&format!("this passgate {VERSION}"))
            && refusal[0].contains("m20990101_000001_future"),
        "{}",
        refusal[0]
    );
    for args in [
        &["user", "list"][..],
        &["migrate", "up"],
        &["migrate", "down", "--yes"],
        &["user", "reset-password", "root"],
    ] {
        let stderr = op.run(args).fails(1).to_string();
        assert!(stderr.contains("passgate 9.9.9"), "{args:?}: {stderr}");
    }
    let status = applied(&op);
    assert!(
        status.starts_with(&format!(
            "this passgate: {VERSION}\ndatabase last migrated by: passgate 9.9.9\n"
        )),
        "{status}"
    );
    assert!(status.contains("m20990101_000001_future\tapplied by a newer passgate"));
    assert_eq!(
        std::fs::read(op.database()).unwrap(),
        file_before,
        "untouched"
    );
}

#[tokio::test]
async fn migrate_down_names_what_it_drops_asks_first_and_never_undoes_the_base() {
    let dir = tempfile::tempdir().unwrap();
    let op = Operator::new(dir.path());
    op.run(&["migrate", "up"]).ok();
    op.run(&["user", "create", "root", "--superuser"]).ok();
    // The migrations after the session details first (whatever they hold), then the session
    // details themselves: the sessions hold no rows, nothing is asked.
    while !applied(&op)
        .lines()
        .rfind(|line| line.ends_with("\tapplied"))
        .is_some_and(|newest| newest.starts_with("m20261203_000006_session_details"))
    {
        op.run(&["migrate", "down", "--yes"]).ok();
    }
    let out = op.run(&["migrate", "down"]).ok().to_string();
    assert!(
        out.starts_with("rolled back m20261203_000006_session_details"),
        "{out}"
    );
    // Users hold require_mfa and disable_password_auth: without a terminal, refused.
    let before = applied(&op);
    let stderr = op.run(&["migrate", "down"]).fails(1).to_string();
    assert!(
        stderr.contains("m20261203_000005_passkeys")
            && stderr.contains("every passkey")
            && stderr.contains("users.disable_password_auth: 1 row(s)")
            && stderr.contains("add --yes"),
        "{stderr}"
    );
    assert_eq!(applied(&op), before, "nothing changed");
    // On a terminal it asks; "no" changes nothing, "yes" goes on.
    let shown = op.run_on_terminal(&["migrate", "down"], "no\n");
    assert_ne!(shown.code(), 0, "{}", shown.stdout);
    assert!(
        shown.stdout.contains("Type yes to go on"),
        "{}",
        shown.stdout
    );
    assert_eq!(applied(&op), before);
    let shown = op.run_on_terminal(&["migrate", "down"], "yes\n");
    assert_eq!(shown.code(), 0, "{}", shown.stdout);
    assert!(
        shown
            .stdout
            .contains("rolled back m20261203_000005_passkeys")
    );
    // The rest with --yes, each naming what went; then the floor.
    for (name, words) in [
        (
            "m20261203_000003_reset_links",
            "every reset and set-up link",
        ),
        ("m20261203_000002_mfa", "every TOTP device"),
        ("m20261203_000001_crafty_preferences", "Crafty preferences"),
        ("m20260216_000001_temp_password", "pending password changes"),
    ] {
        let out = op.run(&["migrate", "down", "--yes"]).ok().to_string();
        assert!(out.contains(name) && out.contains(words), "{out}");
    }
    let stderr = op.run(&["migrate", "down", "--yes"]).fails(1).to_string();
    assert!(
        stderr.contains("nothing to roll back") && stderr.contains("base"),
        "{stderr}"
    );
    let out = op.run(&["migrate", "up"]).ok().to_string();
    assert_eq!(
        out.trim(),
        format!("applied {} migration(s)", Migrator::steps().len() - 1)
    );
    assert!(
        op.run(&["user", "list"]).ok().contains("root"),
        "the user survived"
    );
}

#[tokio::test]
async fn migrate_down_is_refused_while_a_server_has_the_database_open() {
    let dir = tempfile::tempdir().unwrap();
    let op = Operator::new(dir.path());
    let mut server = op.spawn_server();
    server.wait_ready().await;
    let before = applied(&op);
    let stderr = op.run(&["migrate", "down", "--yes"]).fails(1).to_string();
    assert!(stderr.contains("stop passgate"), "{stderr}");
    assert_eq!(applied(&op), before);
    server.stop();
    op.run(&["migrate", "down", "--yes"]).ok();
}

#[tokio::test]
async fn database_files_and_backups_are_private_whatever_the_umask() {
    let dir = tempfile::tempdir().unwrap();
    let op = Operator::new(dir.path()).umask(0o000);
    let mut server = op.spawn_server();
    server.wait_ready().await;
    let database = op.database();
    for file in passgate::db::sqlite_file::with_companions(&database) {
        assert!(file.exists(), "{}", file.display());
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    op.run(&["backup", "copy.db"]).ok();
    assert_eq!(mode(&dir.path().join("copy.db")), 0o600);
    server.stop();
    // A database made before, readable by everyone, is made private at the next start.
    std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut server = op.spawn_server();
    server.wait_ready().await;
    assert_eq!(mode(&database), 0o600);
    assert!(server.log().contains("now 0600"), "{}", server.log());
}

#[tokio::test]
async fn the_first_admins_password_is_printed_only_once_the_port_is_bound() {
    let dir = tempfile::tempdir().unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = busy.local_addr().unwrap().to_string();
    let op = Operator::new(dir.path()).env("PASSGATE_BIND", &taken);
    let mut server = op.spawn_server();
    assert_eq!(server.wait_exit().code(), Some(1));
    let log = server.log();
    assert!(log.contains(&format!("cannot listen on {taken}")), "{log}");
    assert!(!log.contains("Created the superuser"), "{log}");
    drop(busy);
    // The next start, on a free port, makes the admin and prints its password.
    let op = Operator::new(dir.path());
    let mut server = op.spawn_server();
    let line = server.wait_for_line("Created the superuser 'admin'");
    assert!(line.is_some(), "{}", server.log());
    server.wait_ready().await;
    let password = server.first_admin_password();
    let signed_in = api_login(&server, "admin", &password).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
}

#[test]
fn the_readme_lists_what_each_down_loses() {
    let readme = include_str!("../../README.md");
    let listed: Vec<(String, String)> = readme
        .lines()
        .filter_map(|line| line.strip_prefix("| `m20"))
        .filter_map(|rest| {
            let (name, rest) = rest.split_once("` | ")?;
            Some((
                format!("m20{name}"),
                rest.trim_end_matches(" |").to_string(),
            ))
        })
        .collect();
    let stated: Vec<(String, String)> = Migrator::steps()
        .iter()
        .map(|step| {
            (
                step.name().to_string(),
                step.down_loses().in_words.to_string(),
            )
        })
        .collect();
    assert_eq!(
        listed, stated,
        "README's table of what each migration's down loses"
    );
}
