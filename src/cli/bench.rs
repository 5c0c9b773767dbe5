//! `passgate bench-seed-totp` (hidden, for `bench/run.sh`): gives every user whose name starts
//! with PREFIX a TOTP device with the secret SECRET_HEX, sealed with this database's cipher as
//! an enrolment would seal it. The benchmark then signs them in with codes it computes from
//! that secret (SPEC §9; BENCHMARKS.md).

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set};

use crate::accounts::clock;
use crate::accounts::mfa::Mfa;
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
