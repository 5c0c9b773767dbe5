//! All applications, indexed by host for the forward-auth decision (SPEC §15.6): an exact
//! host wins over a wildcard that covers it; a host registered with a port matches only that
//! port, one registered without matches any.

use std::collections::HashMap;

use crate::accounts::apps::App;

/// The applications of one moment (a snapshot; the cache in `cache.rs` replaces it whole).
#[derive(Debug, Default)]
pub struct AppTable {
    apps: Vec<App>,
    /// Exact host → (port, index into `apps`).
    exact: HashMap<String, Vec<(Option<u16>, usize)>>,
    /// Name below the wildcard (`tools.example.org` for `*.tools.example.org`) → (port, index).
    wildcard: HashMap<String, Vec<(Option<u16>, usize)>>,
}

impl AppTable {
    pub fn new(apps: Vec<App>) -> Self {
        let mut table = AppTable {
            apps,
            ..AppTable::default()
        };
        for (index, app) in table.apps.iter().enumerate() {
            for host in &app.hosts {
                let map = if host.wildcard {
                    &mut table.wildcard
                } else {
                    &mut table.exact
                };
                map.entry(host.name.clone())
                    .or_default()
                    .push((host.port, index));
            }
        }
        table
    }

    /// Every application, in the order loaded (by name).
    pub fn all(&self) -> &[App] {
        &self.apps
    }

    /// The application of `host` (lower-case, no port) on `port` (the request's, explicit or
    /// its scheme's default): an exact host before a wildcard, a registered port before none.
    pub fn find(&self, host: &str, port: Option<u16>) -> Option<&App> {
        let pick = |entries: Option<&Vec<(Option<u16>, usize)>>| {
            let entries = entries?;
            entries
                .iter()
                .find(|(p, _)| p.is_some() && *p == port)
                .or_else(|| entries.iter().find(|(p, _)| p.is_none()))
                .map(|(_, index)| &self.apps[*index])
        };
        pick(self.exact.get(host)).or_else(|| {
            let (_, parent) = host.split_once('.')?;
            pick(self.wildcard.get(parent))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::apps::{HostPattern, Policy};

    fn app(id: i32, hosts: &[&str]) -> App {
        App {
            app_id: id,
            name: format!("app{id}"),
            description: String::new(),
            policy: Policy::OneFactor,
            hosts: hosts
                .iter()
                .map(|h| HostPattern::parse(h).unwrap())
                .collect(),
            public_paths: Vec::new(),
            allowed_roles: Vec::new(),
            oidc: None,
        }
    }

    #[test]
    fn exact_hosts_win_over_wildcards_and_ports_over_none() {
        let table = AppTable::new(vec![
            app(1, &["*.tools.example.org"]),
            app(2, &["wiki.tools.example.org"]),
            app(3, &["files.example.org:8443"]),
            app(4, &["files.example.org"]),
            app(5, &["*.example.org:81"]),
        ]);
        let found = |host: &str, port: Option<u16>| table.find(host, port).map(|a| a.app_id);
        assert_eq!(found("wiki.tools.example.org", Some(443)), Some(2));
        assert_eq!(found("chat.tools.example.org", Some(443)), Some(1));
        assert_eq!(found("chat.tools.example.org", None), Some(1));
        // One label only.
        assert_eq!(found("a.b.tools.example.org", Some(443)), None);
        assert_eq!(found("tools.example.org", Some(443)), None);
        assert_eq!(found("files.example.org", Some(8443)), Some(3));
        assert_eq!(found("files.example.org", Some(443)), Some(4));
        assert_eq!(found("x.example.org", Some(81)), Some(5));
        assert_eq!(found("x.example.org", Some(80)), None);
        assert_eq!(found("evil.org", Some(443)), None);
        assert_eq!(found("evilwiki.tools.example.org", Some(443)), Some(1));
        assert_eq!(found("", None), None);
    }
}
