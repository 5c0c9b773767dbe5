//! Configuration from flags and environment, validated once at start.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ipnet::IpNet;

/// No configuration may allow passwords shorter than this (spec §2).
pub const MIN_LENGTH_FLOOR: usize = 8;
/// Longest password accepted, in characters.
pub const MAX_LENGTH: usize = 128;
const DEFAULT_MIN_SCORE: u8 = 3;
const MAX_SCORE: u8 = 4;

/// Configured password rules: minimum length in characters and minimum zxcvbn score (0–4).
/// The rules themselves are `accounts::password::Policy` (this type).
#[derive(Clone, Debug)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub min_score: u8,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: MIN_LENGTH_FLOOR,
            min_score: DEFAULT_MIN_SCORE,
        }
    }
}

impl PasswordPolicy {
    /// Validates configuration: `min_length` within 8..=128 and `min_score` within 0..=4.
    pub fn new(min_length: usize, min_score: u8) -> Result<Self, String> {
        if !(MIN_LENGTH_FLOOR..=MAX_LENGTH).contains(&min_length) {
            return Err(format!(
                "minimum password length must be between {MIN_LENGTH_FLOOR} and {MAX_LENGTH} \
                 characters, got {min_length}"
            ));
        }
        if min_score > MAX_SCORE {
            return Err(format!(
                "minimum password strength score must be between 0 and {MAX_SCORE}, got {min_score}"
            ));
        }
        Ok(Self {
            min_length,
            min_score,
        })
    }
}

/// Pool settings: size and how long a request waits for a connection before giving up
/// (then it gets 503, the API's `DATABASE_UNAVAILABLE`).
#[derive(Clone, Copy, Debug)]
pub struct PoolOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl PoolOptions {
    pub fn new(max_connections: u32) -> Self {
        Self {
            max_connections,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
        }
    }
}

/// How long a request waits for a pooled connection by default.
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "passgate_session";
/// A session unused for this long ends.
pub const SESSION_IDLE: time::Duration = time::Duration::hours(8);
/// Requests larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Everything the server needs to know about its deployment.
#[derive(Clone, Debug)]
pub struct Config {
    pub bind: SocketAddr,
    pub database_url: String,
    /// Maximum pooled database connections (default 2 for SQLite, 8 for PostgreSQL).
    pub max_connections: u32,
    /// How long a request waits for a database connection before it gets 503 (default 10 s).
    pub acquire_timeout: Duration,
    /// Mark the session cookie `Secure` (set when served over TLS, directly or behind a proxy).
    pub cookie_secure: bool,
    /// Peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    pub policy: PasswordPolicy,
    pub throttle: ThrottleConfig,
    /// A session ends this long after its sign-in however active it is
    /// (`PASSGATE_SESSION_MAX_HOURS`, default 168 = 7 days), besides the 8-hour idle timeout.
    pub session_max_lifetime: time::Duration,
    /// How long a client may take to send a request's headers, and its body, before the
    /// connection is closed (10 s and 30 s; tests shorten them).
    pub timeouts: ClientTimeouts,
    /// The base of links passgate hands out (reset links): `PASSGATE_PUBLIC_URL`, never a
    /// request's `Host`. Unset: `http://` and the bind address (the start-up log says so).
    pub public_url: Option<String>,
    /// Second factors (SPEC §9): skew, who must have one, the secrets' key.
    pub mfa: MfaConfig,
}

/// Who must have a second factor (`PASSGATE_REQUIRE_MFA`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MfaPolicy {
    /// Only users whose own `require_mfa` is set.
    #[default]
    None,
    /// Every superuser, and users flagged themselves.
    Superusers,
    /// Everyone.
    All,
}

/// Two-factor settings.
#[derive(Clone, Debug, Default)]
pub struct MfaConfig {
    /// How many steps before the current one a TOTP code may come from (0 or 1, default 1;
    /// `PASSGATE_TOTP_SKEW_STEPS`). A later step is never accepted.
    pub skew_steps: i64,
    pub policy: MfaPolicy,
    /// The key that encrypts TOTP secrets, read from `PASSGATE_SECRET_KEY_FILE`; `None`:
    /// a key generated once and kept in `settings`.
    pub secret_key: Option<SecretKeyBytes>,
}

/// 32 key bytes; never printed, wiped on drop.
#[derive(Clone)]
pub struct SecretKeyBytes(pub [u8; 32]);

impl std::fmt::Debug for SecretKeyBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKeyBytes(***)")
    }
}

impl Drop for SecretKeyBytes {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// The key in a `PASSGATE_SECRET_KEY_FILE`: exactly 32 raw bytes, or (surrounding
/// whitespace ignored) 64 hex digits, or base64 (standard or URL-safe, padded or not) of 32
/// bytes — e.g. the output of `openssl rand -base64 32`.
pub fn parse_secret_key(contents: &[u8]) -> Option<[u8; 32]> {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
    let text = std::str::from_utf8(contents).ok().map(str::trim);
    let decoded = match text {
        Some(t) if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) => hex::decode(t).ok(),
        Some(t) => [&STANDARD, &URL_SAFE, &URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(t).ok())
            .or_else(|| {
                base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(t)
                    .ok()
            }),
        None => None,
    };
    match decoded {
        Some(bytes) if bytes.len() == 32 => bytes.try_into().ok(),
        _ if contents.len() == 32 => contents.try_into().ok(),
        _ => None,
    }
}

/// Limits on slow clients (SPEC §3a).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientTimeouts {
    pub headers: Duration,
    pub body: Duration,
}

impl Default for ClientTimeouts {
    fn default() -> Self {
        Self {
            headers: Duration::from_secs(10),
            body: Duration::from_secs(30),
        }
    }
}

/// The default absolute session lifetime, in hours.
pub const DEFAULT_SESSION_MAX_HOURS: i64 = 168;

/// Limits of the persisted login throttle.
#[derive(Clone, Copy, Debug)]
pub struct ThrottleConfig {
    /// Failures allowed for one username within the window.
    pub per_username: i32,
    /// Failures allowed from one client address within the window.
    pub per_ip: i32,
    /// Length of the counting window, and of the lock once a limit is reached.
    pub window_seconds: i64,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            per_username: 5,
            per_ip: 20,
            window_seconds: 15 * 60,
        }
    }
}

/// Default pool size on SQLite.
pub const DEFAULT_SQLITE_CONNECTIONS: u32 = 2;

/// The default database: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://passgate.db?mode=rwc";
pub const DEFAULT_BIND: &str = "127.0.0.1:8000";

/// Raw values as they come from flags and environment, before validation.
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
}

impl RawConfig {
    /// Reads the `PASSGATE_*` variables; flags given on the command line override them.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self {
            bind: var("PASSGATE_BIND"),
            database_url: var("PASSGATE_DATABASE_URL"),
            max_connections: var("PASSGATE_DB_MAX_CONNECTIONS"),
            acquire_timeout_secs: var("PASSGATE_DB_ACQUIRE_TIMEOUT_SECS"),
            cookie_secure: var("PASSGATE_COOKIE_SECURE"),
            trusted_proxies: var("PASSGATE_TRUSTED_PROXIES"),
            min_password_length: var("PASSGATE_MIN_PASSWORD_LENGTH"),
            min_password_score: var("PASSGATE_MIN_PASSWORD_SCORE"),
            session_max_hours: var("PASSGATE_SESSION_MAX_HOURS"),
            totp_skew_steps: var("PASSGATE_TOTP_SKEW_STEPS"),
            require_mfa: var("PASSGATE_REQUIRE_MFA"),
            secret_key_file: var("PASSGATE_SECRET_KEY_FILE"),
            public_url: var("PASSGATE_PUBLIC_URL"),
        }
    }

    /// Validates every value; the error is one line naming the variable and what is wrong.
    pub fn validate(self) -> Result<Config, String> {
        let bind_text = self.bind.as_deref().unwrap_or(DEFAULT_BIND);
        let bind = bind_text.parse::<SocketAddr>().map_err(|_| {
            format!("PASSGATE_BIND: '{bind_text}' is not an address such as 127.0.0.1:8000")
        })?;
        let database_url = self
            .database_url
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(
                "PASSGATE_DATABASE_URL: must start with sqlite:, postgres:// or postgresql://"
                    .into(),
            );
        }
        let max_connections = match self.max_connections {
            // SQLite: WAL lets readers run beside the one writer, and sqlx holds a connection
            // for an extra round trip to its thread (a ping) on every release, so a single
            // connection serialised every request (BENCHMARKS.md).
            None if database_url.starts_with("sqlite:") => DEFAULT_SQLITE_CONNECTIONS,
            None => 8,
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or("PASSGATE_DB_MAX_CONNECTIONS: must be a whole number from 1 to 1000")?,
        };
        let acquire_timeout = match self.acquire_timeout_secs {
            None => DEFAULT_ACQUIRE_TIMEOUT,
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=3600).contains(n))
                .map(Duration::from_secs)
                .ok_or(
                    "PASSGATE_DB_ACQUIRE_TIMEOUT_SECS: must be a whole number of seconds from 1 to 3600",
                )?,
        };
        let cookie_secure = match self.cookie_secure.as_deref().map(str::trim) {
            None => false,
            Some(v) => parse_bool(v).ok_or("PASSGATE_COOKIE_SECURE: must be true or false")?,
        };
        let trusted_proxies = match self.trusted_proxies {
            None => Vec::new(),
            Some(list) => parse_proxies(&list)?,
        };
        let min_length = match self.min_password_length {
            None => 8,
            Some(v) => v
                .trim()
                .parse::<usize>()
                .map_err(|_| "PASSGATE_MIN_PASSWORD_LENGTH: must be a whole number")?,
        };
        let min_score = match self.min_password_score {
            None => 3,
            Some(v) => v
                .trim()
                .parse::<u8>()
                .map_err(|_| "PASSGATE_MIN_PASSWORD_SCORE: must be a whole number from 0 to 4")?,
        };
        let policy = PasswordPolicy::new(min_length, min_score)
            .map_err(|e| format!("password policy: {e}"))?;
        let session_max_hours = match self.session_max_hours {
            None => DEFAULT_SESSION_MAX_HOURS,
            Some(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=8760).contains(n))
                .ok_or(
                    "PASSGATE_SESSION_MAX_HOURS: must be a whole number of hours from 1 to 8760",
                )?,
        };
        let skew_steps = match self.totp_skew_steps.as_deref().map(str::trim) {
            None => 1,
            Some("0") => 0,
            Some("1") => 1,
            Some(_) => return Err("PASSGATE_TOTP_SKEW_STEPS: must be 0 or 1".into()),
        };
        let policy_mfa = match self
            .require_mfa
            .as_deref()
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("none") => MfaPolicy::None,
            Some("superusers") => MfaPolicy::Superusers,
            Some("all") => MfaPolicy::All,
            Some(_) => {
                return Err("PASSGATE_REQUIRE_MFA: must be none, superusers or all".into());
            }
        };
        let secret_key = match self.secret_key_file.as_deref().map(str::trim) {
            None => None,
            Some(path) => {
                let contents = std::fs::read(path)
                    .map_err(|e| format!("PASSGATE_SECRET_KEY_FILE: cannot read '{path}': {e}"))?;
                let key = parse_secret_key(&contents).ok_or_else(|| {
                    format!(
                        "PASSGATE_SECRET_KEY_FILE: '{path}' must hold a 32-byte key \
                         (32 raw bytes, 64 hex digits or base64)"
                    )
                })?;
                Some(SecretKeyBytes(key))
            }
        };
        let public_url = match self.public_url {
            None => None,
            Some(url) => Some(parse_public_url(&url)?),
        };
        Ok(Config {
            bind,
            database_url,
            max_connections,
            acquire_timeout,
            cookie_secure,
            trusted_proxies,
            policy,
            throttle: ThrottleConfig::default(),
            session_max_lifetime: time::Duration::hours(session_max_hours),
            timeouts: ClientTimeouts::default(),
            mfa: MfaConfig {
                skew_steps,
                policy: policy_mfa,
                secret_key,
            },
            public_url,
        })
    }
}

impl Config {
    /// A configuration for tests and tools: defaults everywhere but the database.
    pub fn for_database(database_url: &str) -> Self {
        RawConfig {
            database_url: Some(database_url.to_string()),
            ..RawConfig::default()
        }
        .validate()
        .expect("the default configuration is valid")
    }

    /// The pool settings for `db::open_with`.
    pub fn pool(&self) -> PoolOptions {
        PoolOptions {
            max_connections: self.max_connections,
            acquire_timeout: self.acquire_timeout,
        }
    }

    /// The base URL of links (no trailing slash): `PASSGATE_PUBLIC_URL`, else the bind address.
    pub fn link_base(&self) -> String {
        match &self.public_url {
            Some(url) => url.clone(),
            None => format!("http://{}", self.bind),
        }
    }

    /// The URL of a reset or set-up link's token (never built from a request's `Host`).
    pub fn link_url(&self, token: &str) -> String {
        format!("{}{}", self.link_base(), crate::paths::reset_page(token))
    }

    pub fn is_trusted_proxy(&self, addr: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&addr))
    }
}

/// `http(s)://host[:port][/path]`, without query or fragment; the trailing slash dropped.
fn parse_public_url(url: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let valid = rest.is_some_and(|rest| {
        let host = rest.split('/').next().unwrap_or("");
        !host.is_empty()
            && !rest.contains(['?', '#', ' ', '"', '<', '>', '\\'])
            && !host.contains('@')
    });
    if valid {
        Ok(url.to_string())
    } else {
        Err(format!(
            "PASSGATE_PUBLIC_URL: '{url}' is not a base URL such as https://passgate.example.org"
        ))
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn parse_proxies(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!("PASSGATE_TRUSTED_PROXIES: '{item}' is not an IP address or CIDR range")
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_local() {
        let config = RawConfig::default().validate().unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:8000");
        assert!(config.database_url.starts_with("sqlite:"));
        assert!(!config.cookie_secure);
        assert!(config.trusted_proxies.is_empty());
        assert_eq!(config.session_max_lifetime, time::Duration::days(7));
        assert_eq!(config.timeouts.headers, Duration::from_secs(10));
        assert_eq!(config.timeouts.body, Duration::from_secs(30));
    }

    #[test]
    fn public_url_is_the_base_of_links() {
        let default = RawConfig::default().validate().unwrap();
        assert_eq!(default.link_base(), "http://127.0.0.1:8000");
        let set = RawConfig {
            public_url: Some("https://pass.example.org/panel/ ".into()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(set.link_base(), "https://pass.example.org/panel");
        // The path is the route of the link page.
        assert_eq!(
            set.link_url("TOKEN"),
            format!(
                "https://pass.example.org/panel{}TOKEN",
                crate::paths::RESET_PAGE_PREFIX
            )
        );
        for bad in [
            "pass.example.org",
            "ftp://x",
            "https://",
            "https://a?b=c",
            "https://u@evil",
        ] {
            let err = RawConfig {
                public_url: Some(bad.into()),
                ..Default::default()
            }
            .validate()
            .unwrap_err();
            assert!(err.starts_with("PASSGATE_PUBLIC_URL"), "{bad}: {err}");
        }
    }

    #[test]
    fn session_max_hours_is_read_and_checked() {
        let config = RawConfig {
            session_max_hours: Some(" 12 ".into()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(config.session_max_lifetime, time::Duration::hours(12));
        for bad in ["0", "-1", "8761", "a week"] {
            let err = RawConfig {
                session_max_hours: Some(bad.into()),
                ..Default::default()
            }
            .validate()
            .unwrap_err();
            assert!(
                err.starts_with("PASSGATE_SESSION_MAX_HOURS"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn bad_values_name_their_variable() {
        let cases = [
            RawConfig {
                bind: Some("nonsense".into()),
                ..Default::default()
            },
            RawConfig {
                database_url: Some("mysql://x".into()),
                ..Default::default()
            },
            RawConfig {
                cookie_secure: Some("maybe".into()),
                ..Default::default()
            },
            RawConfig {
                trusted_proxies: Some("10.0.0.0/8, banana".into()),
                ..Default::default()
            },
            RawConfig {
                min_password_length: Some("6".into()),
                ..Default::default()
            },
            RawConfig {
                max_connections: Some("0".into()),
                ..Default::default()
            },
            RawConfig {
                acquire_timeout_secs: Some("soon".into()),
                ..Default::default()
            },
        ];
        for raw in cases {
            let err = raw.clone().validate().unwrap_err();
            assert!(!err.contains('\n'), "one line: {err}");
            assert!(
                err.contains("PASSGATE_") || err.contains("policy"),
                "{raw:?}: {err}"
            );
        }
    }

    #[test]
    fn mfa_settings_are_read_and_checked() {
        let config = RawConfig::default().validate().unwrap();
        assert_eq!(config.mfa.skew_steps, 1);
        assert_eq!(config.mfa.policy, MfaPolicy::None);
        assert!(config.mfa.secret_key.is_none());
        let config = RawConfig {
            totp_skew_steps: Some("0".into()),
            require_mfa: Some("Superusers".into()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert_eq!(config.mfa.skew_steps, 0);
        assert_eq!(config.mfa.policy, MfaPolicy::Superusers);
        for (raw, variable) in [
            (
                RawConfig {
                    totp_skew_steps: Some("2".into()),
                    ..Default::default()
                },
                "PASSGATE_TOTP_SKEW_STEPS",
            ),
            (
                RawConfig {
                    require_mfa: Some("admins".into()),
                    ..Default::default()
                },
                "PASSGATE_REQUIRE_MFA",
            ),
            (
                RawConfig {
                    secret_key_file: Some("/nonexistent/passgate.key".into()),
                    ..Default::default()
                },
                "PASSGATE_SECRET_KEY_FILE",
            ),
        ] {
            let err = raw.validate().unwrap_err();
            assert!(err.starts_with(variable) && !err.contains('\n'), "{err}");
        }
    }

    #[test]
    fn a_secret_key_file_holds_raw_hex_or_base64() {
        let key = [7u8; 32];
        assert_eq!(parse_secret_key(&key), Some(key));
        assert_eq!(parse_secret_key(hex::encode(key).as_bytes()), Some(key));
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(key);
        assert_eq!(parse_secret_key(format!("{b64}\n").as_bytes()), Some(key));
        assert_eq!(parse_secret_key(b"too short"), None);
        assert_eq!(parse_secret_key(&[1u8; 31]), None);
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), b"not a key").unwrap();
        let err = RawConfig {
            secret_key_file: Some(file.path().display().to_string()),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(
            err.contains("must hold a 32-byte key") && !err.contains("not a key"),
            "{err}"
        );
    }

    #[test]
    fn trusted_proxies_accept_addresses_and_ranges() {
        let config = RawConfig {
            trusted_proxies: Some("10.0.0.0/8, 192.168.1.7,::1".into()),
            ..Default::default()
        }
        .validate()
        .unwrap();
        assert!(config.is_trusted_proxy("10.1.2.3".parse().unwrap()));
        assert!(config.is_trusted_proxy("192.168.1.7".parse().unwrap()));
        assert!(config.is_trusted_proxy("::1".parse().unwrap()));
        assert!(!config.is_trusted_proxy("192.168.1.8".parse().unwrap()));
    }
}
