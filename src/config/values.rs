//! The value parsers of the configuration's reader (`raw.rs`): each takes a variable's text
//! and says in one phrase what is wrong with it (the reader adds the variable's name).

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;
use tracing_subscriber::filter::Targets;

use super::*;

/// A whole number within `range`, e.g. "must be a whole number of hours from 1 to 8760".
pub(super) fn whole_number(
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
pub(super) fn quoted(value: &str) -> String {
    let cut: String = value.chars().take(80).collect();
    let more = if cut.len() < value.len() { "…" } else { "" };
    format!("'{}{more}'", cut.escape_debug())
}

pub(super) fn parse_bind(value: &str) -> Result<SocketAddr, String> {
    value.parse::<SocketAddr>().map_err(|_| {
        format!(
            "{} is not an address with a port, such as 127.0.0.1:8000 or [::1]:8000",
            quoted(value)
        )
    })
}

/// `sqlite:…` or `postgres(ql)://…`, parsed as the driver will parse it, so that a typo is
/// refused here in words and never echoed with its password.
pub(super) fn parse_database_url(url: &str) -> Result<String, String> {
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

pub(super) fn parse_bool(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("{} is not true or false", quoted(value))),
    }
}

pub(super) fn parse_proxies(list: &str) -> Result<Vec<IpNet>, String> {
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

pub(super) fn parse_mfa_policy(value: &str) -> Result<MfaPolicy, String> {
    match value.to_ascii_lowercase().as_str() {
        "none" => Ok(MfaPolicy::None),
        "superusers" => Ok(MfaPolicy::Superusers),
        "all" => Ok(MfaPolicy::All),
        _ => Err(format!("{} is not none, superusers or all", quoted(value))),
    }
}

/// The key in the file the variable names (its contents never appear in a message).
pub(super) fn read_secret_key(path: &str) -> Result<(SecretKeyBytes, String), String> {
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
pub(super) fn parse_public_url(url: &str) -> Result<String, String> {
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
pub(super) fn parse_log_filter(value: &str) -> Result<Targets, String> {
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
