//! Roles (SPEC §14): named groups of users, as Crafty 4.10.3 has them. Creating, changing and
//! deleting roles in `manage`, who is in which role in `membership` (each use case takes the
//! caller, checks it and writes its audit entries in the same transaction); here the name
//! rule and the queries the rest of passgate reads roles with — a user's role names in one
//! statement (forward authentication's `Remote-Groups`, the OIDC `groups` claim), whether a
//! role requires a second factor of a user (SPEC §9's policy), the users table's role filter.

mod lists;
mod manage;
mod membership;

pub use lists::{Candidates, candidates, filter_options, givable};
pub use manage::{NewRole, RoleChange, create, delete, get_for, list_for, members_for, update};
pub use membership::{
    MemberChange, MembersChanged, RolesPlan, change_members, plan_for_edit, plan_for_new,
    put_members, set_members,
};

use std::collections::{HashMap, HashSet};

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait,
};

use crate::accounts::error::{Error, Result};
use crate::entities::{roles, user_roles};

/// Longest role name, in characters.
pub const NAME_MAX: usize = 64;

/// A role's name as stored: trimmed and lower-cased (so that names differing only in case
/// are the same name), 1–64 characters, none of `,` `[` `]` (Crafty's rule: names are listed
/// comma-separated, e.g. in `Remote-Groups`) and no control characters.
pub fn normalize_name(input: &str) -> Result<String> {
    let name = input.trim().to_lowercase();
    let length = name.chars().count();
    if length == 0 || length > NAME_MAX {
        return Err(Error::invalid("name", "name: 1 to 64 characters"));
    }
    if name.contains([',', '[', ']']) {
        return Err(Error::invalid("name", "name: none of the characters , [ ]"));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid("name", "name: no control characters"));
    }
    Ok(name)
}

/// A role and who manages it, as lists show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleRef {
    pub role_id: i32,
    pub role_name: String,
}

pub async fn find(conn: &impl ConnectionTrait, role_id: i32) -> Result<Option<roles::Model>> {
    Ok(roles::Entity::find_by_id(role_id).one(conn).await?)
}

/// The role with this id, or [`Error::RoleNotFound`].
pub async fn get(conn: &impl ConnectionTrait, role_id: i32) -> Result<roles::Model> {
    find(conn, role_id).await?.ok_or(Error::RoleNotFound)
}

/// The role with this name, in any case (anything that cannot be a name is not found).
pub async fn find_by_name(conn: &impl ConnectionTrait, name: &str) -> Result<Option<roles::Model>> {
    let Ok(name) = normalize_name(name) else {
        return Ok(None);
    };
    Ok(roles::Entity::find()
        .filter(roles::Column::RoleName.eq(name))
        .one(conn)
        .await?)
}

/// Every role, by name.
pub async fn list_all(conn: &impl ConnectionTrait) -> Result<Vec<roles::Model>> {
    Ok(roles::Entity::find()
        .order_by_asc(roles::Column::RoleName)
        .all(conn)
        .await?)
}

/// How many roles name `manager_id` as their manager (the `ROLES_CONFIG` quantity caps it).
pub async fn count_managed(conn: &impl ConnectionTrait, manager_id: i32) -> Result<u64> {
    Ok(roles::Entity::find()
        .filter(roles::Column::Manager.eq(manager_id))
        .count(conn)
        .await?)
}

/// The ids of a role's members, ascending.
pub async fn member_ids(conn: &impl ConnectionTrait, role_id: i32) -> Result<Vec<i32>> {
    Ok(user_roles::Entity::find()
        .select_only()
        .column(user_roles::Column::UserId)
        .filter(user_roles::Column::RoleId.eq(role_id))
        .order_by_asc(user_roles::Column::UserId)
        .into_tuple::<i32>()
        .all(conn)
        .await?)
}

/// How many members each role has (roles without members are left out).
pub async fn member_counts(conn: &impl ConnectionTrait) -> Result<HashMap<i32, u64>> {
    let rows: Vec<(i32, i64)> = user_roles::Entity::find()
        .select_only()
        .column(user_roles::Column::RoleId)
        .column_as(user_roles::Column::UserId.count(), "members")
        .group_by(user_roles::Column::RoleId)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(role, n)| (role, u64::try_from(n).unwrap_or(0)))
        .collect())
}

/// The roles of one user, by name (role objects for `GET /users/{id}`).
pub async fn of_user(conn: &impl ConnectionTrait, user_id: i32) -> Result<Vec<roles::Model>> {
    Ok(roles::Entity::find()
        .join(JoinType::InnerJoin, roles::Relation::Members.def())
        .filter(user_roles::Column::UserId.eq(user_id))
        .order_by_asc(roles::Column::RoleName)
        .all(conn)
        .await?)
}

/// The names of a user's roles, sorted, in one statement: what forward authentication sends
/// as `Remote-Groups` and OpenID Connect as `groups` (names hold no comma, so joining them
/// with `,` is unambiguous).
pub async fn names_of_user(conn: &impl ConnectionTrait, user_id: i32) -> Result<Vec<String>> {
    Ok(roles::Entity::find()
        .select_only()
        .column(roles::Column::RoleName)
        .join(JoinType::InnerJoin, roles::Relation::Members.def())
        .filter(user_roles::Column::UserId.eq(user_id))
        .order_by_asc(roles::Column::RoleName)
        .into_tuple::<String>()
        .all(conn)
        .await?)
}

/// The roles of each of `user_ids`, by name, in one statement (user lists: the API's role
/// ids, the users table's names). Users without roles are left out.
pub async fn of_users(
    conn: &impl ConnectionTrait,
    user_ids: &[i32],
) -> Result<HashMap<i32, Vec<RoleRef>>> {
    if user_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i32, i32, String)> = user_roles::Entity::find()
        .select_only()
        .column(user_roles::Column::UserId)
        .column(user_roles::Column::RoleId)
        .column(roles::Column::RoleName)
        .join(JoinType::InnerJoin, user_roles::Relation::Roles.def())
        .filter(user_roles::Column::UserId.is_in(user_ids.iter().copied()))
        .order_by_asc(roles::Column::RoleName)
        .into_tuple()
        .all(conn)
        .await?;
    let mut out: HashMap<i32, Vec<RoleRef>> = HashMap::new();
    for (user_id, role_id, role_name) in rows {
        out.entry(user_id)
            .or_default()
            .push(RoleRef { role_id, role_name });
    }
    Ok(out)
}

/// `EXISTS` a role with `mfa_required` that the user in column `user_column` is a member of,
/// as SQL for statements that read the user anyway (the session's load, a login token's
/// user): SPEC §14's part of the two-factor policy, decided on every request at no extra
/// statement.
pub fn mfa_required_sql(user_column: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM user_roles JOIN roles ON roles.role_id = user_roles.role_id \
         WHERE user_roles.user_id = {user_column} AND roles.mfa_required = TRUE)"
    )
}

/// The names of the roles of the user in column `user_column`, sorted and joined with `,`
/// (`NULL` without roles), as SQL for a statement that reads the user anyway — forward
/// authentication's decision reads session, user and roles in one statement (SPEC §15.2).
/// Read back with [`split_names`].
pub fn names_sql(user_column: &str, backend: sea_orm::DbBackend) -> String {
    match backend {
        sea_orm::DbBackend::Postgres => format!(
            "(SELECT STRING_AGG(roles.role_name, ',' ORDER BY roles.role_name) FROM user_roles \
             JOIN roles ON roles.role_id = user_roles.role_id \
             WHERE user_roles.user_id = {user_column})"
        ),
        // SQLite keeps the order of the subquery it aggregates.
        _ => format!(
            "(SELECT GROUP_CONCAT(role_name, ',') FROM (SELECT roles.role_name FROM user_roles \
             JOIN roles ON roles.role_id = user_roles.role_id \
             WHERE user_roles.user_id = {user_column} ORDER BY roles.role_name))"
        ),
    }
}

/// The names [`names_sql`] joined (role names hold no comma).
pub fn split_names(joined: Option<&str>) -> Vec<String> {
    joined
        .filter(|j| !j.is_empty())
        .map(|j| j.split(',').map(str::to_string).collect())
        .unwrap_or_default()
}

/// [`mfa_required_sql`] for one user, as an expression of a built query.
pub fn mfa_required_expr(user_id: i32) -> SimpleExpr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(user_roles::Entity)
            .inner_join(
                roles::Entity,
                Expr::col((roles::Entity, roles::Column::RoleId))
                    .equals((user_roles::Entity, user_roles::Column::RoleId)),
            )
            .and_where(Expr::col((user_roles::Entity, user_roles::Column::UserId)).eq(user_id))
            .and_where(Expr::col((roles::Entity, roles::Column::MfaRequired)).eq(true))
            .to_owned(),
    )
}

/// Whether the user is in a role that requires a second factor (one statement).
pub async fn requires_mfa(conn: &impl ConnectionTrait, user_id: i32) -> Result<bool> {
    let query = Query::select()
        .expr_as(mfa_required_expr(user_id), Alias::new("in_mfa_role"))
        .to_owned();
    let statement = conn.get_database_backend().build(&query);
    let row = conn
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("no row from EXISTS")))?;
    Ok(row.try_get::<bool>("", "in_mfa_role")?)
}

/// Which of `user_ids` are in a role that requires a second factor (one statement).
pub async fn in_mfa_roles(conn: &impl ConnectionTrait, user_ids: &[i32]) -> Result<HashSet<i32>> {
    if user_ids.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(user_roles::Entity::find()
        .select_only()
        .column(user_roles::Column::UserId)
        .distinct()
        .join(JoinType::InnerJoin, user_roles::Relation::Roles.def())
        .filter(roles::Column::MfaRequired.eq(true))
        .filter(user_roles::Column::UserId.is_in(user_ids.iter().copied()))
        .into_tuple::<i32>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

/// The condition "the user (`users.user_id`) is a member of `role_id`", for filtering a
/// query of users (the users table's `?role=`).
pub fn members_condition(role_id: i32) -> SimpleExpr {
    Expr::col((
        crate::entities::users::Entity,
        crate::entities::users::Column::UserId,
    ))
    .in_subquery(
        Query::select()
            .column(user_roles::Column::UserId)
            .from(user_roles::Entity)
            .and_where(Expr::col(user_roles::Column::RoleId).eq(role_id))
            .to_owned(),
    )
}

fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_lower_cased_and_checked() {
        assert_eq!(normalize_name("  Finance Team ").unwrap(), "finance team");
        assert_eq!(normalize_name("ÄRZTE").unwrap(), "ärzte");
        assert_eq!(normalize_name(&"x".repeat(64)).unwrap().len(), 64);
        for bad in ["", "   ", "a,b", "[ops]", "ops]", "a\u{7}b", "line\nbreak"] {
            let err = normalize_name(bad).unwrap_err();
            assert_eq!(err.field(), Some("name"), "{bad:?}");
        }
        assert!(normalize_name(&"x".repeat(65)).is_err());
        // 64 characters of two bytes each are still 64 characters.
        assert!(normalize_name(&"ö".repeat(64)).is_ok());
    }

    #[test]
    fn the_mfa_sql_names_the_user_column_it_is_given() {
        let sql = mfa_required_sql("s.user_id");
        assert!(sql.contains("user_roles.user_id = s.user_id"), "{sql}");
        assert!(sql.starts_with("EXISTS"), "{sql}");
    }
}
