//! The domain: users, passwords, credential changes and audit, with no HTTP in sight.

pub mod api_keys;
pub mod apps;
pub mod audit;
pub mod bootstrap;
pub mod bulk;
pub mod clock;
pub mod credentials;
pub mod delete;
pub mod edit;
pub mod error;
pub mod gauges;
pub mod grants;
pub mod lang;
pub mod locks;
pub mod login;
pub mod mfa;
pub mod oidc;
pub mod overview;
pub mod passkeys;
pub mod password;
pub mod permissions;
pub mod preferences;
pub mod reset_links;
pub mod roles;
pub mod secret;
pub mod sessions;
pub mod signing_key;
pub mod sso;
pub mod transaction;
pub mod users;

pub use error::{Error, PasskeyRefusal, Result};
