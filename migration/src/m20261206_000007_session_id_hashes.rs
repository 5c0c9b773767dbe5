//! Session ids are stored only as their SHA-256 (hex), like API keys and reset-link tokens:
//! the cookie is a credential, and a copy of the database must not hand out signed-in
//! sessions. Existing sessions are rewritten in place (their users stay signed in); their
//! data loses the one-time results it may still hold, which now live sealed in
//! `one_time_results`. `down` cannot recover the ids from their hashes: it ends every session.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

impl crate::Step for Migration {
    fn down_loses(&self) -> crate::Loss {
        crate::Loss {
            tables: &[],
            columns: &[],
            emptied: &["sessions"],
            in_words: "every panel session (a stored hash gives no id back): everybody is \
                       signed out",
        }
    }
}

/// The stored form of a session id (as `accounts::sessions::stored_id` computes it).
fn stored_id(id: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// The session's data without the keys that held secrets in clear before this migration.
fn without_secrets(data: &str) -> Option<String> {
    let mut value: serde_json::Value = serde_json::from_str(data).ok()?;
    let object = value.as_object_mut()?;
    let had = object.remove("one_time").is_some() | object.remove("generated").is_some();
    had.then(|| value.to_string())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let (id, data, old) = match backend {
            sea_orm_migration::sea_orm::DbBackend::Postgres => ("$1", "$2", "$3"),
            _ => ("?", "?", "?"),
        };
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT id, data FROM sessions",
            ))
            .await?;
        for row in rows {
            let raw: String = row.try_get("", "id")?;
            let body: String = row.try_get("", "data")?;
            let body = without_secrets(&body).unwrap_or(body);
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                format!("UPDATE sessions SET id = {id}, data = {data} WHERE id = {old}"),
                [stored_id(&raw).into(), body.into(), raw.into()],
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DELETE FROM sessions")
            .await?;
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_id_is_the_hex_sha256_of_the_cookie() {
        assert_eq!(
            stored_id("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn secrets_in_clear_leave_the_data() {
        let data =
            r#"{"user_id":1,"one_time":{"x":[1,{"password":"p"}]},"generated":{"reset:2":"q"}}"#;
        assert_eq!(without_secrets(data).as_deref(), Some(r#"{"user_id":1}"#));
        assert_eq!(without_secrets(r#"{"user_id":1}"#), None);
        assert_eq!(without_secrets("not json"), None);
    }
}
