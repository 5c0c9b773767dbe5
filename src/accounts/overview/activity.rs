//! The overview's chart: sign-ins (succeeded, failed) and password resets per UTC day over
//! the last 30 days, read from rows the database keeps from every audit entry (a row per day
//! and series): a superuser's from `activity_days` (every event), a `USER_CONFIG` holder's
//! from their rows of `viewer_activity_days` (the events about themselves and the users they
//! manage now). One statement of at most 90 rows, whatever the number of users or events.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use time::Date;

use crate::accounts::error::Result;
use crate::accounts::permissions::Caller;
use crate::entities::{activity_days, viewer_activity_days};

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
    // (day, series, events) rows, at most one per day and series.
    let rows: Vec<(Date, String, i64)> = if caller.is_superuser() {
        activity_days::Entity::find()
            .filter(activity_days::Column::Day.gte(first))
            .filter(activity_days::Column::Day.lte(today))
            .all(conn)
            .await?
            .into_iter()
            .map(|row| (row.day, row.series, row.events))
            .collect()
    } else {
        // The users a `USER_CONFIG` holder sees are themselves and those they manage
        // (`users::visible_to`): exactly what their rows count.
        viewer_activity_days::Entity::find()
            .filter(viewer_activity_days::Column::ViewerId.eq(caller.user_id))
            .filter(viewer_activity_days::Column::Day.gte(first))
            .filter(viewer_activity_days::Column::Day.lte(today))
            .all(conn)
            .await?
            .into_iter()
            .map(|row| (row.day, row.series, row.events))
            .collect()
    };
    let mut by_day: HashMap<Date, Day> = HashMap::new();
    for (date, series, events) in rows {
        let Some(series) = Series::parse(&series) else {
            continue;
        };
        by_day
            .entry(date)
            .or_insert(Day::empty(date))
            .add(series, u64::try_from(events).unwrap_or(0));
    }
    Ok((0..CHART_DAYS)
        .map(|offset| {
            let date = first + time::Duration::days(offset);
            by_day.get(&date).copied().unwrap_or(Day::empty(date))
        })
        .collect())
}

/// Deletes the rows of `viewer_activity_days` before the first day a chart can show as of
/// `today` (UTC): they are never read again (the chart moves forward), and without this the
/// table would grow by a row per active user and day. Returns how many went.
pub async fn prune_viewer_days(conn: &impl ConnectionTrait, today: Date) -> Result<u64> {
    let first = today - time::Duration::days(CHART_DAYS - 1);
    Ok(viewer_activity_days::Entity::delete_many()
        .filter(viewer_activity_days::Column::Day.lt(first))
        .exec(conn)
        .await?
        .rows_affected)
}
