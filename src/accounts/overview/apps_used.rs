//! The overview's applications (SPEC §15.1) with how many users signed in to each in the
//! last 7 days: read from `app_sign_ins` (each user's latest sign-in to each app, kept by the
//! database from the audit entries that name an app), one statement for every app.

use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, Func, JoinType, Order, Query, SimpleExpr, SubQueryStatement,
};
use sea_orm::{ConnectionTrait, QuerySelect, QueryTrait};
use time::PrimitiveDateTime;

use crate::accounts::error::Result;
use crate::accounts::permissions::Caller;
use crate::accounts::users::visible_to;
use crate::entities::{app_sign_ins, apps, users};

/// How far back *signed in to each app* looks (7 × 24 h before now).
pub const APP_WINDOW: time::Duration = time::Duration::days(7);

/// An application and how many of the users the caller sees signed in to it recently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppUse {
    pub app_id: i32,
    pub name: String,
    pub users: u64,
}

/// Every application by name, with its users of the last [`APP_WINDOW`] before `now` among
/// those `caller` sees. Empty when there are no applications.
///
/// A superuser's number is a count of each application's recent rows (the index `(app_id,
/// last_sign_in)`); a manager's, the recent rows of the users they see grouped by
/// application (the index `(user_id, last_sign_in, app_id)`: a few rows per user, whatever
/// the number of other users).
pub async fn apps_used(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    now: PrimitiveDateTime,
) -> Result<Vec<AppUse>> {
    let since = now - APP_WINDOW;
    let users_of_app: SimpleExpr = if caller.is_superuser() {
        let signed_in = Query::select()
            .expr(Expr::col(Asterisk).count())
            .from(app_sign_ins::Entity)
            .and_where(
                Expr::col((app_sign_ins::Entity, app_sign_ins::Column::AppId))
                    .equals((apps::Entity, apps::Column::AppId)),
            )
            .and_where(
                Expr::col((app_sign_ins::Entity, app_sign_ins::Column::LastSignIn)).gte(since),
            )
            .to_owned();
        SimpleExpr::SubQuery(
            None,
            Box::new(SubQueryStatement::SelectStatement(signed_in)),
        )
    } else {
        // The grouped counts joined below; an application none of them used has no row.
        Expr::cust("COALESCE(used.users, 0)")
    };
    let mut select = Query::select()
        .column((apps::Entity, apps::Column::AppId))
        .column((apps::Entity, apps::Column::Name))
        .expr_as(users_of_app, Alias::new("users"))
        .from(apps::Entity)
        .order_by_expr(
            Func::lower(Expr::col((apps::Entity, apps::Column::Name))).into(),
            Order::Asc,
        )
        .to_owned();
    if !caller.is_superuser() {
        let mut visible = visible_to(caller)
            .select_only()
            .column(users::Column::UserId)
            .into_query();
        visible.clear_order_by();
        let used = Query::select()
            .column(app_sign_ins::Column::AppId)
            .expr_as(Expr::col(Asterisk).count(), Alias::new("users"))
            .from(app_sign_ins::Entity)
            .and_where(Expr::col(app_sign_ins::Column::LastSignIn).gte(since))
            .and_where(Expr::col(app_sign_ins::Column::UserId).in_subquery(visible))
            .group_by_col(app_sign_ins::Column::AppId)
            .to_owned();
        select.join_subquery(
            JoinType::LeftJoin,
            used,
            Alias::new("used"),
            Expr::col((Alias::new("used"), app_sign_ins::Column::AppId))
                .equals((apps::Entity, apps::Column::AppId)),
        );
    }
    let backend = conn.get_database_backend();
    let rows = conn.query_all_raw(backend.build(&select)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let users: i64 = row.try_get("", "users")?;
        out.push(AppUse {
            app_id: row.try_get("", "app_id")?,
            name: row.try_get("", "name")?,
            users: u64::try_from(users).unwrap_or(0),
        });
    }
    Ok(out)
}
