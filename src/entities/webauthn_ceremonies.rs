//! `webauthn_ceremonies`: a registration or sign-in ceremony in progress (SPEC §13), held in
//! the database so that any instance can finish it; deleted when used, expiring after five
//! minutes.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webauthn_ceremonies")]
pub struct Model {
    /// The random challenge id the client sends back (`challenge_id`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The user a registration or second-factor ceremony is for; `None` for a passwordless
    /// sign-in that has not named a user with passkeys.
    pub user_id: Option<i32>,
    /// `register`, `login` or `second_factor`.
    pub purpose: String,
    /// The serialised `webauthn-rs` state (a challenge; no secret of the user).
    #[sea_orm(column_type = "Text")]
    pub state: String,
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
