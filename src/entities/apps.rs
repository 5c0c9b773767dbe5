//! `apps`: the intranet's applications that passgate signs users in to (SPEC §15.1).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "apps")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub app_id: i32,
    /// Unique whatever its case, 1–64 characters.
    pub name: String,
    pub description: String,
    /// `one_factor`, `two_factor` or `deny`.
    pub policy: String,
    pub created: TimeDateTime,
    pub last_update: TimeDateTime,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
