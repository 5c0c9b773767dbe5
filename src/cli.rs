//! The command line: serve, user administration (the lock-out recovery path), the OpenID
//! Connect keys, migrations.

use clap::{Parser, Subcommand};
use migration::Migrator;
use migration::sea_orm_migration::MigratorTrait;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::accounts::password::Hasher;
use crate::accounts::secret::Secret;
use crate::config::{Config, RawConfig};
use crate::db;

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
    /// Manage API keys directly in the database (the token Crafty users take from the
    /// console).
    #[command(subcommand)]
    Key(KeyCommand),
    /// Manage the applications passgate signs users in to (single sign-on).
    #[command(subcommand)]
    App(AppCommand),
    /// The OpenID Connect provider's signing keys.
    #[command(subcommand)]
    Oidc(OidcCommand),
    /// Apply or roll back migrations.
    #[command(subcommand)]
    Migrate(MigrateCommand),
    /// Write a consistent copy of a SQLite database to PATH while it is in use (refuses to
    /// overwrite). For PostgreSQL use pg_dump.
    Backup {
        /// Where to write the copy; must not exist yet.
        path: std::path::PathBuf,
    },
    /// Times COUNT argon2id hashes, one after another, with the production hasher and prints
    /// the median in milliseconds (used by `bench/run.sh`; touches no database). With
    /// `--parallel N`, N such sequences run at once (as in a login storm on N cores).
    #[command(hide = true)]
    BenchHash {
        #[arg(long, default_value_t = 15)]
        count: u32,
        #[arg(long, default_value_t = 1)]
        parallel: usize,
    },
    /// Gives every user whose name starts with PREFIX a TOTP device with the secret
    /// SECRET_HEX (used by `bench/run.sh` to measure sign-ins with a code).
    #[command(hide = true)]
    BenchSeedTotp { prefix: String, secret_hex: String },
    /// Registers a fresh OpenID Connect client and issues COUNT codes to it for USERNAME
    /// (used by `bench/run.sh` to measure the token endpoint).
    #[command(hide = true)]
    BenchOidcCodes { username: String, count: u32 },
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
    /// Print a single-use link with which the user sets a new password of their own
    /// (nothing else changes until it is used; an older link stops working).
    ResetLink {
        username: String,
        /// Hours until the link stops working (1–72).
        #[arg(long, default_value_t = 24)]
        expires_hours: i64,
    },
    /// Lift the sign-in lock of a username (after too many wrong passwords); the address
    /// locks stay.
    Unlock { username: String },
    /// Require a password change at the next sign-in of the named users, or of every user
    /// with --all (their passwords, sessions and tokens stay; the change page holds them at
    /// their next request). Each affected user is audited.
    RequireChange {
        /// Every user.
        #[arg(
            long,
            conflicts_with = "usernames",
            required_unless_present = "usernames"
        )]
        all: bool,
        #[arg(required_unless_present = "all")]
        usernames: Vec<String>,
    },
    /// Remove every two-factor device and recovery code of a user (a lost phone); their
    /// sessions and login tokens end. Works with or without a running server.
    ResetMfa { username: String },
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Create an API key for USERNAME and print its token (shown only now).
    Create {
        username: String,
        /// A name to tell the key by (1 to 64 characters).
        #[arg(long)]
        name: String,
        /// Every right of the user, superuser rights included.
        #[arg(long)]
        full_access: bool,
        /// The user's USER_CONFIG permission (the user must hold it).
        #[arg(long)]
        user_config: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum AppCommand {
    /// Register an application (its hosts then ask passgate who may pass).
    Add {
        /// 1 to 64 characters, unique whatever the case.
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// A host of the app (wiki.example.org, *.apps.example.org, host:port); repeatable.
        #[arg(long = "host")]
        hosts: Vec<String>,
        /// A path prefix that passes without a sign-in (/api/); repeatable.
        #[arg(long = "public-path")]
        public_paths: Vec<String>,
        /// The name of a role whose members may open the app (none: every enabled user);
        /// repeatable.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// one_factor (a password is enough), two_factor, or deny.
        #[arg(long, default_value = "one_factor")]
        policy: String,
        #[command(flatten)]
        oidc: OidcClientArgs,
    },
    /// List the applications.
    List,
    /// Remove an application by name.
    Remove { name: String },
    /// Print a new client secret for an application's OpenID Connect client (the old one
    /// stops working at once).
    NewSecret { name: String },
}

/// `passgate app add`'s OpenID Connect client settings (SPEC §16).
#[derive(clap::Args, Debug, Default)]
pub struct OidcClientArgs {
    /// An OpenID Connect redirect URI (exact https URL, or http on localhost, 127.0.0.1 or
    /// [::1] with any port): makes the app an OIDC client; repeatable.
    #[arg(long = "redirect-uri")]
    pub redirect_uris: Vec<String>,
    /// Where the app may send the browser after signing out through passgate; repeatable.
    #[arg(long = "post-logout-redirect-uri", requires = "redirect_uris")]
    pub post_logout_redirect_uris: Vec<String>,
    /// A public client (no secret, PKCE required): a native or browser app.
    #[arg(long, requires = "redirect_uris")]
    pub public_client: bool,
    /// The ID tokens' algorithm: RS256 (default) or ES256.
    #[arg(long, requires = "redirect_uris")]
    pub id_token_alg: Option<String>,
}

#[derive(Subcommand, Debug, Clone, Copy)]
pub enum OidcCommand {
    /// Make new signing keys (RS256 and ES256) and sign with them from now on, on every
    /// instance; the old public keys stay in the key set for a day so tokens they signed
    /// still verify. Run it with the server's PASSGATE_SECRET_KEY_FILE, if it has one.
    RotateKeys,
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

/// Runs a `user`, `key` or `migrate` command and returns what to print.
pub async fn run_admin(config: &Config, command: Command) -> anyhow::Result<String> {
    match command {
        Command::Serve { .. } => Err(anyhow::anyhow!("serve is not an admin command")),
        Command::Migrate(cmd) => {
            // One connection, and on PostgreSQL the same advisory lock a starting server
            // takes, so a manual migration never runs alongside an instance's.
            let db = db::migrator_connection(&config.database_url).await?;
            let result = db::with_migration_lock(&db, migrate(&db, cmd)).await;
            db.close().await.ok();
            result
        }
        Command::User(cmd) => {
            let db = db::open_with(&config.database_url, config.pool()).await?;
            user::run(&db, config, cmd).await
        }
        Command::Key(cmd) => {
            let db = db::open_with(&config.database_url, config.pool()).await?;
            key::run(&db, cmd).await
        }
        Command::App(cmd) => {
            let db = db::open_with(&config.database_url, config.pool()).await?;
            app::run(&db, cmd).await
        }
        Command::Oidc(cmd) => {
            let db = db::open_with(&config.database_url, config.pool()).await?;
            oidc::run(&db, config, cmd).await
        }
        Command::Backup { path } => backup(&config.database_url, &path).await,
        Command::BenchHash { count, parallel } => bench_hash(count, parallel).await,
        Command::BenchSeedTotp { prefix, secret_hex } => {
            let db = db::open_with(&config.database_url, config.pool()).await?;
            bench::seed_totp(&db, config, &prefix, &secret_hex).await
        }
        Command::BenchOidcCodes { username, count } => {
            let db = db::open_with(&config.database_url, config.pool()).await?;
            bench::oidc_codes(&db, config, &username, count).await
        }
    }
}

/// `passgate bench-hash`: the median time of one production hash, with `parallel` hashes
/// running at once (each on its own hashing thread).
async fn bench_hash(count: u32, parallel: usize) -> anyhow::Result<String> {
    let parallel = parallel.max(1);
    let hasher = Hasher::new(parallel);
    let password = Secret::new("bench-hash correct horse battery".to_string());
    let mut sequences = Vec::new();
    for _ in 0..parallel {
        let (hasher, password) = (hasher.clone(), password.clone());
        sequences.push(tokio::spawn(async move {
            let mut millis = Vec::new();
            for _ in 0..count.max(1) {
                let started = std::time::Instant::now();
                hasher.hash(&password).await?;
                millis.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            anyhow::Ok(millis)
        }));
    }
    let mut millis = Vec::new();
    for sequence in sequences {
        millis.extend(sequence.await??);
    }
    millis.sort_by(f64::total_cmp);
    Ok(format!("{:.3}", millis[millis.len() / 2]))
}

/// `passgate backup PATH`: `VACUUM INTO` a new file, a consistent snapshot taken while
/// servers keep running (readers and writers are not blocked for long; WAL mode).
async fn backup(database_url: &str, path: &std::path::Path) -> anyhow::Result<String> {
    if !database_url.starts_with("sqlite:") {
        anyhow::bail!(
            "backup works on SQLite only; for PostgreSQL use pg_dump, e.g. `pg_dump --format=custom --file=passgate.dump DBNAME` (restore with pg_restore)"
        );
    }
    let source = sqlite_file(database_url).ok_or_else(|| {
        anyhow::anyhow!("backup needs a SQLite database file, not {database_url}")
    })?;
    if !source.exists() {
        anyhow::bail!("there is no database at {}", source.display());
    }
    if path.exists() {
        anyhow::bail!("{} already exists; choose a new file name", path.display());
    }
    let target = path
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("the backup path must be valid UTF-8"))?;
    let db = db::connect(database_url, 1).await?;
    let result = db
        .execute_unprepared(&format!("VACUUM INTO '{}'", target.replace('\'', "''")))
        .await;
    db.close().await.ok();
    result.map_err(|e| anyhow::anyhow!("backup to {} failed: {e}", path.display()))?;
    Ok(format!(
        "backed up {} to {}",
        source.display(),
        path.display()
    ))
}

/// The file of a `sqlite:` URL (`sqlite://FILE?…`, `sqlite:FILE`), `None` for in-memory ones.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let file = rest.split('?').next().unwrap_or("");
    if file.is_empty() || file == ":memory:" || url.contains("mode=memory") {
        return None;
    }
    Some(std::path::PathBuf::from(file))
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

mod app;
mod bench;
mod key;
mod oidc;
mod user;

#[cfg(test)]
mod tests;
