//! User queries and creation. Every query takes any `ConnectionTrait`, so it runs inside a
//! transaction as well as on the pool.

use rand::RngExt;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set, TransactionSession, TransactionTrait,
};

use crate::accounts::audit::{self, Actor, action};
use crate::accounts::clock;
use crate::accounts::error::{Error, Result};
use crate::accounts::password::{Hasher, Policy};
use crate::accounts::permissions::{self, Caller};
use crate::accounts::preferences::{
    DEFAULT_DASHBOARD_COLUMNS, DEFAULT_HINTS, DEFAULT_SERVER_ORDER, DEFAULT_THEME,
};
use crate::accounts::secret::Secret;
use crate::entities::users;

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 20;
/// Largest `expires_hours` accepted (one year).
pub const MAX_EXPIRES_HOURS: i64 = 8760;

/// A fresh random security stamp (256 bits, hex).
pub fn new_stamp() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// Usernames are stored lowercase: 3–20 of `[a-z0-9_]`. Returns the stored form.
pub fn normalize_username(input: &str) -> Result<String> {
    let name = input.trim().to_ascii_lowercase();
    let ok = (USERNAME_MIN..=USERNAME_MAX).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(name)
    } else {
        Err(Error::invalid(
            "username",
            "username: 3 to 20 characters of a-z, 0-9 and _",
        ))
    }
}

/// A plausible email address (trimmed), or `INVALID_JSON_SCHEMA` naming the field.
pub fn validate_email(email: &str) -> Result<String> {
    let email = email.trim();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
        })
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email.to_string())
    } else {
        Err(Error::invalid("email", "email: not an email address"))
    }
}

/// When a temporary password given `expires_hours` from now expires; -1 means never.
pub fn expiry_from_hours(expires_hours: i64) -> Result<Option<time::PrimitiveDateTime>> {
    match expires_hours {
        -1 => Ok(None),
        1..=MAX_EXPIRES_HOURS => Ok(Some(clock::now() + time::Duration::hours(expires_hours))),
        _ => Err(Error::invalid(
            "expires_hours",
            "expires_hours: -1 (never) or 1 to 8760",
        )),
    }
}

pub async fn find_by_id(conn: &impl ConnectionTrait, user_id: i32) -> Result<Option<users::Model>> {
    Ok(users::Entity::find_by_id(user_id).one(conn).await?)
}

pub async fn get(conn: &impl ConnectionTrait, user_id: i32) -> Result<users::Model> {
    find_by_id(conn, user_id).await?.ok_or(Error::UserNotFound)
}

/// Looks a username up in its stored (lowercase) form; anything that cannot be a username is
/// simply not found.
pub async fn find_by_username(
    conn: &impl ConnectionTrait,
    username: &str,
) -> Result<Option<users::Model>> {
    let Ok(name) = normalize_username(username) else {
        return Ok(None);
    };
    Ok(users::Entity::find()
        .filter(users::Column::Username.eq(name))
        .one(conn)
        .await?)
}

pub async fn count(conn: &impl ConnectionTrait) -> Result<u64> {
    Ok(users::Entity::find().count(conn).await?)
}

pub async fn list_all(conn: &impl ConnectionTrait) -> Result<Vec<users::Model>> {
    Ok(users::Entity::find()
        .order_by_asc(users::Column::Username)
        .all(conn)
        .await?)
}

/// True when the user's temporary password has an expiry that has passed.
pub fn temp_password_expired(user: &users::Model) -> bool {
    user.password_expires.is_some_and(|at| at <= clock::now())
}

/// Records a sign-in from `ip`, but only while the user's security stamp is still the one
/// `user` was read with: a reset, change or disabling that committed while the password was
/// being checked wins, and the sign-in is refused (`None`). Returns the user as stored now.
/// One statement (`UPDATE … RETURNING`).
pub async fn record_login(
    conn: &impl ConnectionTrait,
    user: &users::Model,
    ip: &str,
) -> Result<Option<users::Model>> {
    let mut update = users::Entity::update_many()
        .col_expr(users::Column::LastLogin, Expr::value(Some(clock::now())))
        .col_expr(
            users::Column::LastIp,
            Expr::value(ip.chars().take(64).collect::<String>()),
        )
        .filter(users::Column::UserId.eq(user.user_id))
        .filter(users::Column::SecurityStamp.eq(user.security_stamp.as_str()))
        .into_query();
    update.returning_all();
    let statement = conn.get_database_backend().build(&update);
    Ok(users::Model::find_by_statement(statement).one(conn).await?)
}

/// What a new account looks like.
pub struct NewUser {
    pub username: String,
    /// `None`: generate one (returned to the caller, shown once).
    pub password: Option<Secret>,
    pub email: Option<String>,
    pub superuser: bool,
    /// The manager a superuser chooses; anyone else creates users they manage themselves.
    pub manager: Option<i32>,
    pub lang: String,
    pub require_password_change: bool,
    pub expires_hours: i64,
    pub enabled: bool,
    pub permissions: Vec<crate::accounts::grants::Grant>,
    /// The user must have a second factor (SPEC §9; held at enrolment until they have one).
    pub require_mfa: bool,
    /// Crafty's preferences, stored as given (the rest keep Crafty's defaults).
    pub preferences: crate::accounts::preferences::Preferences,
    /// Send a set-up link (valid this many hours) instead of a password: the account has no
    /// usable password until the link is used (SPEC §10). `password` must then be `None`.
    pub setup_link: Option<i64>,
}

/// The stored password of an account made with a set-up link: not a PHC string, so no
/// password matches it (verification still spends the dummy hash's time).
pub const NO_PASSWORD_YET: &str = "!set-up link pending";

/// A new user with what is shown to the creator once: a generated password or a set-up link.
pub struct Created {
    pub user: users::Model,
    pub generated: Option<Secret>,
    pub setup_link: Option<crate::accounts::reset_links::NewLink>,
}

/// Creates a user for `caller`: a superuser (or the operator, [`Caller::operator`]) as
/// asked; a `USER_CONFIG` holder only plain users they then manage, within their quota
/// (counted again under a lock inside the transaction). Checks the username, the manager and
/// the password policy. Returns the user and the generated password or set-up link, if any.
pub async fn create<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    hasher: &Hasher,
    policy: &Policy,
    actor: &Actor,
    caller: &Caller,
    mut new: NewUser,
) -> Result<Created> {
    // Only a quota holder's count matters (a superuser and the operator have none).
    let managed = if caller.is_superuser() {
        0
    } else {
        count_managed(db, caller.user_id).await?
    };
    permissions::can_create(caller, managed, new.superuser, !new.permissions.is_empty())?;
    let quota = if caller.is_superuser() {
        None
    } else {
        new.manager = Some(caller.user_id);
        caller.user_config
    };
    if let Some(manager_id) = new.manager
        && find_by_id(db, manager_id).await?.is_none()
    {
        return Err(Error::invalid("manager", "manager: not an existing user"));
    }
    let username = normalize_username(&new.username)?;
    let lang = crate::accounts::lang::validate(&new.lang)?;
    let email = match new
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        Some(email) => Some(validate_email(email)?),
        None => None,
    };
    crate::accounts::grants::validate(&new.permissions)?;
    new.preferences.validate()?;
    let password_expires = expiry_from_hours(new.expires_hours)?;
    let link_options = match new.setup_link {
        Some(_) if new.password.is_some() => {
            return Err(Error::invalid(
                "password",
                "password: not with setup_link (the user chooses it through the link)",
            ));
        }
        Some(hours) => Some(crate::accounts::reset_links::LinkOptions::checked(
            hours, false, false,
        )?),
        None => None,
    };
    let (password, generated) = match new.password {
        _ if link_options.is_some() => (Secret::new(String::new()), false),
        Some(password) => {
            policy
                .check(&username, password.expose())
                .map_err(Error::Policy)?;
            (password, false)
        }
        None => (
            crate::accounts::password::generate(
                crate::accounts::password::GENERATED_DEFAULT_LENGTH,
                policy,
            )
            .map_err(Error::Policy)?,
            true,
        ),
    };
    if find_by_username(db, &username).await?.is_some() {
        return Err(Error::UserExists);
    }
    let hash = if link_options.is_some() {
        NO_PASSWORD_YET.to_string()
    } else {
        hasher
            .hash(&password)
            .await
            .map_err(|e| Error::Internal(e.into()))?
    };
    let now = clock::now();
    let txn = db.begin().await?;
    if let (Some(quota), Some(manager)) = (quota.filter(|q| *q >= 0), new.manager) {
        crate::accounts::locks::exclusive(&txn, crate::accounts::locks::QUOTAS).await?;
        if count_managed(&txn, manager).await? >= quota as u64 {
            return Err(Error::Denied);
        }
    }
    let preferences = new.preferences;
    let inserted = users::ActiveModel {
        username: Set(username.clone()),
        password: Set(hash),
        email: Set(email),
        enabled: Set(new.enabled),
        superuser: Set(new.superuser),
        manager: Set(new.manager),
        lang: Set(lang),
        created: Set(now),
        last_update: Set(now),
        last_login: Set(None),
        last_ip: Set(String::new()),
        security_stamp: Set(new_stamp()),
        require_password_change: Set(new.require_password_change),
        password_expires: Set(password_expires),
        require_mfa: Set(new.require_mfa),
        // Every column is given: a row read back must never depend on a column default.
        theme: Set(preferences.theme.unwrap_or_else(|| DEFAULT_THEME.into())),
        hints: Set(preferences.hints.unwrap_or(DEFAULT_HINTS)),
        server_order: Set(preferences
            .server_order
            .unwrap_or_else(|| DEFAULT_SERVER_ORDER.into())),
        dashboard_columns: Set(preferences
            .dashboard_columns
            .unwrap_or_else(|| DEFAULT_DASHBOARD_COLUMNS.into())),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let user = match inserted {
        Ok(user) => user,
        // A concurrent create of the same name loses on the unique index.
        Err(err) if is_unique_violation(&err) => return Err(Error::UserExists),
        Err(err) => return Err(err.into()),
    };
    crate::accounts::grants::replace(&txn, user.user_id, &new.permissions).await?;
    audit::record(
        &txn,
        actor,
        Some((user.user_id, &user.username)),
        action::USER_CREATED,
        format!(
            "superuser={} require_password_change={} expires={} require_mfa={} setup_link={}",
            user.superuser,
            user.require_password_change,
            user.password_expires
                .map(clock::rfc3339)
                .unwrap_or_else(|| "never".into()),
            user.require_mfa,
            link_options.is_some()
        ),
    )
    .await?;
    let setup_link = match link_options {
        Some(options) => Some(
            crate::accounts::reset_links::create_unchecked(
                &txn,
                actor,
                &user,
                crate::accounts::reset_links::Purpose::Setup,
                options,
            )
            .await?,
        ),
        None => None,
    };
    txn.commit().await?;
    Ok(Created {
        user,
        generated: generated.then_some(password),
        setup_link,
    })
}

fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// The users a caller may see: superusers all; `USER_CONFIG` holders themselves and the users
/// they manage; everyone else only themselves.
pub async fn list_visible(
    conn: &impl ConnectionTrait,
    caller: &crate::accounts::permissions::Caller,
) -> Result<Vec<users::Model>> {
    Ok(visible_to(caller).all(conn).await?)
}

/// The query of the users `caller` may see, in username order.
fn visible_to(caller: &crate::accounts::permissions::Caller) -> sea_orm::Select<users::Entity> {
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

/// How many users name `manager_id` as their manager (the `USER_CONFIG` quota counts them).
pub async fn count_managed(conn: &impl ConnectionTrait, manager_id: i32) -> Result<u64> {
    Ok(users::Entity::find()
        .filter(users::Column::Manager.eq(manager_id))
        .count(conn)
        .await?)
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

/// Pages through the visible users in username order; `search` matches anywhere in the
/// username (case-insensitive, as usernames are stored lowercase).
pub async fn search_visible(
    conn: &impl ConnectionTrait,
    caller: &crate::accounts::permissions::Caller,
    search: &str,
    page: u64,
    per_page: u64,
) -> Result<UserPage> {
    let mut query = visible_to(caller);
    let needle: String = search
        .trim()
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(USERNAME_MAX)
        .collect();
    if !needle.is_empty() {
        query = query.filter(users::Column::Username.contains(needle));
    }
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

/// What a user's row shows besides the user's own columns (SPEC §9, §10).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RowStatus {
    /// The user has a second factor (a TOTP device or a passkey).
    pub has_factor: bool,
    /// When the user's live reset or set-up link expires (`None`: no live link).
    pub link_expires: Option<time::PrimitiveDateTime>,
}

/// The [`RowStatus`] columns of the user whose id is in column `user_column`, as SQL for a
/// statement that reads the user anyway (a signed-in request: `has_factor`, `link_expires`);
/// `now` is the placeholder of the current time. Read back with [`RowStatus::from_row`].
pub fn row_status_sql(user_column: &str, now: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM totp_devices WHERE totp_devices.user_id = {user_column}) \
         OR EXISTS (SELECT 1 FROM passkeys WHERE passkeys.user_id = {user_column})) AS has_factor, \
         (SELECT MAX(reset_links.expires) FROM reset_links WHERE reset_links.user_id = {user_column} \
         AND reset_links.state = '{live}' AND reset_links.expires > {now}) AS link_expires",
        live = crate::accounts::reset_links::state::LIVE
    )
}

impl RowStatus {
    /// The columns of [`row_status_sql`] in a result row.
    pub fn from_row(row: &sea_orm::QueryResult) -> std::result::Result<Self, sea_orm::DbErr> {
        Ok(RowStatus {
            has_factor: row.try_get::<bool>("", "has_factor")?,
            link_expires: row.try_get::<Option<time::PrimitiveDateTime>>("", "link_expires")?,
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
        .to_owned();
    let statement = conn.get_database_backend().build(&query);
    let row = conn
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("no row from the status query")))?;
    Ok(RowStatus {
        has_factor: row.try_get::<bool>("", "has_factor")?,
        link_expires: row.try_get::<Option<time::PrimitiveDateTime>>("", "link_expires")?,
    })
}

/// The [`RowStatus`] of each of `user_ids` (three statements, for user lists).
pub async fn row_statuses(
    conn: &impl ConnectionTrait,
    user_ids: &[i32],
) -> Result<std::collections::HashMap<i32, RowStatus>> {
    let with_factors = crate::accounts::mfa::with_factors(conn, user_ids.iter().copied()).await?;
    let links = crate::accounts::reset_links::live_until_of(conn, user_ids).await?;
    Ok(user_ids
        .iter()
        .map(|&id| {
            (
                id,
                RowStatus {
                    has_factor: with_factors.contains(&id),
                    link_expires: links.get(&id).copied(),
                },
            )
        })
        .collect())
}

pub async fn enabled_superusers(conn: &impl ConnectionTrait) -> Result<u64> {
    Ok(users::Entity::find()
        .filter(users::Column::Superuser.eq(true))
        .filter(users::Column::Enabled.eq(true))
        .count(conn)
        .await?)
}

/// Inside a transaction that is about to disable, demote or delete an enabled superuser:
/// refuses when they are the last one (counted under a lock, so two such changes at once
/// cannot both pass).
pub async fn keep_a_superuser(txn: &impl ConnectionTrait) -> Result<()> {
    crate::accounts::locks::exclusive(txn, crate::accounts::locks::SUPERUSERS).await?;
    if enabled_superusers(txn).await? <= 1 {
        return Err(Error::LastSuperuser);
    }
    Ok(())
}
