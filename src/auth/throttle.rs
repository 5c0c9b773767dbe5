//! Login throttling persisted in the database, by client address and by username, so that it
//! holds across restarts and instances. Every step is a single atomic statement.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryTrait,
    Set,
};

use crate::accounts::clock;
use crate::config::ThrottleConfig;
use crate::entities::login_throttle;
use crate::error::{Error, Result};

/// The throttle counters one login attempt touches.
pub struct Keys {
    ip: String,
    user: String,
}

impl Keys {
    pub fn new(ip: &str, username: &str) -> Self {
        let name: String = username.trim().to_lowercase().chars().take(64).collect();
        Self {
            ip: format!("ip:{ip}"),
            user: format!("user:{name}"),
        }
    }

    fn all(&self) -> [&str; 2] {
        [&self.ip, &self.user]
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
    };
    let mut upsert = login_throttle::Entity::insert_many([fresh(&keys.ip), fresh(&keys.user)])
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

/// After a failed attempt: lock every key that has reached its limit.
pub async fn failed(db: &impl ConnectionTrait, config: &ThrottleConfig, keys: &Keys) -> Result<()> {
    lock_over_limit(db, config, keys).await
}

/// After a successful login: the user's counter starts over (and any lock of it ends), and the
/// attempt is taken back from the address's counter (which counts failures, so that a busy
/// office is not locked). One statement.
pub async fn succeeded(db: &impl ConnectionTrait, keys: &Keys) -> Result<()> {
    let is_user = Expr::col(login_throttle::Column::ThrottleKey).eq(keys.user.as_str());
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
                    .add(login_throttle::Column::ThrottleKey.eq(keys.ip.as_str()))
                    .add(login_throttle::Column::Failures.gt(0)),
            ),
        )
        .exec(db)
        .await?;
    Ok(())
}

/// Locks every key of the attempt that has reached its limit (and is not locked already).
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
    login_throttle::Entity::update_many()
        .col_expr(
            login_throttle::Column::LockedUntil,
            Expr::value(Some(until)),
        )
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
