//! What a user's row shows besides the user's own columns (a second factor, a live reset
//! link, a role that requires a second factor), read with the user on a signed-in request or
//! for a page of rows.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ConnectionTrait, FromQueryResult};

use crate::accounts::clock;
use crate::accounts::error::{Error, Result};
use crate::entities::users;

/// What a user's row shows besides the user's own columns (SPEC §9, §10).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RowStatus {
    /// The user has a second factor (a TOTP device or a passkey).
    pub has_factor: bool,
    /// When the user's live reset or set-up link expires (`None`: no live link).
    pub link_expires: Option<time::PrimitiveDateTime>,
    /// The user is in a role that requires a second factor (SPEC §14; part of
    /// `mfa::required`).
    #[serde(default)]
    pub in_mfa_role: bool,
    /// Whether the user holds any role, where it was read with the user (`None`: not read, as
    /// for user lists): an `@me` of a user without roles needs no statement to list them.
    #[serde(default)]
    pub has_roles: Option<bool>,
}

/// The [`RowStatus`] columns of the user whose id is in column `user_column`, as SQL for a
/// statement that reads the user anyway (a signed-in request: `has_factor`, `link_expires`,
/// `in_mfa_role`); `now` is the placeholder of the current time. Read back with
/// [`RowStatus::from_row`].
pub fn row_status_sql(user_column: &str, now: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM totp_devices WHERE totp_devices.user_id = {user_column}) \
         OR EXISTS (SELECT 1 FROM passkeys WHERE passkeys.user_id = {user_column})) AS has_factor, \
         (SELECT MAX(reset_links.expires) FROM reset_links WHERE reset_links.user_id = {user_column} \
         AND reset_links.state = '{live}' AND reset_links.expires > {now}) AS link_expires, \
         {in_mfa_role} AS in_mfa_role, \
         EXISTS (SELECT 1 FROM user_roles WHERE user_roles.user_id = {user_column}) AS has_roles",
        live = crate::accounts::reset_links::state::LIVE,
        in_mfa_role = crate::accounts::roles::mfa_required_sql(user_column)
    )
}

impl RowStatus {
    /// The columns of [`row_status_sql`] in a result row.
    pub fn from_row(row: &sea_orm::QueryResult) -> std::result::Result<Self, sea_orm::DbErr> {
        Ok(RowStatus {
            has_factor: row.try_get::<bool>("", "has_factor")?,
            link_expires: row.try_get::<Option<time::PrimitiveDateTime>>("", "link_expires")?,
            in_mfa_role: row.try_get::<bool>("", "in_mfa_role")?,
            has_roles: Some(row.try_get::<bool>("", "has_roles")?),
        })
    }
}

/// A user with their grants and [`RowStatus`], in one statement: what a request signed in
/// with a login token needs (a session reads the same with its row, see `DbSessionStore`).
pub async fn signed_in_user(
    conn: &impl ConnectionTrait,
    user_id: i32,
) -> Result<Option<(users::Model, Vec<crate::accounts::grants::Grant>, RowStatus)>> {
    let backend = conn.get_database_backend();
    // SQLite numbers `?` in the order they appear: the time (in the select list) comes first.
    let (now, id) = match backend {
        sea_orm::DbBackend::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    };
    let sql = format!(
        "SELECT u.*, p.permission AS grant_name, p.quantity AS grant_quantity, {status} \
         FROM users u LEFT JOIN user_permissions p ON p.user_id = u.user_id \
         WHERE u.user_id = {id} ORDER BY p.permission",
        status = row_status_sql("u.user_id", now)
    );
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [clock::now().into(), user_id.into()],
        ))
        .await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let user = users::Model::from_query_result(first, "")?;
    let status = RowStatus::from_row(first)?;
    Ok(Some((
        user,
        crate::accounts::grants::grants_of_rows(&rows)?,
        status,
    )))
}

/// The [`RowStatus`] of one user, in one statement (it is on the path of every `@me`).
pub async fn row_status(conn: &impl ConnectionTrait, user_id: i32) -> Result<RowStatus> {
    use sea_orm::sea_query::{Alias, Func, Query, SimpleExpr, SubQueryStatement};
    let link: SimpleExpr = SimpleExpr::SubQuery(
        None,
        Box::new(SubQueryStatement::SelectStatement(
            Query::select()
                .expr(Func::max(Expr::col(Alias::new("expires"))))
                .from(Alias::new("reset_links"))
                .and_where(Expr::col(Alias::new("user_id")).eq(user_id))
                .and_where(
                    Expr::col(Alias::new("state")).eq(crate::accounts::reset_links::state::LIVE),
                )
                .and_where(Expr::col(Alias::new("expires")).gt(clock::now()))
                .to_owned(),
        )),
    );
    let query = Query::select()
        .expr_as(
            crate::accounts::mfa::has_factor_expr(user_id),
            Alias::new("has_factor"),
        )
        .expr_as(link, Alias::new("link_expires"))
        .expr_as(
            crate::accounts::roles::mfa_required_expr(user_id),
            Alias::new("in_mfa_role"),
        )
        .expr_as(
            Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(Alias::new("user_roles"))
                    .and_where(Expr::col(Alias::new("user_id")).eq(user_id))
                    .to_owned(),
            ),
            Alias::new("has_roles"),
        )
        .to_owned();
    let statement = conn.get_database_backend().build(&query);
    let row = conn
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("no row from the status query")))?;
    Ok(RowStatus::from_row(&row)?)
}

/// The [`RowStatus`] of each of `user_ids` (four statements, for user lists).
pub async fn row_statuses(
    conn: &impl ConnectionTrait,
    user_ids: &[i32],
) -> Result<std::collections::HashMap<i32, RowStatus>> {
    let with_factors = crate::accounts::mfa::with_factors(conn, user_ids.iter().copied()).await?;
    let links = crate::accounts::reset_links::live_until_of(conn, user_ids).await?;
    let in_mfa_roles = crate::accounts::roles::in_mfa_roles(conn, user_ids).await?;
    Ok(user_ids
        .iter()
        .map(|&id| {
            (
                id,
                RowStatus {
                    has_factor: with_factors.contains(&id),
                    link_expires: links.get(&id).copied(),
                    in_mfa_role: in_mfa_roles.contains(&id),
                    has_roles: None,
                },
            )
        })
        .collect())
}

/// Until when each of `user_ids` that is locked out now by failed sign-ins stays locked (SPEC
/// §3a; the users table's *locked* badge, the same condition as the overview's *locked now*),
/// in one statement. Users who are not locked are left out.
pub async fn locked_until_of(
    conn: &impl ConnectionTrait,
    user_ids: &[i32],
) -> Result<std::collections::HashMap<i32, time::PrimitiveDateTime>> {
    use crate::entities::login_throttle;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    if user_ids.is_empty() {
        return Ok(Default::default());
    }
    let mut out = std::collections::HashMap::new();
    for row in login_throttle::Entity::find()
        .filter(login_throttle::Column::UserId.is_in(user_ids.iter().copied()))
        .filter(login_throttle::Column::LockedUntil.gt(clock::now()))
        .all(conn)
        .await?
    {
        if let (Some(user_id), Some(until)) = (row.user_id, row.locked_until) {
            let latest = out.entry(user_id).or_insert(until);
            *latest = Ord::max(*latest, until);
        }
    }
    Ok(out)
}
