//! The audit log: who did what to whom, when, from where. Never a secret.

use sea_orm::{ConnectionTrait, EntityTrait, Set};

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
    pub const APP_CREATED: &str = "app_created";
    pub const APP_UPDATED: &str = "app_updated";
    pub const APP_DELETED: &str = "app_deleted";
    pub const APP_SECRET_REGENERATED: &str = "app_client_secret_regenerated";
    /// A single sign-on session was issued (user, app, address).
    pub const SSO_ISSUED: &str = "sso_session_issued";
    /// A signed-in user arriving with `rd` was refused by the app's roles or policy.
    pub const SSO_REFUSED: &str = "sso_refused";
}

/// Appends one entry; runs on the caller's connection or transaction.
pub async fn record(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    target: Option<(i32, &str)>,
    action: &str,
    detail: String,
) -> Result<()> {
    audit_log::Entity::insert(audit_log::ActiveModel {
        created: Set(clock::now()),
        actor_id: Set(actor.user_id),
        actor_name: Set(Some(actor.username.clone())),
        target_id: Set(target.map(|(id, _)| id)),
        target_name: Set(target.map(|(_, name)| name.to_string())),
        action: Set(action.to_string()),
        detail: Set(detail),
        source_ip: Set(actor.ip.clone()),
        ..Default::default()
    })
    .exec_without_returning(conn)
    .await?;
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
