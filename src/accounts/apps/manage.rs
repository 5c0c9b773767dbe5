//! The use cases of applications (SPEC §15.1): list, read, create, change, delete. Superusers
//! only (each checks its caller); every change is audited in its transaction and drops this
//! instance's cached snapshot at once (other instances see it within 5 s).

use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};

use crate::accounts::apps::{App, AppsCache, HostPattern, Policy, PublicPath, store};
use crate::accounts::audit::{self, Actor, action};
use crate::accounts::error::{Error, Result};
use crate::accounts::permissions::{self, Caller};

/// The longest name, in characters.
pub const MAX_NAME: usize = 64;
/// The longest description, in characters.
pub const MAX_DESCRIPTION: usize = 500;

/// An application as the API, the panel and the CLI give it (checked here).
#[derive(Clone, Debug)]
pub struct AppFields {
    pub name: String,
    pub description: String,
    pub hosts: Vec<String>,
    pub public_paths: Vec<String>,
    pub allowed_roles: Vec<i32>,
    pub policy: Policy,
}

/// A change: only the fields given are changed (lists are replaced whole).
#[derive(Clone, Debug, Default)]
pub struct AppChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub hosts: Option<Vec<String>>,
    pub public_paths: Option<Vec<String>>,
    pub allowed_roles: Option<Vec<i32>>,
    pub policy: Option<Policy>,
}

impl AppChanges {
    fn names(&self) -> Vec<&'static str> {
        [
            ("name", self.name.is_some()),
            ("description", self.description.is_some()),
            ("hosts", self.hosts.is_some()),
            ("public_paths", self.public_paths.is_some()),
            ("allowed_roles", self.allowed_roles.is_some()),
            ("policy", self.policy.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect()
    }
}

fn name(raw: &str) -> Result<String> {
    let name = raw.trim();
    let length = name.chars().count();
    if length == 0 || length > MAX_NAME || name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            format!("name: 1 to {MAX_NAME} characters, no control characters"),
        ));
    }
    Ok(name.to_string())
}

fn description(raw: &str) -> Result<String> {
    let text = raw.trim();
    if text.chars().count() > MAX_DESCRIPTION || text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Error::invalid(
            "description",
            format!("description: at most {MAX_DESCRIPTION} characters"),
        ));
    }
    Ok(text.to_string())
}

/// Each item parsed, duplicates dropped (first one kept), order kept.
fn each<T: PartialEq>(
    field: &'static str,
    items: &[String],
    parse: impl Fn(&str) -> std::result::Result<T, String>,
) -> Result<Vec<T>> {
    let mut parsed: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        let value =
            parse(item).map_err(|reason| Error::invalid(field, format!("{field}: {reason}")))?;
        if !parsed.contains(&value) {
            parsed.push(value);
        }
    }
    Ok(parsed)
}

fn roles(ids: &[i32]) -> Vec<i32> {
    let mut roles = ids.to_vec();
    roles.sort_unstable();
    roles.dedup();
    roles
}

/// Every application (superusers).
pub async fn list(db: &impl ConnectionTrait, caller: &Caller) -> Result<Vec<App>> {
    permissions::can_manage_apps(caller)?;
    store::load_all(db).await
}

/// One application (superusers).
pub async fn get(db: &impl ConnectionTrait, caller: &Caller, app_id: i32) -> Result<App> {
    permissions::can_manage_apps(caller)?;
    store::load(db, app_id).await?.ok_or(Error::AppNotFound)
}

/// The application named `name` (in any case).
pub async fn get_by_name(db: &impl ConnectionTrait, caller: &Caller, name: &str) -> Result<App> {
    permissions::can_manage_apps(caller)?;
    let id = store::id_by_name(db, name.trim())
        .await?
        .ok_or(Error::AppNotFound)?;
    get(db, caller, id).await
}

/// Refuses a name or host another application has, and roles that do not exist.
async fn check_unique(conn: &impl ConnectionTrait, app: &App, except: Option<i32>) -> Result<()> {
    if let Some(other) = store::id_by_name(conn, &app.name).await?
        && Some(other) != except
    {
        return Err(Error::AppNameExists);
    }
    if let Some(host) = store::host_taken(conn, &app.hosts, except).await? {
        return Err(Error::HostTaken(host));
    }
    if let Some(role) = store::unknown_role(conn, &app.allowed_roles).await? {
        return Err(Error::invalid(
            "allowed_roles",
            format!("allowed_roles: no role has the id {role}"),
        ));
    }
    Ok(())
}

fn summary(app: &App) -> String {
    let hosts: Vec<String> = app.hosts.iter().map(ToString::to_string).collect();
    format!(
        "app={} policy={} hosts={} roles={}",
        audit::value(&app.name),
        app.policy.as_str(),
        hosts.join(","),
        app.allowed_roles.len()
    )
}

/// Registers an application.
pub async fn create(
    db: &DatabaseConnection,
    cache: &AppsCache,
    actor: &Actor,
    caller: &Caller,
    fields: AppFields,
) -> Result<App> {
    permissions::can_manage_apps(caller)?;
    let mut app = App {
        app_id: 0,
        name: name(&fields.name)?,
        description: description(&fields.description)?,
        policy: fields.policy,
        hosts: each("hosts", &fields.hosts, HostPattern::parse)?,
        public_paths: each("public_paths", &fields.public_paths, PublicPath::parse)?,
        allowed_roles: roles(&fields.allowed_roles),
    };
    let txn = db.begin().await?;
    check_unique(&txn, &app, None).await?;
    app.app_id = store::insert(&txn, &app.name, &app.description, app.policy).await?;
    store::replace_children(&txn, &app).await?;
    audit::record(&txn, actor, None, action::APP_CREATED, summary(&app)).await?;
    txn.commit().await?;
    cache.invalidate().await;
    Ok(app)
}

/// Changes the fields given in `changes`.
pub async fn update(
    db: &DatabaseConnection,
    cache: &AppsCache,
    actor: &Actor,
    caller: &Caller,
    app_id: i32,
    changes: AppChanges,
) -> Result<App> {
    permissions::can_manage_apps(caller)?;
    let txn = db.begin().await?;
    let mut app = store::load(&txn, app_id).await?.ok_or(Error::AppNotFound)?;
    if let Some(raw) = &changes.name {
        app.name = name(raw)?;
    }
    if let Some(raw) = &changes.description {
        app.description = description(raw)?;
    }
    if let Some(policy) = changes.policy {
        app.policy = policy;
    }
    if let Some(raw) = &changes.hosts {
        app.hosts = each("hosts", raw, HostPattern::parse)?;
    }
    if let Some(raw) = &changes.public_paths {
        app.public_paths = each("public_paths", raw, PublicPath::parse)?;
    }
    if let Some(ids) = &changes.allowed_roles {
        app.allowed_roles = roles(ids);
    }
    check_unique(&txn, &app, Some(app_id)).await?;
    store::update_row(&txn, &app).await?;
    store::replace_children(&txn, &app).await?;
    let detail = format!("{} changed={}", summary(&app), changes.names().join(","));
    audit::record(&txn, actor, None, action::APP_UPDATED, detail).await?;
    txn.commit().await?;
    cache.invalidate().await;
    Ok(app)
}

/// Deletes an application (its hosts then answer 403: no application has them).
pub async fn delete(
    db: &DatabaseConnection,
    cache: &AppsCache,
    actor: &Actor,
    caller: &Caller,
    app_id: i32,
) -> Result<()> {
    permissions::can_manage_apps(caller)?;
    let txn = db.begin().await?;
    let app = store::load(&txn, app_id).await?.ok_or(Error::AppNotFound)?;
    store::delete(&txn, app_id).await?;
    audit::record(&txn, actor, None, action::APP_DELETED, summary(&app)).await?;
    txn.commit().await?;
    cache.invalidate().await;
    Ok(())
}
