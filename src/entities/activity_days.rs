//! `activity_days`: sign-ins (succeeded, failed) and password resets per UTC day, kept by a
//! trigger on `audit_log` inserts (migration `m20261206_000005_overview`); read by the
//! administrator's overview (SPEC §18), never written by the application.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activity_days")]
pub struct Model {
    /// The UTC day.
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: TimeDate,
    /// `sign_in`, `sign_in_failed` or `reset` (`accounts::overview::Series`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub series: String,
    pub events: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
