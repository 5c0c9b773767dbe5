//! Reading the configuration: raw values from flags and the `PASSGATE_*` environment, each
//! validated through one reader that names the variable in its one-line error. Every variable
//! is listed once, in [`VARIABLES`]; an administrative command reads only those that matter
//! to it (serve-only settings cannot stop a lock-out recovery).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ipnet::IpNet;
use tracing_subscriber::filter::Targets;

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

/// A whole number within `range`, e.g. "must be a whole number of hours from 1 to 8760".
fn whole_number(
    value: &str,
    range: std::ops::RangeInclusive<u64>,
    unit: &str,
) -> Result<u64, String> {
    value
        .parse::<u64>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            format!(
                "{} is not a whole number{unit} from {} to {}",
                quoted(value),
                range.start(),
                range.end()
            )
        })
}

/// A value shown back in a message: quoted, control characters escaped, cut after 80
/// characters (a message stays one readable line).
fn quoted(value: &str) -> String {
    let cut: String = value.chars().take(80).collect();
    let more = if cut.len() < value.len() { "…" } else { "" };
    format!("'{}{more}'", cut.escape_debug())
}

fn parse_bind(value: &str) -> Result<SocketAddr, String> {
    value.parse::<SocketAddr>().map_err(|_| {
        format!(
            "{} is not an address with a port, such as 127.0.0.1:8000 or [::1]:8000",
            quoted(value)
        )
    })
}

/// `sqlite:…` or `postgres(ql)://…`, parsed as the driver will parse it, so that a typo is
/// refused here in words and never echoed with its password.
fn parse_database_url(url: &str) -> Result<String, String> {
    use std::str::FromStr;
    let shown = quoted(&redact_url(url));
    let parsed = if url.starts_with("sqlite:") {
        sea_orm::sqlx::sqlite::SqliteConnectOptions::from_str(url).map(|_| ())
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        sea_orm::sqlx::postgres::PgConnectOptions::from_str(url).map(|_| ())
    } else {
        return Err(format!(
            "{shown} must start with sqlite: (sqlite://FILE?mode=rwc, or sqlite:///ABSOLUTE/PATH?mode=rwc) \
             or postgres:// (postgres://USER:PASSWORD@HOST/DATABASE)"
        ));
    };
    parsed.map(|()| url.to_string()).map_err(|err| {
        let cause = match err {
            sea_orm::sqlx::Error::Configuration(cause) => redact_url(&cause.to_string()),
            _ => "unreadable".into(),
        };
        let cause = cause.replace(url, "the URL");
        format!("{shown} is not a database URL passgate can use ({cause})")
    })
}

/// The URL with any password replaced by `***` (in the user part and in a `password=`
/// parameter): what a message or `--help` may show of a database URL.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), url),
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => format!("{user_info}@{host}"),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                        format!("{key}=***")
                    }
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}{authority}{tail}")
}

fn parse_bool(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("{} is not true or false", quoted(value))),
    }
}

fn parse_proxies(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{} is not an IP address or CIDR range", quoted(item)))
        })
        .collect()
}

fn parse_mfa_policy(value: &str) -> Result<MfaPolicy, String> {
    match value.to_ascii_lowercase().as_str() {
        "none" => Ok(MfaPolicy::None),
        "superusers" => Ok(MfaPolicy::Superusers),
        "all" => Ok(MfaPolicy::All),
        _ => Err(format!("{} is not none, superusers or all", quoted(value))),
    }
}

/// The key in the file the variable names (its contents never appear in a message).
fn read_secret_key(path: &str) -> Result<(SecretKeyBytes, String), String> {
    let contents = zeroize::Zeroizing::new(
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", quoted(path)))?,
    );
    let key = parse_secret_key(&contents).ok_or_else(|| {
        format!(
            "{} must hold a 32-byte key (32 raw bytes, 64 hex digits or base64)",
            quoted(path)
        )
    })?;
    Ok((SecretKeyBytes(key), path.to_string()))
}

/// `http(s)://host[:port][/path]`, without query or fragment; the trailing slash dropped.
fn parse_public_url(url: &str) -> Result<String, String> {
    let url = url.trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let valid = rest.is_some_and(|rest| {
        let host = rest.split('/').next().unwrap_or("");
        !host.is_empty()
            && !rest.contains(['?', '#', ' ', '"', '<', '>', '\\'])
            && !rest.chars().any(char::is_control)
            && !host.contains('@')
    });
    if valid {
        Ok(url.to_string())
    } else {
        Err(format!(
            "{} is not a base URL such as https://passgate.example.org",
            quoted(url)
        ))
    }
}

/// Log levels: a default level and per-target ones (`debug,sqlx=warn`). Every directive must
/// name a level (`trace`, `debug`, `info`, `warn`, `error`, `off`): a bare word that is none
/// (`verbose`, `warning`) would otherwise be read as a target and silence everything else.
/// Parsed as `Targets`, without regular expressions, so a start-up compiles none (and their
/// code stays out of memory).
fn parse_log_filter(value: &str) -> Result<Targets, String> {
    const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];
    let refuse = || {
        format!(
            "{} is not a log filter: a level ({}), or target=level, comma-separated, e.g. info,sqlx=warn",
            quoted(value),
            LEVELS.join(", ")
        )
    };
    for directive in value.split(',').map(str::trim) {
        let (target, level) = match directive.split_once('=') {
            Some((target, level)) => (Some(target.trim()), level.trim()),
            None => (None, directive),
        };
        let target_ok = target.is_none_or(|t| {
            !t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || "_:-".contains(c))
        });
        if !target_ok || !LEVELS.contains(&level.to_ascii_lowercase().as_str()) {
            return Err(refuse());
        }
    }
    value.parse::<Targets>().map_err(|_| refuse())
}
