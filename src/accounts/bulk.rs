//! Bulk actions (SPEC §11): *require a password change at next sign-in* or *end sessions* for
//! many users at once, from the users table and from `passgate user require-change`. Applied
//! only to the users the caller may act on (as for a password reset); the rest are reported
//! and nothing changes for them. Each affected user gets an audit entry.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession, TransactionTrait,
};

use crate::accounts::audit::{self, Actor, action};
use crate::accounts::clock;
use crate::accounts::error::Result;
use crate::accounts::permissions::target_of;
use crate::accounts::permissions::{self, Caller, Denied};
use crate::accounts::sessions;
use crate::entities::users as user_entity;

/// Users read per statement (well under SQLite's limit of bound values).
const CHUNK: usize = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BulkAction {
    RequireChange,
    EndSessions,
}

/// Why a selected user was left alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Skipped {
    /// The caller selected themselves (their own password and sessions have their own pages).
    Yourself,
    /// The caller may not act on this user.
    NotAllowed,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct BulkReport {
    /// The usernames the action was applied to.
    pub applied: Vec<String>,
    pub skipped: Vec<(String, Skipped)>,
    /// Selected ids that name no user (deleted meanwhile, or made up).
    pub unknown: usize,
}

/// Applies `what` to `user_ids` for `caller` (the operator at the command line,
/// [`Caller::operator`], may act on anyone).
pub async fn apply<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    actor: &Actor,
    caller: &Caller,
    what: BulkAction,
    user_ids: &[i32],
) -> Result<BulkReport> {
    let mut ids: Vec<i32> = user_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        found.extend(
            user_entity::Entity::find()
                .filter(user_entity::Column::UserId.is_in(chunk.iter().copied()))
                .all(db)
                .await?,
        );
    }
    let mut report = BulkReport {
        unknown: ids.len() - found.len(),
        ..Default::default()
    };
    for user in found {
        match permissions::can_reset(caller, &target_of(&user)) {
            Ok(()) => {}
            Err(Denied::SelfReset) => {
                report.skipped.push((user.username, Skipped::Yourself));
                continue;
            }
            Err(Denied::AccessDenied) => {
                report.skipped.push((user.username, Skipped::NotAllowed));
                continue;
            }
        }
        let txn = crate::accounts::transaction::begin(db).await?;
        match what {
            BulkAction::RequireChange => require_change(&txn, actor, &user).await?,
            BulkAction::EndSessions => sessions::end_all_unchecked(&txn, actor, &user).await?,
        }
        txn.commit().await?;
        report.applied.push(user.username);
    }
    report.applied.sort();
    report.skipped.sort();
    Ok(report)
}

/// Flags the user for a password change at their next request (the gate holds them at the
/// change page); their password, sessions and tokens stay. Audited only when it changed, so
/// a repeated submission writes nothing.
async fn require_change(
    conn: &impl ConnectionTrait,
    actor: &Actor,
    user: &user_entity::Model,
) -> Result<()> {
    let changed = user_entity::Entity::update_many()
        .col_expr(
            user_entity::Column::RequirePasswordChange,
            Expr::value(true),
        )
        .col_expr(user_entity::Column::LastUpdate, Expr::value(clock::now()))
        .filter(user_entity::Column::UserId.eq(user.user_id))
        .filter(user_entity::Column::RequirePasswordChange.eq(false))
        .exec(conn)
        .await?
        .rows_affected;
    if changed > 0 {
        audit::record(
            conn,
            actor,
            Some((user.user_id, &user.username)),
            action::PASSWORD_CHANGE_REQUIRED,
            String::new(),
        )
        .await?;
    }
    Ok(())
}
