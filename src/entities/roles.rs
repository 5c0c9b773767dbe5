//! `roles`: a named group of users (SPEC §14), as Crafty 4.10.3 has it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "roles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub role_id: i32,
    /// Lower-cased and trimmed, 1–64 characters without `,` `[` `]` (unique).
    #[sea_orm(unique)]
    pub role_name: String,
    pub created: TimeDateTime,
    pub last_update: TimeDateTime,
    /// The `ROLES_CONFIG` holder who manages the role (set null when they are deleted).
    pub manager: Option<i32>,
    /// Every member must have a second factor.
    pub mfa_required: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::Manager",
        to = "super::users::Column::UserId",
        on_delete = "SetNull"
    )]
    Manager,
    #[sea_orm(has_many = "super::user_roles::Entity")]
    Members,
}

impl Related<super::user_roles::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Members.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
