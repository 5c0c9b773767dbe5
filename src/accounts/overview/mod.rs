//! The administrator's overview (SPEC §18): how many of the users an administrator sees are in
//! each state, the sign-ins and resets of the last 30 days, and the applications' recent
//! users — three statements whatever the number of users, days or applications.

mod activity;
mod apps_used;
mod counts;
pub mod status;

pub use activity::{CHART_DAYS, Day, last_days, prune_viewer_days};
pub use apps_used::{APP_WINDOW, AppUse, apps_used};
pub use counts::{Counts, counts};
pub use status::{EXPIRING_WITHIN, StatusFilter, UserStatus};

use sea_orm::ConnectionTrait;
use time::PrimitiveDateTime;

use crate::accounts::error::{Error, Result};
use crate::accounts::permissions::Caller;
use crate::accounts::users::visible_to;
use crate::config::MfaPolicy;
use crate::entities::users;

/// What the overview shows one administrator, as of one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overview {
    pub counts: Counts,
    /// The chart's days, oldest first.
    pub days: Vec<Day>,
    /// Every application (none: the section is left out).
    pub apps: Vec<AppUse>,
}

/// Whether `caller` has an overview: superusers (of everyone) and `USER_CONFIG` holders (of
/// the users they manage, and themselves — the users table's rows).
pub fn has_overview(caller: &Caller) -> bool {
    caller.is_superuser() || caller.has_user_config()
}

/// The overview of the users `caller` sees, as of `now` (UTC; the chart's days are UTC days).
/// Anyone else is refused ([`Error::Denied`]).
pub async fn overview(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    policy: MfaPolicy,
    now: PrimitiveDateTime,
) -> Result<Overview> {
    if !has_overview(caller) {
        return Err(Error::Denied);
    }
    Ok(Overview {
        counts: counts(conn, caller, policy, now).await?,
        days: last_days(conn, caller, now.date()).await?,
        apps: apps_used(conn, caller, now).await?,
    })
}

/// The users `caller` sees in `status` (all they see with `None`), in username order: the
/// users table's own query ([`crate::accounts::users::UserFilter`]).
pub(crate) fn filtered_query(
    caller: &Caller,
    status: Option<StatusFilter>,
) -> sea_orm::Select<users::Entity> {
    crate::accounts::users::UserFilter {
        status,
        ..Default::default()
    }
    .apply(visible_to(caller))
}
