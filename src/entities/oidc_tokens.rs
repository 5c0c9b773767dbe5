//! `oidc_tokens`: opaque access and refresh tokens, stored only as hashes, each belonging to
//! a grant (its family: a reused refresh token revokes them all).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oidc_tokens")]
pub struct Model {
    /// Hex SHA-256 of the token.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub grant_id: i32,
    /// `access` or `refresh`.
    pub kind: String,
    /// The scopes this token carries (space-separated): an access token's may be narrower
    /// than its grant's; a refresh token's are the grant's.
    pub scope: String,
    pub created: TimeDateTime,
    pub expires: TimeDateTime,
    /// When a refresh token was exchanged for its successor (a second use is a reuse).
    pub used: Option<TimeDateTime>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::oidc_grants::Entity",
        from = "Column::GrantId",
        to = "super::oidc_grants::Column::GrantId",
        on_delete = "Cascade"
    )]
    Grants,
}

impl Related<super::oidc_grants::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Grants.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
