//! `oidc_keys`: the provider's signing keys (SPEC §16). The private half is sealed with the
//! server's AEAD key; the public half is kept as its JWK, so the key set is served without
//! opening anything.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oidc_keys")]
pub struct Model {
    /// The key id every signed token names in its header.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    /// `RS256` or `ES256`.
    pub alg: String,
    /// The algorithm this key signs for now (unique); `None` once rotated out.
    #[sea_orm(unique)]
    pub active_for: Option<String>,
    /// PKCS#8 DER, sealed (`v1:` base64 of nonce ‖ ciphertext ‖ tag).
    #[sea_orm(column_type = "Text")]
    pub private_key: String,
    /// The public key as a JWK (JSON).
    #[sea_orm(column_type = "Text")]
    pub public_jwk: String,
    pub created: TimeDateTime,
    /// When it stopped signing; its public key stays in the key set for a day after.
    pub retired: Option<TimeDateTime>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
