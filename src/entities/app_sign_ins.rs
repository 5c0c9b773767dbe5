//! `app_sign_ins`: each user's latest sign-in to each application (an SSO session or an OIDC
//! grant issued for it), kept by a trigger on `audit_log` inserts that name the application
//! (migration `m20261206_000005_overview`); deleted with the app or the user.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "app_sign_ins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub app_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i32,
    /// UTC.
    pub last_sign_in: TimeDateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
