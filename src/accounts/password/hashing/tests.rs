//! Tests of hashing and verifying.

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
async fn hashing_is_bounded_by_the_threads() {
    let hasher = Hasher::new(1);
    let (release, hold) = mpsc::channel();
    hasher.inner.jobs.send(Job::Hold(hold)).unwrap();
    let pending = tokio::spawn({
        let hasher = hasher.clone();
        async move { hasher.hash(&secret("queued password")).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(
        !pending.is_finished(),
        "hash ran while its only thread was busy"
    );
    drop(release);
    assert!(pending.await.unwrap().is_ok());
}

#[test]
fn phc_strings_are_those_of_the_argon2_crate() {
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};
    let salt = *b"sixteen byte salt";
    let salt = &salt[..SALT_LEN];
    let ours = hash_with_salt(b"hunter42 hunter42", salt, &mut Vec::new()).unwrap();
    let theirs = argon2id()
        .hash_password_with_salt(b"hunter42 hunter42", salt)
        .unwrap()
        .to_string();
    assert_eq!(ours, theirs);
    assert!(
        argon2id()
            .verify_password(b"hunter42 hunter42", ours.as_str())
            .is_ok()
    );
}

#[test]
fn hashes_of_other_parameters_still_verify() {
    use argon2::password_hash::CustomizedPasswordHasher;
    let salt = b"another salt value";
    // Smaller and larger memory than ours, argon2i, version 0x10, a longer output.
    let cases = [
        (
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8_192, 1, 1, None).unwrap(),
        ),
        (
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(24_576, 1, 1, None).unwrap(),
        ),
        (
            Algorithm::Argon2i,
            Version::V0x10,
            Params::new(4_096, 3, 2, Some(48)).unwrap(),
        ),
    ];
    let mut memory = Vec::new();
    for (algorithm, version, params) in cases {
        let phc = Argon2::default()
            .hash_password_customized(
                b"right password",
                salt,
                Some(algorithm.as_str()),
                Some(version.into()),
                params,
            )
            .unwrap()
            .to_string();
        let dummy = random_phc();
        assert!(
            verify_blocking(b"right password", Some(&phc), &dummy, &mut memory),
            "{phc}"
        );
        assert!(
            !verify_blocking(b"wrong password", Some(&phc), &dummy, &mut memory),
            "{phc}"
        );
    }
}

#[test]
fn the_dummy_hash_is_well_formed_and_matches_nothing() {
    let dummy = random_phc();
    assert!(
        dummy.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{dummy}"
    );
    let parsed = PasswordHash::new(&dummy).unwrap();
    assert!(parsed.salt.is_some() && parsed.hash.is_some());
    assert_ne!(dummy, random_phc(), "random salt and output");
    assert!(!check(b"", &parsed, &mut Vec::new()).unwrap());
}

#[test]
fn hash_error_messages_carry_no_secret() {
    let error = HashError::from(password_hash::Error::PasswordInvalid);
    assert_eq!(
        error.to_string(),
        "password hashing failed: invalid password"
    );
}
