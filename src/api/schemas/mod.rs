//! The API's JSON shapes as the OpenAPI document describes them: the user row and the
//! permission entry the handlers use, and the other answers' `data`, which the handlers
//! build with `json!` (`tests/it/api_openapi.rs` checks real answers against these).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::accounts::clock;
use crate::accounts::roles::RoleRef;
use crate::accounts::users::RowStatus;
use crate::entities::{roles, users as user_entity};

mod answers;

pub use answers::*;

/// A user as a list row shows them: the user and the ids of their roles.
#[derive(Serialize, ToSchema)]
pub struct UserRow {
    #[serde(flatten)]
    pub user: UserFields,
    /// The ids of the user's roles (SPEC §14), by role name.
    pub roles: Vec<i32>,
}

impl UserRow {
    /// The row of `u`; `status` is what comes from the user's devices and links, `roles`
    /// the user's roles.
    pub fn new(u: &user_entity::Model, status: RowStatus, roles: &[RoleRef]) -> Self {
        UserRow {
            user: UserFields::new(u, status),
            roles: roles.iter().map(|r| r.role_id).collect(),
        }
    }
}

/// A user as the API shows them, without their roles: never the hash or the stamp.
#[derive(Serialize, ToSchema)]
pub struct UserFields {
    pub user_id: i32,
    pub username: String,
    #[schema(required = true)]
    pub email: Option<String>,
    pub enabled: bool,
    pub superuser: bool,
    /// The id of the user who manages this one (a `USER_CONFIG` holder).
    #[schema(required = true)]
    pub manager: Option<i32>,
    #[schema(example = "en")]
    pub lang: String,
    #[schema(format = DateTime)]
    pub created: String,
    #[schema(format = DateTime, required = true)]
    pub last_login: Option<String>,
    pub require_password_change: bool,
    /// When the temporary password expires; `null` = never.
    #[schema(format = DateTime, required = true)]
    pub password_expires: Option<String>,
    /// The user must have a second factor (besides the server's `PASSGATE_REQUIRE_MFA`).
    pub require_mfa: bool,
    /// The user has at least one second factor (a TOTP device or a passkey).
    pub mfa_enabled: bool,
    /// When the user's live reset or set-up link expires; `null` = no live link (SPEC §10).
    #[schema(format = DateTime, required = true)]
    pub reset_link_expires: Option<String>,
    /// Password sign-in is refused while the user has a passkey (Crafty's field).
    pub disable_password_auth: bool,
    /// Crafty's preference, stored and returned as given (passgate does not use it).
    #[schema(example = "default", max_length = 255)]
    pub theme: String,
    /// Crafty's preference, stored and returned as given.
    pub hints: bool,
    /// Crafty's preference, stored and returned as given.
    #[schema(max_length = 255)]
    pub server_order: String,
    /// Crafty's preference, stored and returned as given.
    #[schema(
        example = "server,actions,cpuUsage,memUsage,size,players,status",
        max_length = 255
    )]
    pub dashboard_columns: String,
}

impl UserFields {
    /// The fields of `u`; `status` is what comes from the user's devices and links.
    pub fn new(u: &user_entity::Model, status: RowStatus) -> Self {
        UserFields {
            user_id: u.user_id,
            username: u.username.clone(),
            email: u.email.clone(),
            enabled: u.enabled,
            superuser: u.superuser,
            manager: u.manager,
            lang: u.lang.clone(),
            created: clock::rfc3339(u.created),
            last_login: u.last_login.map(clock::rfc3339),
            require_password_change: u.require_password_change,
            password_expires: u.password_expires.map(clock::rfc3339),
            require_mfa: u.require_mfa,
            mfa_enabled: status.has_factor,
            reset_link_expires: status.link_expires.map(clock::rfc3339),
            disable_password_auth: u.disable_password_auth,
            theme: u.theme.clone(),
            hints: u.hints,
            server_order: u.server_order.clone(),
            dashboard_columns: u.dashboard_columns.clone(),
        }
    }
}

/// A role as Crafty's API shows it (SPEC §14).
#[derive(Serialize, ToSchema)]
pub struct RoleRow {
    pub role_id: i32,
    /// Lower-cased and trimmed; 1 to 64 characters, none of `,` `[` `]`.
    #[schema(example = "finance")]
    pub role_name: String,
    #[schema(format = DateTime)]
    pub created: String,
    #[schema(format = DateTime)]
    pub last_update: String,
    /// The id of the user who manages the role (a `ROLES_CONFIG` holder); `null` = none.
    #[schema(required = true)]
    pub manager: Option<i32>,
    /// Every member must have a second factor (held at enrolment until they have one).
    pub mfa_required: bool,
}

impl RoleRow {
    pub fn new(role: &roles::Model) -> Self {
        RoleRow {
            role_id: role.role_id,
            role_name: role.role_name.clone(),
            created: clock::rfc3339(role.created),
            last_update: clock::rfc3339(role.last_update),
            manager: role.manager,
            mfa_required: role.mfa_required,
        }
    }
}

/// Crafty's permission shape: `{"name":"USER_CONFIG","quantity":-1,"enabled":true}`.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PermissionEntry {
    /// A permission name; passgate knows `USER_CONFIG` and `ROLES_CONFIG`.
    #[schema(example = "USER_CONFIG")]
    pub name: String,
    /// How many users (`USER_CONFIG`) or roles (`ROLES_CONFIG`) the holder may manage at
    /// once; -1 = no limit. Ignored for API keys.
    #[serde(default = "no_cap")]
    #[schema(default = -1, minimum = -1)]
    pub quantity: i32,
    /// An entry with `false` grants nothing.
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub enabled: bool,
}

fn no_cap() -> i32 {
    -1
}

fn yes() -> bool {
    true
}
