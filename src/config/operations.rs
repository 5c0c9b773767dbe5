//! Operations settings (SPEC §17): the metrics listener, the log format, the audit stream and
//! the audit log's retention, each read from its `PASSGATE_*` variable and checked once.

use std::net::SocketAddr;
use std::path::PathBuf;

/// How log lines are written (`PASSGATE_LOG_FORMAT`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object a line, with the request's span (its id) in it.
    Json,
}

/// Where the audit stream goes (`PASSGATE_AUDIT_FILE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditSink {
    /// Appended to this file, reopened on SIGHUP (logrotate).
    File(PathBuf),
    /// Standard output (`-`): the start-up lines then go to standard error, so that standard
    /// output carries audit lines only.
    Stdout,
}

/// The operations settings; everything off by default.
#[derive(Clone, Debug, Default)]
pub struct Operations {
    /// Serve Prometheus text at `/metrics` on this address (its own listener).
    pub metrics_bind: Option<SocketAddr>,
    pub log_format: LogFormat,
    /// Also write every audit entry as one JSON line here.
    pub audit_sink: Option<AuditSink>,
    /// Delete audit entries older than this many days, once an hour (`None`: keep them).
    pub audit_retention_days: Option<u32>,
}

/// The raw values of [`Operations`], as they come from the environment.
#[derive(Clone, Debug, Default)]
pub struct RawOperations {
    pub metrics_bind: Option<String>,
    pub log_format: Option<String>,
    pub audit_file: Option<String>,
    pub audit_retention_days: Option<String>,
}

impl RawOperations {
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            metrics_bind: var("PASSGATE_METRICS_BIND"),
            log_format: var("PASSGATE_LOG_FORMAT"),
            audit_file: var("PASSGATE_AUDIT_FILE"),
            audit_retention_days: var("PASSGATE_AUDIT_RETENTION_DAYS"),
        }
    }

    /// Checks every value; the error is one line naming the variable.
    pub fn validate(self, bind: SocketAddr) -> Result<Operations, String> {
        let metrics_bind = match self.metrics_bind.as_deref().map(str::trim) {
            None => None,
            Some(text) => {
                let addr = text.parse::<SocketAddr>().map_err(|_| {
                    format!(
                        "PASSGATE_METRICS_BIND: '{text}' is not an address such as 127.0.0.1:9464"
                    )
                })?;
                if addr == bind {
                    return Err(format!(
                        "PASSGATE_METRICS_BIND: {addr} is the panel's own address; metrics need a listener of their own"
                    ));
                }
                Some(addr)
            }
        };
        let log_format = match self
            .log_format
            .as_deref()
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(_) => return Err("PASSGATE_LOG_FORMAT: must be text or json".into()),
        };
        let audit_sink = match self.audit_file.as_deref().map(str::trim) {
            None => None,
            Some("-") => Some(AuditSink::Stdout),
            Some(path) => {
                let path = PathBuf::from(path);
                if path.is_dir() {
                    return Err(format!(
                        "PASSGATE_AUDIT_FILE: '{}' is a directory; name a file in it",
                        path.display()
                    ));
                }
                Some(AuditSink::File(path))
            }
        };
        let audit_retention_days = match self.audit_retention_days.as_deref().map(str::trim) {
            None => None,
            Some(v) => Some(
                v.parse::<u32>()
                    .ok()
                    .filter(|days| (1..=36_500).contains(days))
                    .ok_or(
                        "PASSGATE_AUDIT_RETENTION_DAYS: must be a whole number of days from 1 to 36500",
                    )?,
            ),
        };
        Ok(Operations {
            metrics_bind,
            log_format,
            audit_sink,
            audit_retention_days,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind() -> SocketAddr {
        "127.0.0.1:8000".parse().unwrap()
    }

    #[test]
    fn everything_is_off_by_default() {
        let ops = RawOperations::default().validate(bind()).unwrap();
        assert_eq!(ops.metrics_bind, None);
        assert_eq!(ops.log_format, LogFormat::Text);
        assert_eq!(ops.audit_sink, None);
        assert_eq!(ops.audit_retention_days, None);
    }

    #[test]
    fn values_are_read() {
        let ops = RawOperations {
            metrics_bind: Some("127.0.0.1:9464".into()),
            log_format: Some("JSON".into()),
            audit_file: Some("/var/log/passgate/audit.log".into()),
            audit_retention_days: Some(" 90 ".into()),
        }
        .validate(bind())
        .unwrap();
        assert_eq!(ops.metrics_bind, Some("127.0.0.1:9464".parse().unwrap()));
        assert_eq!(ops.log_format, LogFormat::Json);
        assert_eq!(
            ops.audit_sink,
            Some(AuditSink::File("/var/log/passgate/audit.log".into()))
        );
        assert_eq!(ops.audit_retention_days, Some(90));
        let stdout = RawOperations {
            audit_file: Some("-".into()),
            ..Default::default()
        }
        .validate(bind())
        .unwrap();
        assert_eq!(stdout.audit_sink, Some(AuditSink::Stdout));
    }

    #[test]
    fn bad_values_name_their_variable() {
        let cases = [
            (
                RawOperations {
                    metrics_bind: Some("9464".into()),
                    ..Default::default()
                },
                "PASSGATE_METRICS_BIND",
            ),
            (
                RawOperations {
                    metrics_bind: Some("127.0.0.1:8000".into()),
                    ..Default::default()
                },
                "PASSGATE_METRICS_BIND",
            ),
            (
                RawOperations {
                    log_format: Some("xml".into()),
                    ..Default::default()
                },
                "PASSGATE_LOG_FORMAT",
            ),
            (
                RawOperations {
                    audit_file: Some(std::env::temp_dir().display().to_string()),
                    ..Default::default()
                },
                "PASSGATE_AUDIT_FILE",
            ),
            (
                RawOperations {
                    audit_retention_days: Some("0".into()),
                    ..Default::default()
                },
                "PASSGATE_AUDIT_RETENTION_DAYS",
            ),
            (
                RawOperations {
                    audit_retention_days: Some("-3".into()),
                    ..Default::default()
                },
                "PASSGATE_AUDIT_RETENTION_DAYS",
            ),
        ];
        for (raw, variable) in cases {
            let err = raw.validate(bind()).unwrap_err();
            assert!(err.starts_with(variable), "{err}");
            assert!(!err.contains('\n'), "{err}");
        }
    }
}
