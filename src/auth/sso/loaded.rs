//! The forward-auth decision's one statement (SPEC §15.2): the SSO session of a cookie with
//! its user, the user's factors and roles, read together, and whether the session still
//! stands (the stamp, the account, the lifetimes, an expired temporary password).

use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, FromQueryResult, Statement};
use time::PrimitiveDateTime;

use super::{TOUCH_EVERY, id_of};
use crate::accounts::sso::{Identity, SsoState, Standing};
use crate::accounts::{clock, mfa, roles, users};
use crate::config::{Config, SESSION_IDLE};
use crate::entities::{sso_sessions, users as user_entity};
use crate::error::Result;

/// An SSO session row with its user and what the decision needs about them, read in one
/// statement.
#[derive(Clone, Debug)]
pub struct Loaded {
    id: String,
    stamp: String,
    signed_in_at: PrimitiveDateTime,
    last_seen: PrimitiveDateTime,
    second_factor: bool,
    user: user_entity::Model,
    has_factor: bool,
    /// The user is in a role that requires a second factor (SPEC §14).
    in_mfa_role: bool,
    roles: Vec<(i32, String)>,
}

/// The roles of the user in column `user_column` as `id:name` pairs, by name, joined with `,`
/// (`NULL` without roles), as SQL for the decision's one statement: the ids are what an
/// application allows, the names what `Remote-Groups` says (names hold no comma, §14).
fn role_pairs_sql(user_column: &str, backend: DbBackend) -> String {
    match backend {
        DbBackend::Postgres => format!(
            "(SELECT STRING_AGG(CAST(r.role_id AS TEXT) || ':' || r.role_name, ',' \
             ORDER BY r.role_name) FROM user_roles ur JOIN roles r ON r.role_id = ur.role_id \
             WHERE ur.user_id = {user_column})"
        ),
        // SQLite keeps the order of the subquery it aggregates.
        _ => format!(
            "(SELECT GROUP_CONCAT(pair, ',') FROM (SELECT r.role_id || ':' || r.role_name AS pair \
             FROM user_roles ur JOIN roles r ON r.role_id = ur.role_id \
             WHERE ur.user_id = {user_column} ORDER BY r.role_name))"
        ),
    }
}

/// The pairs [`role_pairs_sql`] joined; a pair that does not read is left out.
fn split_role_pairs(joined: Option<&str>) -> Vec<(i32, String)> {
    joined
        .unwrap_or_default()
        .split(',')
        .filter_map(|pair| {
            let (id, name) = pair.split_once(':')?;
            Some((id.parse().ok()?, name.to_string()))
        })
        .collect()
}

/// The SSO session of `token` with its user, the user's factors and roles: **one statement**
/// (the forward-auth decision's only one). `None` when there is no such session or it is
/// idle past its end; whether it still stands is [`Loaded::state`]'s to say.
pub async fn load(conn: &impl ConnectionTrait, token: &str) -> Result<Option<Loaded>> {
    let backend = conn.get_database_backend();
    let (id, now) = match backend {
        DbBackend::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    };
    let sql = format!(
        "SELECT s.stamp AS sso_stamp, s.signed_in_at AS sso_signed_in_at, \
         s.last_seen AS sso_last_seen, s.second_factor AS sso_second_factor, u.*, \
         (EXISTS (SELECT 1 FROM totp_devices t WHERE t.user_id = u.user_id) \
          OR EXISTS (SELECT 1 FROM passkeys k WHERE k.user_id = u.user_id)) AS has_factor, \
         {in_mfa_role} AS in_mfa_role, {roles} AS sso_roles \
         FROM sso_sessions s JOIN users u ON u.user_id = s.user_id \
         WHERE s.id = {id} AND s.expires > {now}",
        in_mfa_role = roles::mfa_required_sql("u.user_id"),
        roles = role_pairs_sql("u.user_id", backend),
    );
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [id_of(token).into(), clock::now().into()],
        ))
        .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let roles = split_role_pairs(first.try_get::<Option<String>>("", "sso_roles")?.as_deref());
    Ok(Some(Loaded {
        id: id_of(token),
        stamp: first.try_get("", "sso_stamp")?,
        signed_in_at: first.try_get("", "sso_signed_in_at")?,
        last_seen: first.try_get("", "sso_last_seen")?,
        second_factor: first.try_get("", "sso_second_factor")?,
        user: user_entity::Model::from_query_result(first, "")?,
        has_factor: first.try_get("", "has_factor")?,
        in_mfa_role: first.try_get("", "in_mfa_role")?,
        roles,
    }))
}

impl Loaded {
    /// The session as the decision sees it, if it still stands: the user enabled, the stamp
    /// unchanged (no reset, password change, factor change or *end all sessions* since),
    /// within the absolute lifetime in force, and no temporary password that has expired.
    pub fn state(&self, config: &Config) -> Option<SsoState> {
        let now = clock::now();
        let stands = self.user.enabled
            && !self.stamp.is_empty()
            && self.user.security_stamp == self.stamp
            && self.signed_in_at + config.session_max_lifetime > now
            && !users::temp_password_expired(&self.user);
        stands.then(|| SsoState {
            identity: Identity {
                user_id: self.user.user_id,
                username: self.user.username.clone(),
                email: self.user.email.clone(),
                roles: self.roles.clone(),
            },
            standing: Standing {
                require_password_change: self.user.require_password_change,
                must_have_factor: mfa::required(config.mfa.policy, &self.user, self.in_mfa_role),
                has_factor: self.has_factor,
                session_passed_factor: self.second_factor,
            },
        })
    }

    /// Moves the idle end of a session in use, at most every five minutes, off the request
    /// (the decision does not wait for it, and it is not one of the decision's statements).
    pub fn keep_alive(&self, db: &sea_orm::DatabaseConnection) {
        let now = clock::now();
        if now - self.last_seen < TOUCH_EVERY {
            return;
        }
        let db = db.clone();
        let id = self.id.clone();
        tokio::spawn(async move {
            use sea_orm::sea_query::Expr;
            use sea_orm::{ColumnTrait, QueryFilter};
            let touched = sso_sessions::Entity::update_many()
                .col_expr(sso_sessions::Column::LastSeen, Expr::value(now))
                .col_expr(
                    sso_sessions::Column::Expires,
                    Expr::value(now + SESSION_IDLE),
                )
                .filter(sso_sessions::Column::Id.eq(id))
                .exec(&db)
                .await;
            if let Err(err) = touched {
                tracing::warn!(error = %err, "keeping an SSO session alive failed");
            }
        });
    }
}
