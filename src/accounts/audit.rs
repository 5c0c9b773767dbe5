//! The audit log: who did what to whom, when, from where. Never a secret. Also the audit
//! stream's lines (`line.rs`), the stream itself (`stream.rs`), the export and the retention
//! prune.

use sea_orm::{ConnectionTrait, EntityTrait, Set};

mod line;
pub mod stream;

pub use line::{FIELDS, SCHEMA_VERSION, details, line};

use crate::accounts::clock;
use crate::accounts::error::Result;
use crate::entities::{audit_log, users};

/// Who performs an operation: a signed-in user, or an operator at the command line.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: Option<i32>,
    pub username: String,
    pub ip: String,
}

impl Actor {
    pub fn user(user: &users::Model, ip: impl Into<String>) -> Self {
        Self {
            user_id: Some(user.user_id),
            username: user.username.clone(),
            ip: ip.into(),
        }
    }

    /// The local operator running `passgate user …`.
    pub fn cli() -> Self {
        Self {
            user_id: None,
            username: "cli".into(),
            ip: "local".into(),
        }
    }

    /// An OpenID Connect client at the token or revocation endpoint (`oidc:` its id).
    pub fn client(client_id: &str, ip: impl Into<String>) -> Self {
        Self {
            user_id: None,
            username: format!("oidc:{client_id}"),
            ip: ip.into(),
        }
    }

    pub fn is(&self, user: &users::Model) -> bool {
        self.user_id == Some(user.user_id)
    }
}

/// Stable action names written to `audit_log.action`.
pub mod action {
    pub const LOGIN: &str = "login";
    pub const LOGIN_FAILED: &str = "login_failed";
    pub const LOGOUT: &str = "logout";
    pub const PASSWORD_CHANGED: &str = "password_changed";
    pub const PASSWORD_RESET: &str = "password_reset";
    pub const USER_CREATED: &str = "user_created";
    pub const USER_UPDATED: &str = "user_updated";
    pub const USER_DELETED: &str = "user_deleted";
    pub const KEY_CREATED: &str = "api_key_created";
    pub const KEY_DELETED: &str = "api_key_deleted";
    pub const TOKENS_INVALIDATED: &str = "tokens_invalidated";
    pub const SESSIONS_ENDED: &str = "sessions_ended";
    pub const PASSWORD_CHANGE_REQUIRED: &str = "password_change_required";
    pub const MFA_ENROLLED: &str = "mfa_enrolled";
    pub const MFA_REMOVED: &str = "mfa_removed";
    pub const MFA_RENAMED: &str = "mfa_renamed";
    pub const MFA_RESET: &str = "mfa_reset";
    pub const RECOVERY_CODES_RENEWED: &str = "recovery_codes_renewed";
    pub const RECOVERY_CODE_USED: &str = "recovery_code_used";
    pub const RESET_LINK_CREATED: &str = "reset_link_created";
    pub const RESET_LINK_USED: &str = "reset_link_used";
    pub const RESET_LINK_REVOKED: &str = "reset_link_revoked";
    pub const PASSKEY_ADDED: &str = "passkey_added";
    pub const PASSKEY_REMOVED: &str = "passkey_removed";
    pub const ROLE_CREATED: &str = "role_created";
    pub const ROLE_UPDATED: &str = "role_updated";
    pub const ROLE_DELETED: &str = "role_deleted";
    pub const ROLE_MEMBER_ADDED: &str = "role_member_added";
    pub const ROLE_MEMBER_REMOVED: &str = "role_member_removed";
    pub const APP_CREATED: &str = "app_created";
    pub const APP_UPDATED: &str = "app_updated";
    pub const APP_DELETED: &str = "app_deleted";
    pub const APP_SECRET_REGENERATED: &str = "app_client_secret_regenerated";
    /// A single sign-on session was issued (user, app, address).
    pub const SSO_ISSUED: &str = "sso_session_issued";
    /// A signed-in user arriving with `rd` was refused by the app's roles or policy.
    pub const SSO_REFUSED: &str = "sso_refused";
    /// An OpenID Connect provider issued tokens to an application for a user (SPEC §16).
    pub const OIDC_GRANTED: &str = "oidc_granted";
    /// An application's OpenID Connect grant ended with its tokens: by its user, a sign-out,
    /// a revocation request or a replayed code.
    pub const OIDC_REVOKED: &str = "oidc_revoked";
    /// A refresh refused: a reused refresh token, or the user no longer admitted by the app.
    pub const OIDC_REFRESH_REFUSED: &str = "oidc_refresh_refused";
    /// A signed-in user's authorization request refused (the app's policy or roles).
    pub const OIDC_REFUSED: &str = "oidc_refused";
}

/// How a user signed in to an application (SPEC §15, §16).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppSignIn {
    /// Forward authentication issued a single sign-on session for the app.
    ForwardAuth,
    /// The OpenID Connect provider issued tokens to the app.
    Oidc,
}

impl AppSignIn {
    /// The entry's action.
    pub fn action(self) -> &'static str {
        match self {
            AppSignIn::ForwardAuth => action::SSO_ISSUED,
            AppSignIn::Oidc => action::OIDC_GRANTED,
        }
    }
}

/// A value for a `key=value` detail that may hold spaces or `=` (an application's name),
/// form-encoded (`Team Wiki` → `Team+Wiki`); the audit page decodes it.
pub fn value(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// `name=NAME`, the last pair of a detail that names something by the name its owner gave it
/// (a passkey): its value is the rest of the detail, so a name may hold spaces and `=`
/// (names hold no control characters). The audit page reads it back that way.
pub fn trailing_name(name: &str) -> String {
    format!("name={name}")
}

/// Appends one entry; runs on the caller's connection or transaction.
pub async fn record(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    target: Option<(i32, &str)>,
    action: &str,
    detail: String,
) -> Result<()> {
    insert(conn, actor, target, None, action, detail).await
}

/// Records that `user` signed in to the application `app_id` (`via` forward authentication or
/// OpenID Connect): one audit entry carrying the app, from which the database keeps the
/// overview's *users of each application in the last 7 days* (SPEC §18, `app_sign_ins`).
/// The forward-auth and OIDC paths call this one function, in their own transaction.
pub async fn record_app_sign_in(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    user: (i32, &str),
    app_id: i32,
    via: AppSignIn,
    detail: String,
) -> Result<()> {
    insert(conn, actor, Some(user), Some(app_id), via.action(), detail).await
}

async fn insert(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    target: Option<(i32, &str)>,
    app_id: Option<i32>,
    action: &str,
    detail: String,
) -> Result<()> {
    if action == action::LOGIN_FAILED {
        // For the operator's log watchers (fail2ban and the like): the address and the
        // reason, never what was typed.
        tracing::info!(
            target: "passgate::sign_in",
            address = %actor.ip,
            user_id = ?target.map(|(id, _)| id),
            reason = %detail,
            "sign-in failed"
        );
    }
    audit_log::Entity::insert(audit_log::ActiveModel {
        created: Set(clock::now()),
        actor_id: Set(actor.user_id),
        actor_name: Set(Some(actor.username.clone())),
        target_id: Set(target.map(|(id, _)| id)),
        target_name: Set(target.map(|(_, name)| name.to_string())),
        action: Set(action.to_string()),
        detail: Set(detail),
        source_ip: Set(actor.ip.clone()),
        app_id: Set(app_id),
        ..Default::default()
    })
    .exec_without_returning(conn)
    .await?;
    // The stream reads the entry once its transaction has committed.
    stream::poke();
    Ok(())
}

/// The newest of `actions` about `user_id` (as the target), if any.
pub async fn latest_about(
    conn: &impl ConnectionTrait,
    user_id: i32,
    actions: &[&str],
) -> Result<Option<String>> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    Ok(audit_log::Entity::find()
        .filter(audit_log::Column::TargetId.eq(user_id))
        .filter(audit_log::Column::Action.is_in(actions.iter().copied()))
        .order_by_desc(audit_log::Column::Created)
        .order_by_desc(audit_log::Column::AuditId)
        .one(conn)
        .await?
        .map(|entry| entry.action))
}

/// One page of the audit log, newest first, optionally only entries where `user` (a
/// username) is the actor or the target.
pub async fn page(
    conn: &impl ConnectionTrait,
    user: Option<&str>,
    page: u64,
    per_page: u64,
) -> Result<(Vec<audit_log::Model>, u64, u64)> {
    use sea_orm::sea_query::ExprTrait;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
    let mut query = audit_log::Entity::find()
        .order_by_desc(audit_log::Column::Created)
        .order_by_desc(audit_log::Column::AuditId);
    if let Some(name) = user.map(str::trim).filter(|n| !n.is_empty()) {
        let name = name.to_ascii_lowercase();
        query = query.filter(
            audit_log::Column::ActorName
                .eq(name.clone())
                .or(audit_log::Column::TargetName.eq(name)),
        );
    }
    let paginator = query.paginate(conn, per_page);
    let total = paginator.num_items().await?;
    let pages = Ord::max(total.div_ceil(per_page), 1);
    let page = page.clamp(1, pages);
    Ok((paginator.fetch_page(page - 1).await?, page, pages))
}

/// Deletes the entries older than `days` days (`PASSGATE_AUDIT_RETENTION_DAYS`); returns how
/// many went.
pub async fn prune(conn: &impl ConnectionTrait, days: u32) -> Result<u64> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let before = clock::now() - time::Duration::days(i64::from(days));
    let deleted = audit_log::Entity::delete_many()
        .filter(audit_log::Column::Created.lt(before))
        .exec(conn)
        .await?
        .rows_affected;
    crate::metrics::audit_pruned(deleted);
    Ok(deleted)
}

/// Writes the line of every entry created at or after `since` and before `until`, oldest
/// first, to `out` (`passgate audit export`), reading a page at a time; returns how many.
pub async fn export(
    conn: &impl ConnectionTrait,
    since: Option<time::PrimitiveDateTime>,
    until: Option<time::PrimitiveDateTime>,
    out: &mut impl std::io::Write,
) -> Result<u64> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    const PAGE: u64 = 1000;
    let mut after = 0;
    let mut written = 0;
    loop {
        let mut query = audit_log::Entity::find()
            .filter(audit_log::Column::AuditId.gt(after))
            .order_by_asc(audit_log::Column::AuditId)
            .limit(PAGE);
        if let Some(since) = since {
            query = query.filter(audit_log::Column::Created.gte(since));
        }
        if let Some(until) = until {
            query = query.filter(audit_log::Column::Created.lt(until));
        }
        let rows = query.all(conn).await?;
        for row in &rows {
            writeln!(out, "{}", line(row))
                .map_err(|e| crate::accounts::Error::Internal(e.into()))?;
        }
        written += rows.len() as u64;
        match rows.last() {
            Some(last) if rows.len() as u64 == PAGE => after = last.audit_id,
            _ => break,
        }
    }
    out.flush()
        .map_err(|e| crate::accounts::Error::Internal(e.into()))?;
    Ok(written)
}
