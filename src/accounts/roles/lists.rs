//! What the pages list about roles: the users whose membership a caller may change (the role
//! page's checkboxes, with its search) and the roles a viewer may filter the users table by.

use sea_orm::sea_query::ExprTrait;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, RelationTrait,
};

use super::{get_for, list_all, member_ids, members_condition};
use crate::accounts::error::Result;
use crate::accounts::permissions::Caller;
use crate::accounts::permissions::roles::{can_give_role, can_read_roles, role_target};
use crate::accounts::users::{UserFilter, visible_to};
use crate::entities::{roles, user_roles, users};

/// The users a role page offers as checkboxes.
pub struct Candidates {
    /// Members whose membership the caller may change (matching the search), by username.
    pub members: Vec<users::Model>,
    /// Non-members the caller may add (matching the search), by username; empty when the
    /// caller does not manage the role (they may only take it away).
    pub others: Vec<users::Model>,
    /// More users match than were listed: the search should be narrowed.
    pub more: bool,
    /// Members the caller may not change (not shown by name).
    pub hidden_members: u64,
    /// The caller may add members (they manage the role).
    pub can_add: bool,
}

/// The users whose membership of `role_id` the caller may change — the users they may edit
/// (a superuser: everyone; a `USER_CONFIG` holder: the users they manage), never themselves
/// unless a superuser — matching `search`, members first, at most `limit` of them.
pub async fn candidates(
    conn: &impl ConnectionTrait,
    caller: &Caller,
    role_id: i32,
    search: &str,
    limit: u64,
) -> Result<Candidates> {
    let role = get_for(conn, caller, role_id).await?;
    let editable = || {
        let mut query = visible_to(caller);
        if !caller.is_superuser() {
            query = query.filter(users::Column::UserId.ne(caller.user_id));
        }
        query
    };
    let filter = UserFilter {
        search: search.to_string(),
        role: None,
        status: None,
    };
    let members = filter
        .apply(editable())
        .filter(members_condition(role.role_id))
        .limit(limit + 1)
        .all(conn)
        .await?;
    let can_add = can_give_role(caller, &role_target(&role)).is_ok();
    let room = limit.saturating_sub(members.len() as u64);
    let others = if can_add && room > 0 {
        filter
            .apply(editable())
            .filter(members_condition(role.role_id).not())
            .limit(room + 1)
            .all(conn)
            .await?
    } else {
        Vec::new()
    };
    let mut listed: Vec<users::Model> = members;
    let members_listed = listed.len();
    listed.extend(others);
    let more = listed.len() as u64 > limit;
    listed.truncate(limit as usize);
    let others = listed.split_off(members_listed.min(listed.len()));
    let editable_members = editable()
        .filter(members_condition(role.role_id))
        .count(conn)
        .await?;
    let all_members = member_ids(conn, role.role_id).await?.len() as u64;
    Ok(Candidates {
        members: listed,
        others,
        more,
        hidden_members: all_members.saturating_sub(editable_members),
        can_add,
    })
}

/// The roles the users table offers as a filter: every role for whoever may read roles;
/// otherwise the roles of the users the viewer may see (a manager learns no other role).
pub async fn filter_options(
    conn: &impl ConnectionTrait,
    caller: &Caller,
) -> Result<Vec<roles::Model>> {
    if can_read_roles(caller).is_ok() {
        return list_all(conn).await;
    }
    let mut visible = visible_to(caller)
        .select_only()
        .column(users::Column::UserId)
        .into_query();
    visible.clear_order_by();
    Ok(roles::Entity::find()
        .join(JoinType::InnerJoin, roles::Relation::Members.def())
        .filter(user_roles::Column::UserId.in_subquery(visible))
        .distinct()
        .order_by_asc(roles::Column::RoleName)
        .all(conn)
        .await?)
}

/// The roles `caller` may give (the user forms' checkboxes): every role for a superuser, the
/// roles they manage for a `ROLES_CONFIG` holder, none for anyone else.
pub async fn givable(conn: &impl ConnectionTrait, caller: &Caller) -> Result<Vec<roles::Model>> {
    if caller.is_superuser() {
        return list_all(conn).await;
    }
    if !caller.has_roles_config() {
        return Ok(Vec::new());
    }
    Ok(roles::Entity::find()
        .filter(roles::Column::Manager.eq(caller.user_id))
        .order_by_asc(roles::Column::RoleName)
        .all(conn)
        .await?)
}
