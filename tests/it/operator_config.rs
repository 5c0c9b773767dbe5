//! Configuration as an operator meets it, through the built binary: every bad value stops it
//! with one line naming the variable and status 2, blank values count as unset,
//! administrative commands ignore serve-only settings, and a database URL's password is
//! never printed.

use passgate::config::{Scope, VARIABLES};

use crate::process::{Operator, free_port};

/// A directory with a migrated database holding the superuser `root`.
fn operator_with_root(dir: &std::path::Path) -> Operator {
    let op = Operator::new(dir);
    op.run(&["migrate", "up"]).ok();
    op.run(&["user", "create", "root", "--superuser"]).ok();
    op
}

#[test]
fn every_bad_value_stops_passgate_with_one_line_naming_its_variable() {
    let dir = tempfile::tempdir().unwrap();
    for variable in VARIABLES {
        let ran = Operator::new(dir.path())
            .env(variable.name, variable.refused)
            .run(&["serve"]);
        let stderr = ran.fails(2);
        assert_eq!(stderr.lines().count(), 1, "{}: {stderr}", variable.name);
        assert!(
            stderr.starts_with(&format!(
                "passgate: configuration error: {}: ",
                variable.name
            )),
            "{stderr}"
        );
    }
    // The values the issue named, each refused in words.
    for (name, value, says) in [
        ("PASSGATE_MIN_PASSWORD_LENGTH", "7", "from 8 to 128"),
        ("PASSGATE_MIN_PASSWORD_SCORE", "5", "from 0 to 4"),
        ("PASSGATE_LOG", "verbose", "not a log filter"),
        ("PASSGATE_LOG", "warning", "not a log filter"),
    ] {
        let ran = Operator::new(dir.path())
            .env(name, value)
            .run(&["user", "list"]);
        let stderr = ran.fails(2);
        assert!(stderr.contains(name) && stderr.contains(says), "{stderr}");
    }
    assert!(
        !dir.path().join("passgate.db").exists(),
        "nothing was created"
    );
}

#[test]
fn administrative_commands_ignore_serve_only_settings() {
    let dir = tempfile::tempdir().unwrap();
    let mut op = operator_with_root(dir.path());
    for variable in VARIABLES.iter().filter(|v| v.scope == Scope::ServeOnly) {
        op = op.env(variable.name, variable.refused);
    }
    let out = op.run(&["user", "reset-password", "root"]).ok().to_string();
    assert!(out.contains("temporary password: "), "{out}");
    // `serve` still reads them.
    let ran = op.run(&["serve"]);
    assert_eq!(ran.code(), 2, "{}", ran.stderr);
}

#[test]
fn blank_bind_and_database_url_count_as_unset() {
    let dir = tempfile::tempdir().unwrap();
    let op = Operator::new(dir.path())
        .env("PASSGATE_BIND", "")
        .env("PASSGATE_DATABASE_URL", " ")
        .env("PASSGATE_LOG", "");
    op.run(&["migrate", "up"]).ok();
    assert!(
        dir.path().join("passgate.db").exists(),
        "the default database"
    );
    op.run(&["user", "list"]).ok();
}

#[test]
fn a_database_urls_password_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let closed = free_port();
    let url = format!("postgres://passgate:hunter2secret@{closed}/passgate");
    let op = Operator::new(dir.path()).env("PASSGATE_DATABASE_URL", &url);
    let help = op.run(&["--help"]);
    assert!(!help.ok().contains("hunter2secret"), "{}", help.stdout);
    // A server that refuses: the cause in words, at once, with host and port.
    let ran = op.run(&["user", "list"]);
    let stderr = ran.fails(1);
    assert_eq!(
        stderr.trim(),
        format!(
            "passgate: cannot connect to PostgreSQL at 127.0.0.1:{} (database passgate): connection refused",
            closed.port()
        )
    );
    // A URL that does not parse.
    let ran = Operator::new(dir.path())
        .env(
            "PASSGATE_DATABASE_URL",
            "postgres://passgate:hunter2secret@db:port/passgate",
        )
        .run(&["serve"]);
    let stderr = ran.fails(2);
    assert!(
        stderr.starts_with("passgate: configuration error: PASSGATE_DATABASE_URL: ")
            && stderr.contains("passgate:***@db:port")
            && !stderr.contains("hunter2secret"),
        "{stderr}"
    );
}

#[test]
fn a_missing_database_is_named_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let op = Operator::new(dir.path());
    for args in [
        &["user", "list"][..],
        &["user", "reset-password", "admin"],
        &["migrate", "status"],
        &["migrate", "down"],
        &["backup", "copy.db"],
    ] {
        let stderr = op.run(args).fails(1).to_string();
        assert!(
            stderr.contains("there is no database at")
                && stderr.contains(&dir.path().join("passgate.db").display().to_string()),
            "{args:?}: {stderr}"
        );
    }
    assert!(!dir.path().join("passgate.db").exists());
    // A directory that does not exist, for the server.
    let ran = Operator::new(dir.path())
        .env(
            "PASSGATE_DATABASE_URL",
            "sqlite:///nonexistent-dir/passgate.db?mode=rwc",
        )
        .run(&["serve"]);
    let stderr = ran.fails(1);
    assert!(
        stderr.contains("the directory /nonexistent-dir does not exist"),
        "{stderr}"
    );
}
