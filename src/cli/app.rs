//! `passgate app add|list|remove` (SPEC §15.1): applications from the console, through the
//! same use cases as `/api/v2/apps` and the panel.

use sea_orm::DatabaseConnection;

use super::AppCommand;
use super::user::explain;
use crate::accounts::apps::{self, AppFields, AppsCache, Policy};
use crate::accounts::audit::Actor;
use crate::accounts::permissions::Caller;

pub(super) async fn run(db: &DatabaseConnection, cmd: AppCommand) -> anyhow::Result<String> {
    // No server runs in this process: its cache only keeps the use cases' contract (the
    // servers pick the change up within 5 s).
    let cache = AppsCache::default();
    match cmd {
        AppCommand::Add {
            name,
            description,
            hosts,
            public_paths,
            roles,
            policy,
        } => {
            let policy = Policy::parse(&policy).ok_or_else(|| {
                anyhow::anyhow!("--policy must be one_factor, two_factor or deny")
            })?;
            let mut allowed_roles = Vec::with_capacity(roles.len());
            for role in &roles {
                allowed_roles.push(
                    crate::accounts::apps::role_id_by_name(db, role)
                        .await
                        .map_err(explain)?
                        .ok_or_else(|| anyhow::anyhow!("no role named '{role}'"))?,
                );
            }
            let fields = AppFields {
                name,
                description: description.unwrap_or_default(),
                hosts,
                public_paths,
                allowed_roles,
                policy,
            };
            let app = apps::create(db, &cache, &Actor::cli(), &Caller::operator(), fields)
                .await
                .map_err(explain)?;
            Ok(format!(
                "added application {} '{}' ({}; hosts: {})",
                app.app_id,
                app.name,
                app.policy.as_str(),
                list_or_none(app.hosts.iter().map(ToString::to_string).collect())
            ))
        }
        AppCommand::List => {
            let all = apps::list(db, &Caller::operator()).await.map_err(explain)?;
            let mut out = String::from("id\tname\tpolicy\thosts\tpublic paths\troles\n");
            for app in &all {
                out.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\n",
                    app.app_id,
                    app.name,
                    app.policy.as_str(),
                    list_or_none(app.hosts.iter().map(ToString::to_string).collect()),
                    list_or_none(app.public_paths.iter().map(ToString::to_string).collect()),
                    list_or_none(app.allowed_roles.iter().map(ToString::to_string).collect()),
                ));
            }
            Ok(out.trim_end().to_string())
        }
        AppCommand::Remove { name } => {
            let app = apps::get_by_name(db, &Caller::operator(), &name)
                .await
                .map_err(explain)?;
            apps::delete(db, &cache, &Actor::cli(), &Caller::operator(), app.app_id)
                .await
                .map_err(explain)?;
            Ok(format!("removed application '{}'", app.name))
        }
    }
}

fn list_or_none(items: Vec<String>) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items.join(",")
    }
}
