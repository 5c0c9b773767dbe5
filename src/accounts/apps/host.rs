//! `HostPattern`: an application's host as registered (SPEC §15.1, §15.6) — an exact name
//! (`wiki.example.org`) or one wildcard label (`*.tools.example.org`), lower-cased, with a
//! port only if one is given. Parsed once; matching is the apps table's (`table.rs`).

use std::fmt;

use crate::config::is_host_name;

/// A registered host.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostPattern {
    /// `*.` + `name`: any one label below `name`.
    pub wildcard: bool,
    /// The name (for a wildcard, the part after `*.`), lower-case.
    pub name: String,
    /// Matches only requests on this port; `None` matches any port.
    pub port: Option<u16>,
}

impl HostPattern {
    /// Parses a host as an administrator types it. The message names what is wrong.
    pub fn parse(raw: &str) -> Result<HostPattern, String> {
        let text = raw.trim().to_ascii_lowercase();
        let (host, port) = match text.rsplit_once(':') {
            Some((host, port)) => {
                let port =
                    port.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                        format!("'{raw}': the port must be a number from 1 to 65535")
                    })?;
                (host, Some(port))
            }
            None => (text.as_str(), None),
        };
        let (wildcard, name) = match host.strip_prefix("*.") {
            Some(name) => (true, name),
            None => (false, host),
        };
        if !is_host_name(name) {
            return Err(format!(
                "'{raw}': not a host name such as wiki.example.org or *.tools.example.org"
            ));
        }
        if wildcard {
            let is_suffix = name.split('.').count() < 2
                || psl::suffix(name.as_bytes()).is_none_or(|s| s.as_bytes() == name.as_bytes());
            if is_suffix {
                return Err(format!(
                    "'{raw}': a wildcard must sit below a domain of your own, not a public suffix"
                ));
            }
        }
        Ok(HostPattern {
            wildcard,
            name: name.to_string(),
            port,
        })
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.wildcard {
            f.write_str("*.")?;
        }
        f.write_str(&self.name)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_read_lower_cased_with_an_optional_port() {
        let cases = [
            (
                "Wiki.Example.ORG",
                false,
                "wiki.example.org",
                None,
                "wiki.example.org",
            ),
            (
                " *.tools.example.org ",
                true,
                "tools.example.org",
                None,
                "*.tools.example.org",
            ),
            (
                "files.example.org:8443",
                false,
                "files.example.org",
                Some(8443),
                "files.example.org:8443",
            ),
            (
                "*.example.org:81",
                true,
                "example.org",
                Some(81),
                "*.example.org:81",
            ),
            ("intranet", false, "intranet", None, "intranet"),
        ];
        for (raw, wildcard, name, port, shown) in cases {
            let host = HostPattern::parse(raw).unwrap();
            assert_eq!(
                (host.wildcard, host.name.as_str(), host.port),
                (wildcard, name, port)
            );
            assert_eq!(host.to_string(), shown);
        }
    }

    #[test]
    fn malformed_hosts_say_why() {
        for raw in [
            "",
            "*",
            "*.",
            "a.*.example.org",
            "**.example.org",
            "wiki.example.org.",
            "wiki..example.org",
            "-wiki.example.org",
            "wiki_1.example.org",
            "wiki.example.org/",
            "https://wiki.example.org",
            "user@wiki.example.org",
            "wiki.example.org:0",
            "wiki.example.org:65536",
            "wiki.example.org:",
            "[::1]",
            "wíki.example.org",
            "*.org",
            "*.co.uk",
            "*.com",
        ] {
            assert!(HostPattern::parse(raw).is_err(), "{raw:?}");
        }
    }
}
