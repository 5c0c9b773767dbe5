//! Grants: one sign-in of a user to an application (SPEC §16). A grant is made when the walk
//! ends and a code is issued; it holds the code (hashed, 60 s, single use), what the code is
//! bound to (client, redirect URI, PKCE challenge, nonce) and what every token issued under
//! it says (scope, `auth_time`, `amr`, `sid`). Deleting a grant revokes its tokens: that is
//! how a replayed code, a reused refresh token, a stamp rotation, a sign-out, the sessions
//! page and an administrator's change of the application (OpenID Connect off, the client made
//! public, the application deleted) end an app's access.

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    RelationTrait, Set, TransactionSession, TransactionTrait,
};
use time::PrimitiveDateTime;

use crate::accounts::audit::{self, Actor};
use crate::accounts::clock;
use crate::accounts::error::{Error, Result};
use crate::accounts::oidc::request::AuthorizationRequest;
use crate::accounts::oidc::{Amr, CODE_SECONDS, hash_secret, new_secret};
use crate::accounts::secret::Secret;
use crate::entities::{oidc_grants, oidc_subjects, oidc_tokens, users as user_entity};

/// The prefix of every authorization code.
pub const CODE_PREFIX: &str = "pgc_";

/// Audit actions.
pub mod action {
    /// A code was issued: the user signed in to an application.
    pub const GRANTED: &str = crate::accounts::audit::action::OIDC_GRANTED;
    /// A grant was ended (its tokens revoked): by its user, a sign-out, a revocation request
    /// or a replay.
    pub const REVOKED: &str = crate::accounts::audit::action::OIDC_REVOKED;
    /// A refresh was refused (the user's rules changed, or a reused token).
    pub const REFRESH_REFUSED: &str = crate::accounts::audit::action::OIDC_REFRESH_REFUSED;
    /// A signed-in user's authorization request was refused (the app's policy or roles).
    pub const REFUSED: &str = crate::accounts::audit::action::OIDC_REFUSED;
}

/// What a code is issued for: the checked request and the sign-in behind it.
pub struct NewGrant<'a> {
    pub request: &'a AuthorizationRequest,
    pub user: &'a user_entity::Model,
    /// When the user signed in (the browser session's sign-in).
    pub auth_time: PrimitiveDateTime,
    pub amr: &'a Amr,
    /// The browser sign-in's identifier (the ID token's `sid`).
    pub sid: &'a str,
    /// How long the grant (and its refresh tokens) may last: the sessions' absolute lifetime.
    pub lifetime: time::Duration,
}

/// Issues an authorization code: a grant bound to the request, with the user's current stamp
/// (a rotation before the code is redeemed voids it). Audited. Returns the code, which is
/// never stored in clear.
pub async fn issue_code<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    grant: NewGrant<'_>,
) -> Result<Secret> {
    let code = Secret::new(new_secret(CODE_PREFIX));
    let now = clock::now();
    let txn = crate::accounts::transaction::begin(db).await?;
    subject_of(&txn, grant.user.user_id).await?;
    oidc_grants::Entity::insert(oidc_grants::ActiveModel {
        user_id: Set(grant.user.user_id),
        app_id: Set(grant.request.app_id),
        scope: Set(grant.request.scope.clone()),
        nonce: Set(grant.request.nonce.clone()),
        code_challenge: Set(grant.request.code_challenge.clone()),
        redirect_uri: Set(grant.request.redirect_uri.clone()),
        code_hash: Set(hash_secret(code.expose())),
        code_expires: Set(now + time::Duration::seconds(CODE_SECONDS)),
        code_used: Set(None),
        auth_time: Set(grant.auth_time),
        amr: Set(grant.amr.to_text()),
        sid: Set(grant.sid.to_string()),
        stamp: Set(grant.user.security_stamp.clone()),
        created: Set(now),
        expires: Set(grant.auth_time + grant.lifetime),
        last_used: Set(None),
        ..Default::default()
    })
    .exec_without_returning(&txn)
    .await?;
    audit::record_app_sign_in(
        &txn,
        actor,
        (grant.user.user_id, &grant.user.username),
        grant.request.app_id,
        audit::AppSignIn::Oidc,
        format!(
            "app={} client_id={} scope={}",
            grant.request.app_id,
            grant.request.client_id,
            audit::value(&grant.request.scope)
        ),
    )
    .await?;
    txn.commit().await?;
    crate::metrics::oidc_issued(crate::metrics::Oidc::Code);
    Ok(code)
}

/// The user's `sub`: a random identifier made on first use, never given to anyone else (a
/// concurrent first use keeps the one that was stored first).
pub async fn subject_of(conn: &impl ConnectionTrait, user_id: i32) -> Result<String> {
    oidc_subjects::Entity::insert(oidc_subjects::ActiveModel {
        user_id: Set(user_id),
        sub: Set(new_subject()),
    })
    .on_conflict_do_nothing_on([oidc_subjects::Column::UserId])
    .exec_without_returning(conn)
    .await?;
    oidc_subjects::Entity::find_by_id(user_id)
        .one(conn)
        .await?
        .map(|row| row.sub)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("subject missing after insert")))
}

fn new_subject() -> String {
    use rand::RngExt;
    let bytes: [u8; 16] = rand::rng().random();
    hex::encode(bytes)
}

/// Revokes every grant of a user (and so every access and refresh token): part of every
/// stamp rotation, in its transaction.
pub async fn revoke_all_of_user(conn: &impl ConnectionTrait, user_id: i32) -> Result<u64> {
    count_revoked(
        conn,
        Condition::all().add(oidc_grants::Column::UserId.eq(user_id)),
    )
    .await?;
    Ok(oidc_grants::Entity::delete_many()
        .filter(oidc_grants::Column::UserId.eq(user_id))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Revokes every grant made to an application (and so every access and refresh token issued
/// to its client), in the caller's transaction: its OpenID Connect turned off, its client made
/// public (a stolen refresh token would need no secret any more), or the application deleted.
/// Returns how many grants ended.
pub async fn revoke_all_of_app(conn: &impl ConnectionTrait, app_id: i32) -> Result<u64> {
    count_revoked(
        conn,
        Condition::all().add(oidc_grants::Column::AppId.eq(app_id)),
    )
    .await?;
    Ok(oidc_grants::Entity::delete_many()
        .filter(oidc_grants::Column::AppId.eq(app_id))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Revokes the grants made in one browser sign-in (`sid`) of a user: its sign-out.
pub async fn revoke_sign_in(conn: &impl ConnectionTrait, user_id: i32, sid: &str) -> Result<u64> {
    count_revoked(
        conn,
        Condition::all()
            .add(oidc_grants::Column::UserId.eq(user_id))
            .add(oidc_grants::Column::Sid.eq(sid)),
    )
    .await?;
    Ok(oidc_grants::Entity::delete_many()
        .filter(oidc_grants::Column::UserId.eq(user_id))
        .filter(oidc_grants::Column::Sid.eq(sid))
        .exec(conn)
        .await?
        .rows_affected)
}

/// Deletes one grant (its tokens go with it) and audits why.
pub(crate) async fn revoke(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    grant: &oidc_grants::Model,
    user: Option<&user_entity::Model>,
    action: &str,
    why: &str,
) -> Result<()> {
    count_revoked(
        conn,
        Condition::all().add(oidc_grants::Column::GrantId.eq(grant.grant_id)),
    )
    .await?;
    oidc_grants::Entity::delete_by_id(grant.grant_id)
        .exec(conn)
        .await?;
    audit::record(
        conn,
        actor,
        user.map(|u| (u.user_id, u.username.as_str())),
        action,
        format!("app={} grant={} reason={why}", grant.app_id, grant.grant_id),
    )
    .await
}

/// [`revoke`], with the grant's user read for the audit entry.
pub(crate) async fn revoke_reading_user(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    grant: &oidc_grants::Model,
    action: &str,
    why: &str,
) -> Result<()> {
    let user = user_entity::Entity::find_by_id(grant.user_id)
        .one(conn)
        .await?;
    revoke(conn, actor, grant, user.as_ref(), action, why).await
}

/// Counts (when metrics are kept) the live tokens of the grants `which` selects, which are
/// about to be deleted with them: one statement, grouped by kind.
async fn count_revoked(conn: &impl ConnectionTrait, which: Condition) -> Result<()> {
    use crate::accounts::oidc::tokens::{ACCESS, REFRESH};
    use crate::metrics::Oidc;
    if !crate::metrics::enabled() {
        return Ok(());
    }
    let live: Vec<(String, i64)> = oidc_tokens::Entity::find()
        .select_only()
        .column(oidc_tokens::Column::Kind)
        .column_as(oidc_tokens::Column::TokenHash.count(), "tokens")
        .join(
            sea_orm::JoinType::InnerJoin,
            oidc_tokens::Relation::Grants.def(),
        )
        .filter(which)
        .filter(oidc_tokens::Column::Expires.gt(clock::now()))
        .filter(oidc_tokens::Column::Used.is_null())
        .group_by(oidc_tokens::Column::Kind)
        .into_tuple()
        .all(conn)
        .await?;
    for (kind, tokens) in live {
        let kind = match kind.as_str() {
            ACCESS => Oidc::AccessToken,
            REFRESH => Oidc::RefreshToken,
            _ => continue,
        };
        crate::metrics::oidc_revoked(kind, u64::try_from(tokens).unwrap_or(0));
    }
    Ok(())
}

/// One of a user's live grants, as the sessions page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantInfo {
    pub grant_id: i32,
    pub app_id: i32,
    pub signed_in_at: PrimitiveDateTime,
    pub last_used: Option<PrimitiveDateTime>,
    /// Made in the browser sign-in the page is viewed in.
    pub this_browser: bool,
}

/// The grants that can still act (a code redeemed, the grant not ended, a token not yet
/// expired or used).
fn live(now: PrimitiveDateTime) -> Condition {
    let live_token = Query::select()
        .expr(Expr::val(1))
        .from(oidc_tokens::Entity)
        .and_where(
            Expr::col((oidc_tokens::Entity, oidc_tokens::Column::GrantId))
                .equals((oidc_grants::Entity, oidc_grants::Column::GrantId)),
        )
        .and_where(Expr::col((oidc_tokens::Entity, oidc_tokens::Column::Expires)).gt(now))
        .and_where(Expr::col((oidc_tokens::Entity, oidc_tokens::Column::Used)).is_null())
        .to_owned();
    Condition::all()
        .add(oidc_grants::Column::CodeUsed.is_not_null())
        .add(oidc_grants::Column::Expires.gt(now))
        .add(Expr::exists(live_token))
}

/// How many users an application's client can still act for (what ending its grants would
/// sign out): the panel says it before an administrator ends them.
pub async fn users_signed_in_to(conn: &impl ConnectionTrait, app_id: i32) -> Result<u64> {
    let users: Vec<i32> = oidc_grants::Entity::find()
        .select_only()
        .column(oidc_grants::Column::UserId)
        .distinct()
        .filter(oidc_grants::Column::AppId.eq(app_id))
        .filter(live(clock::now()))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(u64::try_from(users.len()).unwrap_or(u64::MAX))
}

/// The user's grants that can still act for them (a code redeemed, a token not yet expired),
/// most recently used first. `sid`: the viewing browser's sign-in.
pub async fn list_live(
    conn: &impl ConnectionTrait,
    user_id: i32,
    sid: Option<&str>,
) -> Result<Vec<GrantInfo>> {
    let rows = oidc_grants::Entity::find()
        .filter(oidc_grants::Column::UserId.eq(user_id))
        .filter(live(clock::now()))
        .order_by_desc(oidc_grants::Column::LastUsed)
        .order_by_desc(oidc_grants::Column::GrantId)
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| GrantInfo {
            grant_id: row.grant_id,
            app_id: row.app_id,
            signed_in_at: row.auth_time,
            last_used: row.last_used,
            this_browser: sid.is_some_and(|sid| sid == row.sid),
        })
        .collect())
}

/// Ends one of the user's own grants (the sessions page). Returns whether one was ended; a
/// second submission finds nothing.
pub async fn end_own<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    user: &user_entity::Model,
    grant_id: i32,
) -> Result<bool> {
    let txn = crate::accounts::transaction::begin(db).await?;
    let Some(grant) = oidc_grants::Entity::find_by_id(grant_id)
        .filter(oidc_grants::Column::UserId.eq(user.user_id))
        .one(&txn)
        .await?
    else {
        return Ok(false);
    };
    revoke(
        &txn,
        actor,
        &grant,
        Some(user),
        action::REVOKED,
        "ended_by_user",
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// Deletes what can no longer be used: grants past their end, codes never redeemed an hour
/// after they expired, access tokens past their expiry.
pub async fn prune(conn: &impl ConnectionTrait) -> Result<()> {
    let now = clock::now();
    oidc_grants::Entity::delete_many()
        .filter(
            oidc_grants::Column::Expires
                .lt(now)
                .or(oidc_grants::Column::CodeUsed
                    .is_null()
                    .and(oidc_grants::Column::CodeExpires.lt(now - time::Duration::hours(1)))),
        )
        .exec(conn)
        .await?;
    oidc_tokens::Entity::delete_many()
        .filter(oidc_tokens::Column::Kind.eq(crate::accounts::oidc::tokens::ACCESS))
        .filter(oidc_tokens::Column::Expires.lt(now))
        .exec(conn)
        .await?;
    Ok(())
}
