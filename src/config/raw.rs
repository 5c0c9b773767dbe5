//! Reading the configuration: raw values from flags and the `PASSGATE_*` environment, each
//! validated with a one-line message naming the variable.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ipnet::IpNet;

use super::*;

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
    pub sso_cookie_domain: Option<String>,
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
            sso_cookie_domain: var("PASSGATE_SSO_COOKIE_DOMAIN"),
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
        let sso = match self.sso_cookie_domain {
            None => None,
            Some(domain) => Some(super::sso::parse(&domain, public_url.as_deref())?),
        };
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
            sso,
        })
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
