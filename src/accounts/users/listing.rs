//! The users a caller may see: the list, the users table's pages and search, and names of
//! managers.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};

use super::USERNAME_MAX;
use crate::accounts::error::Result;
use crate::accounts::overview::StatusFilter;
use crate::accounts::permissions::Caller;
use crate::entities::users;

/// The users a caller may see: superusers all; `USER_CONFIG` holders themselves and the users
/// they manage; everyone else only themselves.
pub async fn list_visible(
    conn: &impl ConnectionTrait,
    caller: &Caller,
) -> Result<Vec<users::Model>> {
    Ok(visible_to(caller).all(conn).await?)
}

/// The query of the users `caller` may see, in username order.
pub(crate) fn visible_to(caller: &Caller) -> sea_orm::Select<users::Entity> {
    let query = users::Entity::find().order_by_asc(users::Column::Username);
    if caller.is_superuser() {
        return query;
    }
    let own = users::Column::UserId.eq(caller.user_id);
    if caller.has_user_config() {
        query.filter(own.or(users::Column::Manager.eq(caller.user_id)))
    } else {
        query.filter(own)
    }
}

/// One page of the users a caller may see, optionally filtered by a username fragment.
pub struct UserPage {
    pub users: Vec<users::Model>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

impl UserPage {
    pub fn pages(&self) -> u64 {
        Ord::max(self.total.div_ceil(self.per_page), 1)
    }
}

/// What the users table is narrowed to (every part optional; they combine).
#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    /// Matches anywhere in the username (case-insensitive, as usernames are stored lowercase).
    pub search: String,
    /// Only the members of this role (SPEC §14; `?role=` of the users table).
    pub role: Option<i32>,
    /// Only the users in this state (SPEC §18, `?status=`): the overview's cards count the
    /// same condition.
    pub status: Option<StatusFilter>,
}

impl UserFilter {
    /// Applies the filter to a query of users.
    pub(crate) fn apply(
        &self,
        mut query: sea_orm::Select<users::Entity>,
    ) -> sea_orm::Select<users::Entity> {
        let needle = username_fragment(&self.search);
        if !needle.is_empty() {
            query = query.filter(users::Column::Username.contains(needle));
        }
        if let Some(role_id) = self.role {
            query = query.filter(crate::accounts::roles::members_condition(role_id));
        }
        if let Some(status) = &self.status {
            query = query.filter(status.condition());
        }
        query
    }
}

/// What of a search can be part of a username (lowercase `[a-z0-9_]`, at most 20 characters).
pub(crate) fn username_fragment(search: &str) -> String {
    search
        .trim()
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(USERNAME_MAX)
        .collect()
}

/// Pages through the visible users in username order, narrowed by `filter`.
pub async fn search_visible(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    filter: &UserFilter,
    page: u64,
    per_page: u64,
) -> Result<UserPage> {
    let query = filter.apply(visible_to(caller));
    // A plain COUNT(*) of the filter, without the order: the paginator's count wraps the
    // ordered query in a subquery that SQLite cannot flatten, so it read every row of the
    // table (10,000 users: ~10 ms); this one reads the username index or the b-tree only.
    let mut counting = query.clone();
    QueryTrait::query(&mut counting).clear_order_by();
    let total = counting
        .select_only()
        .column_as(Expr::col(sea_orm::sea_query::Asterisk).count(), "total")
        .into_tuple::<i64>()
        .one(conn)
        .await?
        .map_or(0, |n| u64::try_from(n).unwrap_or(0));
    let pages = Ord::max(total.div_ceil(per_page), 1);
    let page = page.clamp(1, pages);
    let users = query
        .offset((page - 1) * per_page)
        .limit(per_page)
        .all(conn)
        .await?;
    Ok(UserPage {
        users,
        total,
        page,
        per_page,
    })
}

/// Usernames of the given ids (for showing managers by name).
pub async fn names_of(
    conn: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = i32>,
) -> Result<std::collections::HashMap<i32, String>> {
    let ids: Vec<i32> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(users::Entity::find()
        .filter(users::Column::UserId.is_in(ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|u| (u.user_id, u.username))
        .collect())
}
