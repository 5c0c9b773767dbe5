//! `passgate healthcheck` (for container images without curl) and `passgate audit export`
//! (the audit stream's lines from the database, for a SIEM or an investigation).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use clap::Subcommand;
use time::PrimitiveDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::config::Config;
use crate::db;

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Write the audit entries as JSON lines (the audit stream's schema, docs/audit.md) to
    /// standard output, oldest first.
    Export {
        /// Only entries at or after TIME (2026-12-01, or 2026-12-01T10:00:00Z).
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        since: Option<PrimitiveDateTime>,
        /// Only entries before TIME.
        #[arg(long, value_name = "TIME", value_parser = parse_time)]
        until: Option<PrimitiveDateTime>,
    },
}

/// How long the health check waits for the whole answer.
const HEALTHCHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// `passgate healthcheck`: asks the configured bind's `/healthz` (an unspecified address such
/// as `0.0.0.0` through loopback); an answer other than 200 is an error (exit status 1).
pub(super) async fn healthcheck(config: &Config) -> anyhow::Result<String> {
    let address = loopback_for(config.bind);
    let url = format!("http://{address}{}", crate::paths::HEALTHZ);
    let status = tokio::time::timeout(HEALTHCHECK_TIMEOUT, health_status(address))
        .await
        .map_err(|_| anyhow::anyhow!("{url}: no answer within 5 s"))?
        .map_err(|e| anyhow::anyhow!("{url}: {e}"))?;
    if status == 200 {
        Ok(format!("{url}: ok"))
    } else {
        anyhow::bail!("{url} answered {status}")
    }
}

/// Where to reach a server bound to `bind` from the same host.
fn loopback_for(bind: SocketAddr) -> SocketAddr {
    match bind.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), bind.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), bind.port())
        }
        _ => bind,
    }
}

/// The status code of `GET /healthz` (HTTP/1.1, one request, the connection closed after it).
async fn health_status(address: SocketAddr) -> std::io::Result<u16> {
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n",
        crate::paths::HEALTHZ
    );
    stream.write_all(request.as_bytes()).await?;
    let mut head = Vec::new();
    let mut buf = [0u8; 256];
    while !head.windows(2).any(|w| w == b"\r\n") && head.len() < 4096 {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let status_line = String::from_utf8_lossy(&head);
    status_line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..5))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other("not an HTTP answer"))
}

/// `passgate audit …`. The database is read as it is (no migration runs).
pub(super) async fn audit(config: &Config, command: AuditCommand) -> anyhow::Result<String> {
    match command {
        AuditCommand::Export { since, until } => {
            let db = db::connect_with(&config.database_url, config.pool()).await?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let result = crate::accounts::audit::export(&db, since, until, &mut out).await;
            db.close().await.ok();
            result.map_err(|e| anyhow::anyhow!("audit export: {e}"))?;
            // The lines are the output; nothing else goes to standard output.
            Ok(String::new())
        }
    }
}

/// `2026-12-01` (midnight UTC) or an RFC 3339 time (`2026-12-01T10:00:00Z`, any offset), as
/// UTC.
fn parse_time(text: &str) -> Result<PrimitiveDateTime, String> {
    use time::format_description::well_known::Rfc3339;
    let text = text.trim();
    if let Ok(at) = time::OffsetDateTime::parse(text, &Rfc3339) {
        let at = at.to_offset(time::UtcOffset::UTC);
        return Ok(PrimitiveDateTime::new(at.date(), at.time()));
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &date_format)
        .map(|date| date.midnight())
        .map_err(|_| format!("'{text}' is not a time such as 2026-12-01 or 2026-12-01T10:00:00Z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_dates_or_rfc3339_in_utc() {
        assert_eq!(
            parse_time("2026-12-01").unwrap(),
            time::macros::datetime!(2026-12-01 00:00:00)
        );
        assert_eq!(
            parse_time("2026-12-01T10:30:00+01:00").unwrap(),
            time::macros::datetime!(2026-12-01 09:30:00)
        );
        for bad in ["yesterday", "2026-13-01", "1733000000", ""] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_unspecified_bind_is_checked_through_loopback() {
        assert_eq!(
            loopback_for("0.0.0.0:8000".parse().unwrap()),
            "127.0.0.1:8000".parse().unwrap()
        );
        assert_eq!(
            loopback_for("[::]:8000".parse().unwrap()),
            "[::1]:8000".parse().unwrap()
        );
        assert_eq!(
            loopback_for("10.0.0.5:8000".parse().unwrap()),
            "10.0.0.5:8000".parse().unwrap()
        );
    }
}
