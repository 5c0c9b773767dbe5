//! The use cases of applications (SPEC §15.1): list, read, create, change, delete, and a new
//! client secret for an OpenID Connect client (§16). Superusers only (each checks its caller);
//! every change is audited in its transaction and drops this instance's cached snapshot at
//! once (other instances see it within 5 s).

use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::accounts::apps::fields::{AppChanges, AppFields, description, each, name, plan, roles};
use crate::accounts::apps::review::{self, Ends, Verdict};
use crate::accounts::apps::{App, AppsCache, HostPattern, PublicPath, store};
use crate::accounts::audit::{self, Actor, action};
use crate::accounts::error::{Error, Result};
use crate::accounts::oidc::clients::{self, ClientChanges};
use crate::accounts::oidc::grants;
use crate::accounts::permissions::{self, Caller};
use crate::accounts::secret::Secret;

/// What creating or changing an application answers: the application as it is now, and the
/// client secret if one was just made (shown this once, never again).
pub struct Saved {
    pub app: App,
    pub client_secret: Option<Secret>,
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
    let client = match &app.oidc {
        Some(client) => format!(
            " client_id={} public={}",
            client.client_id, client.settings.public
        ),
        None => String::new(),
    };
    format!(
        "app={} policy={} hosts={} roles={}{client}",
        audit::value(&app.name),
        app.policy.as_str(),
        hosts.join(","),
        app.allowed_roles.len()
    )
}

/// Makes, changes or ends the OpenID Connect client of `app` as `changes` say, inside the
/// use case's transaction; `app.oidc` follows. Returns a secret that was just made.
async fn save_client(
    txn: &impl ConnectionTrait,
    app: &mut App,
    changes: Option<ClientChanges>,
) -> Result<Option<Secret>> {
    let current = app.oidc.as_ref().map(|c| c.settings.clone());
    let secret = match (changes, &app.oidc) {
        (None, None) => None,
        (None, Some(_)) => {
            clients::remove(txn, app.app_id).await?;
            app.oidc = None;
            return Ok(None);
        }
        (Some(changes), None) => {
            let settings = changes.apply(None)?;
            let (_, secret) = clients::create(txn, app.app_id, &settings).await?;
            secret
        }
        (Some(changes), Some(_)) => {
            let settings = changes.apply(current.as_ref())?;
            clients::update(txn, app.app_id, &settings).await?
        }
    };
    app.oidc = clients::find_by_app(txn, app.app_id)
        .await?
        .map(|client| client.info());
    Ok(secret)
}

/// Registers an application.
pub async fn create(
    db: &DatabaseConnection,
    cache: &AppsCache,
    actor: &Actor,
    caller: &Caller,
    fields: AppFields,
) -> Result<Saved> {
    permissions::can_manage_apps(caller)?;
    let mut app = App {
        app_id: 0,
        name: name(&fields.name)?,
        description: description(&fields.description)?,
        policy: fields.policy,
        hosts: each("hosts", &fields.hosts, HostPattern::parse)?,
        public_paths: each("public_paths", &fields.public_paths, PublicPath::parse)?,
        allowed_roles: roles(&fields.allowed_roles),
        oidc: None,
    };
    let txn = crate::accounts::transaction::begin(db).await?;
    check_unique(&txn, &app, None).await?;
    app.app_id = store::insert(&txn, &app.name, &app.description, app.policy).await?;
    store::replace_children(&txn, &app).await?;
    let client_secret = save_client(&txn, &mut app, fields.oidc).await?;
    audit::record(&txn, actor, None, action::APP_CREATED, summary(&app)).await?;
    txn.commit().await?;
    cache.invalidate().await;
    Ok(Saved { app, client_secret })
}

/// Changes the fields given in `changes`. Ending the application's OpenID Connect, or making
/// its confidential client public, ends every grant made to it (its access and refresh tokens
/// stop working at once); reviewed in the panel (`changes.review`), such an edit applies only
/// as confirmed against the application as it still is (`review.rs`), else
/// `Error::EditUnconfirmed` and nothing changes.
pub async fn update(
    db: &DatabaseConnection,
    cache: &AppsCache,
    actor: &Actor,
    caller: &Caller,
    app_id: i32,
    changes: AppChanges,
) -> Result<Saved> {
    permissions::can_manage_apps(caller)?;
    let txn = crate::accounts::transaction::begin(db).await?;
    let current = store::load(&txn, app_id).await?.ok_or(Error::AppNotFound)?;
    let mut app = plan(&current, &changes)?;
    if let Some(review) = &changes.review {
        match review::check(&current, &app, review) {
            Ok(Verdict::Apply) => {}
            Ok(Verdict::AlreadyDone) => {
                return Ok(Saved {
                    app: current,
                    client_secret: None,
                });
            }
            Err(mut why) => {
                why.signed_in = grants::users_signed_in_to(&txn, app_id).await?;
                return Err(Error::EditUnconfirmed(why));
            }
        }
    }
    let ends = Ends::between(&current, &app);
    check_unique(&txn, &app, Some(app_id)).await?;
    store::update_row(&txn, &app).await?;
    store::replace_children(&txn, &app).await?;
    let names = changes.names().join(",");
    app.oidc = current.oidc.clone();
    let client_secret = match changes.oidc {
        Some(oidc) => save_client(&txn, &mut app, oidc).await?,
        None => None,
    };
    let ended: Vec<&str> = ends.to_words();
    let ended = if ended.is_empty() {
        String::new()
    } else {
        format!(" ended={}", ended.join(","))
    };
    let detail = format!("{} changed={names}{ended}", summary(&app));
    audit::record(&txn, actor, None, action::APP_UPDATED, detail).await?;
    txn.commit().await?;
    cache.invalidate().await;
    Ok(Saved { app, client_secret })
}

/// A new secret for the application's confidential client; the old one stops working at
/// once, on every instance (secrets are never cached). Audited.
pub async fn new_client_secret(
    db: &DatabaseConnection,
    actor: &Actor,
    caller: &Caller,
    app_id: i32,
) -> Result<Secret> {
    permissions::can_manage_apps(caller)?;
    let txn = crate::accounts::transaction::begin(db).await?;
    let app = store::load(&txn, app_id).await?.ok_or(Error::AppNotFound)?;
    let Some(client) = &app.oidc else {
        return Err(Error::invalid(
            "oidc",
            "oidc: the application is no OpenID Connect client",
        ));
    };
    let secret = clients::regenerate_secret(&txn, app_id).await?;
    audit::record(
        &txn,
        actor,
        None,
        action::APP_SECRET_REGENERATED,
        format!(
            "app={} client_id={}",
            audit::value(&app.name),
            client.client_id
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(secret)
}

/// Deletes an application (its hosts then answer 403: no application has them; every token
/// issued to its client stops working).
pub async fn delete(
    db: &DatabaseConnection,
    cache: &AppsCache,
    actor: &Actor,
    caller: &Caller,
    app_id: i32,
) -> Result<()> {
    permissions::can_manage_apps(caller)?;
    let txn = crate::accounts::transaction::begin(db).await?;
    let app = store::load(&txn, app_id).await?.ok_or(Error::AppNotFound)?;
    // Its grants would go with it (cascade); ended here so their tokens are counted.
    grants::revoke_all_of_app(&txn, app_id).await?;
    store::delete(&txn, app_id).await?;
    audit::record(&txn, actor, None, action::APP_DELETED, summary(&app)).await?;
    txn.commit().await?;
    cache.invalidate().await;
    Ok(())
}
