//! The command line: serve, user administration (the lock-out recovery path), keys, roles,
//! applications, the OpenID Connect keys, migrations, backup and restore. Administrative
//! commands work only on a database whose schema is exactly this passgate's, and never migrate
//! or create one by themselves.

use clap::{Parser, Subcommand};

use crate::config::{Config, Purpose, RawConfig};
use crate::db;

#[derive(Parser, Debug)]
#[command(name = "passgate", version, about = "A self-hosted account panel")]
pub struct Cli {
    /// Database URL (default: a SQLite file passgate.db in the working directory; or
    /// PASSGATE_DATABASE_URL).
    #[arg(long, global = true)]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the panel (the default).
    Serve {
        /// Address to listen on (default 127.0.0.1:8000; or PASSGATE_BIND).
        #[arg(long)]
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
    /// Manage roles directly in the database (SPEC §14).
    #[command(subcommand)]
    Role(RoleCommand),
    /// The OpenID Connect provider's signing keys.
    #[command(subcommand)]
    Oidc(OidcCommand),
    /// Apply or roll back migrations.
    #[command(subcommand)]
    Migrate(MigrateCommand),
    /// Exit 0 if the server at PASSGATE_BIND answers /healthz with 200, else 1 (a container's
    /// HEALTHCHECK, without curl).
    Healthcheck,
    /// The audit log as JSON lines (docs/audit.md).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Write a consistent copy of a SQLite database to PATH while it is in use (a new file,
    /// readable by its owner only: it is credential material). For PostgreSQL use pg_dump.
    Backup {
        /// Where to write the copy; must not exist yet.
        path: std::path::PathBuf,
    },
    /// Put a backup made by `passgate backup` in place of the SQLite database (the server
    /// must be stopped). Refuses a file that is not a passgate database, or one from a newer
    /// passgate; the database it replaces is kept beside it. For PostgreSQL use pg_restore.
    Restore {
        /// The backup to restore.
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
        /// Read the password from standard input instead of generating one (its first line,
        /// without trailing spaces; on a terminal it is asked for twice, without echo).
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
        /// Do not require a password change at the next sign-in.
        #[arg(long)]
        no_require_change: bool,
        /// Set this password instead of generating one (as for `user create`).
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

#[derive(Subcommand, Debug)]
pub enum RoleCommand {
    /// Create a role (names are stored in lower case: 1 to 64 characters, no `,` `[` `]`).
    Create {
        name: String,
        /// Every member must set up a second factor (also members signed in now, at their
        /// next request).
        #[arg(long)]
        mfa_required: bool,
    },
    /// List the roles with their members.
    List,
    /// Add users to a role.
    Add {
        role: String,
        #[arg(required = true)]
        usernames: Vec<String>,
    },
    /// Remove users from a role.
    Remove {
        role: String,
        #[arg(required = true)]
        usernames: Vec<String>,
    },
    /// Delete a role; its members lose it.
    Delete { role: String },
}

#[derive(Subcommand, Debug, Clone, Copy)]
pub enum MigrateCommand {
    /// Apply all pending migrations.
    Up,
    /// Roll back the most recent migration (never the base). Says what it drops; when that
    /// holds data it asks on a terminal, and elsewhere needs --yes.
    Down {
        /// Drop what the migration's down drops without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Show both versions (this passgate's and the one that migrated the database) and which
    /// migrations are applied.
    Status,
}

/// Builds the validated configuration from the environment and the flags: every setting for
/// `serve`, only those it reads for an administrative command.
pub fn config(cli: &Cli) -> Result<Config, String> {
    let mut raw = RawConfig::from_env();
    if let Some(url) = &cli.database_url {
        raw.database_url = Some(url.clone());
    }
    let purpose = match &cli.command {
        None => Purpose::Serve,
        Some(Command::Serve { bind }) => {
            if let Some(bind) = bind {
                raw.bind = Some(bind.clone());
            }
            Purpose::Serve
        }
        // It asks the server at PASSGATE_BIND, a serve setting.
        Some(Command::Healthcheck) => Purpose::Serve,
        Some(_) => Purpose::Admin,
    };
    raw.validate_for(purpose)
}

/// Runs a `user`, `key`, `role`, `app`, `migrate`, `backup`, `restore`, `audit` or
/// `healthcheck` command and returns what to print.
pub async fn run_admin(config: &Config, command: Command) -> anyhow::Result<String> {
    match command {
        Command::Serve { .. } => Err(anyhow::anyhow!("serve is not an admin command")),
        Command::Migrate(cmd) => migrate::run(config, cmd).await,
        Command::User(cmd) => {
            let db = db::open_for_admin(&config.database_url, config.pool()).await?;
            let result = user::run(&db, config, cmd).await;
            db.close().await.ok();
            result
        }
        Command::Key(cmd) => {
            let db = db::open_for_admin(&config.database_url, config.pool()).await?;
            let result = key::run(&db, cmd).await;
            db.close().await.ok();
            result
        }
        Command::App(cmd) => {
            let db = db::open_for_admin(&config.database_url, config.pool()).await?;
            let result = app::run(&db, cmd).await;
            db.close().await.ok();
            result
        }
        Command::Backup { path } => backup::backup(&config.database_url, &path).await,
        Command::Restore { path } => backup::restore(config, &path).await,
        Command::BenchHash { count, parallel } => bench::hash(count, parallel).await,
        Command::Healthcheck => ops::healthcheck(config).await,
        Command::Audit(cmd) => ops::audit(config, cmd).await,
        Command::Role(cmd) => {
            let db = db::open_for_admin(&config.database_url, config.pool()).await?;
            let result = role::run(&db, cmd).await;
            db.close().await.ok();
            result
        }
        Command::Oidc(cmd) => {
            let db = db::open_for_admin(&config.database_url, config.pool()).await?;
            let result = oidc::run(&db, config, cmd).await;
            db.close().await.ok();
            result
        }
        Command::BenchSeedTotp { prefix, secret_hex } => {
            let db = db::open_for_admin(&config.database_url, config.pool()).await?;
            bench::seed_totp(&db, config, &prefix, &secret_hex).await
        }
        Command::BenchOidcCodes { username, count } => {
            let db = db::open_for_admin(&config.database_url, config.pool()).await?;
            bench::oidc_codes(&db, config, &username, count).await
        }
    }
}

mod app;
mod backup;
mod bench;
mod key;
mod migrate;
mod oidc;
mod ops;
mod prompt;
mod role;
mod user;

pub use ops::AuditCommand;

#[cfg(test)]
mod tests;
