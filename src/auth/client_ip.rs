//! The client's address: the TCP peer, or what a trusted proxy says in `X-Forwarded-For`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::config::Config;
use crate::state::AppState;

/// The address a request is attributed to (audit log, throttle).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl std::fmt::Display for ClientIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Walks `X-Forwarded-For` from the right while the hops are trusted proxies; the first
/// untrusted hop is the client. Without a trusted peer the header is ignored entirely.
pub fn resolve(config: &Config, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    if !config.is_trusted_proxy(peer) {
        return peer;
    }
    let mut client = peer;
    let hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in hops.iter().rev() {
        let Some(addr) = parse_hop(hop) else {
            // A malformed hop ends what we can believe.
            break;
        };
        client = addr;
        if !config.is_trusted_proxy(addr) {
            break;
        }
    }
    client
}

/// One `X-Forwarded-For` hop: an address, with or without a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`, `[2001:db8::1]`), as proxies write them.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(addr) = hop.parse::<IpAddr>() {
        return Some(addr);
    }
    if let Ok(socket) = hop.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    hop.strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|inner| inner.parse::<std::net::Ipv6Addr>().ok())
        .map(IpAddr::V6)
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(ClientIp(resolve(&state.config, peer, &parts.headers)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RawConfig;

    fn config(proxies: &str) -> Config {
        RawConfig {
            trusted_proxies: Some(proxies.into()),
            ..Default::default()
        }
        .validate()
        .unwrap()
    }

    fn xff(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", value.parse().unwrap());
        headers
    }

    #[test]
    fn untrusted_peer_cannot_claim_another_address() {
        let cfg = config("10.0.0.1");
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(resolve(&cfg, peer, &xff("1.2.3.4")), peer);
    }

    #[test]
    fn trusted_proxy_names_the_client() {
        let cfg = config("10.0.0.0/8");
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(resolve(&cfg, peer, &xff("1.2.3.4")).to_string(), "1.2.3.4");
        // A client-supplied prefix is skipped: only the hop the proxy appended counts.
        assert_eq!(
            resolve(&cfg, peer, &xff("6.6.6.6, 1.2.3.4, 10.0.0.2")).to_string(),
            "1.2.3.4"
        );
        assert_eq!(resolve(&cfg, peer, &xff("garbage")), peer);
        assert_eq!(
            resolve(&cfg, peer, &xff("1.2.3.4:5678")).to_string(),
            "1.2.3.4"
        );
        assert_eq!(
            resolve(&cfg, peer, &xff("[2001:db8::1]:443")).to_string(),
            "2001:db8::1"
        );
        assert_eq!(
            resolve(&cfg, peer, &xff("[2001:db8::1]")).to_string(),
            "2001:db8::1"
        );
        // A port after an unbracketed IPv6 address is no address at all.
        assert_eq!(resolve(&cfg, peer, &xff("2001:db8::1:443:x")), peer);
        // Hops with ports are walked like any other: the trusted one is skipped.
        assert_eq!(
            resolve(&cfg, peer, &xff("5.6.7.8:1000, 10.0.0.2:80")).to_string(),
            "5.6.7.8"
        );
        assert_eq!(resolve(&cfg, peer, &HeaderMap::new()), peer);
    }
}
