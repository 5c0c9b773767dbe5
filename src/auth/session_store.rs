//! The tower-sessions store over sea-orm: sessions live in the application database, with the
//! owner's `user_id` beside them so that all sessions of one user can be deleted at once. A
//! row is keyed by the SHA-256 of the session id (`accounts::sessions::stored_id`), never the
//! id itself, and its data holds no secret (one-time results live sealed in
//! `one_time_results`, see `auth::one_time`).

use async_trait::async_trait;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult,
    QueryFilter, Statement,
};
use std::collections::{BTreeMap, HashMap};
use time::{OffsetDateTime, PrimitiveDateTime};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

use crate::accounts::sessions::stored_id;
use crate::accounts::users::RowStatus;
use crate::auth::session::{
    ADDRESS_KEY, BROWSER_KEY, SIGNED_IN_AT_KEY, STAMP_KEY, SignedIn, TOUCHED_KEY,
};
use crate::entities::{sessions, users};

/// The session key holding the signed-in user's id (also copied into `sessions.user_id`).
pub const USER_ID_KEY: &str = "user_id";
/// Where `load` leaves the signed-in user and their grants, read with the session (`null`:
/// the user is gone). Never stored: `save` and `create` leave it out.
pub const SIGNED_IN_KEY: &str = "__signed_in";

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: DatabaseConnection,
}

impl DbSessionStore {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
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
        let data = stored_data(record).map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
        let backend = self.db.get_database_backend();
        let (placeholders, lock) = match backend {
            DbBackend::Postgres => (
                ["$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10"],
                " FOR SHARE",
            ),
            _ => (["?"; 10], ""),
        };
        let [
            id,
            uid,
            body,
            expiry,
            signed_in_at,
            last_seen,
            address,
            browser,
            check_id,
            check_stamp,
        ] = placeholders;
        let on_conflict = if upsert {
            " ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, data = excluded.data, \
             expiry_date = excluded.expiry_date, signed_in_at = excluded.signed_in_at, \
             last_seen = excluded.last_seen, address = excluded.address, browser = excluded.browser"
        } else {
            ""
        };
        let sql = format!(
            "INSERT INTO sessions (id, user_id, data, expiry_date, signed_in_at, last_seen, address, browser) \
             SELECT {id}, {uid}, {body}, {expiry}, {signed_in_at}, {last_seen}, {address}, {browser} \
             WHERE EXISTS (SELECT 1 FROM users WHERE user_id = {check_id} AND security_stamp = {check_stamp}{lock})\
             {on_conflict}"
        );
        let details = Details::of(record);
        let values: [sea_orm::Value; 10] = [
            stored_id(&record.id.to_string()).into(),
            user_id.into(),
            data.into(),
            to_primitive(record.expiry_date).into(),
            details.signed_in_at.into(),
            details.last_seen.into(),
            details.address.into(),
            details.browser.into(),
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

/// What the sessions page shows of a session, copied from its data into columns of its own.
struct Details {
    signed_in_at: Option<PrimitiveDateTime>,
    last_seen: Option<PrimitiveDateTime>,
    address: Option<String>,
    browser: Option<String>,
}

impl Details {
    fn of(record: &Record) -> Self {
        let at = |key: &str| {
            record
                .data
                .get(key)
                .and_then(|v| v.as_i64())
                .and_then(|unix| OffsetDateTime::from_unix_timestamp(unix).ok())
                .map(to_primitive)
        };
        let text = |key: &str| {
            record
                .data
                .get(key)
                .and_then(|v| v.as_str())
                .map(|s| s.chars().take(64).collect())
        };
        let signed_in_at = at(SIGNED_IN_AT_KEY);
        Details {
            signed_in_at,
            last_seen: at(TOUCHED_KEY).or(signed_in_at),
            address: text(ADDRESS_KEY),
            browser: text(BROWSER_KEY),
        }
    }
}

/// The session's data as stored: everything but the signed-in user `load` put beside it and
/// the other marks of one request (keys starting with `__`).
fn stored_data(record: &Record) -> serde_json::Result<String> {
    let kept: BTreeMap<&String, &serde_json::Value> = record
        .data
        .iter()
        .filter(|(key, _)| !key.starts_with("__"))
        .collect();
    serde_json::to_string(&kept)
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

fn backend_error(err: sea_orm::DbErr) -> session_store::Error {
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
        let Some((user_id, stamp)) = binding(record) else {
            // A visitor who has not signed in gets no row (SPEC §3a): an anonymous session
            // lives for its one request. (The sign-in form's CSRF token is a cookie.)
            return Ok(());
        };
        for _ in 0..8 {
            let inserted = self
                .write_signed_in(record, user_id, &stamp, false)
                .await
                .map(|_| ());
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
                Err(err) => return Err(backend_error(err)),
            }
        }
        Err(session_store::Error::Backend("no free session id".into()))
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match binding(record) {
            Some((user_id, stamp)) => {
                self.write_signed_in(record, user_id, &stamp, true)
                    .await
                    .map_err(backend_error)?;
            }
            // No longer signed in (or never was): nothing to keep, and no anonymous row.
            None => self.delete(&record.id).await?,
        }
        Ok(())
    }

    /// Reads the session, and with it (same statement, so as fresh as the request) its user
    /// and the user's grants, left under `SIGNED_IN_KEY` for `session::current_user`:
    /// a cookie request costs one statement, like a login token's.
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let backend = self.db.get_database_backend();
        // SQLite numbers `?` in the order they appear: the time in the select list first.
        let (now, session_id, expiry) = match backend {
            DbBackend::Postgres => ("$1", "$2", "$3"),
            _ => ("?", "?", "?"),
        };
        let sql = format!(
            "SELECT s.data AS session_data, s.expiry_date AS session_expiry, \
             u.*, p.permission AS grant_name, p.quantity AS grant_quantity, {status} \
             FROM sessions s \
             LEFT JOIN users u ON u.user_id = s.user_id \
             LEFT JOIN user_permissions p ON p.user_id = u.user_id \
             WHERE s.id = {session_id} AND s.expiry_date > {expiry} \
             ORDER BY p.permission",
            status = crate::accounts::users::row_status_sql("s.user_id", now)
        );
        let now = to_primitive(OffsetDateTime::now_utc());
        let rows = self
            .db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [now.into(), stored_id(&id.to_string()).into(), now.into()],
            ))
            .await
            .map_err(backend_error)?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let decode = |e: sea_orm::DbErr| session_store::Error::Decode(e.to_string());
        let text: String = first.try_get("", "session_data").map_err(decode)?;
        let expiry: PrimitiveDateTime = first.try_get("", "session_expiry").map_err(decode)?;
        let mut data: HashMap<String, serde_json::Value> =
            serde_json::from_str(&text).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        if data.contains_key(USER_ID_KEY) {
            let user: Option<i32> = first.try_get("", "user_id").map_err(decode)?;
            let signed_in = match user {
                Some(_) => Some(SignedIn {
                    user: users::Model::from_query_result(first, "").map_err(decode)?,
                    grants: crate::accounts::grants::grants_of_rows(&rows).map_err(decode)?,
                    status: Some(RowStatus::from_row(first).map_err(decode)?),
                }),
                None => None,
            };
            let value = serde_json::to_value(signed_in)
                .map_err(|e| session_store::Error::Encode(e.to_string()))?;
            data.insert(SIGNED_IN_KEY.to_string(), value);
        }
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date: expiry.assume_utc(),
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sessions::Entity::delete_by_id(stored_id(&id.to_string()))
            .exec(&self.db)
            .await
            .map_err(backend_error)?;
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
            .map_err(backend_error)?;
        Ok(())
    }
}
