//! `passgate key create`: an API key made at the console, through the same domain function
//! as `POST /api/v2/users/{id}/key`.

use sea_orm::DatabaseConnection;

use super::KeyCommand;
use super::user::explain;
use crate::accounts::audit::Actor;
use crate::accounts::permissions::{Caller, KeyScope, USER_CONFIG};
use crate::accounts::{api_keys, users};

pub(super) async fn run(db: &DatabaseConnection, cmd: KeyCommand) -> anyhow::Result<String> {
    match cmd {
        KeyCommand::Create {
            username,
            name,
            full_access,
            user_config,
        } => {
            let owner = users::find_by_username(db, &username)
                .await
                .map_err(explain)?
                .ok_or_else(|| anyhow::anyhow!("no user named '{username}'"))?;
            let scope = KeyScope {
                full_access,
                permissions: if user_config {
                    vec![USER_CONFIG.to_string()]
                } else {
                    Vec::new()
                },
            };
            let (key, token) =
                api_keys::create(db, &Actor::cli(), &Caller::operator(), &owner, &name, scope)
                    .await
                    .map_err(explain)?;
            Ok(format!(
                "created API key {} '{}' for '{}' (full_access: {}); token (shown only now):\n\n    {}\n",
                key.key_id,
                key.name,
                owner.username,
                key.full_access,
                token.expose()
            ))
        }
    }
}
