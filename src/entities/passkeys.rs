//! `passkeys`: a user's WebAuthn credential (SPEC §13): its id as the browser sends it
//! (base64url) and `webauthn-rs`'s `Passkey` as JSON (public key and signature counter).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "passkeys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: i32,
    /// base64url (no padding) of the credential id; unique.
    pub credential_id: String,
    pub name: String,
    /// The serialised `webauthn_rs::prelude::Passkey`.
    #[sea_orm(column_type = "Text")]
    pub credential: String,
    pub created: TimeDateTime,
    pub last_used: Option<TimeDateTime>,
    /// Registered as a discoverable credential with the user's random handle (signs in with
    /// nothing typed); `false` for passkeys from before 2026-12-06 and for authenticators
    /// that could not keep one, which need the username typed first.
    pub discoverable: bool,
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
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Users.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
