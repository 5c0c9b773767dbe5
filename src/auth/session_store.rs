//! The tower-sessions store over sea-orm: sessions live in the application database, with the
//! owner's `user_id` beside them so that all sessions of one user can be deleted at once.

use async_trait::async_trait;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, Set,
    Statement,
};
use time::{OffsetDateTime, PrimitiveDateTime};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

use crate::auth::session::STAMP_KEY;
use crate::entities::sessions;

/// The session key holding the signed-in user's id (also copied into `sessions.user_id`).
pub const USER_ID_KEY: &str = "user_id";

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: DatabaseConnection,
}

impl DbSessionStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    fn row(record: &Record) -> session_store::Result<sessions::ActiveModel> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let user_id = record
            .data
            .get(USER_ID_KEY)
            .and_then(|v| v.as_i64())
            .and_then(|v| i32::try_from(v).ok());
        Ok(sessions::ActiveModel {
            id: Set(record.id.to_string()),
            user_id: Set(user_id),
            data: Set(data),
            expiry_date: Set(to_primitive(record.expiry_date)),
        })
    }
}

impl DbSessionStore {
    /// Writes a signed-in session only while its stamp is still the user's current one, in a
    /// single statement that also holds the user row (`FOR SHARE` on PostgreSQL; SQLite has
    /// one writer). A reset or password change that committed while this request ran has
    /// already deleted the user's sessions; this keeps a late save from bringing one back.
    /// Returns whether a row was written.
    async fn write_signed_in(
        &self,
        record: &Record,
        user_id: i32,
        stamp: &str,
        upsert: bool,
    ) -> Result<bool, sea_orm::DbErr> {
        let data = serde_json::to_string(&record.data)
            .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
        let backend = self.db.get_database_backend();
        let (placeholders, lock) = match backend {
            DbBackend::Postgres => (["$1", "$2", "$3", "$4", "$5", "$6"], " FOR SHARE"),
            _ => (["?", "?", "?", "?", "?", "?"], ""),
        };
        let [id, uid, body, expiry, check_id, check_stamp] = placeholders;
        let on_conflict = if upsert {
            " ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, \
             expiry_date = excluded.expiry_date"
        } else {
            ""
        };
        let sql = format!(
            "INSERT INTO sessions (id, user_id, data, expiry_date) SELECT {id}, {uid}, {body}, {expiry} \
             WHERE EXISTS (SELECT 1 FROM users WHERE user_id = {check_id} AND security_stamp = {check_stamp}{lock})\
             {on_conflict}"
        );
        let values: [sea_orm::Value; 6] = [
            record.id.to_string().into(),
            user_id.into(),
            data.into(),
            to_primitive(record.expiry_date).into(),
            user_id.into(),
            stamp.to_string().into(),
        ];
        let result = self
            .db
            .execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        Ok(result.rows_affected() > 0)
    }
}

/// The user id and stamp a record is bound to, if it is signed in.
fn binding(record: &Record) -> Option<(i32, String)> {
    let user_id = record
        .data
        .get(USER_ID_KEY)
        .and_then(|v| v.as_i64())
        .and_then(|v| i32::try_from(v).ok())?;
    let stamp = record
        .data
        .get(STAMP_KEY)
        .and_then(|v| v.as_str())?
        .to_string();
    Some((user_id, stamp))
}

fn to_primitive(at: OffsetDateTime) -> PrimitiveDateTime {
    let utc = at.to_offset(time::UtcOffset::UTC);
    PrimitiveDateTime::new(utc.date(), utc.time())
}

/// Marks store errors caused by an unreachable database, so pages can answer 503.
pub const UNAVAILABLE: &str = "database unavailable: ";

fn backend(err: sea_orm::DbErr) -> session_store::Error {
    let mark = if crate::error::is_unavailable(&err) {
        UNAVAILABLE
    } else {
        ""
    };
    session_store::Error::Backend(format!("{mark}{err}"))
}

#[async_trait]
impl SessionStore for DbSessionStore {
    /// Inserts with a fresh id until the id is unused (collisions are astronomically rare,
    /// but a silent overwrite would hand one user's session to another).
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        for _ in 0..8 {
            let inserted = match binding(record) {
                Some((user_id, stamp)) => self
                    .write_signed_in(record, user_id, &stamp, false)
                    .await
                    .map(|_| ()),
                None => sessions::Entity::insert(Self::row(record)?)
                    .exec(&self.db)
                    .await
                    .map(|_| ()),
            };
            match inserted {
                Ok(()) => return Ok(()),
                Err(err)
                    if matches!(
                        err.sql_err(),
                        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                    ) =>
                {
                    record.id = Id::default();
                }
                Err(err) => return Err(backend(err)),
            }
        }
        Err(session_store::Error::Backend("no free session id".into()))
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        if let Some((user_id, stamp)) = binding(record) {
            self.write_signed_in(record, user_id, &stamp, true)
                .await
                .map_err(backend)?;
            return Ok(());
        }
        let row = Self::row(record)?;
        sessions::Entity::insert(row)
            .on_conflict(
                OnConflict::column(sessions::Column::Id)
                    .update_columns([
                        sessions::Column::UserId,
                        sessions::Column::Data,
                        sessions::Column::ExpiryDate,
                    ])
                    .to_owned(),
            )
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = to_primitive(OffsetDateTime::now_utc());
        let row = sessions::Entity::find_by_id(id.to_string())
            .filter(sessions::Column::ExpiryDate.gt(now))
            .one(&self.db)
            .await
            .map_err(backend)?;
        let Some(row) = row else { return Ok(None) };
        let data = serde_json::from_str(&row.data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date: row.expiry_date.assume_utc(),
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sessions::Entity::delete_by_id(id.to_string())
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        let now = to_primitive(OffsetDateTime::now_utc());
        sessions::Entity::delete_many()
            .filter(sessions::Column::ExpiryDate.lte(now))
            .exec(&self.db)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
