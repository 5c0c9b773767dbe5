//! `ReturnTo`: the one way a URL from outside (`rd`) becomes a place passgate sends a browser
//! (SPEC §15.4). Sign-in, sign-out and the OpenID Connect provider all take their redirect
//! targets through [`ReturnTo::parse`], so the rules live here once.

use crate::config::SsoConfig;

/// The longest `rd` followed, in bytes.
pub const MAX_BYTES: usize = 2048;

/// An absolute URL inside the single sign-on domain, safe to redirect to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReturnTo {
    url: url::Url,
}

impl ReturnTo {
    /// `raw` as a redirect target, or `None` (the caller then lands the user on the
    /// dashboard, never on `raw`). Followed only if it is an absolute `https` URL (`http`
    /// only when `allow_http`, i.e. while `PASSGATE_COOKIE_SECURE` is off), at most 2048
    /// bytes, with no control character, space or backslash anywhere, whose authority is a
    /// plain host name and optional port (no user info, no percent-encoding, no IP address)
    /// equal to the SSO cookie domain or ending with `.` + that domain.
    pub fn parse(raw: &str, sso: &SsoConfig, allow_http: bool) -> Option<ReturnTo> {
        if raw.len() > MAX_BYTES || raw.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'\\') {
            return None;
        }
        let lower = raw
            .get(..8)
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        let rest = if lower.starts_with("https://") {
            &raw[8..]
        } else if allow_http && lower.starts_with("http://") {
            &raw[7..]
        } else {
            return None;
        };
        // The authority as written: a host name and an optional port, nothing else (user
        // info, percent-encoding, IPv6 literals and non-ASCII names all fail here, before a
        // lenient parser could reinterpret them).
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let plain = |c: u8| c.is_ascii_alphanumeric() || c == b'.' || c == b'-' || c == b':';
        if authority.is_empty() || !authority.bytes().all(plain) {
            return None;
        }
        let url = url::Url::parse(raw).ok()?;
        let scheme_ok = url.scheme() == "https" || (allow_http && url.scheme() == "http");
        let host = match url.host() {
            Some(url::Host::Domain(host)) => host,
            _ => return None,
        };
        (scheme_ok && url.username().is_empty() && url.password().is_none() && sso.covers(host))
            .then_some(ReturnTo { url })
    }

    /// The URL, serialised (what the browser is sent to).
    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }

    /// The host (lower-case, no port).
    pub fn host(&self) -> &str {
        self.url.host_str().unwrap_or("")
    }

    /// The port, when the URL names one other than its scheme's default.
    pub fn port(&self) -> Option<u16> {
        self.url.port()
    }

    /// The port a request to it goes to (explicit, or the scheme's default).
    pub fn effective_port(&self) -> Option<u16> {
        self.url.port_or_known_default()
    }

    /// The path and query (what a proxy forwards as `X-Forwarded-Uri`).
    pub fn path_and_query(&self) -> String {
        match self.url.query() {
            Some(query) => format!("{}?{query}", self.url.path()),
            None => self.url.path().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sso() -> SsoConfig {
        SsoConfig {
            cookie_domain: "example.org".into(),
        }
    }

    fn parse(raw: &str) -> Option<String> {
        ReturnTo::parse(raw, &sso(), false).map(|r| r.as_str().to_string())
    }

    #[test]
    fn urls_inside_the_domain_are_followed() {
        for (raw, followed) in [
            (
                "https://wiki.example.org/page?x=1#top",
                "https://wiki.example.org/page?x=1#top",
            ),
            ("https://example.org", "https://example.org/"),
            (
                "HTTPS://Wiki.Example.ORG:8443/a",
                "https://wiki.example.org:8443/a",
            ),
            (
                "https://a.b.example.org/%2e%2e/x",
                "https://a.b.example.org/x",
            ),
        ] {
            assert_eq!(parse(raw).as_deref(), Some(followed), "{raw}");
        }
        let r = ReturnTo::parse("https://wiki.example.org:8443/a?b=1#c", &sso(), false).unwrap();
        assert_eq!((r.host(), r.port()), ("wiki.example.org", Some(8443)));
        assert_eq!(r.path_and_query(), "/a?b=1");
        let r = ReturnTo::parse("https://wiki.example.org", &sso(), false).unwrap();
        assert_eq!((r.port(), r.effective_port()), (None, Some(443)));
    }

    #[test]
    fn everything_else_is_dropped() {
        let long = format!("https://wiki.example.org/{}", "a".repeat(MAX_BYTES));
        for raw in [
            "https://evilexample.org/",
            "https://example.org.evil.com/",
            "https://evil.com/?https://wiki.example.org",
            "https://evil.com#.example.org",
            "//evil.com",
            "//wiki.example.org/",
            "/panel/dashboard",
            "javascript:alert(1)",
            "JavaScript://wiki.example.org/%0aalert(1)",
            "data:text/html,<script>",
            "https:wiki.example.org",
            "https:/wiki.example.org",
            "https://user@wiki.example.org/",
            "https://user:pw@wiki.example.org/",
            "https://evil.com@wiki.example.org/",
            "https://wiki.example.org@evil.com/",
            "https://wiki.example.org\\@evil.com/",
            "https:\\\\evil.com",
            "https://wiki.example.org/\\evil",
            "https://wiki.example.org/a b",
            "https://wiki.example.org/\nLocation: https://evil.com",
            "https://wiki.example.org/\t",
            "https://wiki%2eexample.org/",
            "https://evil.com%2f.example.org/",
            "https://evil.com%23.example.org/",
            "https://wíki.example.org/",
            "https://127.0.0.1/",
            "https://[::1]/",
            "https://example.org./",
            "https://.example.org/",
            "http://wiki.example.org/",
            "ftp://wiki.example.org/",
            "",
            long.as_str(),
        ] {
            assert_eq!(parse(raw), None, "{raw:?} must be dropped");
        }
    }

    #[test]
    fn http_is_followed_only_while_cookies_are_not_secure() {
        let raw = "http://wiki.example.org/";
        assert!(ReturnTo::parse(raw, &sso(), true).is_some());
        assert!(ReturnTo::parse(raw, &sso(), false).is_none());
        // https always.
        assert!(ReturnTo::parse("https://wiki.example.org/", &sso(), true).is_some());
    }
}
