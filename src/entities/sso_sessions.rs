//! `sso_sessions`: single sign-on sessions (SPEC §15.3), a kind of their own beside the
//! panel's `sessions`. The cookie holds a random token; only its SHA-256 is stored.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sso_sessions")]
pub struct Model {
    /// Hex SHA-256 of the cookie's token.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: i32,
    /// The user's `security_stamp` at sign-in: a rotation ends the session.
    pub stamp: String,
    /// UTC; with `PASSGATE_SESSION_MAX_HOURS`, the session's absolute end.
    pub signed_in_at: TimeDateTime,
    /// UTC, moved at most every few minutes while the session is used.
    pub last_seen: TimeDateTime,
    /// The idle end (UTC): `last_seen` + the panel's idle timeout.
    pub expires: TimeDateTime,
    /// The sign-in passed a second factor (TOTP, recovery code, passkey).
    pub second_factor: bool,
    pub address: Option<String>,
    /// "Firefox · Linux", never the raw `User-Agent`.
    pub browser: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
