//! `oidc_grants`: one sign-in of a user to an application through OpenID Connect — its
//! authorization code (hashed, single use) and what the tokens issued under it may say.
//! Deleting a grant revokes every token issued from it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oidc_grants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub grant_id: i32,
    pub user_id: i32,
    pub app_id: i32,
    /// The granted scopes, space-separated.
    pub scope: String,
    /// The client's `nonce`, put in every ID token of this grant.
    #[sea_orm(column_type = "Text")]
    pub nonce: Option<String>,
    /// The PKCE `S256` challenge the code was bound to.
    pub code_challenge: Option<String>,
    /// The redirect URI the code was sent to (the token request must name the same).
    #[sea_orm(column_type = "Text")]
    pub redirect_uri: String,
    /// Hex SHA-256 of the authorization code (unique).
    #[sea_orm(unique)]
    pub code_hash: String,
    pub code_expires: TimeDateTime,
    /// When the code was redeemed; a second redemption revokes the grant.
    pub code_used: Option<TimeDateTime>,
    /// When the user signed in (the ID token's `auth_time`).
    pub auth_time: TimeDateTime,
    /// How they signed in: `amr` values, space-separated.
    pub amr: String,
    /// The browser sign-in this grant was made in (the ID token's `sid`).
    pub sid: String,
    /// The user's security stamp when the grant was made: a rotation ends it.
    pub stamp: String,
    pub created: TimeDateTime,
    /// The grant (and every refresh token of it) ends at this time.
    pub expires: TimeDateTime,
    /// When a token of this grant was last issued or used.
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
    #[sea_orm(has_many = "super::oidc_tokens::Entity")]
    Tokens,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Users.def()
    }
}

impl Related<super::oidc_tokens::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tokens.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
