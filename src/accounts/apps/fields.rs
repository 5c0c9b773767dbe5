//! What an administrator gives of an application (the API's body, the panel's form, the
//! CLI's flags) and how each field is checked; [`plan`] makes of a change the application it
//! would be, without writing anything.

use crate::accounts::apps::review::Review;
use crate::accounts::apps::{App, HostPattern, Policy, PublicPath};
use crate::accounts::error::{Error, Result};
use crate::accounts::oidc::clients::{ClientChanges, ClientInfo};

/// The longest name, in characters.
pub const MAX_NAME: usize = 64;
/// The longest description, in characters.
pub const MAX_DESCRIPTION: usize = 500;

/// An application as the API, the panel and the CLI give it (checked here).
#[derive(Clone, Debug)]
pub struct AppFields {
    pub name: String,
    pub description: String,
    pub hosts: Vec<String>,
    pub public_paths: Vec<String>,
    pub allowed_roles: Vec<i32>,
    pub policy: Policy,
    /// OpenID Connect client settings (SPEC §16); `None`: not an OIDC client.
    pub oidc: Option<ClientChanges>,
}

/// A change: only the fields given are changed (lists are replaced whole).
#[derive(Clone, Debug, Default)]
pub struct AppChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub hosts: Option<Vec<String>>,
    pub public_paths: Option<Vec<String>>,
    pub allowed_roles: Option<Vec<i32>>,
    pub policy: Option<Policy>,
    /// `Some(None)`: the application stops being an OpenID Connect client (its grants end);
    /// `Some(Some(changes))`: it becomes one, or its settings change.
    pub oidc: Option<Option<ClientChanges>>,
    /// How the panel's administrator agreed to the edit (`review.rs`); `None` from the API
    /// and the CLI, whose callers say exactly what they change.
    pub review: Option<Review>,
}

impl AppChanges {
    pub(super) fn names(&self) -> Vec<&'static str> {
        [
            ("name", self.name.is_some()),
            ("description", self.description.is_some()),
            ("hosts", self.hosts.is_some()),
            ("public_paths", self.public_paths.is_some()),
            ("allowed_roles", self.allowed_roles.is_some()),
            ("policy", self.policy.is_some()),
            ("oidc", self.oidc.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect()
    }
}

pub(super) fn name(raw: &str) -> Result<String> {
    let name = raw.trim();
    let length = name.chars().count();
    if length == 0 || length > MAX_NAME || name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            format!("name: 1 to {MAX_NAME} characters, no control characters"),
        ));
    }
    Ok(name.to_string())
}

pub(super) fn description(raw: &str) -> Result<String> {
    let text = raw.trim();
    if text.chars().count() > MAX_DESCRIPTION || text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Error::invalid(
            "description",
            format!("description: at most {MAX_DESCRIPTION} characters"),
        ));
    }
    Ok(text.to_string())
}

/// Each item parsed, duplicates dropped (first one kept), order kept.
pub(super) fn each<T: PartialEq>(
    field: &'static str,
    items: &[String],
    parse: impl Fn(&str) -> std::result::Result<T, String>,
) -> Result<Vec<T>> {
    let mut parsed: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        let value =
            parse(item).map_err(|reason| Error::invalid(field, format!("{field}: {reason}")))?;
        if !parsed.contains(&value) {
            parsed.push(value);
        }
    }
    Ok(parsed)
}

pub(super) fn roles(ids: &[i32]) -> Vec<i32> {
    let mut roles = ids.to_vec();
    roles.sort_unstable();
    roles.dedup();
    roles
}

/// The application `changes` make of `current`, checked (its new client, if any, has no
/// `client_id` yet). Writes nothing.
pub(super) fn plan(current: &App, changes: &AppChanges) -> Result<App> {
    let mut app = current.clone();
    if let Some(raw) = &changes.name {
        app.name = name(raw)?;
    }
    if let Some(raw) = &changes.description {
        app.description = description(raw)?;
    }
    if let Some(policy) = changes.policy {
        app.policy = policy;
    }
    if let Some(raw) = &changes.hosts {
        app.hosts = each("hosts", raw, HostPattern::parse)?;
    }
    if let Some(raw) = &changes.public_paths {
        app.public_paths = each("public_paths", raw, PublicPath::parse)?;
    }
    if let Some(ids) = &changes.allowed_roles {
        app.allowed_roles = roles(ids);
    }
    if let Some(oidc) = &changes.oidc {
        app.oidc = match (oidc, &current.oidc) {
            (None, _) => None,
            (Some(client), current) => Some(ClientInfo {
                client_id: current
                    .as_ref()
                    .map(|c| c.client_id.clone())
                    .unwrap_or_default(),
                settings: client
                    .clone()
                    .apply(current.as_ref().map(|c| &c.settings))?,
            }),
        };
    }
    Ok(app)
}
