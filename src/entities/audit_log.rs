//! `audit_log`: who did what to whom; no foreign keys, so entries outlive the users they name.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub audit_id: i32,
    /// UTC.
    pub created: TimeDateTime,
    pub actor_id: Option<i32>,
    pub actor_name: Option<String>,
    pub target_id: Option<i32>,
    pub target_name: Option<String>,
    pub action: String,
    /// Free text (never a password, hash, token or key).
    #[sea_orm(column_type = "Text")]
    pub detail: String,
    pub source_ip: String,
    /// The application the entry is about (an SSO session or OIDC grant issued for it).
    pub app_id: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
