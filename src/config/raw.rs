//! Reading the configuration: raw values from flags and the `PASSGATE_*` environment, each
//! validated through one reader that names the variable in its one-line error. Every variable
//! is listed once, in [`VARIABLES`]; an administrative command reads only those that matter
//! to it (serve-only settings cannot stop a lock-out recovery).

use std::time::Duration;

use super::values::*;
use super::*;

/// Raw values as they come from flags and environment, before validation. An empty or blank
/// value counts as unset, for every variable.
#[derive(Clone, Debug, Default)]
pub struct RawConfig {
    pub bind: Option<String>,
    pub database_url: Option<String>,
    pub max_connections: Option<String>,
    pub acquire_timeout_secs: Option<String>,
    pub cookie_secure: Option<String>,
    pub trusted_proxies: Option<String>,
    pub min_password_length: Option<String>,
    pub min_password_score: Option<String>,
    pub session_max_hours: Option<String>,
    pub totp_skew_steps: Option<String>,
    pub require_mfa: Option<String>,
    pub secret_key_file: Option<String>,
    pub public_url: Option<String>,
    pub log: Option<String>,
    pub sso_cookie_domain: Option<String>,
    pub metrics_bind: Option<String>,
    pub log_format: Option<String>,
    pub audit_file: Option<String>,
    pub audit_retention_days: Option<String>,
}

/// What a configuration is read for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// `passgate serve`: every setting.
    Serve,
    /// `passgate user …`, `key …`, `migrate …`, `backup`, `restore`: the settings those touch
    /// (database, pool, password policy, keys, links, log); serve-only ones are not read.
    Admin,
}

/// Where a setting matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Read by every command.
    Everywhere,
    /// Read by `serve` only; administrative commands ignore it, whatever its value.
    ServeOnly,
}

/// One `PASSGATE_*` variable: its name, where it matters, the `RawConfig` field it fills,
/// and a value it refuses (the config tests check each is refused with the name).
pub struct Variable {
    pub name: &'static str,
    pub scope: Scope,
    field: fn(&mut RawConfig) -> &mut Option<String>,
    pub refused: &'static str,
}

impl Variable {
    /// Sets this variable's raw value (flags, tests).
    pub fn set(&self, raw: &mut RawConfig, value: impl Into<String>) {
        *(self.field)(raw) = Some(value.into());
    }
}

macro_rules! variable {
    ($name:literal, $scope:ident, $field:ident, $refused:literal) => {
        Variable {
            name: $name,
            scope: Scope::$scope,
            field: |raw| &mut raw.$field,
            refused: $refused,
        }
    };
}

pub const BIND: Variable = variable!("PASSGATE_BIND", ServeOnly, bind, "nope");
pub const DATABASE_URL: Variable = variable!(
    "PASSGATE_DATABASE_URL",
    Everywhere,
    database_url,
    "mysql://x"
);
pub const DB_MAX_CONNECTIONS: Variable = variable!(
    "PASSGATE_DB_MAX_CONNECTIONS",
    Everywhere,
    max_connections,
    "0"
);
pub const DB_ACQUIRE_TIMEOUT_SECS: Variable = variable!(
    "PASSGATE_DB_ACQUIRE_TIMEOUT_SECS",
    Everywhere,
    acquire_timeout_secs,
    "soon"
);
pub const COOKIE_SECURE: Variable =
    variable!("PASSGATE_COOKIE_SECURE", ServeOnly, cookie_secure, "maybe");
pub const TRUSTED_PROXIES: Variable = variable!(
    "PASSGATE_TRUSTED_PROXIES",
    ServeOnly,
    trusted_proxies,
    "10.0.0.0/8, banana"
);
pub const MIN_PASSWORD_LENGTH: Variable = variable!(
    "PASSGATE_MIN_PASSWORD_LENGTH",
    Everywhere,
    min_password_length,
    "7"
);
pub const MIN_PASSWORD_SCORE: Variable = variable!(
    "PASSGATE_MIN_PASSWORD_SCORE",
    Everywhere,
    min_password_score,
    "5"
);
pub const SESSION_MAX_HOURS: Variable = variable!(
    "PASSGATE_SESSION_MAX_HOURS",
    ServeOnly,
    session_max_hours,
    "a week"
);
pub const TOTP_SKEW_STEPS: Variable =
    variable!("PASSGATE_TOTP_SKEW_STEPS", ServeOnly, totp_skew_steps, "2");
pub const REQUIRE_MFA: Variable =
    variable!("PASSGATE_REQUIRE_MFA", ServeOnly, require_mfa, "admins");
pub const SECRET_KEY_FILE: Variable = variable!(
    "PASSGATE_SECRET_KEY_FILE",
    Everywhere,
    secret_key_file,
    "/nonexistent/passgate.key"
);
pub const PUBLIC_URL: Variable = variable!(
    "PASSGATE_PUBLIC_URL",
    Everywhere,
    public_url,
    "pass.example.org"
);
pub const LOG: Variable = variable!("PASSGATE_LOG", Everywhere, log, "verbose");
pub const SSO_COOKIE_DOMAIN: Variable = variable!(
    "PASSGATE_SSO_COOKIE_DOMAIN",
    ServeOnly,
    sso_cookie_domain,
    "co.uk"
);

pub const METRICS_BIND: Variable =
    variable!("PASSGATE_METRICS_BIND", ServeOnly, metrics_bind, "nope");
pub const LOG_FORMAT: Variable = variable!("PASSGATE_LOG_FORMAT", Everywhere, log_format, "xml");
pub const AUDIT_FILE: Variable = variable!("PASSGATE_AUDIT_FILE", ServeOnly, audit_file, "/");
pub const AUDIT_RETENTION_DAYS: Variable = variable!(
    "PASSGATE_AUDIT_RETENTION_DAYS",
    ServeOnly,
    audit_retention_days,
    "0"
);

/// Every variable passgate reads, in the README's order.
pub const VARIABLES: &[&Variable] = &[
    &DATABASE_URL,
    &BIND,
    &COOKIE_SECURE,
    &TRUSTED_PROXIES,
    &LOG,
    &DB_MAX_CONNECTIONS,
    &DB_ACQUIRE_TIMEOUT_SECS,
    &MIN_PASSWORD_LENGTH,
    &MIN_PASSWORD_SCORE,
    &PUBLIC_URL,
    &SESSION_MAX_HOURS,
    &REQUIRE_MFA,
    &TOTP_SKEW_STEPS,
    &SECRET_KEY_FILE,
    &SSO_COOKIE_DOMAIN,
    &METRICS_BIND,
    &LOG_FORMAT,
    &AUDIT_FILE,
    &AUDIT_RETENTION_DAYS,
];

/// Reads the raw values for one purpose; every refusal goes through [`Reader::read`], which
/// names the variable: `NAME: what is wrong`, one line.
struct Reader {
    raw: RawConfig,
    purpose: Purpose,
}

impl Reader {
    /// The variable's value parsed, `None` when it is unset (or blank), or when it is a
    /// serve-only setting and this is an administrative command.
    fn read<T>(
        &mut self,
        variable: &Variable,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, String> {
        let value = (variable.field)(&mut self.raw).take();
        if variable.scope == Scope::ServeOnly && self.purpose == Purpose::Admin {
            return Ok(None);
        }
        let Some(value) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        parse(value)
            .map(Some)
            .map_err(|reason| one_line(&format!("{}: {reason}", variable.name)))
    }
}

/// Line breaks (which a value could carry) become spaces: the message stays one line.
fn one_line(message: &str) -> String {
    message.replace(['\n', '\r'], " ")
}

impl RawConfig {
    /// Reads the `PASSGATE_*` variables; flags given on the command line override them.
    pub fn from_env() -> Self {
        let mut raw = RawConfig::default();
        for variable in VARIABLES {
            if let Ok(value) = std::env::var(variable.name) {
                variable.set(&mut raw, value);
            }
        }
        raw
    }

    /// [`validate_for`](Self::validate_for) the server.
    pub fn validate(self) -> Result<Config, String> {
        self.validate_for(Purpose::Serve)
    }

    /// Validates every value `purpose` reads; the error is one line naming the variable and
    /// what is wrong (a database URL's password is never in it).
    pub fn validate_for(self, purpose: Purpose) -> Result<Config, String> {
        let mut r = Reader { raw: self, purpose };
        let bind = r.read(&BIND, parse_bind)?;
        let database_url = r
            .read(&DATABASE_URL, parse_database_url)?
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
        let max_connections = r
            .read(&DB_MAX_CONNECTIONS, |v| whole_number(v, 1..=1000, ""))?
            .map(|n| n as u32)
            // SQLite: WAL lets readers run beside the one writer, and sqlx holds a connection
            // for an extra round trip to its thread (a ping) on every release, so a single
            // connection serialised every request (BENCHMARKS.md).
            .unwrap_or(if database_url.starts_with("sqlite:") {
                DEFAULT_SQLITE_CONNECTIONS
            } else {
                8
            });
        let acquire_timeout = r
            .read(&DB_ACQUIRE_TIMEOUT_SECS, |v| {
                whole_number(v, 1..=3600, " of seconds").map(Duration::from_secs)
            })?
            .unwrap_or(DEFAULT_ACQUIRE_TIMEOUT);
        let cookie_secure = r.read(&COOKIE_SECURE, parse_bool)?.unwrap_or(false);
        let trusted_proxies = r.read(&TRUSTED_PROXIES, parse_proxies)?.unwrap_or_default();
        let min_length = r
            .read(&MIN_PASSWORD_LENGTH, |v| {
                whole_number(
                    v,
                    MIN_LENGTH_FLOOR as u64..=MAX_LENGTH as u64,
                    " of characters",
                )
            })?
            .map_or(MIN_LENGTH_FLOOR, |n| n as usize);
        let min_score = r
            .read(&MIN_PASSWORD_SCORE, |v| {
                whole_number(v, 0..=u64::from(MAX_SCORE), " (a zxcvbn score)")
            })?
            .map_or(DEFAULT_MIN_SCORE, |n| n as u8);
        let session_max_hours = r
            .read(&SESSION_MAX_HOURS, |v| {
                whole_number(v, 1..=8760, " of hours")
            })?
            .map_or(DEFAULT_SESSION_MAX_HOURS, |n| n as i64);
        let skew_steps = r
            .read(&TOTP_SKEW_STEPS, |v| whole_number(v, 0..=1, ""))?
            .map_or(1, |n| n as i64);
        let mfa_policy = r.read(&REQUIRE_MFA, parse_mfa_policy)?.unwrap_or_default();
        let (secret_key, secret_key_file) = r.read(&SECRET_KEY_FILE, read_secret_key)?.unzip();
        let public_url = r.read(&PUBLIC_URL, parse_public_url)?;
        let log = r.read(&LOG, parse_log_filter)?;
        let sso = r.read(&SSO_COOKIE_DOMAIN, |domain| {
            super::sso::parse(domain, public_url.as_deref())
        })?;
        let bind = bind.unwrap_or_else(|| DEFAULT_BIND.parse().expect("the default bind parses"));
        // The operations settings check their own values (each error names its variable).
        let as_text = |v: &str| Ok::<_, String>(v.to_string());
        let operations = super::RawOperations {
            metrics_bind: r.read(&METRICS_BIND, as_text)?,
            log_format: r.read(&LOG_FORMAT, as_text)?,
            audit_file: r.read(&AUDIT_FILE, as_text)?,
            audit_retention_days: r.read(&AUDIT_RETENTION_DAYS, as_text)?,
        }
        .validate(bind)?;
        if cookie_secure
            && let Some(url) = public_url.as_deref().filter(|u| u.starts_with("http://"))
        {
            // It is the OpenID Connect issuer (SPEC §16): tokens name it, clients trust it.
            return Err(format!(
                "PASSGATE_PUBLIC_URL: '{url}' must be https while PASSGATE_COOKIE_SECURE is on"
            ));
        }
        Ok(Config {
            bind,
            database_url,
            max_connections,
            acquire_timeout,
            cookie_secure,
            trusted_proxies,
            policy: PasswordPolicy {
                min_length,
                min_score,
            },
            throttle: ThrottleConfig::default(),
            session_max_lifetime: time::Duration::hours(session_max_hours),
            timeouts: ClientTimeouts::default(),
            mfa: MfaConfig {
                skew_steps,
                policy: mfa_policy,
                secret_key,
                secret_key_file,
            },
            public_url,
            sso,
            operations,
            log: log.unwrap_or_else(|| DEFAULT_LOG.parse().expect("the default log filter")),
        })
    }
}
