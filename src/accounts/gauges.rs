//! The state of the account base as the metrics' gauges show it (SPEC §17), read in one
//! statement at each scrape.

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::accounts::clock;
use crate::accounts::error::Result;
use crate::accounts::reset_links::state::LIVE;
use crate::metrics::AccountGauges;

/// Counts users, enabled users, pending changes, expired temporary passwords, locked
/// usernames, users with a second factor, live reset links and signed-in sessions, as of now.
pub async fn read(conn: &impl ConnectionTrait) -> Result<AccountGauges> {
    let backend = conn.get_database_backend();
    // The one parameter (now) is used five times: `$1` on PostgreSQL, `?1` on SQLite.
    let now = match backend {
        DbBackend::Postgres => "$1",
        _ => "?1",
    };
    let sql = format!(
        "SELECT \
         (SELECT COUNT(*) FROM users) AS users, \
         (SELECT COUNT(*) FROM users WHERE enabled = TRUE) AS enabled, \
         (SELECT COUNT(*) FROM users WHERE require_password_change = TRUE) AS pending_changes, \
         (SELECT COUNT(*) FROM users WHERE password_expires IS NOT NULL \
          AND password_expires <= {now}) AS expired_temporary_passwords, \
         (SELECT COUNT(*) FROM login_throttle WHERE throttle_key LIKE 'user:%' \
          AND locked_until > {now}) AS locked_usernames, \
         (SELECT COUNT(*) FROM users u WHERE \
          EXISTS (SELECT 1 FROM totp_devices t WHERE t.user_id = u.user_id) \
          OR EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = u.user_id)) AS with_second_factor, \
         (SELECT COUNT(*) FROM reset_links WHERE state = '{LIVE}' \
          AND expires > {now}) AS live_reset_links, \
         (SELECT COUNT(*) FROM sessions WHERE user_id IS NOT NULL \
          AND expiry_date > {now}) AS sessions"
    );
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [clock::now().into()],
        ))
        .await?
        .ok_or_else(|| sea_orm::DbErr::RecordNotFound("gauges".into()))?;
    let count = |column: &str| -> Result<u64> { Ok(row.try_get::<i64>("", column)?.max(0) as u64) };
    Ok(AccountGauges {
        users: count("users")?,
        enabled: count("enabled")?,
        pending_changes: count("pending_changes")?,
        expired_temporary_passwords: count("expired_temporary_passwords")?,
        locked_usernames: count("locked_usernames")?,
        with_second_factor: count("with_second_factor")?,
        live_reset_links: count("live_reset_links")?,
        sessions: count("sessions")?,
    })
}
