//! Hidden helpers of `bench/run.sh`: `passgate bench-hash` times the production hasher;
//! `passgate bench-seed-totp` gives every user whose name starts
//! with PREFIX a TOTP device with the secret SECRET_HEX, sealed with this database's cipher as
//! an enrolment would seal it. The benchmark then signs them in with codes it computes from
//! that secret (SPEC §9; BENCHMARKS.md).

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set};

use crate::accounts::clock;
use crate::accounts::mfa::Mfa;
use crate::accounts::password::Hasher;
use crate::accounts::secret::Secret;
use crate::config::Config;
use crate::entities::{totp_devices, users};

pub async fn seed_totp(
    db: &DatabaseConnection,
    config: &Config,
    prefix: &str,
    secret_hex: &str,
) -> anyhow::Result<String> {
    let secret = hex::decode(secret_hex)?;
    anyhow::ensure!(
        secret.len() == 20,
        "the secret must be 20 bytes (40 hex digits)"
    );
    let mfa = Mfa::load(db, &config.mfa).await?;
    let ids: Vec<i32> = users::Entity::find()
        .select_only()
        .column(users::Column::UserId)
        .filter(users::Column::Username.starts_with(prefix))
        .into_tuple()
        .all(db)
        .await?;
    let now = clock::now();
    let mut rows = Vec::with_capacity(ids.len());
    for id in &ids {
        rows.push(totp_devices::ActiveModel {
            user_id: Set(*id),
            name: Set("bench".into()),
            secret: Set(mfa.cipher.seal(*id, &secret)?),
            last_step: Set(0),
            created: Set(now),
            last_used: Set(None),
            ..Default::default()
        });
    }
    for chunk in rows.chunks(500) {
        totp_devices::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(format!("{} devices", ids.len()))
}

/// `passgate bench-hash`: the median time of one production hash, with `parallel` hashes
/// running at once (each on its own hashing thread).
pub async fn hash(count: u32, parallel: usize) -> anyhow::Result<String> {
    let parallel = parallel.max(1);
    let hasher = Hasher::new(parallel);
    let password = Secret::new("bench-hash correct horse battery".to_string());
    let mut sequences = Vec::new();
    for _ in 0..parallel {
        let (hasher, password) = (hasher.clone(), password.clone());
        sequences.push(tokio::spawn(async move {
            let mut millis = Vec::new();
            for _ in 0..count.max(1) {
                let started = std::time::Instant::now();
                hasher.hash(&password).await?;
                millis.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            anyhow::Ok(millis)
        }));
    }
    let mut millis = Vec::new();
    for sequence in sequences {
        millis.extend(sequence.await??);
    }
    millis.sort_by(f64::total_cmp);
    Ok(format!("{:.3}", millis[millis.len() / 2]))
}
