//! `totp_devices`: a user's named TOTP authenticator, its secret encrypted (AEAD).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "totp_devices")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: i32,
    pub name: String,
    /// The encrypted secret (never the secret itself); see `accounts::mfa::cipher`.
    #[sea_orm(column_type = "Text")]
    pub secret: String,
    /// The last time step this device accepted; that step and every earlier one are refused.
    pub last_step: i64,
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
