//! Server-side password generation from a CSPRNG over an alphabet without look-alikes.

use rand::seq::IndexedRandom;

use super::policy::{MAX_LENGTH, MIN_LENGTH_FLOOR, Policy, PolicyViolation};
use crate::accounts::secret::Secret;

/// Length of a generated password when the user does not choose one (or the configured
/// minimum, if that is longer: [`Policy::generated_length`]).
pub const GENERATED_DEFAULT_LENGTH: usize = 16;

impl Policy {
    /// How long a generated password is when nobody chose a length: 16 characters, or the
    /// configured minimum if that is longer (first start, the CLI, the web's and the API's
    /// default), so a generated password always meets the policy.
    pub fn generated_length(&self) -> usize {
        GENERATED_DEFAULT_LENGTH.max(self.min_length)
    }
}

pub(crate) const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghjkmnpqrstuvwxyz";
pub(crate) const DIGITS: &[u8] = b"23456789";
const SYMBOLS: &[u8] = b"!#$%&*+=?@";

/// At or above [`shortest_length_for_score`] a candidate fails only by chance (a missing class,
/// a rare zxcvbn pattern), so this bound is never reached in practice.
const MAX_ATTEMPTS: usize = 1_000;

/// zxcvbn rates an unrecognised string of n characters at 10^n guesses at most, and needs more
/// than 10^3, 10^6, 10^8 and 10^10 guesses for scores 1 to 4. Below these lengths no password,
/// however random, reaches the score: 8 characters cannot reach the default score of 3.
fn shortest_length_for_score(score: u8) -> usize {
    match score {
        0 => 1,
        1 => 4,
        2 => 7,
        3 => 9,
        _ => 11,
    }
}

/// A password of exactly `length` characters drawn uniformly, with rand's OS-seeded CSPRNG, from
/// upper- and lowercase letters, digits and a few symbols, leaving out look-alikes
/// (`0 O o 1 l I i |` and quotes or punctuation), with at least one character of each class.
///
/// The result passes `Policy::default()` and `policy` (checked without a username; a random
/// password shares nothing with one). Candidates are drawn until one does. Below the length at
/// which zxcvbn can give the required score at all (9 for the default score 3, 11 for score 4)
/// the score rule is replaced by the generator's entropy (≥ 48 bits at 8 characters, far more
/// than the 10^8 guesses score 3 stands for), and every other rule still applies.
///
/// Errors: `TooShort { min }` below 8 or below `policy.min_length`; `TooLong` above 128;
/// `TooWeak` only if no candidate passed after many draws.
pub fn generate(length: usize, policy: &Policy) -> Result<Secret, PolicyViolation> {
    let default_policy = Policy::default();
    let min_score = policy.min_score.max(default_policy.min_score);
    let rated_by_zxcvbn = length >= shortest_length_for_score(min_score);
    let min = MIN_LENGTH_FLOOR.max(policy.min_length);
    if length < min {
        return Err(PolicyViolation::TooShort { min });
    }
    if length > MAX_LENGTH {
        return Err(PolicyViolation::TooLong { max: MAX_LENGTH });
    }
    let alphabet: Vec<u8> = [UPPER, LOWER, DIGITS, SYMBOLS].concat();
    let mut rng = rand::rng();
    for _ in 0..MAX_ATTEMPTS {
        let mut candidate = String::with_capacity(length);
        candidate.extend((0..length).filter_map(|_| alphabet.choose(&mut rng).map(|&b| b as char)));
        let candidate = Secret::new(candidate);
        let password = candidate.expose();
        let has_every_class = [UPPER, LOWER, DIGITS, SYMBOLS]
            .iter()
            .all(|class| password.bytes().any(|b| class.contains(&b)));
        let passes = if rated_by_zxcvbn {
            default_policy.check("", password).is_ok() && policy.check("", password).is_ok()
        } else {
            policy.check_except_strength("", password).is_ok()
        };
        if has_every_class && passes {
            return Ok(candidate);
        }
    }
    Err(PolicyViolation::TooWeak)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated(length: usize) -> String {
        generate(length, &Policy::default())
            .unwrap()
            .expose()
            .to_owned()
    }

    fn random_string(length: usize) -> String {
        let alphabet: Vec<u8> = [UPPER, LOWER, DIGITS, SYMBOLS].concat();
        let mut rng = rand::rng();
        (0..length)
            .map(|_| *alphabet.choose(&mut rng).unwrap() as char)
            .collect()
    }

    #[test]
    fn length_is_honoured() {
        for length in [8, 9, 16, 57, 128] {
            assert_eq!(generated(length).chars().count(), length);
        }
        assert_eq!(
            generated(GENERATED_DEFAULT_LENGTH).chars().count(),
            GENERATED_DEFAULT_LENGTH
        );
    }

    #[test]
    fn the_default_length_is_at_least_the_configured_minimum() {
        for min in MIN_LENGTH_FLOOR..=MAX_LENGTH {
            let policy = Policy::new(min, 3).unwrap();
            let length = policy.generated_length();
            assert_eq!(length, min.max(GENERATED_DEFAULT_LENGTH));
            let password = generate(length, &policy).expect("the default length generates");
            assert_eq!(
                policy.check("admin", password.expose()),
                Ok(()),
                "min {min}"
            );
        }
    }

    #[test]
    fn out_of_range_lengths_are_refused() {
        let policy = Policy::default();
        assert_eq!(
            generate(7, &policy).unwrap_err(),
            PolicyViolation::TooShort { min: 8 }
        );
        assert_eq!(
            generate(129, &policy).unwrap_err(),
            PolicyViolation::TooLong { max: 128 }
        );
        let longer = Policy::new(20, 3).unwrap();
        assert_eq!(
            generate(19, &longer).unwrap_err(),
            PolicyViolation::TooShort { min: 20 }
        );
        assert_eq!(generate(20, &longer).unwrap().expose().chars().count(), 20);
    }

    #[test]
    fn eight_characters_rely_on_entropy_where_zxcvbn_cannot_rate_them() {
        // zxcvbn rates no 8-character string at score 3, however random.
        for _ in 0..50 {
            assert_eq!(
                Policy::default().check("", &random_string(8)),
                Err(PolicyViolation::TooWeak)
            );
        }
        for _ in 0..50 {
            let password = generate(8, &Policy::default()).unwrap();
            assert_eq!(password.expose().chars().count(), 8);
            assert_eq!(
                Policy::default().check_except_strength("alice", password.expose()),
                Ok(())
            );
        }
        let strict = Policy::new(8, 4).unwrap();
        assert_eq!(generate(10, &strict).unwrap().expose().chars().count(), 10);
        assert_eq!(
            strict.check("", generate(11, &strict).unwrap().expose()),
            Ok(())
        );
    }

    #[test]
    fn shortest_length_for_score_matches_zxcvbn() {
        for score in 1..=4u8 {
            let shortest = shortest_length_for_score(score);
            for _ in 0..50 {
                let below = zxcvbn::zxcvbn(&random_string(shortest - 1), &[]);
                assert!(u8::from(below.score()) < score, "score {score}");
            }
            let reached = (0..50)
                .filter(|_| {
                    u8::from(zxcvbn::zxcvbn(&random_string(shortest), &[]).score()) >= score
                })
                .count();
            assert!(reached > 25, "score {score}: only {reached} of 50");
        }
    }

    #[test]
    fn no_look_alike_characters() {
        let look_alikes = "0Oo1lIi|`'\",.;:";
        for _ in 0..200 {
            let password = generated(GENERATED_DEFAULT_LENGTH);
            assert!(
                !password.chars().any(|c| look_alikes.contains(c)),
                "{password}"
            );
            assert!(password.chars().all(|c| c.is_ascii_graphic()), "{password}");
        }
    }

    #[test]
    fn contains_every_character_class() {
        for _ in 0..200 {
            let password = generated(9);
            assert!(
                password.chars().any(|c| c.is_ascii_uppercase()),
                "{password}"
            );
            assert!(
                password.chars().any(|c| c.is_ascii_lowercase()),
                "{password}"
            );
            assert!(password.chars().any(|c| c.is_ascii_digit()), "{password}");
            assert!(password.bytes().any(|b| SYMBOLS.contains(&b)), "{password}");
        }
    }

    #[test]
    fn generated_passwords_pass_the_policy() {
        let strict = Policy::new(12, 4).unwrap();
        for round in 0..200 {
            let length = [9, 12, 16][round % 3];
            let password = generated(length);
            assert_eq!(
                Policy::default().check("alice", &password),
                Ok(()),
                "{password}"
            );
            let password = generate(12, &strict).unwrap();
            assert_eq!(strict.check("alice", password.expose()), Ok(()));
        }
    }

    #[test]
    fn generated_passwords_differ() {
        let passwords: std::collections::HashSet<String> = (0..50).map(|_| generated(16)).collect();
        assert_eq!(passwords.len(), 50);
    }
}
