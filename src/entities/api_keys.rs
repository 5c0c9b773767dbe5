//! `api_keys`: a user's API key, stored only as the hex SHA-256 of its secret.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub key_id: i32,
    pub user_id: i32,
    pub name: String,
    /// Hex SHA-256 of the secret (unique).
    #[sea_orm(unique)]
    pub token_hash: String,
    /// Comma-separated permission names.
    #[sea_orm(column_type = "Text")]
    pub permissions: String,
    pub full_access: bool,
    pub created: TimeDateTime,
    pub last_used: Option<TimeDateTime>,
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
