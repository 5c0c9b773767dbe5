//! `viewer_activity_days`: per user, the chart's events (sign-ins, failed sign-ins, resets per
//! UTC day) about the users a `USER_CONFIG` holder sees — themselves and the users they
//! manage. Kept by triggers on `audit_log` inserts and on changes of `users.manager` and user
//! deletions (migration `m20261206_000008_overview_speed`); read by a manager's overview (SPEC
//! §18), never written by the application.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "viewer_activity_days")]
pub struct Model {
    /// The user whose chart the row is part of (deleted with them).
    #[sea_orm(primary_key, auto_increment = false)]
    pub viewer_id: i32,
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
