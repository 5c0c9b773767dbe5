//! `sessions`: the tower-sessions store, with the owning user so all of a user's sessions can go.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    /// The SHA-256 (hex) of the session id: the id itself, a credential, is never stored
    /// (`accounts::sessions::stored_id`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// `None` until someone logs in with this session.
    pub user_id: Option<i32>,
    /// The session record as JSON.
    #[sea_orm(column_type = "Text")]
    pub data: String,
    /// UTC.
    pub expiry_date: TimeDateTime,
    /// When the session was signed in (UTC; `None` for sessions stored before it was kept).
    pub signed_in_at: Option<TimeDateTime>,
    /// When the session was last seen (UTC), moved at most every few minutes.
    pub last_seen: Option<TimeDateTime>,
    /// The address it was last seen from.
    pub address: Option<String>,
    /// A short summary of the browser ("Firefox · Linux"), never the raw `User-Agent`.
    pub browser: Option<String>,
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
