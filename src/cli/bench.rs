//! Hidden helpers of `bench/run.sh`: `passgate bench-hash` times the production hasher;
//! `passgate bench-seed-totp` gives every user whose name starts
//! with PREFIX a TOTP device with the secret SECRET_HEX, sealed with this database's cipher as
//! an enrolment would seal it. The benchmark then signs them in with codes it computes from
//! that secret (SPEC §9; BENCHMARKS.md); `passgate bench-oidc-codes` mints authorization codes
//! for the token endpoint's row (SPEC §16).

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

/// `passgate bench-oidc-codes USERNAME COUNT` (hidden, for `bench/run.sh`): registers a fresh
/// confidential client (an application `bench-oidc-N`, redirect URI
/// `https://bench.example/cb`) and issues COUNT authorization codes to it for USERNAME, as the
/// end of a sign-in walk issues them (one transaction). Prints `client_id secret`, then one
/// code a line: the token endpoint's benchmark redeems each once, within its minute.
pub async fn oidc_codes(
    db: &DatabaseConnection,
    config: &Config,
    username: &str,
    count: u32,
) -> anyhow::Result<String> {
    use crate::accounts::apps::{self, AppFields, AppsCache, Policy};
    use crate::accounts::audit::Actor;
    use crate::accounts::oidc::clients::ClientChanges;
    use crate::accounts::oidc::grants::{self, NewGrant};
    use crate::accounts::oidc::request::{AuthorizationRequest, Prompt};
    use crate::accounts::oidc::{Alg, Amr};
    use crate::accounts::permissions::Caller;

    let user = crate::accounts::users::find_by_username(db, username)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no user {username}"))?;
    let n = apps::list(db, &Caller::operator()).await?.len() + 1;
    let saved = apps::create(
        db,
        &AppsCache::default(),
        &Actor::cli(),
        &Caller::operator(),
        AppFields {
            name: format!("bench-oidc-{n}"),
            description: String::new(),
            hosts: Vec::new(),
            public_paths: Vec::new(),
            allowed_roles: Vec::new(),
            policy: Policy::OneFactor,
            oidc: Some(ClientChanges {
                redirect_uris: Some(vec!["https://bench.example/cb".into()]),
                post_logout_redirect_uris: Some(Vec::new()),
                public: Some(false),
                alg: Some(Alg::Rs256),
            }),
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("registering the bench client: {e:?}"))?;
    let client = saved
        .app
        .oidc
        .ok_or_else(|| anyhow::anyhow!("the bench application has no client"))?;
    let secret = saved
        .client_secret
        .ok_or_else(|| anyhow::anyhow!("the bench client has no secret"))?;
    let request = AuthorizationRequest {
        client_id: client.client_id.clone(),
        app_id: saved.app.app_id,
        redirect_uri: "https://bench.example/cb".into(),
        scope: "openid profile".into(),
        state: None,
        nonce: Some("bench".into()),
        code_challenge: None,
        prompt: Prompt::Default,
        max_age: None,
        login_hint: None,
        received_at: 0,
    };
    let mut out = format!("{} {}", client.client_id, secret.expose());
    let txn = crate::accounts::transaction::begin(db).await?;
    for _ in 0..count {
        let code = grants::issue_code(
            &txn,
            &Actor::cli(),
            NewGrant {
                request: &request,
                user: &user,
                auth_time: clock::now(),
                amr: &Amr::of(&[Amr::PASSWORD]),
                sid: "bench",
                lifetime: config.session_max_lifetime,
            },
        )
        .await?;
        out.push('\n');
        out.push_str(code.expose());
    }
    txn.commit().await?;
    Ok(out)
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
