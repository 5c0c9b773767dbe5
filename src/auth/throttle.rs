//! Login throttling persisted in the database, by client address and by username, so that it
//! holds across restarts and instances. Every step is a single atomic statement.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query, SimpleExpr, SubQueryStatement};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryTrait,
    Set,
};

use std::net::{IpAddr, Ipv6Addr};

use crate::accounts::clock;
use crate::auth::tokens::SigningKey;
use crate::config::ThrottleConfig;
use crate::entities::{login_throttle, users};
use crate::error::{Error, Result};

/// The throttle counters one attempt touches: the client's address bucket and the user's
/// bucket for a sign-in, the user's bucket alone for a `current_password` check.
///
/// No typed text is stored: the user's bucket is a keyed hash of the normalised username
/// (a password typed into the username field never lands in the database in clear), and an
/// IPv6 client counts with its whole /64, which one host typically holds.
pub struct Keys {
    ip: Option<String>,
    user: Option<String>,
    /// The normalised username of `user`, never stored: only the id of the user it names is,
    /// when the bucket locks (the overview's *locked now*, SPEC §18).
    username: Option<String>,
}

/// The purpose label of the username buckets' keyed hash.
const USERNAME_BUCKET: &str = "login-throttle-username";

impl Keys {
    /// A sign-in attempt from `ip` naming `username`.
    pub fn login(key: &SigningKey, ip: IpAddr, username: &str) -> Self {
        Self {
            ip: Some(address_bucket(ip)),
            user: Some(user_bucket(key, username)),
            username: Some(normalised(username)),
        }
    }

    /// A passkey's answer from `ip` on behalf of `username`, the owner of the credential
    /// it names — or of nobody (`None`: a credential id registered to no one), which counts
    /// in the address's bucket alone.
    pub fn passkey(key: &SigningKey, ip: IpAddr, username: Option<&str>) -> Self {
        Self {
            ip: Some(address_bucket(ip)),
            user: username.map(|name| user_bucket(key, name)),
            username: username.map(normalised),
        }
    }

    /// A guess of `username`'s current password by someone already signed in (their
    /// address is not counted: an office shares one).
    pub fn user(key: &SigningKey, username: &str) -> Self {
        Self {
            ip: None,
            user: Some(user_bucket(key, username)),
            username: Some(normalised(username)),
        }
    }

    fn all(&self) -> Vec<&str> {
        self.ip
            .iter()
            .chain(&self.user)
            .map(String::as_str)
            .collect()
    }
}

/// The bucket of a username: `user:` and a keyed hash of its normalised form.
fn user_bucket(key: &SigningKey, username: &str) -> String {
    format!(
        "user:{}",
        key.keyed_hash(USERNAME_BUCKET, normalised(username).as_bytes())
    )
}

fn normalised(username: &str) -> String {
    username.trim().to_lowercase()
}

/// The bucket of a client address: IPv4 as it is (also when mapped into IPv6), IPv6 by /64.
pub fn address_bucket(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("ip:{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("ip:{v4}"),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                format!("ip:{}/64", Ipv6Addr::from(network))
            }
        },
    }
}

fn limit(config: &ThrottleConfig, key: &str) -> i32 {
    if key.starts_with("ip:") {
        config.per_ip
    } else {
        config.per_username
    }
}

/// Counts an attempt against every key before the password is checked, so that a burst of
/// parallel guesses is counted as it arrives. One statement counts both keys and returns them.
/// Refuses while a key is locked (taking the count back: a refused attempt changes nothing),
/// and when a count passes its limit (which locks the key).
pub async fn reserve(
    db: &impl ConnectionTrait,
    config: &ThrottleConfig,
    keys: &Keys,
) -> Result<()> {
    let now = clock::now();
    let window_start = now - time::Duration::seconds(config.window_seconds);
    // A fresh row, or a row whose window has passed, starts at one; otherwise add one.
    let stale =
        Expr::col((login_throttle::Entity, login_throttle::Column::WindowStart)).lt(window_start);
    let fresh = |key: &str| login_throttle::ActiveModel {
        throttle_key: Set(key.to_string()),
        failures: Set(1),
        window_start: Set(now),
        locked_until: Set(None),
        user_id: sea_orm::ActiveValue::NotSet,
    };
    let mut upsert = login_throttle::Entity::insert_many(keys.all().into_iter().map(fresh))
        .on_conflict(
            OnConflict::column(login_throttle::Column::ThrottleKey)
                .value(
                    login_throttle::Column::Failures,
                    Expr::case(stale.clone(), 1).finally(
                        Expr::col((login_throttle::Entity, login_throttle::Column::Failures))
                            .add(1),
                    ),
                )
                .value(
                    login_throttle::Column::WindowStart,
                    Expr::case(stale, now).finally(Expr::col((
                        login_throttle::Entity,
                        login_throttle::Column::WindowStart,
                    ))),
                )
                .to_owned(),
        )
        .into_query();
    upsert.returning_all();
    let rows = login_throttle::Model::find_by_statement(db.get_database_backend().build(&upsert))
        .all(db)
        .await?;
    let locked = rows.iter().filter_map(|row| row.locked_until).max();
    if let Some(until) = locked.filter(|until| *until > now) {
        take_back(db, keys).await?;
        return Err(Error::TooManyAttempts {
            retry_after_seconds: Ord::max((until - now).whole_seconds(), 1) as u64,
        });
    }
    if rows
        .iter()
        .any(|row| row.failures > limit(config, &row.throttle_key))
    {
        lock_over_limit(db, config, keys).await?;
        return Err(Error::TooManyAttempts {
            retry_after_seconds: config.window_seconds as u64,
        });
    }
    Ok(())
}

/// Takes back the attempt `reserve` counted.
async fn take_back(db: &impl ConnectionTrait, keys: &Keys) -> Result<()> {
    login_throttle::Entity::update_many()
        .col_expr(
            login_throttle::Column::Failures,
            Expr::col(login_throttle::Column::Failures).sub(1),
        )
        .filter(login_throttle::Column::ThrottleKey.is_in(keys.all()))
        .filter(login_throttle::Column::Failures.gt(0))
        .exec(db)
        .await?;
    Ok(())
}

/// Runs `change`, one that checks `username`'s current password, counted in that user's
/// bucket like a sign-in (SPEC §3a): a locked bucket refuses it before anything is checked
/// (429, nothing changed); a wrong current password counts as a failure; any other outcome
/// takes the attempt back.
pub async fn counting_current_password<T>(
    db: &impl ConnectionTrait,
    config: &ThrottleConfig,
    key: &SigningKey,
    username: &str,
    change: impl Future<Output = crate::accounts::Result<T>>,
) -> Result<T> {
    counting(db, config, key, username, change, |err| {
        matches!(err, crate::accounts::Error::IncorrectCurrentPassword)
    })
    .await
}

/// A check of a second-factor code of `username` (renewing recovery codes), counted in the
/// same bucket: a wrong code is a failed attempt, so codes cannot be brute-forced.
pub async fn counting_code<T>(
    db: &impl ConnectionTrait,
    config: &ThrottleConfig,
    key: &SigningKey,
    username: &str,
    check: impl Future<Output = crate::accounts::Result<T>>,
) -> Result<T> {
    counting(db, config, key, username, check, |err| {
        matches!(err, crate::accounts::Error::WrongMfaCode)
    })
    .await
}

async fn counting<T>(
    db: &impl ConnectionTrait,
    config: &ThrottleConfig,
    key: &SigningKey,
    username: &str,
    attempt: impl Future<Output = crate::accounts::Result<T>>,
    wrong_guess: fn(&crate::accounts::Error) -> bool,
) -> Result<T> {
    let keys = Keys::user(key, username);
    reserve(db, config, &keys).await?;
    let outcome = attempt.await;
    match &outcome {
        Err(err) if wrong_guess(err) => failed(db, config, &keys).await?,
        _ => not_a_guess(db, &keys).await?,
    }
    Ok(outcome?)
}

/// After a failed attempt: lock every key that has reached its limit.
pub async fn failed(db: &impl ConnectionTrait, config: &ThrottleConfig, keys: &Keys) -> Result<()> {
    lock_over_limit(db, config, keys).await
}

/// After an attempt that was no wrong guess (the right current password, or a request
/// refused before any password was checked): the attempt is taken back, nothing reset.
pub async fn not_a_guess(db: &impl ConnectionTrait, keys: &Keys) -> Result<()> {
    take_back(db, keys).await
}

/// Lifts the lock of `username`'s bucket and starts its count over (the operator's
/// recovery: `passgate user unlock`, `passgate user reset-password`). Returns whether the
/// bucket was locked.
pub async fn unlock_username(
    db: &impl ConnectionTrait,
    key: &SigningKey,
    username: &str,
) -> Result<bool> {
    let bucket = user_bucket(key, username);
    let now = clock::now();
    let locked = login_throttle::Entity::find_by_id(bucket.clone())
        .one(db)
        .await?
        .is_some_and(|row| row.locked_until.is_some_and(|until| until > now));
    login_throttle::Entity::delete_by_id(bucket)
        .exec(db)
        .await?;
    Ok(locked)
}

/// After a successful login: the user's counter starts over (and any lock of it ends), and the
/// attempt is taken back from the address's counter (which counts failures, so that a busy
/// office is not locked). One statement.
pub async fn succeeded(db: &impl ConnectionTrait, keys: &Keys) -> Result<()> {
    // Bucket names start with `user:` or `ip:`: an attempt without a user matches none.
    let is_user =
        Expr::col(login_throttle::Column::ThrottleKey).eq(keys.user.as_deref().unwrap_or(""));
    let now = clock::now();
    login_throttle::Entity::update_many()
        .col_expr(
            login_throttle::Column::Failures,
            Expr::case(is_user.clone(), 0)
                .finally(Expr::col(login_throttle::Column::Failures).sub(1))
                .into(),
        )
        .col_expr(
            login_throttle::Column::WindowStart,
            Expr::case(is_user.clone(), now)
                .finally(Expr::col(login_throttle::Column::WindowStart))
                .into(),
        )
        .col_expr(
            login_throttle::Column::LockedUntil,
            Expr::case(
                is_user.clone(),
                Expr::value(Option::<time::PrimitiveDateTime>::None),
            )
            .finally(Expr::col(login_throttle::Column::LockedUntil))
            .into(),
        )
        .filter(
            Condition::any().add(is_user).add(
                Condition::all()
                    .add(login_throttle::Column::ThrottleKey.is_in(keys.ip.as_deref()))
                    .add(login_throttle::Column::Failures.gt(0)),
            ),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// Locks every key of the attempt that has reached its limit (and is not locked already); the
/// username bucket gets the id of the user it names, if any.
async fn lock_over_limit(
    db: &impl ConnectionTrait,
    config: &ThrottleConfig,
    keys: &Keys,
) -> Result<()> {
    let now = clock::now();
    let until = now + time::Duration::seconds(config.window_seconds);
    let mut over_limit = Condition::any();
    for key in keys.all() {
        over_limit = over_limit.add(
            Condition::all()
                .add(login_throttle::Column::ThrottleKey.eq(key))
                .add(login_throttle::Column::Failures.gte(limit(config, key))),
        );
    }
    let mut update = login_throttle::Entity::update_many().col_expr(
        login_throttle::Column::LockedUntil,
        Expr::value(Some(until)),
    );
    if let (Some(bucket), Some(username)) = (&keys.user, &keys.username) {
        let named_user = Query::select()
            .column(users::Column::UserId)
            .from(users::Entity)
            .and_where(Expr::col(users::Column::Username).eq(username.as_str()))
            .to_owned();
        update = update.col_expr(
            login_throttle::Column::UserId,
            Expr::case(
                Expr::col(login_throttle::Column::ThrottleKey).eq(bucket.as_str()),
                SimpleExpr::SubQuery(
                    None,
                    Box::new(SubQueryStatement::SelectStatement(named_user)),
                ),
            )
            .finally(Expr::value(Option::<i32>::None))
            .into(),
        );
    }
    update
        .filter(over_limit)
        .filter(not_locked(now))
        .exec(db)
        .await?;
    Ok(())
}

/// Rows without a lock at `now` (never locked, or the lock has passed).
fn not_locked(now: time::PrimitiveDateTime) -> Condition {
    Condition::any()
        .add(login_throttle::Column::LockedUntil.is_null())
        .add(login_throttle::Column::LockedUntil.lte(now))
}

/// Deletes counters whose window and lock have both passed (run periodically).
pub async fn prune(db: &impl ConnectionTrait, config: &ThrottleConfig) -> Result<()> {
    let now = clock::now();
    let window_start = now - time::Duration::seconds(config.window_seconds);
    login_throttle::Entity::delete_many()
        .filter(login_throttle::Column::WindowStart.lt(window_start))
        .filter(not_locked(now))
        .exec(db)
        .await?;
    Ok(())
}
