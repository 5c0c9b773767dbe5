//! Adopting `PASSGATE_SECRET_KEY_FILE` on a database used without one: every TOTP secret
//! (devices and enrolments in progress) is opened with the key kept in `settings` and sealed
//! again with the file's key, then that key is deleted, so a copy of the database alone no
//! longer opens them. Row by row and conditional, so a start that stops half-way (or two
//! instances starting at once) finishes the move next time.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::cipher::SecretCipher;
use crate::accounts::error::{Error, Result};
use crate::entities::{settings, totp_devices, totp_enrolments};

/// Moves every secret sealed with `old` (the key from `settings`, named `setting`) to
/// `file`, then deletes the setting. Returns how many secrets moved.
pub async fn adopt(
    conn: &impl ConnectionTrait,
    old: &SecretCipher,
    file: &SecretCipher,
    setting: &str,
) -> Result<usize> {
    let mut moved = 0;
    for device in totp_devices::Entity::find().all(conn).await? {
        if let Some(sealed) = resealed(old, file, device.user_id, &device.secret)? {
            moved += totp_devices::Entity::update_many()
                .col_expr(totp_devices::Column::Secret, Expr::value(sealed))
                .filter(totp_devices::Column::Id.eq(device.id))
                .filter(totp_devices::Column::Secret.eq(device.secret))
                .exec(conn)
                .await?
                .rows_affected as usize;
        }
    }
    for enrolment in totp_enrolments::Entity::find().all(conn).await? {
        if let Some(sealed) = resealed(old, file, enrolment.user_id, &enrolment.secret)? {
            moved += totp_enrolments::Entity::update_many()
                .col_expr(totp_enrolments::Column::Secret, Expr::value(sealed))
                .filter(totp_enrolments::Column::Id.eq(enrolment.id))
                .filter(totp_enrolments::Column::Secret.eq(enrolment.secret))
                .exec(conn)
                .await?
                .rows_affected as usize;
        }
    }
    settings::Entity::delete_by_id(setting.to_string())
        .exec(conn)
        .await?;
    tracing::info!(
        moved,
        "TOTP secrets are now sealed with PASSGATE_SECRET_KEY_FILE; the key kept in the database is deleted"
    );
    Ok(moved)
}

/// The secret sealed with `file`, if it opens with `old`; `None` if it is not `old`'s (moved
/// already, or sealed with another key: its owner gets a clear refusal at sign-in).
fn resealed(
    old: &SecretCipher,
    file: &SecretCipher,
    user_id: i32,
    stored: &str,
) -> Result<Option<String>> {
    match old.open(user_id, stored) {
        Ok(secret) => file.seal(user_id, &secret).map(Some),
        Err(Error::Undecryptable) => Ok(None),
        Err(err) => Err(err),
    }
}
