//! `one_time_results`: something shown once (a password, a link, codes, a secret), sealed,
//! bound to the session that made it and its user, deleted when shown (see `auth::one_time`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "one_time_results")]
pub struct Model {
    /// The session's one-time key (random, kept in the session's data).
    #[sea_orm(primary_key, auto_increment = false)]
    pub owner: String,
    /// The result's random id (the one in `/panel/result/{id}`), or a form's slot name.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: i32,
    /// The payload, sealed with the server's AEAD key (`accounts::mfa::cipher`), bound to the
    /// owner, the id and the user.
    #[sea_orm(column_type = "Text")]
    pub sealed: String,
    pub created: TimeDateTime,
    pub expires: TimeDateTime,
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
