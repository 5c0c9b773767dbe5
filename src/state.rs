//! What every handler shares.

use std::ops::Deref;
use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::accounts::Result;
use crate::accounts::apps::AppsCache;
use crate::accounts::mfa::Mfa;
use crate::accounts::oidc::Oidc;
use crate::accounts::passkeys::Passkeys;
use crate::accounts::password::Hasher;
use crate::accounts::signing_key::SigningKey;
use crate::config::Config;

/// What every handler shares, behind one `Arc`: a request clones the state for each layer and
/// extractor that takes it, and one reference count is all that costs (cloning the fields
/// themselves was ~7 % of the server's CPU on its cheapest answers; BENCHMARKS.md).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl From<Shared> for AppState {
    fn from(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

/// The state's parts ([`AppState`] derefs to them).
#[derive(Clone)]
pub struct Shared {
    pub db: DatabaseConnection,
    pub config: Arc<Config>,
    pub hasher: Hasher,
    pub signing_key: SigningKey,
    /// Second factors: the secrets' cipher, the skew, the policy.
    pub mfa: Mfa,
    /// Passkeys: the relying party of the public base URL (`PASSGATE_PUBLIC_URL`, or
    /// `http://localhost:PORT` on a loopback bind; off without either).
    pub passkeys: Passkeys,
    /// The applications, cached at most 5 s for the forward-auth decision (SPEC §15).
    pub apps: AppsCache,
    /// The OpenID Connect provider of `PASSGATE_PUBLIC_URL` (off without it).
    pub oidc: Option<Oidc>,
}

impl AppState {
    /// Loads (or on the first start creates) the token signing key from the database.
    /// Hashing is bounded by the number of cores: a login storm queues instead of starving
    /// every other request.
    pub async fn load(db: DatabaseConnection, config: Config) -> Result<Self> {
        let signing_key = SigningKey::load_or_create(&db, &config.mfa).await?;
        let mfa = Mfa::load(&db, &config.mfa).await?;
        mfa.check_key(&db).await?;
        let mut decoy_key = [0u8; 32];
        hex::decode_to_slice(
            signing_key.keyed_hash("passkey decoy credentials", b""),
            &mut decoy_key,
        )
        .map_err(|e| crate::accounts::Error::Internal(e.into()))?;
        let (passkeys, why_off) = Passkeys::new(config.public_base().as_deref(), decoy_key);
        if let Some(why_off) = why_off {
            tracing::warn!("{why_off}");
        }
        let oidc = Oidc::start(&db, config.public_url.as_deref(), &mfa.cipher).await?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Self::from(Shared {
            db,
            config: Arc::new(config),
            hasher: Hasher::new(cores),
            signing_key,
            mfa,
            passkeys,
            apps: AppsCache::default(),
            oidc,
        }))
    }
}
