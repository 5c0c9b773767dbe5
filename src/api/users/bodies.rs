//! The request bodies of `/api/v2/users` in Crafty's shape, and their translation into the
//! domain's terms (grants, preferences).

use serde::Deserialize;
use utoipa::ToSchema;

use crate::accounts::grants::Grant;
use crate::accounts::preferences::Preferences;
use crate::accounts::secret::Secret;
use crate::api::json::nullable;
use crate::api::schemas::PermissionEntry;

/// The grants a list of entries stands for (entries with `enabled: false` grant nothing).
pub fn grants_of(entries: &[PermissionEntry]) -> Vec<Grant> {
    entries
        .iter()
        .filter(|e| e.enabled)
        .map(|e| Grant {
            name: e.name.clone(),
            quantity: e.quantity,
        })
        .collect()
}

pub(super) fn entries_of(grants: &[Grant]) -> Vec<PermissionEntry> {
    grants
        .iter()
        .map(|g| PermissionEntry {
            name: g.name.clone(),
            quantity: g.quantity,
            enabled: true,
        })
        .collect()
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// 3 to 20 characters of a-z, 0-9 and _ (stored in lowercase).
    #[schema(pattern = "^[A-Za-z0-9_]{3,20}$")]
    pub(super) username: String,
    /// Without it (and without `setup_link`) the server generates one and answers with it, once.
    #[schema(value_type = Option<String>, format = Password, min_length = 8, max_length = 128)]
    pub(super) password: Option<Secret>,
    /// Answer with a single-use set-up link instead of a password (not with `password`): the
    /// account has no usable password until the user sets one through the link (SPEC §10).
    #[schema(default = false)]
    pub(super) setup_link: Option<bool>,
    /// Hours until the set-up link stops working: 1 to 72 (only with `setup_link`).
    #[schema(default = 24, minimum = 1, maximum = 72)]
    pub(super) setup_link_expires_hours: Option<i64>,
    pub(super) email: Option<String>,
    #[schema(default = true)]
    pub(super) enabled: Option<bool>,
    /// Superusers only.
    #[schema(default = false)]
    pub(super) superuser: Option<bool>,
    /// Superusers only; a non-superuser creator becomes the manager.
    pub(super) manager: Option<i32>,
    /// `en` or `de` (also `en_EN`, `de_DE`).
    #[schema(default = "en", pattern = "^([Ee][Nn]|[Dd][Ee])([_-][A-Za-z]{2})?$")]
    pub(super) lang: Option<String>,
    /// Superusers only.
    pub(super) permissions: Option<Vec<PermissionEntry>>,
    /// Force a change at the first login.
    #[schema(default = false)]
    pub(super) require_password_change: Option<bool>,
    /// Hours until the password expires: -1 = never, or 1 to 8760; 0 is refused.
    #[schema(default = -1, minimum = -1, maximum = 8760)]
    pub(super) expires_hours: Option<i64>,
    /// The user must set up a second factor before anything else (SPEC §9).
    #[schema(default = false)]
    pub(super) require_mfa: Option<bool>,
    /// Crafty's preference, stored and returned as given.
    #[schema(default = "default", max_length = 255)]
    pub(super) theme: Option<String>,
    /// Crafty's preference, stored and returned as given.
    #[schema(default = true)]
    pub(super) hints: Option<bool>,
    /// Crafty's preference, stored and returned as given.
    #[schema(max_length = 255)]
    pub(super) server_order: Option<String>,
    /// Crafty's preference, stored and returned as given.
    #[schema(max_length = 255)]
    pub(super) dashboard_columns: Option<String>,
    /// The ids of the roles to give the new user: only roles the caller manages (a
    /// superuser: any). An id that names no role is refused (`INVALID_ROLES`), a role the
    /// caller may not give too (`INVALID_ROLES_CREATE`).
    pub(super) roles: Option<Vec<i64>>,
}

/// Crafty's preferences of a user body.
pub(super) fn crafty_preferences(
    theme: Option<String>,
    hints: Option<bool>,
    server_order: Option<String>,
    dashboard_columns: Option<String>,
) -> Preferences {
    Preferences {
        theme,
        hints,
        server_order,
        dashboard_columns,
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    /// 3 to 20 characters of a-z, 0-9 and _ (stored in lowercase).
    #[schema(pattern = "^[A-Za-z0-9_]{3,20}$")]
    pub(super) username: Option<String>,
    /// The new password; ends the user's sessions and login tokens and clears
    /// `require_password_change` and `password_expires`.
    #[schema(value_type = Option<String>, format = Password, min_length = 8, max_length = 128)]
    pub(super) password: Option<Secret>,
    /// Required to change one's own password, except during a forced change.
    #[schema(value_type = Option<String>, format = Password)]
    pub(super) current_password: Option<Secret>,
    /// `null` or `""` removes the address.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub(super) email: Option<Option<String>>,
    /// `en` or `de` (also `en_EN`, `de_DE`).
    #[schema(pattern = "^([Ee][Nn]|[Dd][Ee])([_-][A-Za-z]{2})?$")]
    pub(super) lang: Option<String>,
    /// Nobody disables themselves.
    pub(super) enabled: Option<bool>,
    /// Superusers only.
    pub(super) superuser: Option<bool>,
    /// Superusers only; `null` removes the manager.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub(super) manager: Option<Option<i32>>,
    /// Superusers only; replaces the user's permissions.
    pub(super) permissions: Option<Vec<PermissionEntry>>,
    /// The user must have a second factor (held at enrolment until they have one). Whoever
    /// may edit the user sets it; on oneself only a superuser clears it.
    pub(super) require_mfa: Option<bool>,
    /// Turns password sign-in off (`true`: only with a passkey registered; oneself only) or
    /// on again (oneself, or whoever may reset the user).
    pub(super) disable_password_auth: Option<bool>,
    /// Crafty's preference, stored and returned as given.
    #[schema(max_length = 255)]
    pub(super) theme: Option<String>,
    /// Crafty's preference, stored and returned as given.
    pub(super) hints: Option<bool>,
    /// Crafty's preference, stored and returned as given.
    #[schema(max_length = 255)]
    pub(super) server_order: Option<String>,
    /// Crafty's preference, stored and returned as given.
    #[schema(max_length = 255)]
    pub(super) dashboard_columns: Option<String>,
    /// The ids of the user's roles, replacing the set: whoever may edit the user may add
    /// roles they manage (a superuser: any) and take any away, never change their own
    /// (`INVALID_ROLES_MODIFY`, unless a superuser). An id that names no role is refused
    /// (`INVALID_ROLES`).
    pub(super) roles: Option<Vec<i64>>,
}
