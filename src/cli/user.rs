//! `passgate user …`: create, reset (the lock-out recovery path), unlock and list, directly on the
//! database through the same domain functions as the web and the API.

use sea_orm::DatabaseConnection;

use super::UserCommand;
use crate::accounts::audit::Actor;
use crate::accounts::bulk::{self, BulkAction};
use crate::accounts::clock;
use crate::accounts::credentials::{ResetOptions, ResetRequest, reset_password};
use crate::accounts::password::Hasher;
use crate::accounts::permissions::Caller;
use crate::accounts::reset_links::{self, LinkOptions};
use crate::accounts::secret::Secret;
use crate::accounts::users::{self, NewUser};
use crate::auth::throttle;
use crate::auth::tokens::SigningKey;
use crate::config::Config;
use crate::error::Error;
use crate::i18n::Lang;

fn read_password_stdin() -> anyhow::Result<Secret> {
    super::prompt::password_from_stdin()
}

pub(super) async fn run(
    db: &DatabaseConnection,
    config: &Config,
    cmd: UserCommand,
) -> anyhow::Result<String> {
    let hasher = Hasher::new(1);
    let policy = &config.policy;
    match cmd {
        UserCommand::Create {
            username,
            superuser,
            password_stdin,
            no_require_change,
        } => {
            let password = if password_stdin {
                Some(read_password_stdin()?)
            } else {
                None
            };
            let new = NewUser {
                require_mfa: false,
                username,
                password,
                email: None,
                superuser,
                manager: None,
                lang: "en".into(),
                require_password_change: !no_require_change,
                expires_hours: -1,
                enabled: true,
                permissions: Vec::new(),
                preferences: Default::default(),
                setup_link: None,
                roles: Vec::new(),
            };
            let created =
                users::create(db, &hasher, policy, &Actor::cli(), &Caller::operator(), new)
                    .await
                    .map_err(explain)?;
            let user = created.user;
            Ok(match created.generated {
                Some(password) => format!(
                    "created '{}'; password: {}",
                    user.username,
                    password.expose()
                ),
                None => format!("created '{}'", user.username),
            })
        }
        UserCommand::ResetPassword {
            username,
            expires_hours,
            no_require_change,
            password_stdin,
        } => {
            let target = users::find_by_username(db, &username)
                .await
                .map_err(explain)?
                .ok_or_else(|| anyhow::anyhow!("no user named '{username}'"))?;
            let chosen = if password_stdin {
                Some(read_password_stdin()?)
            } else {
                None
            };
            let options = ResetOptions {
                expires_hours,
                require_password_change: !no_require_change,
                ..ResetOptions::default()
            };
            let outcome = reset_password(
                db,
                &hasher,
                policy,
                &Actor::cli(),
                &Caller::operator(),
                &target,
                ResetRequest {
                    password: chosen.into(),
                    options,
                },
            )
            .await
            .map_err(explain)?;
            // The recovery path also lets the user sign in at once.
            let key = SigningKey::load_or_create(db, &config.mfa)
                .await
                .map_err(explain)?;
            throttle::unlock_username(db, &key, &target.username)
                .await
                .map_err(explain)?;
            let expiry = outcome
                .user
                .password_expires
                .map(clock::rfc3339)
                .unwrap_or_else(|| "never".into());
            Ok(match outcome.generated {
                Some(password) => format!(
                    "reset '{}'; temporary password: {} (expires: {expiry})",
                    target.username,
                    password.expose()
                ),
                None => format!("reset '{}' (expires: {expiry})", target.username),
            })
        }
        UserCommand::ResetLink {
            username,
            expires_hours,
        } => {
            let target = users::find_by_username(db, &username)
                .await
                .map_err(explain)?
                .ok_or_else(|| anyhow::anyhow!("no user named '{username}'"))?;
            let options = LinkOptions::checked(expires_hours, false, false).map_err(explain)?;
            let link =
                reset_links::create(db, &Actor::cli(), &Caller::operator(), &target, options)
                    .await
                    .map_err(explain)?;
            if config.public_url.is_none() {
                // The server's address is not known here: the link's base is a guess.
                eprintln!(
                    "passgate: note: PASSGATE_PUBLIC_URL is not set, so this link assumes \
                     passgate at {}; set PASSGATE_PUBLIC_URL as the server has it to get \
                     the address users open",
                    config.link_base()
                );
            }
            Ok(format!(
                "reset link for '{}' (expires: {}; works once):\n{}",
                target.username,
                clock::rfc3339(link.expires),
                config.link_url(link.token.expose())
            ))
        }
        UserCommand::Unlock { username } => {
            // The throttle keeps buckets of any name typed; only an account's is worth lifting.
            users::find_by_username(db, &username)
                .await
                .map_err(explain)?
                .ok_or_else(|| anyhow::anyhow!("no user named '{username}'; nothing changed"))?;
            let key = SigningKey::load_or_create(db, &config.mfa)
                .await
                .map_err(explain)?;
            let was_locked = throttle::unlock_username(db, &key, &username)
                .await
                .map_err(explain)?;
            Ok(if was_locked {
                format!("unlocked '{}'", username.trim().to_lowercase())
            } else {
                format!("'{}' was not locked", username.trim().to_lowercase())
            })
        }
        UserCommand::RequireChange { all, usernames } => {
            let targets = if all {
                users::list_all(db).await.map_err(explain)?
            } else {
                let mut found = Vec::new();
                for name in &usernames {
                    let user = users::find_by_username(db, name)
                        .await
                        .map_err(explain)?
                        .ok_or_else(|| {
                            anyhow::anyhow!("no user named '{name}'; nothing changed")
                        })?;
                    found.push(user);
                }
                found
            };
            let ids: Vec<i32> = targets.iter().map(|u| u.user_id).collect();
            let report = bulk::apply(
                db,
                &Actor::cli(),
                &Caller::operator(),
                BulkAction::RequireChange,
                &ids,
            )
            .await
            .map_err(explain)?;
            Ok(format!(
                "a password change is required at the next sign-in of {} user(s): {}",
                report.applied.len(),
                report.applied.join(", ")
            ))
        }
        UserCommand::ResetMfa { username } => {
            let target = users::find_by_username(db, &username)
                .await
                .map_err(explain)?
                .ok_or_else(|| anyhow::anyhow!("no user named '{username}'"))?;
            let removed = crate::accounts::mfa::reset_mfa(db, &Actor::cli(), &target)
                .await
                .map_err(explain)?;
            Ok(format!(
                "removed {removed} two-factor device(s) and the recovery codes of '{}'",
                target.username
            ))
        }
        UserCommand::List => {
            let mut out = String::from("id\tusername\tsuperuser\tenabled\tstatus\n");
            for u in users::list_all(db).await.map_err(explain)? {
                let status = match (u.require_password_change, u.password_expires) {
                    _ if users::temp_password_expired(&u) => {
                        "temporary password expired".to_string()
                    }
                    (true, Some(at)) => format!("change pending, expires {}", clock::rfc3339(at)),
                    (true, None) => "change pending".to_string(),
                    (false, Some(at)) => format!("expires {}", clock::rfc3339(at)),
                    (false, None) => "ok".to_string(),
                };
                out.push_str(&format!(
                    "{}\t{}\t{}\t{}\t{}\n",
                    u.user_id, u.username, u.superuser, u.enabled, status
                ));
            }
            Ok(out.trim_end().to_string())
        }
    }
}

/// Domain (and sign-in) errors as one line for the terminal.
pub(super) fn explain(err: impl Into<Error>) -> anyhow::Error {
    match err.into() {
        Error::PasswordPolicy(v) => anyhow::anyhow!(
            "the password does not meet the policy: {} Nothing was changed.",
            v.message(Lang::En)
        ),
        Error::Internal(inner) => inner,
        other => anyhow::anyhow!("{other}"),
    }
}
