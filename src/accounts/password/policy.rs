//! The rules every password a person sets must meet, checked without touching a hash.

use std::collections::HashSet;
use std::sync::LazyLock;

pub use crate::config::{MAX_LENGTH, MIN_LENGTH_FLOOR, PasswordPolicy as Policy};

/// Bundled list, see the header of the file for its source and licence.
static COMMON_PASSWORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    include_str!("common_passwords.txt")
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
});

/// Why a password was refused. `code` gives the stable i18n key suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyViolation {
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
    SameAsUsername,
    Common,
    TooWeak,
    /// The new password verifies against the current hash (decided by the caller).
    ReusesCurrent,
    /// A forced change chose the temporary password again (decided by the caller).
    ReusesTemporary,
}

impl PolicyViolation {
    /// Stable key suffix for messages, e.g. `password.tooShort`; never rename.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "tooShort",
            Self::TooLong { .. } => "tooLong",
            Self::SameAsUsername => "sameAsUsername",
            Self::Common => "common",
            Self::TooWeak => "tooWeak",
            Self::ReusesCurrent => "reusesCurrent",
            Self::ReusesTemporary => "reusesTemporary",
        }
    }

    /// The rule in words (`validators.<code>`, with its numbers), for pages and the CLI.
    pub fn message(&self, lang: crate::i18n::Lang) -> String {
        let text = lang.t(&format!("validators.{}", self.code())).to_string();
        match self {
            Self::TooShort { min } => text.replace("{min}", &min.to_string()),
            Self::TooLong { max } => text.replace("{max}", &max.to_string()),
            _ => text,
        }
    }
}

impl Policy {
    /// Rules that need no hash, in this order: length in characters (Unicode scalar values,
    /// not bytes) within `min_length..=MAX_LENGTH`; not equal to the username (ignoring case);
    /// not in the bundled common-password list (ignoring case); zxcvbn score, with the username
    /// as a user input, at least `min_score`. Reuse of the current or temporary password is
    /// the caller's check, against the stored hash.
    pub fn check(&self, username: &str, password: &str) -> Result<(), PolicyViolation> {
        self.check_except_strength(username, password)?;
        let user_inputs: &[&str] = if username.is_empty() {
            &[]
        } else {
            &[username]
        };
        if u8::from(zxcvbn::zxcvbn(password, user_inputs).score()) < self.min_score {
            return Err(PolicyViolation::TooWeak);
        }
        Ok(())
    }

    /// Every rule but the zxcvbn score: for server-generated passwords too short for zxcvbn
    /// to rate (it caps an unrecognised n-character string at 10^n guesses), whose strength
    /// comes from the CSPRNG instead (8 characters of 65 symbols: about 48 bits).
    pub fn check_except_strength(
        &self,
        username: &str,
        password: &str,
    ) -> Result<(), PolicyViolation> {
        let length = password.chars().count();
        let min = self.min_length.max(MIN_LENGTH_FLOOR);
        if length < min {
            return Err(PolicyViolation::TooShort { min });
        }
        if length > MAX_LENGTH {
            return Err(PolicyViolation::TooLong { max: MAX_LENGTH });
        }
        let lowercase = password.to_lowercase();
        if !username.is_empty() && lowercase == username.to_lowercase() {
            return Err(PolicyViolation::SameAsUsername);
        }
        if COMMON_PASSWORDS.contains(lowercase.as_str()) {
            return Err(PolicyViolation::Common);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(password: &str) -> Result<(), PolicyViolation> {
        Policy::default().check("alice", password)
    }

    #[test]
    fn default_policy_is_length_8_and_score_3() {
        let policy = Policy::default();
        assert_eq!((policy.min_length, policy.min_score), (8, 3));
    }

    #[test]
    fn shorter_than_the_minimum_is_refused() {
        assert_eq!(check("Xq7#vT2"), Err(PolicyViolation::TooShort { min: 8 }));
        assert_eq!(check(""), Err(PolicyViolation::TooShort { min: 8 }));
        let policy = Policy::new(12, 3).unwrap();
        assert_eq!(
            policy.check("alice", "Xq7#vT2kLp9"),
            Err(PolicyViolation::TooShort { min: 12 })
        );
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        let eight_chars = "ßüñçøæ€é";
        assert_eq!(eight_chars.chars().count(), 8);
        assert!(eight_chars.len() > 8);
        assert_ne!(
            check(eight_chars),
            Err(PolicyViolation::TooShort { min: 8 })
        );
        assert_eq!(check("ßüñçøæ€"), Err(PolicyViolation::TooShort { min: 8 }));

        let multibyte_max = "ü".repeat(MAX_LENGTH);
        assert!(multibyte_max.len() > MAX_LENGTH);
        assert_ne!(
            check(&multibyte_max),
            Err(PolicyViolation::TooLong { max: MAX_LENGTH })
        );
    }

    #[test]
    fn longer_than_128_characters_is_refused() {
        let strong = "Vq7#mZ2p!Kd9@Lw4$Rt8";
        let at_max: String = strong.chars().cycle().take(128).collect();
        let over_max: String = strong.chars().cycle().take(129).collect();
        assert_eq!(check(&at_max), Ok(()));
        assert_eq!(check(&over_max), Err(PolicyViolation::TooLong { max: 128 }));
    }

    #[test]
    fn equal_to_the_username_in_any_case_is_refused() {
        let policy = Policy::default();
        let username = "Zephyrine.Quixotic42";
        for password in [
            "Zephyrine.Quixotic42",
            "zephyrine.quixotic42",
            "ZEPHYRINE.QUIXOTIC42",
        ] {
            assert_eq!(
                policy.check(username, password),
                Err(PolicyViolation::SameAsUsername),
                "{password}"
            );
        }
        // The same password is acceptable for someone else: the refusal is about the username.
        assert_eq!(policy.check("bob", "Zephyrine.Quixotic42"), Ok(()));
    }

    #[test]
    fn common_passwords_are_refused_ignoring_case() {
        for password in [
            "password1",
            "Password123",
            "PASSWORD123",
            "baseball",
            "Iloveyou",
        ] {
            assert_eq!(check(password), Err(PolicyViolation::Common), "{password}");
        }
    }

    #[test]
    fn common_password_list_is_loaded() {
        assert!(
            COMMON_PASSWORDS.len() >= 29_000,
            "{}",
            COMMON_PASSWORDS.len()
        );
        assert!(COMMON_PASSWORDS.contains("password"));
        assert!(!COMMON_PASSWORDS.iter().any(|entry| entry.starts_with('#')));
    }

    #[test]
    fn weak_password_is_refused() {
        // Not in the list, but a keyboard walk plus a date: guessable.
        let password = "qwertyuiop1990";
        assert!(!COMMON_PASSWORDS.contains(password));
        assert_eq!(check(password), Err(PolicyViolation::TooWeak));
    }

    #[test]
    fn username_counts_against_the_strength_score() {
        let policy = Policy::default();
        let password = "zephyrinequixotic2";
        assert_eq!(policy.check("bob", password), Ok(()));
        assert_eq!(
            policy.check("zephyrinequixotic", password),
            Err(PolicyViolation::TooWeak)
        );
    }

    #[test]
    fn strong_password_passes() {
        assert_eq!(check("Vq7#mZ2p!Kd9"), Ok(()));
        assert_eq!(check("correct horse battery staple"), Ok(()));
    }

    #[test]
    fn unicode_passphrase_passes() {
        assert_eq!(check("Grüße aus Köln, sagt der Bär 🐻"), Ok(()));
        assert_eq!(check("пароль для тихого озера"), Ok(()));
    }

    #[test]
    fn higher_minimum_score_refuses_what_the_default_accepts() {
        let password = "Vq7#mZ2p!K";
        assert_eq!(check(password), Ok(()));
        let strict = Policy::new(8, 4).unwrap();
        assert_eq!(
            strict.check("alice", password),
            Err(PolicyViolation::TooWeak)
        );
    }

    #[test]
    fn policy_new_validates_its_bounds() {
        assert!(Policy::new(7, 3).unwrap_err().contains("between 8 and 128"));
        assert!(Policy::new(129, 3).is_err());
        assert!(Policy::new(8, 5).unwrap_err().contains("between 0 and 4"));
        let policy = Policy::new(8, 0).unwrap();
        assert_eq!((policy.min_length, policy.min_score), (8, 0));
        assert!(Policy::new(128, 4).is_ok());
    }

    #[test]
    fn violation_codes_are_stable() {
        let codes = [
            (PolicyViolation::TooShort { min: 8 }, "tooShort"),
            (PolicyViolation::TooLong { max: 128 }, "tooLong"),
            (PolicyViolation::SameAsUsername, "sameAsUsername"),
            (PolicyViolation::Common, "common"),
            (PolicyViolation::TooWeak, "tooWeak"),
            (PolicyViolation::ReusesCurrent, "reusesCurrent"),
            (PolicyViolation::ReusesTemporary, "reusesTemporary"),
        ];
        for (violation, code) in codes {
            assert_eq!(violation.code(), code);
        }
    }
}
