//! Passwords: hashing and verifying with argon2id, the policy every new password meets, and generation.

pub(crate) mod generation;
mod hashing;
mod policy;

pub use generation::{GENERATED_DEFAULT_LENGTH, generate};
pub use hashing::{HashError, Hasher};
pub use policy::{MAX_LENGTH, MIN_LENGTH_FLOOR, Policy, PolicyViolation};
