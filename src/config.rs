//! Configuration: the settings the server runs with (this file) and how they are read from
//! flags and environment and validated once at start (`raw.rs`).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ipnet::IpNet;
use tracing_subscriber::filter::Targets;

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
    /// `PASSGATE_PUBLIC_URL` as the operator configured it (`None`: unset). Single sign-on and
    /// OpenID Connect need it set explicitly (SPEC §15–§16) and read this field; links and
    /// passkeys use [`Config::public_base`], which falls back to the loopback default
    /// ([`Config::loopback_default_url`]). Never taken from a request's `Host`.
    pub public_url: Option<String>,
    /// Second factors (SPEC §9): skew, who must have one, the secrets' key.
    pub mfa: MfaConfig,
    /// Single sign-on for the intranet's other apps (SPEC §15): on when
    /// `PASSGATE_SSO_COOKIE_DOMAIN` is set.
    pub sso: Option<SsoConfig>,
    /// What is logged (`PASSGATE_LOG`, default `info`): a level, and levels per target.
    pub log: Targets,
    /// Metrics, log format, audit stream, audit retention (SPEC §17).
    pub operations: Operations,
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
    /// The key that encrypts TOTP secrets and the token signing key, read from
    /// `PASSGATE_SECRET_KEY_FILE`; `None`: TOTP secrets are sealed with a key generated once
    /// and kept in `settings`, and the signing key is stored as it is.
    pub secret_key: Option<SecretKeyBytes>,
    /// The file the key came from (named in messages about it, never its contents).
    pub secret_key_file: Option<String>,
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
/// What is logged when `PASSGATE_LOG` is unset.
pub const DEFAULT_LOG: &str = "info";

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

    /// Where people open passgate when `PASSGATE_PUBLIC_URL` is unset and the bind address is
    /// loopback: `http://localhost:PORT` — a secure context for WebAuthn and a host name (an
    /// IP address cannot be a passkey relying party), so passkeys work on the embedded default.
    /// `None` when the URL is configured or the bind address is not loopback.
    pub fn loopback_default_url(&self) -> Option<String> {
        (self.public_url.is_none() && self.bind.ip().is_loopback() && self.bind.port() != 0)
            .then(|| format!("http://localhost:{}", self.bind.port()))
    }

    /// The base URL people reach passgate at (no trailing slash): `PASSGATE_PUBLIC_URL`, or
    /// the loopback default; `None` when neither applies. Links and passkeys use it; whether
    /// it was configured is `public_url.is_some()`.
    pub fn public_base(&self) -> Option<String> {
        self.public_url
            .clone()
            .or_else(|| self.loopback_default_url())
    }

    /// The base URL of links (no trailing slash): [`Config::public_base`], else the bind
    /// address.
    pub fn link_base(&self) -> String {
        self.public_base()
            .unwrap_or_else(|| format!("http://{}", self.bind))
    }

    /// The URL of a reset or set-up link's token (never built from a request's `Host`).
    pub fn link_url(&self, token: &str) -> String {
        format!("{}{}", self.link_base(), crate::paths::reset_page(token))
    }

    pub fn is_trusted_proxy(&self, addr: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&addr))
    }
}

mod operations;
mod raw;
mod sso;
mod values;

pub use operations::{AuditSink, LogFormat, Operations, RawOperations};
pub use raw::{Purpose, RawConfig, Scope, VARIABLES, Variable};
pub use sso::{SsoConfig, is_host_name};
pub use values::redact_url;

#[cfg(test)]
mod tests;
