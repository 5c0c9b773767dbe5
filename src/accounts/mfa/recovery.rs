//! Recovery codes: 16 characters from the password generator's capitals and digits (no
//! look-alikes; 80 bits), shown as `XXXX-XXXX-XXXX-XXXX`, stored only as a hash.
//!
//! Only capitals and digits of the generator's alphabet, so a code reads aloud and types
//! without case trouble; input is matched without regard to case, dashes or spaces. A plain
//! SHA-256 suffices for 80 random bits (no dictionary to try); the user id is hashed in,
//! so equal codes of two users are two different rows.

use rand::seq::IndexedRandom;
use sha2::{Digest, Sha256};

use crate::accounts::password::generation::{DIGITS, UPPER};
use crate::accounts::secret::Secret;

/// How many codes a user gets.
pub const COUNT: usize = 10;
/// Characters of a code (without dashes).
pub const LENGTH: usize = 16;

/// A new code, as shown: `XXXX-XXXX-XXXX-XXXX`.
pub fn generate() -> Secret {
    let alphabet: Vec<u8> = UPPER.iter().chain(DIGITS).copied().collect();
    let mut rng = rand::rng();
    let raw: Vec<u8> = (0..LENGTH)
        .map(|_| *alphabet.choose(&mut rng).unwrap_or(&b'A'))
        .collect();
    let shown = raw
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-");
    Secret::new(shown)
}

/// The code as compared: capitals and digits only, `None` when it cannot be a code.
pub fn normalise(input: &str) -> Option<String> {
    let code: String = input
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == LENGTH && code.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(code)
}

/// The stored hash of a (normalised) code of `user_id`: hex SHA-256.
pub fn hash(user_id: i32, normalised: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(format!("passgate-recovery:{user_id}:").as_bytes());
    digest.update(normalised.as_bytes());
    hex::encode(digest.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_grouped_and_drawn_from_the_alphabet() {
        let code = generate();
        let shown = code.expose();
        assert_eq!(shown.len(), 19);
        assert_eq!(shown.matches('-').count(), 3);
        for c in shown.chars().filter(|c| *c != '-') {
            assert!(
                UPPER.contains(&(c as u8)) || DIGITS.contains(&(c as u8)),
                "{c}"
            );
        }
        assert_ne!(generate().expose(), shown);
    }

    #[test]
    fn input_is_matched_without_case_or_dashes() {
        let shown = "ABCD-EFGH-JKLM-N234";
        let stored = hash(3, &normalise(shown).unwrap());
        for typed in [
            "abcd-efgh-jklm-n234",
            "ABCDEFGHJKLMN234",
            " abcd efgh jklm n234 ",
        ] {
            assert_eq!(hash(3, &normalise(typed).unwrap()), stored, "{typed}");
        }
        assert_ne!(
            hash(4, &normalise(shown).unwrap()),
            stored,
            "bound to the user"
        );
        for bad in [
            "ABCD-EFGH-JKLM",
            "ABCD-EFGH-JKLM-N234-X",
            "ABCD-EFGH-JKLM-N23!",
        ] {
            assert_eq!(normalise(bad), None, "{bad}");
        }
    }
}
