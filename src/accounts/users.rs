//! Users: names and e-mail addresses as stored, lookups, creation, the last-superuser guard;
//! the lists a caller may see in `listing`, what a row shows besides the user in `status`.
//! Every query takes any `ConnectionTrait`, so it runs inside a transaction as well as on
//! the pool.

mod listing;
mod status;

pub(crate) use listing::visible_to;
pub use listing::{UserFilter, UserPage, list_visible, names_of, search_visible};
pub use status::{
    RowStatus, locked_until_of, row_status, row_status_sql, row_statuses, signed_in_user,
};

use rand::RngExt;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QueryTrait, Set, TransactionSession, TransactionTrait,
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

/// The id of the manager a form names by username (of a user or a role); an empty field
/// means none, an unknown name is refused beside the `manager` field.
pub async fn manager_named(conn: &impl ConnectionTrait, name: &str) -> Result<Option<i32>> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(None);
    }
    match find_by_username(conn, name).await? {
        Some(user) => Ok(Some(user.user_id)),
        None => Err(Error::invalid("manager", "manager: unknown user")),
    }
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
    /// The ids of the roles to give the new user (SPEC §14): only roles the creator may give.
    pub roles: Vec<i64>,
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
    let roles = crate::accounts::roles::plan_for_new(db, caller, &new.roles).await?;
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
            crate::accounts::password::generate(policy.generated_length(), policy)
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
    let txn = crate::accounts::transaction::begin(db).await?;
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
        passkey_handle: Set(Some(crate::accounts::passkeys::new_handle())),
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
    roles.apply(&txn, actor, &user).await?;
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
    if setup_link.is_some() {
        crate::metrics::reset_issued(crate::metrics::Reset::SetupLink);
    }
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

/// How many users name `manager_id` as their manager (the `USER_CONFIG` quota counts them).
pub async fn count_managed(conn: &impl ConnectionTrait, manager_id: i32) -> Result<u64> {
    Ok(users::Entity::find()
        .filter(users::Column::Manager.eq(manager_id))
        .count(conn)
        .await?)
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
