//! sea-orm entities, data only: one module per table of the `migration` crate's schema.

pub mod api_keys;
pub mod audit_log;
pub mod login_throttle;
pub mod passkeys;
pub mod recovery_codes;
pub mod reset_links;
pub mod sessions;
pub mod settings;
pub mod totp_devices;
pub mod totp_enrolments;
pub mod user_permissions;
pub mod users;
pub mod webauthn_ceremonies;

/// The entity types under their table names, e.g. `Users::find()`.
pub mod prelude {
    pub use super::api_keys::Entity as ApiKeys;
    pub use super::audit_log::Entity as AuditLog;
    pub use super::login_throttle::Entity as LoginThrottle;
    pub use super::passkeys::Entity as Passkeys;
    pub use super::recovery_codes::Entity as RecoveryCodes;
    pub use super::reset_links::Entity as ResetLinks;
    pub use super::sessions::Entity as Sessions;
    pub use super::settings::Entity as Settings;
    pub use super::totp_devices::Entity as TotpDevices;
    pub use super::totp_enrolments::Entity as TotpEnrolments;
    pub use super::user_permissions::Entity as UserPermissions;
    pub use super::users::Entity as Users;
    pub use super::webauthn_ceremonies::Entity as WebauthnCeremonies;
}
