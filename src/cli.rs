//! The command line: serve, user administration (the lock-out recovery path), migrations.

use std::io::Read;

use clap::{Parser, Subcommand};
use migration::Migrator;
use migration::sea_orm_migration::MigratorTrait;
use sea_orm::DatabaseConnection;

use crate::accounts::audit::Actor;
use crate::accounts::clock;
use crate::accounts::credentials::{ResetOptions, reset_password};
use crate::accounts::password::Hasher;
use crate::accounts::secret::Secret;
use crate::accounts::users::{self, NewUser};
use crate::config::{Config, RawConfig};
use crate::db;
use crate::error::Error;

#[derive(Parser, Debug)]
#[command(name = "passgate", version, about = "A self-hosted account panel")]
pub struct Cli {
    /// Database URL (default: a SQLite file passgate.db in the working directory).
    #[arg(long, global = true, env = "PASSGATE_DATABASE_URL")]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the panel (the default).
    Serve {
        /// Address to listen on (default 127.0.0.1:8000).
        #[arg(long, env = "PASSGATE_BIND")]
        bind: Option<String>,
    },
    /// Manage users directly in the database (works whether or not a server is running).
    #[command(subcommand)]
    User(UserCommand),
    /// Apply or roll back migrations.
    #[command(subcommand)]
    Migrate(MigrateCommand),
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user; prints a generated password unless --password-stdin is given.
    Create {
        username: String,
        #[arg(long)]
        superuser: bool,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
        /// Do not require a password change at first sign-in.
        #[arg(long)]
        no_require_change: bool,
    },
    /// Set a temporary password; ends the user's sessions and tokens.
    ResetPassword {
        username: String,
        /// Hours until the temporary password expires (-1: never).
        #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
        expires_hours: i64,
        #[arg(long)]
        no_require_change: bool,
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users and their password status.
    List,
}

#[derive(Subcommand, Debug, Clone, Copy)]
pub enum MigrateCommand {
    /// Apply all pending migrations.
    Up,
    /// Roll back the most recent migration.
    Down,
    /// Show which migrations are applied.
    Status,
}

/// Builds the validated configuration from the environment and the flags.
pub fn config(cli: &Cli) -> Result<Config, String> {
    let mut raw = RawConfig::from_env();
    if let Some(url) = &cli.database_url {
        raw.database_url = Some(url.clone());
    }
    if let Some(Command::Serve { bind: Some(bind) }) = &cli.command {
        raw.bind = Some(bind.clone());
    }
    raw.validate()
}

fn read_password_stdin() -> anyhow::Result<Secret> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    let line = input.lines().next().unwrap_or("").to_string();
    input.clear();
    Ok(Secret::new(line))
}

/// Runs a `user` or `migrate` command and returns what to print.
pub async fn run_admin(config: &Config, command: Command) -> anyhow::Result<String> {
    match command {
        Command::Serve { .. } => Err(anyhow::anyhow!("serve is not an admin command")),
        Command::Migrate(cmd) => {
            let db = db::connect(&config.database_url, 1).await?;
            migrate(&db, cmd).await
        }
        Command::User(cmd) => {
            let db = db::open(&config.database_url, config.max_connections).await?;
            user(&db, config, cmd).await
        }
    }
}

async fn migrate(db: &DatabaseConnection, cmd: MigrateCommand) -> anyhow::Result<String> {
    match cmd {
        MigrateCommand::Up => {
            Migrator::up(db, None).await?;
            Ok("migrations applied".into())
        }
        MigrateCommand::Down => {
            Migrator::down(db, Some(1)).await?;
            Ok("rolled back one migration".into())
        }
        MigrateCommand::Status => {
            let mut out = String::new();
            for m in Migrator::get_migration_with_status(db).await? {
                out.push_str(&format!("{}\t{}\n", m.name(), m.status()));
            }
            Ok(out.trim_end().to_string())
        }
    }
}

async fn user(
    db: &DatabaseConnection,
    config: &Config,
    cmd: UserCommand,
) -> anyhow::Result<String> {
    let hasher = Hasher::new(1);
    let policy = &config.policy;
    match cmd {
        UserCommand::Create {
            username,
            superuser,
            password_stdin,
            no_require_change,
        } => {
            let password = if password_stdin {
                Some(read_password_stdin()?)
            } else {
                None
            };
            let new = NewUser {
                username,
                password,
                email: None,
                superuser,
                manager: None,
                lang: "en".into(),
                require_password_change: !no_require_change,
                expires_hours: -1,
                enabled: true,
                permissions: Vec::new(),
            };
            let (user, generated) = users::create(db, &hasher, policy, &Actor::cli(), new)
                .await
                .map_err(explain)?;
            Ok(match generated {
                Some(password) => format!(
                    "created '{}'; password: {}",
                    user.username,
                    password.expose()
                ),
                None => format!("created '{}'", user.username),
            })
        }
        UserCommand::ResetPassword {
            username,
            expires_hours,
            no_require_change,
            password_stdin,
        } => {
            let target = users::find_by_username(db, &username)
                .await
                .map_err(explain)?
                .ok_or_else(|| anyhow::anyhow!("no user named '{username}'"))?;
            let chosen = if password_stdin {
                Some(read_password_stdin()?)
            } else {
                None
            };
            let options = ResetOptions {
                expires_hours,
                require_password_change: !no_require_change,
                ..ResetOptions::default()
            };
            let outcome =
                reset_password(db, &hasher, policy, &Actor::cli(), &target, chosen, options)
                    .await
                    .map_err(explain)?;
            let expiry = outcome
                .user
                .password_expires
                .map(clock::rfc3339)
                .unwrap_or_else(|| "never".into());
            Ok(match outcome.generated {
                Some(password) => format!(
                    "reset '{}'; temporary password: {} (expires: {expiry})",
                    target.username,
                    password.expose()
                ),
                None => format!("reset '{}' (expires: {expiry})", target.username),
            })
        }
        UserCommand::List => {
            let mut out = String::from("id\tusername\tsuperuser\tenabled\tstatus\n");
            for u in users::list_all(db).await.map_err(explain)? {
                let status = match (u.require_password_change, u.password_expires) {
                    _ if users::temp_password_expired(&u) => {
                        "temporary password expired".to_string()
                    }
                    (true, Some(at)) => format!("change pending, expires {}", clock::rfc3339(at)),
                    (true, None) => "change pending".to_string(),
                    (false, Some(at)) => format!("expires {}", clock::rfc3339(at)),
                    (false, None) => "ok".to_string(),
                };
                out.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{}\n",
                    u.user_id, u.username, u.superuser, u.enabled, status
                ));
            }
            Ok(out.trim_end().to_string())
        }
    }
}

/// Domain errors as one line for the terminal.
fn explain(err: Error) -> anyhow::Error {
    match err {
        Error::PasswordPolicy(v) => {
            anyhow::anyhow!("the password does not meet the policy ({})", v.code())
        }
        Error::Internal(inner) => inner,
        other => anyhow::anyhow!("{other}"),
    }
}
