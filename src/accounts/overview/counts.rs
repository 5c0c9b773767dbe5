//! The overview's numbers of users: one per [`UserStatus`] and the enabled users the
//! second-factor coverage is a share of, in one statement, each counting the users table's
//! own filter condition (so a card and the table it links to agree by construction; *no
//! second factor* is counted as its equal, the enabled less the enabled with a factor).
//!
//! Two shapes of the same conditions, chosen by who asks (measured on SQLite with 10,000
//! users): a superuser's are one counting subquery per card, each reading its index (~3 ms;
//! one pass over every user evaluating every condition took ~9 ms); a manager's are one pass
//! over the users they see, found by `user_id` or `manager`, with a `SUM(CASE …)` per card
//! (~2 ms for 1,000 users, where eleven subqueries each scanned the `enabled` index of the
//! whole table: ~9 ms).

use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Query, SimpleExpr, SubQueryStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QuerySelect, QueryTrait};
use time::PrimitiveDateTime;

use super::filtered_query;
use super::status::{UserStatus, enabled_with_factor};
use crate::accounts::error::{Error, Result};
use crate::accounts::permissions::Caller;
use crate::config::MfaPolicy;
use crate::entities::users;

/// How many of the users a caller sees are in each state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// In the order of [`UserStatus::ALL`].
    pub by_status: Vec<(UserStatus, u64)>,
    /// The enabled users (what the second-factor coverage is a share of).
    pub enabled: u64,
}

impl Counts {
    pub fn of(&self, status: UserStatus) -> u64 {
        self.by_status
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n)
    }
}

/// `SELECT COUNT(*)` of a query of users, as a scalar subquery.
fn count_of(query: sea_orm::Select<users::Entity>) -> SimpleExpr {
    let mut select = query
        .select_only()
        .expr(Expr::col(Asterisk).count())
        .into_query();
    select.clear_order_by();
    SimpleExpr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(select)))
}

/// `SUM(CASE WHEN condition THEN 1 ELSE 0 END)`: how many rows of a pass meet `condition`
/// (`NULL` over no rows, read as 0).
fn how_many(condition: SimpleExpr) -> SimpleExpr {
    Expr::case(condition, 1).finally(0).sum()
}

const ENABLED: &str = "enabled_users";

/// The counts of the users `caller` sees (the users table's rows) as of `now`.
pub async fn counts(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    policy: MfaPolicy,
    now: PrimitiveDateTime,
) -> Result<Counts> {
    let select = if caller.is_superuser() {
        let mut select = Query::select();
        let enabled =
            || count_of(filtered_query(caller, None).filter(users::Column::Enabled.eq(true)));
        for status in UserStatus::ALL {
            let count = match status {
                // The enabled less those with a factor: the same users as the card's condition,
                // counted from the few with a factor instead of probing every enabled user's
                // devices and passkeys (1.6 ms for 10,000 users).
                UserStatus::NoMfa => enabled().sub(count_of(
                    filtered_query(caller, None).filter(enabled_with_factor()),
                )),
                _ => count_of(filtered_query(caller, Some(status.at(now, policy)))),
            };
            select.expr_as(count, Alias::new(status.as_str()));
        }
        select.expr_as(enabled(), Alias::new(ENABLED));
        select
    } else {
        let mut select = filtered_query(caller, None).select_only().into_query();
        select.clear_order_by();
        for status in UserStatus::ALL {
            select.expr_as(
                how_many(status.at(now, policy).condition()),
                Alias::new(status.as_str()),
            );
        }
        select.expr_as(
            how_many(users::Column::Enabled.eq(true)),
            Alias::new(ENABLED),
        );
        select
    };
    let statement = conn.get_database_backend().build(&select);
    let row = conn
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("no row from the overview's counts")))?;
    let read = |name: &str| -> Result<u64> {
        let n: Option<i64> = row.try_get("", name)?;
        Ok(n.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
    };
    let mut by_status = Vec::with_capacity(UserStatus::ALL.len());
    for status in UserStatus::ALL {
        by_status.push((status, read(status.as_str())?));
    }
    Ok(Counts {
        by_status,
        enabled: read(ENABLED)?,
    })
}
