//! What the proxy asks about, read from its headers (SPEC §15.2), once: the forward-auth
//! headers of Traefik and Caddy (`X-Forwarded-Method`, `-Proto`, `-Host`, `-Uri`) or nginx's
//! `auth_request` pair (`X-Original-URL`, `X-Original-Method`). Anything missing or malformed
//! is refused with the reason (400).

use axum::http::HeaderMap;

/// The original request, as the proxy forwarded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Forwarded {
    /// Upper-case letters only.
    pub method: String,
    /// The whole URL (`https://wiki.example.org/page?x=1`), as the redirect back carries it.
    pub url: String,
    /// Lower-case, no port.
    pub host: String,
    /// Explicit, or the scheme's default.
    pub port: Option<u16>,
    /// Path and query exactly as forwarded (the public-path check normalises it itself).
    pub uri: String,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, String> {
    let mut values = headers.get_all(name).iter();
    let value = values
        .next()
        .ok_or_else(|| format!("the {name} header is missing"))?;
    if values.next().is_some() {
        return Err(format!("the {name} header is given more than once"));
    }
    value
        .to_str()
        .map(str::trim)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("the {name} header is empty or not text"))
}

fn method(headers: &HeaderMap, name: &str) -> Result<String, String> {
    let value = header(headers, name)?;
    if value.len() > 32 || !value.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(format!(
            "{name} must be a method such as GET (capital letters only)"
        ));
    }
    Ok(value.to_string())
}

/// `X-Forwarded-Method`, `X-Forwarded-Proto`, `X-Forwarded-Host`, `X-Forwarded-Uri`
/// (Traefik `forwardAuth`, Caddy `forward_auth`).
pub fn from_forwarded_headers(headers: &HeaderMap) -> Result<Forwarded, String> {
    let method = method(headers, "x-forwarded-method")?;
    let proto = header(headers, "x-forwarded-proto")?.to_ascii_lowercase();
    if proto != "http" && proto != "https" {
        return Err("X-Forwarded-Proto must be http or https".into());
    }
    let host = header(headers, "x-forwarded-host")?;
    if host.contains([',', '/', '?', '#', '@', '\\', ' ']) {
        return Err("X-Forwarded-Host must be one host name, with an optional port".into());
    }
    let uri = header(headers, "x-forwarded-uri")?;
    if !uri.starts_with('/') {
        return Err("X-Forwarded-Uri must be a path starting with /".into());
    }
    parse(method, &format!("{proto}://{host}{uri}"), uri)
}

/// `X-Original-URL` and `X-Original-Method` (nginx `auth_request`).
pub fn from_original_headers(headers: &HeaderMap) -> Result<Forwarded, String> {
    let method = method(headers, "x-original-method")?;
    let url = header(headers, "x-original-url")?;
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &url[8..]
    } else if lower.starts_with("http://") {
        &url[7..]
    } else {
        return Err("X-Original-URL must be an absolute http or https URL".into());
    };
    let uri = match rest.find(['/', '?']) {
        Some(at) if rest[at..].starts_with('/') => rest[at..].to_string(),
        Some(at) => format!("/{}", &rest[at..]),
        None => "/".to_string(),
    };
    if rest
        .split(['/', '?', '#'])
        .next()
        .is_some_and(|a| a.contains(['@', '\\']))
    {
        return Err("X-Original-URL must not carry user info".into());
    }
    parse(method, url, &uri)
}

fn parse(method: String, url: &str, uri: &str) -> Result<Forwarded, String> {
    if url.bytes().any(|b| b < b' ' || b == 0x7f) {
        return Err("the forwarded URL has control characters".into());
    }
    let parsed =
        url::Url::parse(url).map_err(|e| format!("the forwarded URL does not parse: {e}"))?;
    let host = match parsed.host() {
        Some(url::Host::Domain(name)) => name.to_string(),
        Some(url::Host::Ipv4(addr)) => addr.to_string(),
        Some(url::Host::Ipv6(addr)) => format!("[{addr}]"),
        None => return Err("the forwarded URL has no host".into()),
    };
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("the forwarded URL must not carry user info".into());
    }
    Ok(Forwarded {
        method,
        url: url.to_string(),
        host,
        port: parsed.port_or_known_default(),
        uri: uri.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn traefik_and_caddy_headers_name_the_target() {
        let forwarded = from_forwarded_headers(&headers(&[
            ("x-forwarded-method", "POST"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "Wiki.Example.org"),
            ("x-forwarded-uri", "/a/../b?x=1"),
        ]))
        .unwrap();
        assert_eq!(forwarded.method, "POST");
        assert_eq!(forwarded.host, "wiki.example.org");
        assert_eq!(forwarded.port, Some(443));
        assert_eq!(forwarded.uri, "/a/../b?x=1");
        assert_eq!(forwarded.url, "https://Wiki.Example.org/a/../b?x=1");
        let with_port = from_forwarded_headers(&headers(&[
            ("x-forwarded-method", "GET"),
            ("x-forwarded-proto", "http"),
            ("x-forwarded-host", "wiki.example.org:8080"),
            ("x-forwarded-uri", "/"),
        ]))
        .unwrap();
        assert_eq!(with_port.port, Some(8080));
    }

    #[test]
    fn nginx_headers_name_the_target() {
        let forwarded = from_original_headers(&headers(&[
            ("x-original-method", "GET"),
            (
                "x-original-url",
                "https://wiki.example.org:8443/public/%2e%2e/x?y",
            ),
        ]))
        .unwrap();
        assert_eq!(
            (forwarded.host.as_str(), forwarded.port),
            ("wiki.example.org", Some(8443))
        );
        assert_eq!(forwarded.uri, "/public/%2e%2e/x?y");
        let bare = from_original_headers(&headers(&[
            ("x-original-method", "HEAD"),
            ("x-original-url", "http://wiki.example.org?q"),
        ]))
        .unwrap();
        assert_eq!(bare.uri, "/?q");
    }

    #[test]
    fn missing_or_malformed_headers_are_refused() {
        let good = [
            ("x-forwarded-method", "GET"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "wiki.example.org"),
            ("x-forwarded-uri", "/"),
        ];
        for missing in 0..good.len() {
            let partial: Vec<_> = good
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != missing)
                .map(|(_, p)| *p)
                .collect();
            assert!(
                from_forwarded_headers(&headers(&partial)).is_err(),
                "{missing}"
            );
        }
        for (name, bad) in [
            ("x-forwarded-method", "get"),
            ("x-forwarded-method", "G ET"),
            ("x-forwarded-method", "GET1"),
            ("x-forwarded-proto", "ftp"),
            ("x-forwarded-host", "a.example.org, b.example.org"),
            ("x-forwarded-host", "user@wiki.example.org"),
            ("x-forwarded-host", "wiki.example.org/x"),
            ("x-forwarded-host", "wiki.example.org:99999"),
            ("x-forwarded-uri", "page"),
            ("x-forwarded-uri", "//evil.com/x"),
        ] {
            let mut pairs: Vec<(&'static str, &str)> =
                good.iter().filter(|(n, _)| *n != name).copied().collect();
            pairs.push((name, bad));
            let result = from_forwarded_headers(&headers(&pairs));
            // `//evil.com/x` parses as a path of wiki.example.org: the host stays the one given.
            if bad == "//evil.com/x" {
                assert_eq!(result.unwrap().host, "wiki.example.org");
            } else {
                assert!(result.is_err(), "{name}: {bad}");
            }
        }
        let twice = {
            let mut map = headers(&good);
            map.append(
                "x-forwarded-host",
                HeaderValue::from_static("evil.example.org"),
            );
            map
        };
        assert!(from_forwarded_headers(&twice).is_err());
        for (method, url) in [
            ("GET", "wiki.example.org/"),
            ("GET", "ftp://wiki.example.org/"),
            ("GET", "https://user:pw@wiki.example.org/"),
            ("GET", "https://"),
            ("", "https://wiki.example.org/"),
            ("get", "https://wiki.example.org/"),
        ] {
            let result = from_original_headers(&headers(&[
                ("x-original-method", method),
                ("x-original-url", url),
            ]));
            assert!(result.is_err(), "{method} {url}");
        }
    }
}
