//! Applications (SPEC §15.1): the intranet's other apps that passgate signs users in to — a
//! name, the roles they are open to, a policy, and for forward authentication their hosts
//! and public paths. Managed by superusers (`manage.rs`; the fields checked in `fields.rs`,
//! an edit that ends OpenID Connect sign-ins reviewed in `review.rs`), stored in `apps` and its three
//! child tables (`store.rs`), read by the forward-auth decision through a short-lived cache
//! (`cache.rs`).

mod cache;
mod fields;
mod host;
mod manage;
mod public_path;
pub mod review;
mod store;
mod table;

pub use cache::{AppsCache, MAX_AGE};
pub use fields::{AppChanges, AppFields, MAX_DESCRIPTION, MAX_NAME};
pub use host::HostPattern;
pub use manage::{Saved, create, delete, get, get_by_name, list, new_client_secret, update};
pub use public_path::{PublicPath, is_public};
pub use review::{Ends, Review, Unconfirmed};
pub use store::{role_choices, role_id_by_name};

/// One application as a sign-in reads it: from the database, never from the cache (a `deny`
/// or a deletion holds at once, SPEC §16). No caller check: it decides for the user signing
/// in, and shows nothing.
pub async fn for_sign_in(
    conn: &impl sea_orm::ConnectionTrait,
    app_id: i32,
) -> crate::accounts::Result<Option<App>> {
    store::load(conn, app_id).await
}
pub use table::AppTable;

use crate::accounts::oidc::clients::ClientInfo;
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
    /// Its OpenID Connect client, if it signs users in that way (SPEC §16).
    pub oidc: Option<ClientInfo>,
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
