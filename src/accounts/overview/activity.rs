//! The overview's chart: sign-ins (succeeded, failed) and password resets per UTC day over
//! the last 30 days. A superuser's numbers come from `activity_days` (kept by the database
//! from every audit entry, a row per day and series); a `USER_CONFIG` holder's are counted
//! from the audit entries about the users they see, grouped by day in the same statement.

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
};
use time::Date;

use crate::accounts::audit::action;
use crate::accounts::error::Result;
use crate::accounts::permissions::Caller;
use crate::accounts::users::visible_to;
use crate::entities::{activity_days, audit_log, users};

/// How many days the chart shows (today, UTC, and the 29 before it).
pub const CHART_DAYS: i64 = 30;

/// What the chart counts, as `activity_days.series` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Series {
    /// A completed sign-in (`login`).
    SignIn,
    /// A refused sign-in (`login_failed`: wrong password or code, expired, disabled).
    SignInFailed,
    /// An administrator's reset: a temporary password or a reset link (not a set-up link).
    Reset,
}

impl Series {
    fn parse(name: &str) -> Option<Series> {
        match name {
            "sign_in" => Some(Series::SignIn),
            "sign_in_failed" => Some(Series::SignInFailed),
            "reset" => Some(Series::Reset),
            _ => None,
        }
    }
}

/// The SQL that names an audit entry's series (NULL: not charted). The trigger of migration
/// `m20261206_000005_overview` classifies the same way (a test holds the two together).
fn series_sql() -> String {
    format!(
        "CASE WHEN action = '{login}' THEN 'sign_in' \
         WHEN action = '{failed}' THEN 'sign_in_failed' \
         WHEN action = '{reset}' THEN 'reset' \
         WHEN action = '{link}' AND detail LIKE 'purpose=reset %' THEN 'reset' END",
        login = action::LOGIN,
        failed = action::LOGIN_FAILED,
        reset = action::PASSWORD_RESET,
        link = action::RESET_LINK_CREATED,
    )
}

/// One UTC day of the chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Day {
    pub date: Date,
    pub signed_in: u64,
    pub failed: u64,
    pub resets: u64,
}

impl Day {
    /// A day with no events.
    pub fn empty(date: Date) -> Day {
        Day {
            date,
            signed_in: 0,
            failed: 0,
            resets: 0,
        }
    }

    fn add(&mut self, series: Series, events: u64) {
        match series {
            Series::SignIn => self.signed_in += events,
            Series::SignInFailed => self.failed += events,
            Series::Reset => self.resets += events,
        }
    }
}

/// The [`CHART_DAYS`] days up to `today` (UTC), oldest first, every day present (a day with
/// no events has zeros), counting only events about the users `caller` sees — for a
/// superuser every event, also failed sign-ins with a name that is no user.
pub async fn last_days(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    today: Date,
) -> Result<Vec<Day>> {
    let first = today - time::Duration::days(CHART_DAYS - 1);
    let counted: Vec<(Date, Series, u64)> = if caller.is_superuser() {
        activity_days::Entity::find()
            .filter(activity_days::Column::Day.gte(first))
            .filter(activity_days::Column::Day.lte(today))
            .all(conn)
            .await?
            .into_iter()
            .filter_map(|row| {
                let series = Series::parse(&row.series)?;
                Some((row.day, series, u64::try_from(row.events).unwrap_or(0)))
            })
            .collect()
    } else {
        of_visible_users(conn, caller, first, today).await?
    };
    let mut by_day: HashMap<Date, Day> = HashMap::new();
    for (date, series, events) in counted {
        by_day
            .entry(date)
            .or_insert(Day::empty(date))
            .add(series, events);
    }
    Ok((0..CHART_DAYS)
        .map(|offset| {
            let date = first + time::Duration::days(offset);
            by_day.get(&date).copied().unwrap_or(Day::empty(date))
        })
        .collect())
}

/// The audit entries about the users `caller` sees, counted per UTC day and series.
async fn of_visible_users(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    first: Date,
    last: Date,
) -> Result<Vec<(Date, Series, u64)>> {
    let backend = conn.get_database_backend();
    // Timestamps are stored in UTC without a zone: the day is their date.
    let day = match backend {
        DbBackend::Postgres => "to_char(created, 'YYYY-MM-DD')",
        _ => "substr(created, 1, 10)",
    };
    let mut visible = visible_to(caller)
        .select_only()
        .column(users::Column::UserId)
        .into_query();
    visible.clear_order_by();
    let start = first.midnight();
    let end = (last + time::Duration::days(1)).midnight();
    let select = Query::select()
        .expr_as(Expr::cust(day), Alias::new("day"))
        .expr_as(Expr::cust(series_sql()), Alias::new("series"))
        .expr_as(Expr::col(Asterisk).count(), Alias::new("events"))
        .from(audit_log::Entity)
        .and_where(Expr::col(audit_log::Column::Created).gte(start))
        .and_where(Expr::col(audit_log::Column::Created).lt(end))
        .and_where(Expr::col(audit_log::Column::Action).is_in([
            action::LOGIN,
            action::LOGIN_FAILED,
            action::PASSWORD_RESET,
            action::RESET_LINK_CREATED,
        ]))
        .and_where(Expr::col(audit_log::Column::TargetId).in_subquery(visible))
        .add_group_by([Expr::cust(day), Expr::cust(series_sql())])
        .to_owned();
    let rows = conn.query_all_raw(backend.build(&select)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let series: Option<String> = row.try_get("", "series")?;
        let Some(series) = series.as_deref().and_then(Series::parse) else {
            continue;
        };
        let day: String = row.try_get("", "day")?;
        let Ok(date) = Date::parse(
            &day,
            time::macros::format_description!("[year]-[month]-[day]"),
        ) else {
            continue;
        };
        let events: i64 = row.try_get("", "events")?;
        out.push((date, series, u64::try_from(events).unwrap_or(0)));
    }
    Ok(out)
}
