//! RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30-second steps) over explicit time steps, so that the
//! caller can store the step a device accepted and refuse it and every earlier one.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// Seconds per time step (what every authenticator app uses).
pub const STEP_SECONDS: i64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Bytes of a new secret (160 bits, RFC 4226's recommendation).
pub const SECRET_BYTES: usize = 20;

/// The time step of a Unix time (T0 = 0).
pub fn step_at(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// HOTP (RFC 4226) of `counter` with `digits` digits, zero-padded.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> String {
    let mut mac =
        <Hmac<Sha1> as KeyInit>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    // Dynamic truncation (RFC 4226 §5.3).
    let offset = usize::from(hash[hash.len() - 1] & 0x0f);
    let binary = u32::from_be_bytes([
        hash[offset] & 0x7f,
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ]);
    let modulus = 10u64.pow(digits);
    format!(
        "{:0width$}",
        u64::from(binary) % modulus,
        width = digits as usize
    )
}

/// The 6-digit code of `step`.
pub fn code_at_step(secret: &[u8], step: i64) -> String {
    hotp(secret, u64::try_from(step).unwrap_or(0), DIGITS)
}

/// A code as typed: exactly six ASCII digits (surrounding whitespace ignored), else `None`.
pub fn parse_code(input: &str) -> Option<String> {
    let code = input.trim();
    (code.len() == DIGITS as usize && code.bytes().all(|b| b.is_ascii_digit()))
        .then(|| code.to_string())
}

/// The step `code` belongs to among the current step and up to `skew` steps before it,
/// newest first; never a later step. Compared in constant time.
pub fn matching_step(secret: &[u8], code: &str, now_step: i64, skew: i64) -> Option<i64> {
    let mut found = None;
    for step in (now_step - skew.clamp(0, 1)..=now_step).rev() {
        let expected = code_at_step(secret, step);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// RFC 4648 base32 without padding (what `otpauth://` URIs carry).
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The base32 secret in groups of four, for typing by hand.
pub fn grouped(base32: &str) -> String {
    base32
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `otpauth://totp/passgate:USER?secret=…&issuer=passgate&algorithm=SHA1&digits=6&period=30`
/// (Google Authenticator's key URI format; usernames are `[a-z0-9_]`, nothing to escape).
pub fn otpauth_uri(issuer: &str, username: &str, secret_base32: &str) -> String {
    format!(
        "otpauth://totp/{issuer}:{username}?secret={secret_base32}&issuer={issuer}\
         &algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, the SHA-1 rows (the seed is ASCII "12345678901234567890").
    const RFC_SECRET: &[u8] = b"12345678901234567890";
    const RFC_VECTORS: [(i64, &str); 6] = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];

    #[test]
    fn rfc_6238_sha1_test_vectors() {
        for (time, expected) in RFC_VECTORS {
            let step = step_at(time);
            assert_eq!(hotp(RFC_SECRET, step as u64, 8), expected, "T = {time}");
            // Six digits are the last six of the eight.
            assert_eq!(code_at_step(RFC_SECRET, step), expected[2..], "T = {time}");
        }
    }

    #[test]
    fn rfc_4226_hotp_test_vectors() {
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (counter, code) in expected.iter().enumerate() {
            assert_eq!(hotp(RFC_SECRET, counter as u64, 6), *code);
        }
    }

    #[test]
    fn only_the_current_and_the_previous_step_match() {
        let now = step_at(1_234_567_890);
        let code = |step| code_at_step(RFC_SECRET, step);
        assert_eq!(matching_step(RFC_SECRET, &code(now), now, 1), Some(now));
        assert_eq!(
            matching_step(RFC_SECRET, &code(now - 1), now, 1),
            Some(now - 1)
        );
        assert_eq!(matching_step(RFC_SECRET, &code(now - 2), now, 1), None);
        assert_eq!(matching_step(RFC_SECRET, &code(now + 1), now, 1), None);
        assert_eq!(matching_step(RFC_SECRET, &code(now - 1), now, 0), None);
        assert_eq!(matching_step(RFC_SECRET, &code(now), now, 0), Some(now));
    }

    #[test]
    fn codes_are_six_digits() {
        assert_eq!(parse_code(" 012345 "), Some("012345".into()));
        for bad in ["12345", "1234567", "12a456", "", "１２３４５６", "12 456"] {
            assert_eq!(parse_code(bad), None, "{bad}");
        }
    }

    #[test]
    fn base32_follows_rfc_4648() {
        let cases = [
            ("", ""),
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ];
        for (input, expected) in cases {
            assert_eq!(base32(input.as_bytes()), expected);
        }
        assert_eq!(base32(&[0u8; 20]).len(), 32);
        assert_eq!(grouped("ABCDEFGHIJ"), "ABCD EFGH IJ");
    }

    #[test]
    fn the_uri_names_issuer_user_and_parameters() {
        assert_eq!(
            otpauth_uri("passgate", "alice", "MZXW6YTBOI"),
            "otpauth://totp/passgate:alice?secret=MZXW6YTBOI&issuer=passgate\
             &algorithm=SHA1&digits=6&period=30"
        );
    }
}
