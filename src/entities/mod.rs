//! sea-orm entities, data only: one module per table of the `migration` crate's schema.

pub mod api_keys;
pub mod app_hosts;
pub mod app_public_paths;
pub mod app_roles;
pub mod apps;
pub mod audit_log;
pub mod login_throttle;
pub mod oidc_clients;
pub mod oidc_grants;
pub mod oidc_keys;
pub mod oidc_subjects;
pub mod oidc_tokens;
pub mod passkeys;
pub mod recovery_codes;
pub mod reset_links;
pub mod sessions;
pub mod settings;
pub mod sso_sessions;
pub mod totp_devices;
pub mod totp_enrolments;
pub mod user_permissions;
pub mod users;
pub mod webauthn_ceremonies;
