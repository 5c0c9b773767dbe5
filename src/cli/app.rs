//! `passgate app add|list|remove|new-secret` (SPEC §15.1, §16): applications from the
//! console, through the same use cases as `/api/v2/apps` and the panel.

use sea_orm::DatabaseConnection;

use super::user::explain;
use super::{AppCommand, OidcClientArgs};
use crate::accounts::apps::{self, AppFields, AppsCache, Policy};
use crate::accounts::audit::Actor;
use crate::accounts::oidc::Alg;
use crate::accounts::oidc::clients::ClientChanges;
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
            oidc:
                OidcClientArgs {
                    redirect_uris,
                    post_logout_redirect_uris,
                    public_client,
                    id_token_alg,
                },
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
            let alg = match id_token_alg.as_deref() {
                None => None,
                Some(name) => Some(
                    Alg::parse(name)
                        .ok_or_else(|| anyhow::anyhow!("--id-token-alg must be RS256 or ES256"))?,
                ),
            };
            let oidc = (!redirect_uris.is_empty()).then_some(ClientChanges {
                redirect_uris: Some(redirect_uris),
                post_logout_redirect_uris: Some(post_logout_redirect_uris),
                public: Some(public_client),
                alg,
            });
            let fields = AppFields {
                name,
                description: description.unwrap_or_default(),
                hosts,
                public_paths,
                allowed_roles,
                policy,
                oidc,
            };
            let saved = apps::create(db, &cache, &Actor::cli(), &Caller::operator(), fields)
                .await
                .map_err(explain)?;
            let app = &saved.app;
            let mut out = format!(
                "added application {} '{}' ({}; hosts: {})",
                app.app_id,
                app.name,
                app.policy.as_str(),
                list_or_none(app.hosts.iter().map(ToString::to_string).collect())
            );
            if let Some(client) = &app.oidc {
                out.push_str(&format!("\nclient_id: {}", client.client_id));
            }
            if let Some(secret) = &saved.client_secret {
                out.push_str(&format!(
                    "\nclient_secret: {}\n(the secret is shown only now; `passgate app new-secret` makes another)",
                    secret.expose()
                ));
            }
            Ok(out)
        }
        AppCommand::NewSecret { name } => {
            let app = apps::get_by_name(db, &Caller::operator(), &name)
                .await
                .map_err(explain)?;
            let secret =
                apps::new_client_secret(db, &Actor::cli(), &Caller::operator(), app.app_id)
                    .await
                    .map_err(explain)?;
            Ok(format!(
                "client_id: {}\nclient_secret: {}\n(the old secret no longer works; this one is shown only now)",
                app.oidc.map(|c| c.client_id).unwrap_or_default(),
                secret.expose()
            ))
        }
        AppCommand::List => {
            let all = apps::list(db, &Caller::operator()).await.map_err(explain)?;
            let mut out = String::from("id\tname\tpolicy\thosts\tpublic paths\troles\tclient_id\n");
            for app in &all {
                out.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                    app.app_id,
                    app.name,
                    app.policy.as_str(),
                    list_or_none(app.hosts.iter().map(ToString::to_string).collect()),
                    list_or_none(app.public_paths.iter().map(ToString::to_string).collect()),
                    list_or_none(app.allowed_roles.iter().map(ToString::to_string).collect()),
                    app.oidc.as_ref().map_or("-", |c| c.client_id.as_str()),
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
