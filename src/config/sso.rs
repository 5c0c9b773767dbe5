//! Single sign-on settings (SPEC §15.3): `PASSGATE_SSO_COOKIE_DOMAIN`, checked once at start
//! against the public-suffix list (the `psl` crate, compiled in) and `PASSGATE_PUBLIC_URL`.

/// Single sign-on is on: the SSO cookie is set for `cookie_domain` and every app below it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsoConfig {
    /// The cookie's `Domain=`, lower-cased, without a leading dot (`example.org`).
    pub cookie_domain: String,
}

impl SsoConfig {
    /// Whether `host` (lower-case, no port) is the cookie domain or a name below it — on a
    /// label boundary: `evilexample.org` is not inside `example.org`.
    pub fn covers(&self, host: &str) -> bool {
        host == self.cookie_domain
            || host
                .strip_suffix(&self.cookie_domain)
                .is_some_and(|rest| rest.ends_with('.') && rest.len() > 1)
    }

    /// CSP sources for every URL [`SsoConfig::covers`]: the domain and the names below it, on
    /// any port, `https` (and `http` while cookies are not `Secure`, as `rd` allows).
    pub fn form_action_sources(&self, cookie_secure: bool) -> String {
        let domain = &self.cookie_domain;
        let schemes: &[&str] = if cookie_secure {
            &["https"]
        } else {
            &["https", "http"]
        };
        schemes
            .iter()
            .map(|scheme| format!("{scheme}://{domain}:* {scheme}://*.{domain}:*"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Validates `PASSGATE_SSO_COOKIE_DOMAIN`: a DNS name (not an IP address), not a public
/// suffix (`org`, `co.uk`, `github.io`: a cookie there would reach other people's sites), that
/// contains the host of `public_url` (passgate sets the cookie, so its own host must be
/// inside the domain). The URL must be given explicitly: the redirects to the sign-in page
/// are built from it.
pub fn parse(value: &str, public_url: Option<&str>) -> Result<SsoConfig, String> {
    let domain = value.trim().trim_start_matches('.').to_ascii_lowercase();
    if domain.parse::<std::net::IpAddr>().is_ok() || domain.starts_with('[') {
        return Err(format!(
            "'{domain}' is an IP address; cookies for several hosts need a domain name"
        ));
    }
    if !is_dns_name(&domain) {
        return Err(format!(
            "'{domain}' is not a domain name such as example.org"
        ));
    }
    let is_suffix =
        psl::suffix(domain.as_bytes()).is_none_or(|s| s.as_bytes() == domain.as_bytes());
    if is_suffix {
        return Err(format!(
            "'{domain}' is a public suffix (a cookie for it would reach every site below \
             it); use a domain of your own such as example.org"
        ));
    }
    let Some(public_url) = public_url else {
        return Err(format!(
            "single sign-on needs PASSGATE_PUBLIC_URL (the address of passgate inside \
             {domain}, e.g. https://auth.{domain})"
        ));
    };
    let host = url::Url::parse(public_url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default();
    let config = SsoConfig {
        cookie_domain: domain,
    };
    if !config.covers(&host) {
        return Err(format!(
            "'{}' does not contain the host of PASSGATE_PUBLIC_URL ('{host}'); passgate \
             must be inside the domain whose cookie it sets",
            config.cookie_domain
        ));
    }
    Ok(config)
}

/// A lower-case host name: labels of letters, digits and inner hyphens (1–63 bytes each),
/// at most 253 bytes in all. Also what an application's host must be (`accounts::apps`).
pub fn is_host_name(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// A host name of at least two labels (a cookie domain).
fn is_dns_name(name: &str) -> bool {
    is_host_name(name) && name.contains('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_of_ones_own_that_holds_passgate_is_accepted() {
        let config = parse(" .Example.ORG ", Some("https://auth.example.org")).unwrap();
        assert_eq!(config.cookie_domain, "example.org");
        // Test domains under reserved names work too (`.test` has no entry: one label is the
        // suffix, two make a domain).
        assert!(parse("passgate.test", Some("http://auth.passgate.test:8080")).is_ok());
        assert!(parse("example.org", Some("https://example.org/sso")).is_ok());
        assert!(parse("corp.example.co.uk", Some("https://id.corp.example.co.uk")).is_ok());
    }

    #[test]
    fn public_suffixes_ip_addresses_and_foreign_hosts_are_refused() {
        let public = Some("https://auth.example.org");
        for suffix in [
            "org",
            "co.uk",
            "github.io",
            "test",
            "localhost",
            "s3.amazonaws.com",
        ] {
            let err = parse(suffix, Some(&format!("https://a.{suffix}"))).unwrap_err();
            assert!(
                err.contains("public suffix") || err.contains("not a domain"),
                "{suffix}: {err}"
            );
        }
        for ip in ["127.0.0.1", "::1", "[::1]", "10.0.0.0"] {
            let err = parse(ip, public).unwrap_err();
            assert!(err.contains("IP address"), "{ip}: {err}");
        }
        for bad in [
            "exa mple.org",
            "-a.org",
            "a..org",
            "*.example.org",
            "example.org/x",
            "",
        ] {
            assert!(parse(bad, public).is_err(), "{bad}");
        }
        // passgate outside the domain, or on a name that only ends like it.
        assert!(parse("example.org", Some("https://auth.example.net")).is_err());
        assert!(parse("example.org", Some("https://authexample.org")).is_err());
        // No public URL: the redirects would have no base.
        assert!(
            parse("example.org", None)
                .unwrap_err()
                .contains("PASSGATE_PUBLIC_URL")
        );
    }

    #[test]
    fn form_action_names_the_domain_and_http_only_without_secure_cookies() {
        let sso = SsoConfig {
            cookie_domain: "example.org".into(),
        };
        assert_eq!(
            sso.form_action_sources(true),
            "https://example.org:* https://*.example.org:*"
        );
        assert_eq!(
            sso.form_action_sources(false),
            "https://example.org:* https://*.example.org:* http://example.org:* http://*.example.org:*"
        );
    }

    #[test]
    fn covers_cuts_at_a_label_boundary() {
        let config = SsoConfig {
            cookie_domain: "example.org".into(),
        };
        assert!(config.covers("example.org"));
        assert!(config.covers("wiki.example.org"));
        assert!(config.covers("a.b.example.org"));
        assert!(!config.covers("evilexample.org"));
        assert!(!config.covers("example.org.evil.com"));
        assert!(!config.covers(".example.org"));
        assert!(!config.covers("org"));
    }
}
