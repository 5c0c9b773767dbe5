//! Sign-in options for a name without passkeys (unknown, disabled, or no passkey yet) that
//! look like those of a name with passkeys (SPEC §13): the same fields from the same
//! `webauthn-rs` call, a list of one to three credential ids — never an empty one, which only
//! a name without passkeys would get — with the lengths real authenticators give their ids,
//! the same for the same name every time (keyed by a secret: nobody can tell them from real
//! ones by computing them).
//!
//! `webauthn-rs` brings the keyed generator; its own distribution is for sites where most
//! accounts have no passkey (an empty list for about one name in six), so the distribution
//! here is ours: the count and the lengths of the accounts that do have one.

use rand::Rng;
use serde_json::Value;
use webauthn_rs::fake::{FakeCredentialIDDistribution, WebauthnFakeCredentialGenerator};

use crate::accounts::error::{Error, Result};

/// Credential-id lengths as authenticators make them (bytes), with how often each is met
/// (per 100): Apple's keychain 20, Google Password Manager and most password managers 16,
/// Windows Hello and other TPMs 32, a YubiKey 5 with ECDSA 64, an Android device's own 65.
const LENGTHS: [(usize, u32); 5] = [(20, 30), (16, 30), (32, 20), (64, 12), (65, 8)];
/// How many passkeys an account with passkeys has (per 100): one, two, three.
const COUNTS: [(usize, u32); 3] = [(1, 70), (2, 22), (3, 8)];

/// One to three ids with the lengths above.
struct AccountsWithPasskeys;

fn pick<T: Copy>(rng: &mut impl Rng, table: &[(T, u32)]) -> T {
    let total: u32 = table.iter().map(|(_, weight)| weight).sum();
    let mut roll = rng.next_u32() % total;
    for (value, weight) in table {
        if roll < *weight {
            return *value;
        }
        roll -= weight;
    }
    table[0].0
}

impl FakeCredentialIDDistribution for AccountsWithPasskeys {
    fn generate<R: Rng>(rng: &mut R) -> Vec<Vec<u8>> {
        let count = pick(rng, &COUNTS);
        (0..count)
            .map(|_| {
                let mut id = vec![0; pick(rng, &LENGTHS)];
                rng.fill_bytes(&mut id);
                id
            })
            .collect()
    }
}

/// The decoy ids of `name` (already normalised) under `key`.
pub(super) fn decoy_ids(key: &[u8; 32], name: &str) -> Result<Vec<Vec<u8>>> {
    let generator = WebauthnFakeCredentialGenerator::<AccountsWithPasskeys>::new(&key[..])
        .map_err(|e| Error::Internal(anyhow::anyhow!("decoy credentials: {e}")))?;
    generator
        .generate(name.as_bytes())
        .map_err(|e| Error::Internal(anyhow::anyhow!("decoy credentials: {e}")))
}

/// `options` (made for no credential) with the decoy ids of `name` as `allowCredentials`.
pub(super) fn with_decoys(mut options: Value, key: &[u8; 32], name: &str) -> Result<Value> {
    use base64::Engine;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let allow: Vec<Value> = decoy_ids(key, name)?
        .iter()
        .map(|id| serde_json::json!({"type": "public-key", "id": engine.encode(id)}))
        .collect();
    options["allowCredentials"] = Value::Array(allow);
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_gets_one_to_three_ids_of_real_lengths_the_same_each_time() {
        let key = [9u8; 32];
        let mut counts = [0usize; 4];
        for i in 0..2000 {
            let name = format!("user{i}");
            let ids = decoy_ids(&key, &name).unwrap();
            assert!((1..=3).contains(&ids.len()), "{name}: {} ids", ids.len());
            for id in &ids {
                assert!(LENGTHS.iter().any(|(len, _)| *len == id.len()));
            }
            assert_eq!(ids, decoy_ids(&key, &name).unwrap());
            counts[ids.len()] += 1;
        }
        assert_eq!(counts[0], 0);
        assert!(counts[1] > counts[2] && counts[2] > counts[3] && counts[3] > 0);
        // Another key, other ids.
        assert_ne!(
            decoy_ids(&key, "alice").unwrap(),
            decoy_ids(&[8u8; 32], "alice").unwrap()
        );
    }
}
