//! `passgate role …`: create, list, add, remove and delete roles directly on the database,
//! through the same domain functions as the web and the API, as the operator.

use sea_orm::DatabaseConnection;

use super::RoleCommand;
use super::user::explain;
use crate::accounts::audit::Actor;
use crate::accounts::permissions::Caller;
use crate::accounts::roles::{self, NewRole};
use crate::accounts::users;
use crate::entities::roles as role_entity;

pub(super) async fn run(db: &DatabaseConnection, cmd: RoleCommand) -> anyhow::Result<String> {
    let (actor, operator) = (Actor::cli(), Caller::operator());
    match cmd {
        RoleCommand::Create { name, mfa_required } => {
            let new = NewRole {
                name,
                manager: None,
                mfa_required,
            };
            let role = roles::create(db, &actor, &operator, new)
                .await
                .map_err(explain)?;
            Ok(format!(
                "created role '{}' (id {}){}",
                role.role_name,
                role.role_id,
                if role.mfa_required {
                    "; its members must set up a second factor"
                } else {
                    ""
                }
            ))
        }
        RoleCommand::List => {
            let counts = roles::member_counts(db).await.map_err(explain)?;
            let mut out = String::from("id\tname\tmembers\tmfa_required\tmanager\n");
            let all = roles::list_all(db).await.map_err(explain)?;
            let managers = users::names_of(db, all.iter().filter_map(|r| r.manager))
                .await
                .map_err(explain)?;
            for role in all {
                out.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{}\n",
                    role.role_id,
                    role.role_name,
                    counts.get(&role.role_id).copied().unwrap_or(0),
                    role.mfa_required,
                    role.manager
                        .and_then(|m| managers.get(&m).cloned())
                        .unwrap_or_else(|| "-".into())
                ));
            }
            Ok(out.trim_end().to_string())
        }
        RoleCommand::Add { role, usernames } => {
            let role = named(db, &role).await?;
            let ids = user_ids(db, &usernames).await?;
            let done = roles::put_members(db, &actor, &operator, role.role_id, &ids, true)
                .await
                .map_err(explain)?;
            Ok(summary(&role, "added to", &done.added, usernames.len()))
        }
        RoleCommand::Remove { role, usernames } => {
            let role = named(db, &role).await?;
            let ids = user_ids(db, &usernames).await?;
            let done = roles::put_members(db, &actor, &operator, role.role_id, &ids, false)
                .await
                .map_err(explain)?;
            Ok(summary(
                &role,
                "removed from",
                &done.removed,
                usernames.len(),
            ))
        }
        RoleCommand::Delete { role } => {
            let role = named(db, &role).await?;
            let members = roles::member_ids(db, role.role_id)
                .await
                .map_err(explain)?
                .len();
            roles::delete(db, &actor, &operator, role.role_id)
                .await
                .map_err(explain)?;
            Ok(format!(
                "deleted role '{}'; {members} member(s) lost it",
                role.role_name
            ))
        }
    }
}

/// The role of a name, in any case.
async fn named(db: &DatabaseConnection, name: &str) -> anyhow::Result<role_entity::Model> {
    roles::find_by_name(db, name)
        .await
        .map_err(explain)?
        .ok_or_else(|| anyhow::anyhow!("no role named '{}'", name.trim()))
}

/// Every username's id; the first unknown one stops the command before anything changes.
async fn user_ids(db: &DatabaseConnection, usernames: &[String]) -> anyhow::Result<Vec<i32>> {
    let mut ids = Vec::new();
    for name in usernames {
        let user = users::find_by_username(db, name)
            .await
            .map_err(explain)?
            .ok_or_else(|| anyhow::anyhow!("no user named '{name}'"))?;
        ids.push(user.user_id);
    }
    Ok(ids)
}

fn summary(role: &role_entity::Model, what: &str, changed: &[String], asked: usize) -> String {
    let unchanged = asked.saturating_sub(changed.len());
    let mut out = if changed.is_empty() {
        format!("nobody {what} '{}'", role.role_name)
    } else {
        format!("{} {what} '{}'", changed.join(", "), role.role_name)
    };
    if unchanged > 0 {
        out.push_str(&format!(" ({unchanged} already as asked)"));
    }
    out
}
