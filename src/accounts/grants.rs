//! A user's permissions (`user_permissions`): Crafty's `{name, quantity}` grants.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};

use crate::accounts::error::{Error, Result};
use crate::accounts::permissions::KNOWN_PERMISSIONS;
use crate::entities::user_permissions;

/// One permission held, with its quantity (-1 = no cap).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub name: String,
    pub quantity: i32,
}

pub fn validate(grants: &[Grant]) -> Result<()> {
    for grant in grants {
        if !KNOWN_PERMISSIONS.contains(&grant.name.as_str()) {
            return Err(Error::invalid(
                "permissions",
                format!(
                    "permissions: unknown permission '{}'",
                    grant.name.chars().take(40).collect::<String>()
                ),
            ));
        }
        if grant.quantity < -1 {
            return Err(Error::invalid(
                "permissions",
                "permissions: quantity is -1 or more",
            ));
        }
    }
    let mut names: Vec<&str> = grants.iter().map(|g| g.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    if names.len() != grants.len() {
        return Err(Error::invalid(
            "permissions",
            "permissions: a permission is listed twice",
        ));
    }
    Ok(())
}

pub async fn load(conn: &impl ConnectionTrait, user_id: i32) -> Result<Vec<Grant>> {
    Ok(user_permissions::Entity::find()
        .filter(user_permissions::Column::UserId.eq(user_id))
        .order_by_asc(user_permissions::Column::Permission)
        .all(conn)
        .await?
        .into_iter()
        .map(|row| Grant {
            name: row.permission,
            quantity: row.quantity,
        })
        .collect())
}

/// The ids of the users holding permission `name` (e.g. who may be a manager).
pub async fn holders(conn: &impl ConnectionTrait, name: &str) -> Result<Vec<i32>> {
    Ok(user_permissions::Entity::find()
        .filter(user_permissions::Column::Permission.eq(name))
        .all(conn)
        .await?
        .into_iter()
        .map(|row| row.user_id)
        .collect())
}

/// The usernames of the holders of permission `name`, sorted: who may be chosen as a manager
/// (`USER_CONFIG` of users, `ROLES_CONFIG` of roles).
pub async fn holder_names(conn: &impl ConnectionTrait, name: &str) -> Result<Vec<String>> {
    let ids = holders(conn, name).await?;
    let mut names: Vec<String> = crate::accounts::users::names_of(conn, ids)
        .await?
        .into_values()
        .collect();
    names.sort();
    Ok(names)
}

/// The quantity of `name` the user holds, if any.
pub fn quantity(grants: &[Grant], name: &str) -> Option<i32> {
    grants.iter().find(|g| g.name == name).map(|g| g.quantity)
}

/// Replaces the user's grants (call inside the caller's transaction).
pub async fn replace(conn: &impl ConnectionTrait, user_id: i32, grants: &[Grant]) -> Result<()> {
    user_permissions::Entity::delete_many()
        .filter(user_permissions::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    for grant in grants {
        user_permissions::ActiveModel {
            user_id: Set(user_id),
            permission: Set(grant.name.clone()),
            quantity: Set(grant.quantity),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

/// The grants in rows that carry `grant_name` and `grant_quantity` (a user joined with their
/// permissions; a user without any has one row of nulls).
pub fn grants_of_rows(
    rows: &[sea_orm::QueryResult],
) -> std::result::Result<Vec<Grant>, sea_orm::DbErr> {
    let mut grants = Vec::new();
    for row in rows {
        let name: Option<String> = row.try_get("", "grant_name")?;
        let quantity: Option<i32> = row.try_get("", "grant_quantity")?;
        if let (Some(name), Some(quantity)) = (name, quantity) {
            grants.push(Grant { name, quantity });
        }
    }
    Ok(grants)
}

/// A user and their grants in one query.
pub async fn user_with_grants(
    conn: &impl ConnectionTrait,
    user_id: i32,
) -> Result<Option<(crate::entities::users::Model, Vec<Grant>)>> {
    use crate::entities::users;
    let found = users::Entity::find_by_id(user_id)
        .find_with_related(user_permissions::Entity)
        .all(conn)
        .await?;
    Ok(found.into_iter().next().map(|(user, rows)| {
        let grants = rows
            .into_iter()
            .map(|row| Grant {
                name: row.permission,
                quantity: row.quantity,
            })
            .collect();
        (user, grants)
    }))
}
