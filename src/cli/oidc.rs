//! `passgate oidc rotate-keys`: new signing keys for the OpenID Connect provider, through the
//! same domain function a test or a future admin page would call (audited).

use sea_orm::DatabaseConnection;

use super::OidcCommand;
use crate::accounts::audit::Actor;
use crate::accounts::mfa::Mfa;
use crate::accounts::oidc::keys::{KeyRing, RETIRED_KEPT};
use crate::config::Config;

pub(super) async fn run(
    db: &DatabaseConnection,
    config: &Config,
    cmd: OidcCommand,
) -> anyhow::Result<String> {
    match cmd {
        OidcCommand::RotateKeys => {
            let mfa = Mfa::load(db, &config.mfa).await?;
            let keys = KeyRing::new(mfa.cipher);
            let kids = keys.rotate(db, &Actor::cli()).await.map_err(|err| {
                anyhow::anyhow!(
                    "{err}: the current keys do not open with this secret key — run the command \
                     with the server's PASSGATE_SECRET_KEY_FILE"
                )
            })?;
            Ok(format!(
                "new signing keys: {} (every instance signs with them from now on; the old \
                 public keys stay published for {} hours)",
                kids.join(", "),
                RETIRED_KEPT.whole_hours()
            ))
        }
    }
}
