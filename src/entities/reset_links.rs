//! `reset_links`: single-use links to set one's own password; only the token's hash is kept.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reset_links")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub link_id: i32,
    pub user_id: i32,
    /// Hex SHA-256 of the token in the link (unique).
    #[sea_orm(unique)]
    pub token_hash: String,
    /// `reset` (an existing account) or `setup` (a new one, no usable password yet).
    pub purpose: String,
    /// `live`, or why the link no longer works: `used`, `revoked`, `superseded` (a newer
    /// link), `password_changed` (the password changed another way).
    pub state: String,
    pub created: TimeDateTime,
    /// Who made the link (a username, or `cli`).
    pub created_by: String,
    pub expires: TimeDateTime,
    /// When it stopped being live (used, revoked, voided).
    pub ended: Option<TimeDateTime>,
    /// Taken into effect when the link is used.
    pub revoke_api_keys: bool,
    pub reset_mfa: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::UserId",
        to = "super::users::Column::UserId",
        on_delete = "Cascade"
    )]
    Users,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Users.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
