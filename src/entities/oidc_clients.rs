//! `oidc_clients`: the OpenID Connect settings of an application (SPEC §15.1, §16). A
//! confidential client's secret is kept only as its SHA-256 hash; a public client has none.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oidc_clients")]
pub struct Model {
    /// The application these settings belong to.
    #[sea_orm(primary_key, auto_increment = false)]
    pub app_id: i32,
    /// Generated; what the client sends as `client_id` (unique).
    #[sea_orm(unique)]
    pub client_id: String,
    /// Hex SHA-256 of the client secret; `None` for a public client.
    pub secret_hash: Option<String>,
    /// The registered redirect URIs, a JSON array of strings.
    #[sea_orm(column_type = "Text")]
    pub redirect_uris: String,
    /// The registered post-logout redirect URIs, a JSON array of strings.
    #[sea_orm(column_type = "Text")]
    pub post_logout_redirect_uris: String,
    /// `RS256` (default) or `ES256`.
    pub id_token_alg: String,
    pub created: TimeDateTime,
    /// When the current secret was made (`None` for a public client).
    pub secret_created: Option<TimeDateTime>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
