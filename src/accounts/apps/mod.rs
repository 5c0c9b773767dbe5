//! Applications (SPEC §15.1): the intranet's other apps that passgate signs users in to — a
//! name, the roles they are open to, a policy, and for forward authentication their hosts
//! and public paths. Managed by superusers (`manage.rs`), stored in `apps` and its three
//! child tables (`store.rs`), read by the forward-auth decision through a short-lived cache
//! (`cache.rs`).

mod cache;
mod host;
mod manage;
mod public_path;
mod store;
mod table;

pub use cache::{AppsCache, MAX_AGE};
pub use host::HostPattern;
pub use manage::{
    AppChanges, AppFields, MAX_DESCRIPTION, MAX_NAME, create, delete, get, get_by_name, list,
    update,
};
pub use public_path::{PublicPath, is_public};
pub use store::{role_choices, role_id_by_name};
pub use table::AppTable;

use crate::accounts::sso::Identity;

/// What a session must have passed to open an application.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Policy {
    /// A password sign-in is enough.
    OneFactor,
    /// A session that passed a second factor (TOTP, recovery code or passkey); a user
    /// without one is sent to set one up first.
    TwoFactor,
    /// Nobody.
    Deny,
}

impl Policy {
    pub const ALL: [Policy; 3] = [Policy::OneFactor, Policy::TwoFactor, Policy::Deny];

    /// The name in the API, the CLI and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::OneFactor => "one_factor",
            Policy::TwoFactor => "two_factor",
            Policy::Deny => "deny",
        }
    }

    pub fn parse(name: &str) -> Option<Policy> {
        Policy::ALL.into_iter().find(|p| p.as_str() == name)
    }
}

/// An application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct App {
    pub app_id: i32,
    /// Unique, 1–64 characters.
    pub name: String,
    pub description: String,
    pub policy: Policy,
    pub hosts: Vec<HostPattern>,
    pub public_paths: Vec<PublicPath>,
    /// Role ids; empty: every enabled user.
    pub allowed_roles: Vec<i32>,
}

impl App {
    /// Whether the signed-in `identity` is in one of the app's roles (or the app is open to
    /// every enabled user).
    pub fn admits(&self, identity: &Identity) -> bool {
        self.allowed_roles.is_empty()
            || identity
                .roles
                .iter()
                .any(|(role_id, _)| self.allowed_roles.contains(role_id))
    }
}
