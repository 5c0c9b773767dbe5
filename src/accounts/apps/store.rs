//! Reading and writing applications: `apps` and its child tables (hosts, public paths,
//! allowed roles), generic over the connection so writes run inside the use case's
//! transaction.

use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::accounts::apps::{App, HostPattern, Policy, PublicPath};
use crate::accounts::error::{Error, Result};
use crate::accounts::oidc::clients::{self, ClientInfo};
use crate::entities::{app_hosts, app_public_paths, app_roles, apps};

/// Every application, by name (five statements, whatever their number).
pub async fn load_all(conn: &impl ConnectionTrait) -> Result<Vec<App>> {
    let rows = apps::Entity::find()
        .order_by_asc(apps::Column::Name)
        .all(conn)
        .await?;
    assemble(conn, rows, None).await
}

/// One application, or `None`.
pub async fn load(conn: &impl ConnectionTrait, app_id: i32) -> Result<Option<App>> {
    let Some(row) = apps::Entity::find_by_id(app_id).one(conn).await? else {
        return Ok(None);
    };
    Ok(assemble(conn, vec![row], Some(app_id)).await?.pop())
}

async fn assemble(
    conn: &impl ConnectionTrait,
    rows: Vec<apps::Model>,
    only: Option<i32>,
) -> Result<Vec<App>> {
    let mut hosts: HashMap<i32, Vec<HostPattern>> = HashMap::new();
    let mut host_query = app_hosts::Entity::find().order_by_asc(app_hosts::Column::Host);
    let mut path_query =
        app_public_paths::Entity::find().order_by_asc(app_public_paths::Column::Path);
    let mut role_query = app_roles::Entity::find().order_by_asc(app_roles::Column::RoleId);
    if let Some(id) = only {
        host_query = host_query.filter(app_hosts::Column::AppId.eq(id));
        path_query = path_query.filter(app_public_paths::Column::AppId.eq(id));
        role_query = role_query.filter(app_roles::Column::AppId.eq(id));
    }
    for row in host_query.all(conn).await? {
        // A row that no longer parses (never written by this code) is left out, not served.
        if let Ok(host) = HostPattern::parse(&row.host) {
            hosts.entry(row.app_id).or_default().push(host);
        }
    }
    let mut paths: HashMap<i32, Vec<PublicPath>> = HashMap::new();
    for row in path_query.all(conn).await? {
        if let Ok(path) = PublicPath::parse(&row.path) {
            paths.entry(row.app_id).or_default().push(path);
        }
    }
    let mut roles: HashMap<i32, Vec<i32>> = HashMap::new();
    for row in role_query.all(conn).await? {
        roles.entry(row.app_id).or_default().push(row.role_id);
    }
    let ids: Vec<i32> = rows.iter().map(|row| row.app_id).collect();
    let mut clients: HashMap<i32, ClientInfo> = clients::find_by_apps(conn, &ids)
        .await?
        .into_iter()
        .map(|client| (client.app_id, client.info()))
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| App {
            app_id: row.app_id,
            // An unknown policy in the database denies (fail closed).
            policy: Policy::parse(&row.policy).unwrap_or(Policy::Deny),
            hosts: hosts.remove(&row.app_id).unwrap_or_default(),
            public_paths: paths.remove(&row.app_id).unwrap_or_default(),
            allowed_roles: roles.remove(&row.app_id).unwrap_or_default(),
            oidc: clients.remove(&row.app_id),
            name: row.name,
            description: row.description,
        })
        .collect())
}

/// The id of the application whose name equals `name` in any case, if any.
pub async fn id_by_name(conn: &impl ConnectionTrait, name: &str) -> Result<Option<i32>> {
    use sea_orm::sea_query::{Expr, ExprTrait, Func};
    Ok(apps::Entity::find()
        .filter(Expr::expr(Func::lower(Expr::col(apps::Column::Name))).eq(name.to_lowercase()))
        .one(conn)
        .await?
        .map(|row| row.app_id))
}

/// The first of `hosts` that another application than `except` already has.
pub async fn host_taken(
    conn: &impl ConnectionTrait,
    hosts: &[HostPattern],
    except: Option<i32>,
) -> Result<Option<String>> {
    if hosts.is_empty() {
        return Ok(None);
    }
    let names: Vec<String> = hosts.iter().map(ToString::to_string).collect();
    let mut query = app_hosts::Entity::find().filter(app_hosts::Column::Host.is_in(names));
    if let Some(id) = except {
        query = query.filter(app_hosts::Column::AppId.ne(id));
    }
    Ok(query.one(conn).await?.map(|row| row.host))
}

/// The first of `role_ids` that names no role.
pub async fn unknown_role(conn: &impl ConnectionTrait, role_ids: &[i32]) -> Result<Option<i32>> {
    if role_ids.is_empty() {
        return Ok(None);
    }
    let backend = conn.get_database_backend();
    let list = role_ids
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(
            backend,
            format!("SELECT role_id FROM roles WHERE role_id IN ({list})"),
        ))
        .await?;
    let known: Vec<i32> = rows
        .iter()
        .filter_map(|row| row.try_get::<i32>("", "role_id").ok())
        .collect();
    Ok(role_ids.iter().copied().find(|id| !known.contains(id)))
}

/// The id of the role named `name` (stored lower-cased and trimmed, SPEC §14).
pub async fn role_id_by_name(conn: &impl ConnectionTrait, name: &str) -> Result<Option<i32>> {
    let backend = conn.get_database_backend();
    let placeholder = match backend {
        sea_orm::DbBackend::Postgres => "$1",
        _ => "?",
    };
    let row = conn
        .query_one_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            format!("SELECT role_id FROM roles WHERE role_name = {placeholder}"),
            [name.trim().to_lowercase().into()],
        ))
        .await?;
    Ok(row.and_then(|row| row.try_get::<i32>("", "role_id").ok()))
}

/// Inserts the application row; the children follow with [`replace_children`].
pub async fn insert(
    conn: &impl ConnectionTrait,
    name: &str,
    description: &str,
    policy: Policy,
) -> Result<i32> {
    let now = crate::accounts::clock::now();
    let row = apps::ActiveModel {
        name: Set(name.to_string()),
        description: Set(description.to_string()),
        policy: Set(policy.as_str().to_string()),
        created: Set(now),
        last_update: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(name_conflict)?;
    Ok(row.app_id)
}

/// Writes the row's own fields of an existing application.
pub async fn update_row(conn: &impl ConnectionTrait, app: &App) -> Result<()> {
    apps::ActiveModel {
        app_id: Set(app.app_id),
        name: Set(app.name.clone()),
        description: Set(app.description.clone()),
        policy: Set(app.policy.as_str().to_string()),
        last_update: Set(crate::accounts::clock::now()),
        ..Default::default()
    }
    .update(conn)
    .await
    .map_err(name_conflict)?;
    Ok(())
}

/// A unique violation on the name index is the name of another application.
fn name_conflict(err: sea_orm::DbErr) -> Error {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Error::AppNameExists,
        _ => err.into(),
    }
}

/// Replaces the hosts, public paths and roles of `app` with its current lists.
pub async fn replace_children(conn: &impl ConnectionTrait, app: &App) -> Result<()> {
    app_hosts::Entity::delete_many()
        .filter(app_hosts::Column::AppId.eq(app.app_id))
        .exec(conn)
        .await?;
    app_public_paths::Entity::delete_many()
        .filter(app_public_paths::Column::AppId.eq(app.app_id))
        .exec(conn)
        .await?;
    app_roles::Entity::delete_many()
        .filter(app_roles::Column::AppId.eq(app.app_id))
        .exec(conn)
        .await?;
    if !app.hosts.is_empty() {
        app_hosts::Entity::insert_many(app.hosts.iter().map(|host| app_hosts::ActiveModel {
            app_id: Set(app.app_id),
            host: Set(host.to_string()),
            ..Default::default()
        }))
        .exec_without_returning(conn)
        .await
        .map_err(|err| match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Error::HostTaken(String::new()),
            _ => err.into(),
        })?;
    }
    if !app.public_paths.is_empty() {
        app_public_paths::Entity::insert_many(app.public_paths.iter().map(|path| {
            app_public_paths::ActiveModel {
                app_id: Set(app.app_id),
                path: Set(path.to_string()),
                ..Default::default()
            }
        }))
        .exec_without_returning(conn)
        .await?;
    }
    if !app.allowed_roles.is_empty() {
        app_roles::Entity::insert_many(app.allowed_roles.iter().map(|role_id| {
            app_roles::ActiveModel {
                app_id: Set(app.app_id),
                role_id: Set(*role_id),
            }
        }))
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

/// Deletes the application (its children go with it). Returns whether it existed.
pub async fn delete(conn: &impl ConnectionTrait, app_id: i32) -> Result<bool> {
    Ok(apps::Entity::delete_by_id(app_id)
        .exec(conn)
        .await?
        .rows_affected
        > 0)
}

/// Every role as (id, name), by name: what an application may be opened to.
pub async fn role_choices(conn: &impl ConnectionTrait) -> Result<Vec<(i32, String)>> {
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT role_id, role_name FROM roles ORDER BY role_name",
        ))
        .await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            Some((
                row.try_get::<i32>("", "role_id").ok()?,
                row.try_get::<String>("", "role_name").ok()?,
            ))
        })
        .collect())
}
