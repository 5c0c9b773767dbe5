//! argon2id hashing and verification, run on the blocking pool behind a concurrency bound.

use std::fmt;
use std::sync::Arc;

use argon2::password_hash::{self, PasswordHasher, PasswordVerifier, phc::PasswordHash};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use zeroize::Zeroize;

use crate::accounts::secret::Secret;

/// OWASP's argon2id parameters: m = 19456 KiB, t = 2, p = 1 (spec §2).
const PARAMS: Params = match Params::new(19_456, 2, 1, None) {
    Ok(params) => params,
    Err(_) => panic!("argon2 parameters are out of range"),
};

/// Hashes and verifies off the async runtime, at most `max_concurrent` at once.
///
/// Each call takes a permit, then runs argon2 on tokio's blocking pool while holding it, so a
/// login storm queues here instead of starving other requests. The permit moves into the
/// blocking task: a caller that gives up waiting does not free a slot whose hash still runs.
#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    /// PHC hash of a random, forgotten secret; verified instead when there is no usable hash.
    dummy_phc: Arc<str>,
}

/// Internal failure of hashing; never carries a password or a hash.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("password hashing failed: {0}")]
    Argon2(#[from] password_hash::Error),
    #[error("password hashing queue is closed")]
    QueueClosed,
}

impl Hasher {
    /// `max_concurrent` is the number of hashes allowed to run at once (about the core count);
    /// 0 is taken as 1. Computes the dummy hash here, once, which blocks for one hash (~25 ms),
    /// so build the `Hasher` at startup.
    pub fn new(max_concurrent: usize) -> Self {
        let mut forgotten = [0u8; 32];
        rand::fill(&mut forgotten);
        let dummy = argon2id()
            .hash_password(&forgotten)
            .expect("hashing a fixed-size random secret with valid parameters cannot fail");
        forgotten.zeroize();
        Self {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            dummy_phc: dummy.to_string().into(),
        }
    }

    /// Hashes with argon2id v19 (m=19456, t=2, p=1) and a fresh random salt; returns the PHC
    /// string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
    pub async fn hash(&self, password: &Secret) -> Result<String, HashError> {
        let permit = self.permit().await.ok_or(HashError::QueueClosed)?;
        let password = password.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let hash = argon2id().hash_password(password.expose().as_bytes())?;
            Ok(hash.to_string())
        })
        .await?
    }

    /// Whether `password` matches the stored PHC hash.
    ///
    /// `phc = None` (unknown user) verifies against the dummy hash and returns false, taking the
    /// same time. A stored hash that cannot be used (malformed, another algorithm, no salt or
    /// output) is false too, after the same dummy verification. Internal failures are false.
    pub async fn verify(&self, password: &Secret, phc: Option<&str>) -> bool {
        let Some(permit) = self.permit().await else {
            return false;
        };
        let password = password.clone();
        let stored = phc.map(str::to_owned);
        let dummy = Arc::clone(&self.dummy_phc);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            verify_blocking(password.expose().as_bytes(), stored.as_deref(), &dummy)
        })
        .await
        .unwrap_or(false)
    }

    async fn permit(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.permits).acquire_owned().await.ok()
    }
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hasher")
            .field("available_permits", &self.permits.available_permits())
            .finish_non_exhaustive()
    }
}

fn argon2id() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, PARAMS)
}

fn verify_blocking(password: &[u8], stored: Option<&str>, dummy_phc: &str) -> bool {
    if let Some(hash) = stored.and_then(|phc| PasswordHash::new(phc).ok())
        && hash.salt.is_some()
        && hash.hash.is_some()
    {
        match argon2id().verify_password(password, &hash) {
            Ok(()) => return true,
            Err(password_hash::Error::PasswordInvalid) => return false,
            // Unsupported algorithm or parameters: nothing was computed yet.
            Err(_) => {}
        }
    }
    if let Ok(dummy) = PasswordHash::new(dummy_phc) {
        let _ = argon2id().verify_password(password, &dummy);
    }
    false
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn secret(value: &str) -> Secret {
        Secret::new(value.to_owned())
    }

    #[tokio::test]
    async fn hash_then_verify_roundtrips() {
        let hasher = Hasher::new(2);
        let password = secret("Correct horse battery staple");
        let started = Instant::now();
        let phc = hasher.hash(&password).await.unwrap();
        eprintln!("one argon2id hash took {:?}", started.elapsed());
        assert!(hasher.verify(&password, Some(&phc)).await);
    }

    #[tokio::test]
    async fn hash_uses_owasp_argon2id_parameters() {
        let phc = Hasher::new(1)
            .hash(&secret("whatever-it-is"))
            .await
            .unwrap();
        assert!(
            phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "unexpected PHC prefix: {phc}"
        );
    }

    #[tokio::test]
    async fn same_password_hashes_with_different_salts() {
        let hasher = Hasher::new(2);
        let password = secret("same password twice");
        let first = hasher.hash(&password).await.unwrap();
        let second = hasher.hash(&password).await.unwrap();
        assert_ne!(first, second);
        assert!(hasher.verify(&password, Some(&second)).await);
    }

    #[tokio::test]
    async fn wrong_password_is_refused() {
        let hasher = Hasher::new(2);
        let phc = hasher.hash(&secret("the right one")).await.unwrap();
        assert!(!hasher.verify(&secret("the wrong one"), Some(&phc)).await);
        assert!(!hasher.verify(&secret("The right one"), Some(&phc)).await);
    }

    #[tokio::test]
    async fn unknown_user_is_refused_after_a_dummy_verification() {
        let hasher = Hasher::new(1);
        let started = Instant::now();
        assert!(!hasher.verify(&secret("anything at all"), None).await);
        // A dummy verification costs a real argon2 computation, not an early return.
        assert!(
            started.elapsed().as_micros() > 1_000,
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn malformed_stored_hash_is_refused() {
        let hasher = Hasher::new(2);
        let password = secret("anything at all");
        for stored in [
            "",
            "not a hash",
            "$argon2id$v=19$m=19456,t=2,p=1",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ",
            "$pbkdf2-sha256$i=1000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
            "$argon2id$v=19$m=19456,t=2,p=1$!!!$@@@",
        ] {
            assert!(!hasher.verify(&password, Some(stored)).await, "{stored:?}");
        }
    }

    #[tokio::test]
    async fn hashing_is_bounded_by_the_permits() {
        let hasher = Hasher::new(1);
        let permit = hasher.permit().await.unwrap();
        let pending = tokio::spawn({
            let hasher = hasher.clone();
            async move { hasher.hash(&secret("queued password")).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert!(!pending.is_finished(), "hash ran without a permit");
        drop(permit);
        assert!(pending.await.unwrap().is_ok());
    }

    #[test]
    fn hash_error_messages_carry_no_secret() {
        let error = HashError::from(password_hash::Error::PasswordInvalid);
        assert_eq!(
            error.to_string(),
            "password hashing failed: invalid password"
        );
    }
}
