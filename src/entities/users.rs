//! `users`: one account. Timestamps are UTC, stored without time zone.

use sea_orm::entity::prelude::*;

/// Serializable only to carry a session's user within one request (never stored or sent).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub user_id: i32,
    /// Lowercase, 3–20 of `[a-z0-9_]`.
    #[sea_orm(unique)]
    pub username: String,
    /// argon2id PHC string.
    pub password: String,
    pub email: Option<String>,
    pub enabled: bool,
    pub superuser: bool,
    /// The user who manages this one (set null when that user is deleted).
    pub manager: Option<i32>,
    pub lang: String,
    pub created: TimeDateTime,
    pub last_update: TimeDateTime,
    pub last_login: Option<TimeDateTime>,
    pub last_ip: String,
    /// Random, rotated on every credential change; sessions and login tokens carry it.
    pub security_stamp: String,
    /// Set by an admin reset: the user must change the password at the next login.
    pub require_password_change: bool,
    /// When the current (temporary) password stops working; `None` = never.
    pub password_expires: Option<TimeDateTime>,
    /// This user must have a second factor (besides `PASSGATE_REQUIRE_MFA`).
    pub require_mfa: bool,
    /// Password sign-in refused while the user has a passkey (Crafty's field, SPEC §13).
    pub disable_password_auth: bool,
    /// The WebAuthn user handle (SPEC §13): 16 random bytes as 32 lowercase hex digits,
    /// unique, stable for the life of the account and never derived from the name. `None`
    /// only for a row written outside passgate; it gets one before its first passkey.
    #[serde(default)]
    pub passkey_handle: Option<String>,
    /// Crafty's preferences, kept only to be returned to Crafty clients (SPEC §12).
    pub theme: String,
    pub hints: bool,
    pub server_order: String,
    pub dashboard_columns: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// This user's manager (`users.manager` -> `users.user_id`).
    #[sea_orm(
        belongs_to = "Entity",
        from = "Column::Manager",
        to = "Column::UserId",
        on_delete = "SetNull"
    )]
    Manager,
    #[sea_orm(has_many = "super::user_permissions::Entity")]
    UserPermissions,
    #[sea_orm(has_many = "super::api_keys::Entity")]
    ApiKeys,
    #[sea_orm(has_many = "super::sessions::Entity")]
    Sessions,
}

impl Related<super::user_permissions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::UserPermissions.def()
    }
}

impl Related<super::api_keys::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ApiKeys.def()
    }
}

impl Related<super::sessions::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Sessions.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
