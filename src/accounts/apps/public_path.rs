//! Public paths (SPEC §15.1, §15.6): path prefixes of an application that pass without a
//! sign-in, matched against the **normalised** request path.
//!
//! A path is public only if every reading a server behind the proxy might give it stays under
//! a public prefix: the RFC 3986 reading (percent-decoding of unreserved characters, then
//! `.` and `..` segments resolved) and a lenient one (every percent-escape decoded, several
//! times; backslashes as slashes; runs of slashes merged, as nginx does; then the dot
//! segments). So `/public/../admin`, `/public/%2e%2e/admin`, `/public//../admin`,
//! `/public/..%2fadmin` and `/public\..\admin` are all not public: whatever the app makes of
//! them, a sign-in is asked for (fail closed).

use std::fmt;

/// The longest public path an administrator may register, in bytes.
pub const MAX_BYTES: usize = 256;

/// A registered public path prefix, stored normalised (it starts with `/`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PublicPath(String);

impl PublicPath {
    /// Reads a prefix as an administrator types it (`/api/`, `/.well-known/`, `/health`),
    /// normalised. A prefix ending in `/` covers everything below it; one without covers
    /// itself and everything below `prefix/` (`/health` covers `/health/live`, not
    /// `/healthz`).
    pub fn parse(raw: &str) -> Result<PublicPath, String> {
        let text = raw.trim();
        let bad = text.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'\\');
        if !text.starts_with('/') || text.len() > MAX_BYTES || bad || text.contains(['?', '#']) {
            return Err(format!(
                "'{raw}': a public path starts with / and has no query, spaces or backslashes \
                 (at most {MAX_BYTES} bytes)"
            ));
        }
        let decoded = decode_unreserved(text)
            .ok_or_else(|| format!("'{raw}': a malformed percent-escape"))?;
        if remove_dot_segments(&decoded) != decoded || lenient(text).as_deref() != Some(&decoded) {
            return Err(format!(
                "'{raw}': write the path plainly, without encoded slashes or dots"
            ));
        }
        Ok(PublicPath(decoded))
    }

    /// The prefix as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the normalised `path` is this prefix or below it.
    fn covers(&self, path: &str) -> bool {
        let prefix = self.0.as_str();
        path == prefix
            || (prefix.ends_with('/') && path.starts_with(prefix))
            || path
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    }
}

impl fmt::Display for PublicPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether the request target `uri` (path and query, as the proxy forwarded it) is under one
/// of `public` in every reading of its path.
pub fn is_public(uri: &str, public: &[PublicPath]) -> bool {
    let path = uri.split(['?', '#']).next().unwrap_or("");
    if !path.starts_with('/') || public.is_empty() {
        return false;
    }
    let covered = |normal: Option<String>| {
        normal.is_some_and(|p| public.iter().any(|prefix| prefix.covers(&p)))
    };
    covered(strict(path)) && covered(lenient(path))
}

/// RFC 3986: `%XX` of unreserved characters decoded (other escapes kept, hex upper-cased),
/// then the dot segments removed. `None` for a malformed escape.
fn strict(path: &str) -> Option<String> {
    decode_unreserved(path).map(|decoded| remove_dot_segments(&decoded))
}

/// `%XX` of unreserved characters decoded, other escapes kept (hex upper-cased).
fn decode_unreserved(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let value = hex_pair(bytes.get(i + 1..i + 3)?)?;
            if value.is_ascii_alphanumeric() || matches!(value, b'-' | b'.' | b'_' | b'~') {
                out.push(value);
            } else {
                out.extend_from_slice(format!("%{value:02X}").as_bytes());
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// Every escape decoded (up to three rounds, for double encoding), `\` read as `/`, runs of
/// `/` merged, then the dot segments removed.
fn lenient(path: &str) -> Option<String> {
    let mut text = path.to_string();
    for _ in 0..3 {
        let decoded = decode_all(&text)?;
        if decoded == text {
            break;
        }
        text = decoded;
    }
    let mut merged = String::with_capacity(text.len());
    for c in text.chars().map(|c| if c == '\\' { '/' } else { c }) {
        if !(c == '/' && merged.ends_with('/')) {
            merged.push(c);
        }
    }
    Some(remove_dot_segments(&merged))
}

fn decode_all(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(hex_pair(bytes.get(i + 1..i + 3)?)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

fn hex_pair(pair: &[u8]) -> Option<u8> {
    let text = std::str::from_utf8(pair).ok()?;
    u8::from_str_radix(text, 16).ok()
}

/// RFC 3986 §5.2.4 for an absolute path: `.` segments dropped, `..` removes the segment
/// before it (never climbing above `/`).
fn remove_dot_segments(path: &str) -> String {
    let mut output: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    let mut trailing_slash = false;
    for (i, segment) in segments.iter().enumerate() {
        match *segment {
            "." => trailing_slash = i == last,
            ".." => {
                output.pop();
                trailing_slash = i == last;
            }
            other => {
                output.push(other);
                trailing_slash = false;
            }
        }
    }
    let mut result = String::with_capacity(path.len());
    for segment in &output {
        result.push('/');
        result.push_str(segment);
    }
    if trailing_slash || result.is_empty() {
        result.push('/');
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(list: &[&str]) -> Vec<PublicPath> {
        list.iter().map(|p| PublicPath::parse(p).unwrap()).collect()
    }

    #[test]
    fn dot_segments_are_removed_as_rfc_3986_says() {
        for (path, normal) in [
            ("/", "/"),
            ("/a/b/c/./../../g", "/a/g"),
            ("/a/./b/", "/a/b/"),
            ("/a/..", "/"),
            ("/a/.", "/a/"),
            ("/../../x", "/x"),
            ("/a//b", "/a//b"),
            ("/public/../admin", "/admin"),
        ] {
            assert_eq!(remove_dot_segments(path), normal, "{path}");
        }
        assert_eq!(strict("/%61pi/%2E%2e/x%2f").as_deref(), Some("/x%2F"));
        assert_eq!(strict("/%zz"), None);
        assert_eq!(lenient("/a/%252e%252e/b").as_deref(), Some("/b"));
        assert_eq!(lenient("/a\\..\\b").as_deref(), Some("/b"));
        assert_eq!(lenient("/a//../b").as_deref(), Some("/b"));
    }

    #[test]
    fn a_path_under_a_public_prefix_passes() {
        let public = paths(&["/api/", "/.well-known/", "/health"]);
        for uri in [
            "/api/",
            "/api/v1/items?x=1",
            "/.well-known/openid-configuration",
            "/health",
            "/health/live",
            "/health?full",
            "/%61pi/x",
            "/api/./x",
            "/other/../api/x",
            "/api/x/../y",
        ] {
            assert!(is_public(uri, &public), "{uri} is public");
        }
    }

    #[test]
    fn a_path_spelled_to_climb_out_is_not_public() {
        let public = paths(&["/public/", "/health"]);
        for uri in [
            "/public/../admin",
            "/public/%2e%2e/admin",
            "/public/%2E%2E/admin",
            "/public/.%2e/admin",
            "/public//../admin",
            "/public/..%2fadmin",
            "/public/..%2Fadmin",
            "/public/%2e%2e%2fadmin",
            "/public/%252e%252e/admin",
            "/public\\..\\admin",
            "/public/..\\admin",
            "/public%2f..%2fadmin",
            "/public",
            "/healthz",
            "/PUBLIC/x",
            "//public/x",
            "/public/%zz",
            "",
            "public/x",
            "https://evil/public/x",
        ] {
            assert!(!is_public(uri, &public), "{uri} must not be public");
        }
        assert!(!is_public("/anything", &[]));
    }

    #[test]
    fn registered_prefixes_are_plain_normalised_paths() {
        assert_eq!(PublicPath::parse(" /%61pi/ ").unwrap().as_str(), "/api/");
        for bad in [
            "/a/./b/", "/a/../b/", "/a/..", "api/", "/a?b", "/a#b", "/a b", "/a\\b", "/%2e%2e/",
            "/a%2fb", "/%zz", "",
        ] {
            assert!(PublicPath::parse(bad).is_err(), "{bad:?}");
        }
        assert!(PublicPath::parse(&format!("/{}", "a".repeat(MAX_BYTES))).is_err());
    }
}
