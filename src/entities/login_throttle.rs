//! `login_throttle`: failed-login counters per key (client IP or username), shared by instances.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_throttle")]
pub struct Model {
    /// e.g. `ip:10.0.0.1` or `user:alice`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub throttle_key: String,
    pub failures: i32,
    /// UTC start of the counting window.
    pub window_start: TimeDateTime,
    /// UTC; no attempts are accepted before this.
    pub locked_until: Option<TimeDateTime>,
    /// The user whose username bucket this is, set when it locks (the key is a keyed hash, so
    /// the overview's *locked now* could not be read from it); `None` for an address bucket or
    /// a name that is no user.
    pub user_id: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
