//! The provider's signing keys (SPEC §16): an RSA-2048 key for RS256 and a P-256 key for
//! ES256, made at the first start with OIDC on and kept in `oidc_keys` — the private half
//! sealed with the server's AEAD key (as TOTP secrets are), so every instance signs with the
//! same keys and the database alone does not give them away. `passgate oidc rotate-keys`
//! makes new ones; the old public keys stay in the key set for a day, so tokens they signed
//! still verify.
//!
//! JOSE is `compact_jwt` (Kanidm's), on the RustCrypto line (`crypto-glue`) that webauthn-rs
//! already links. Each instance reads which key is active from the database when it signs
//! (one small query), so a rotation made by the command line reaches running servers at
//! once; a parsed key is cached by its `kid`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use compact_jwt::compact::{Jwk, JwsCompact};
use compact_jwt::crypto::{JwsEs256Signer, JwsEs256Verifier, JwsRs256Signer, JwsRs256Verifier};
use compact_jwt::jws::{Jws, JwsBuilder};
use compact_jwt::traits::{JwsSigner, JwsVerifier};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionSession,
    TransactionTrait,
};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::accounts::audit::{self, Actor};
use crate::accounts::clock;
use crate::accounts::error::{Error, Result};
use crate::accounts::mfa::cipher::SecretCipher;
use crate::accounts::oidc::Alg;
use crate::entities::oidc_keys;

/// A retired key's public half stays in the key set this long.
pub const RETIRED_KEPT: time::Duration = time::Duration::days(1);

/// The audit action of a rotation.
pub const ROTATED: &str = "oidc_keys_rotated";

/// A private key, ready to sign.
#[derive(Clone)]
enum Signer {
    Rs256(JwsRs256Signer),
    Es256(JwsEs256Signer),
}

impl Signer {
    fn generate(alg: Alg) -> Result<Self> {
        let failed =
            |_| Error::Internal(anyhow::anyhow!("generating a {} key failed", alg.as_str()));
        Ok(match alg {
            Alg::Rs256 => Signer::Rs256(JwsRs256Signer::generate_rs256().map_err(failed)?),
            Alg::Es256 => Signer::Es256(JwsEs256Signer::generate_es256().map_err(failed)?),
        })
    }

    fn from_der(alg: Alg, der: &[u8]) -> Result<Self> {
        let failed = |_| {
            Error::Internal(anyhow::anyhow!(
                "a stored {} key is unreadable",
                alg.as_str()
            ))
        };
        Ok(match alg {
            Alg::Rs256 => Signer::Rs256(JwsRs256Signer::from_rs256_der(der).map_err(failed)?),
            Alg::Es256 => Signer::Es256(JwsEs256Signer::from_es256_der(der).map_err(failed)?),
        })
    }

    fn kid(&self) -> &str {
        match self {
            Signer::Rs256(s) => s.get_kid(),
            Signer::Es256(s) => s.get_kid(),
        }
    }

    fn private_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        match self {
            Signer::Rs256(s) => s.private_key_to_der(),
            Signer::Es256(s) => s.private_key_to_der(),
        }
        .map_err(|_| Error::Internal(anyhow::anyhow!("exporting a key failed")))
    }

    fn public_jwk(&self) -> Result<Value> {
        let jwk = match self {
            Signer::Rs256(s) => s.public_key_as_jwk(),
            Signer::Es256(s) => s.public_key_as_jwk(),
        }
        .map_err(|_| Error::Internal(anyhow::anyhow!("exporting a public key failed")))?;
        let mut value =
            serde_json::to_value(jwk).map_err(|e| Error::Internal(anyhow::anyhow!(e)))?;
        // RFC 7518 §6.3.1: `n` and `e` are the unsigned big-endian integers without leading
        // zero octets (the library pads `e` to its limb size).
        for member in ["n", "e"] {
            if let Some(Value::String(b64)) = value.get(member) {
                let trimmed = trim_leading_zeros(b64);
                value[member] = Value::String(trimmed);
            }
        }
        Ok(value)
    }

    fn sign(&self, jws: &Jws) -> Result<String> {
        let signed = match self {
            Signer::Rs256(s) => s.sign(jws),
            Signer::Es256(s) => s.sign(jws),
        }
        .map_err(|_| Error::Internal(anyhow::anyhow!("signing a token failed")))?;
        Ok(signed.to_string())
    }
}

fn trim_leading_zeros(b64: &str) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    match URL_SAFE_NO_PAD.decode(b64) {
        Ok(bytes) => {
            let start = bytes
                .iter()
                .position(|b| *b != 0)
                .unwrap_or(bytes.len().saturating_sub(1));
            URL_SAFE_NO_PAD.encode(&bytes[start..])
        }
        Err(_) => b64.to_string(),
    }
}

fn sealing_context(kid: &str) -> Vec<u8> {
    format!("passgate-oidc-key:{kid}").into_bytes()
}

/// The keys, as every request shares them: the cipher that opens them and the keys already
/// opened, by `kid`.
#[derive(Clone)]
pub struct KeyRing {
    cipher: SecretCipher,
    opened: Arc<Mutex<HashMap<String, Signer>>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyRing(***)")
    }
}

impl KeyRing {
    pub fn new(cipher: SecretCipher) -> Self {
        KeyRing {
            cipher,
            opened: Arc::default(),
        }
    }

    /// Makes the key of each algorithm that has none yet (the first start with OIDC on).
    /// Instances starting together cannot both make one: `active_for` is unique, and the
    /// insert that loses keeps the winner's key.
    pub async fn ensure(&self, conn: &impl ConnectionTrait) -> Result<()> {
        for alg in Alg::ALL {
            let active = oidc_keys::Entity::find()
                .filter(oidc_keys::Column::ActiveFor.eq(alg.as_str()))
                .one(conn)
                .await?;
            if active.is_none() {
                let row = self.new_row(alg).await?;
                oidc_keys::Entity::insert(row)
                    .on_conflict_do_nothing_on([oidc_keys::Column::ActiveFor])
                    .exec_without_returning(conn)
                    .await?;
            }
        }
        Ok(())
    }

    /// A fresh key as a row to insert (generated off the async runtime: RSA takes a while).
    async fn new_row(&self, alg: Alg) -> Result<oidc_keys::ActiveModel> {
        let signer = tokio::task::spawn_blocking(move || Signer::generate(alg))
            .await
            .map_err(|e| Error::Internal(e.into()))??;
        let kid = signer.kid().to_string();
        let sealed = self
            .cipher
            .seal_for(&sealing_context(&kid), &signer.private_der()?)?;
        Ok(oidc_keys::ActiveModel {
            kid: Set(kid),
            alg: Set(alg.as_str().into()),
            active_for: Set(Some(alg.as_str().into())),
            private_key: Set(sealed),
            public_jwk: Set(signer.public_jwk()?.to_string()),
            created: Set(clock::now()),
            retired: Set(None),
        })
    }

    /// Replaces every active key by a new one (`passgate oidc rotate-keys`); the old public
    /// keys stay published for [`RETIRED_KEPT`], keys retired longer ago are deleted.
    /// Audited. Returns the new key ids.
    pub async fn rotate<C: TransactionTrait + ConnectionTrait>(
        &self,
        db: &C,
        actor: &Actor,
    ) -> Result<Vec<String>> {
        // Only with the cipher the servers use: keys sealed under another secret key would
        // leave every instance unable to sign.
        for row in oidc_keys::Entity::find()
            .filter(oidc_keys::Column::ActiveFor.is_not_null())
            .all(db)
            .await?
        {
            let alg = Alg::parse(&row.alg)
                .ok_or_else(|| Error::Internal(anyhow::anyhow!("a stored key has no algorithm")))?;
            self.open(&row, alg)?;
        }
        let mut rows = Vec::new();
        for alg in Alg::ALL {
            rows.push(self.new_row(alg).await?);
        }
        let now = clock::now();
        let txn = crate::accounts::transaction::begin(db).await?;
        oidc_keys::Entity::delete_many()
            .filter(oidc_keys::Column::Retired.lt(now - RETIRED_KEPT))
            .exec(&txn)
            .await?;
        oidc_keys::Entity::update_many()
            .col_expr(oidc_keys::Column::ActiveFor, Expr::value(None::<String>))
            .col_expr(oidc_keys::Column::Retired, Expr::value(Some(now)))
            .filter(oidc_keys::Column::ActiveFor.is_not_null())
            .exec(&txn)
            .await?;
        let kids: Vec<String> = rows
            .iter()
            .filter_map(|row| row.kid.try_as_ref().cloned())
            .collect();
        oidc_keys::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
        audit::record(
            &txn,
            actor,
            None,
            ROTATED,
            format!("kids={}", kids.join(",")),
        )
        .await?;
        txn.commit().await?;
        Ok(kids)
    }

    /// The public keys to publish (JWKS): the active ones and those retired less than a day
    /// ago, newest first.
    pub async fn published(conn: &impl ConnectionTrait) -> Result<Vec<Value>> {
        Ok(published_rows(conn)
            .await?
            .into_iter()
            .filter_map(|row| serde_json::from_str(&row.public_jwk).ok())
            .collect())
    }

    /// Signs `claims` (a JSON object) as a compact JWS with the active key of `alg`, its
    /// `kid` in the header and `typ` `JWT`.
    pub async fn sign(
        &self,
        conn: &impl ConnectionTrait,
        alg: Alg,
        claims: &impl serde::Serialize,
    ) -> Result<String> {
        let row = oidc_keys::Entity::find()
            .filter(oidc_keys::Column::ActiveFor.eq(alg.as_str()))
            .one(conn)
            .await?
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("no active {} key", alg.as_str())))?;
        let signer = self.open(&row, alg)?;
        let jws = JwsBuilder::into_json(claims)
            .map_err(|e| Error::Internal(e.into()))?
            .set_typ(Some("JWT"))
            .set_kid(Some(signer.kid()))
            .build();
        signer.sign(&jws)
    }

    fn open(&self, row: &oidc_keys::Model, alg: Alg) -> Result<Signer> {
        let mut opened = self
            .opened
            .lock()
            .map_err(|_| Error::Internal(anyhow::anyhow!("key cache poisoned")))?;
        if let Some(signer) = opened.get(&row.kid) {
            return Ok(signer.clone());
        }
        let der = self
            .cipher
            .open_for(&sealing_context(&row.kid), &row.private_key)?;
        let signer = Signer::from_der(alg, &der)?;
        if signer.kid() != row.kid {
            return Err(Error::Internal(anyhow::anyhow!(
                "a stored key does not match its kid"
            )));
        }
        opened.insert(row.kid.clone(), signer.clone());
        Ok(signer)
    }

    /// Checks that `token` is a JWS signed by one of the published keys (whatever its `exp`:
    /// a logout's `id_token_hint` may have expired) and returns its payload.
    pub async fn verify(conn: &impl ConnectionTrait, token: &str) -> Option<Value> {
        let compact: JwsCompact = token.parse().ok()?;
        let kid = compact.header().kid.clone()?;
        let row = published_rows(conn)
            .await
            .ok()?
            .into_iter()
            .find(|row| row.kid == kid)?;
        let jwk: Jwk = serde_json::from_str(&row.public_jwk).ok()?;
        let released: Jws = match Alg::parse(&row.alg)? {
            Alg::Rs256 => JwsRs256Verifier::try_from(&jwk)
                .ok()?
                .verify(&compact)
                .ok()?,
            Alg::Es256 => JwsEs256Verifier::try_from(&jwk)
                .ok()?
                .verify(&compact)
                .ok()?,
        };
        released.from_json::<Value>().ok()
    }
}

async fn published_rows(conn: &impl ConnectionTrait) -> Result<Vec<oidc_keys::Model>> {
    let since = clock::now() - RETIRED_KEPT;
    Ok(oidc_keys::Entity::find()
        .filter(
            oidc_keys::Column::ActiveFor
                .is_not_null()
                .or(oidc_keys::Column::Retired.gte(since)),
        )
        .order_by_desc(oidc_keys::Column::Created)
        .order_by_asc(oidc_keys::Column::Alg)
        .all(conn)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(alg: Alg) -> Value {
        let signer = Signer::generate(alg).unwrap();
        let jwk = signer.public_jwk().unwrap();
        assert_eq!(jwk["kid"], signer.kid());
        assert_eq!(jwk["alg"], alg.as_str());
        assert_eq!(jwk["use"], "sig");
        // Stored and read back, the key signs what its public half verifies.
        let again = Signer::from_der(alg, &signer.private_der().unwrap()).unwrap();
        assert_eq!(again.kid(), signer.kid());
        let jws = JwsBuilder::into_json(&serde_json::json!({"sub": "x"}))
            .unwrap()
            .set_kid(Some(again.kid()))
            .build();
        let token = again.sign(&jws).unwrap();
        let compact: JwsCompact = token.parse().unwrap();
        assert_eq!(compact.header().kid.as_deref(), Some(signer.kid()));
        let parsed: Jwk = serde_json::from_value(jwk.clone()).unwrap();
        let released = match alg {
            Alg::Rs256 => JwsRs256Verifier::try_from(&parsed)
                .unwrap()
                .verify(&compact)
                .unwrap(),
            Alg::Es256 => JwsEs256Verifier::try_from(&parsed)
                .unwrap()
                .verify(&compact)
                .unwrap(),
        };
        assert_eq!(released.from_json::<Value>().unwrap()["sub"], "x");
        jwk
    }

    #[test]
    fn an_rsa_key_is_2048_bits_and_published_as_rfc_7518_asks() {
        let jwk = round_trip(Alg::Rs256);
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["e"], "AQAB");
        // 256 octets of modulus: 342 base64url characters, the first octet not zero.
        assert_eq!(jwk["n"].as_str().unwrap().len(), 342);
        assert!(jwk.get("d").is_none(), "no private part");
    }

    #[test]
    fn a_p256_key_is_published_with_its_curve() {
        let jwk = round_trip(Alg::Es256);
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["crv"], "P-256");
        assert_eq!(jwk["x"].as_str().unwrap().len(), 43);
        assert_eq!(jwk["y"].as_str().unwrap().len(), 43);
        assert!(jwk.get("d").is_none(), "no private part");
    }

    #[test]
    fn leading_zero_octets_are_trimmed() {
        // 65537 padded to eight octets, as the library gives it.
        assert_eq!(trim_leading_zeros("AAAAAAABAAE"), "AQAB");
        assert_eq!(trim_leading_zeros("AQAB"), "AQAB");
        assert_eq!(trim_leading_zeros("AA"), "AA");
    }
}
