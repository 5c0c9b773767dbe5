//! Translations: English and German from `locales/*.json`, looked up by dotted key.

use std::collections::HashMap;
use std::sync::LazyLock;

/// A language passgate speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    De,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::De];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    /// The language a stored `lang` value names (`de`, `de_DE`, `de-AT` …); English otherwise.
    pub fn from_code(code: &str) -> Lang {
        let primary = code.trim().split(['-', '_']).next().unwrap_or("");
        if primary.eq_ignore_ascii_case("de") {
            Lang::De
        } else {
            Lang::En
        }
    }

    /// The most preferred supported language of an `Accept-Language` header; English otherwise.
    pub fn negotiate(accept_language: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for item in accept_language.split(',') {
            let mut parts = item.split(';');
            let tag = parts.next().unwrap_or("").trim();
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            let lang = match primary.to_ascii_lowercase().as_str() {
                "de" => Lang::De,
                "en" => Lang::En,
                _ => continue,
            };
            if quality > 0.0 && best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, lang));
            }
        }
        best.map(|(_, lang)| lang).unwrap_or_default()
    }

    fn table(self) -> &'static HashMap<String, String> {
        match self {
            Lang::En => &EN,
            Lang::De => &DE,
        }
    }

    /// The text for `key`; falls back to English, then to the key itself.
    pub fn t(self, key: &str) -> &str {
        self.table()
            .get(key)
            .or_else(|| EN.get(key))
            .map(String::as_str)
            .unwrap_or_else(|| {
                tracing::warn!(key, "missing translation");
                key
            })
    }

    /// Every key this locale defines.
    pub fn keys(self) -> impl Iterator<Item = &'static str> {
        self.table().keys().map(String::as_str)
    }
}

/// The stored codes passgate accepts for `users.lang`.
pub const SUPPORTED: [&str; 2] = ["en", "de"];

pub const EN_JSON: &str = include_str!("locales/en.json");
pub const DE_JSON: &str = include_str!("locales/de.json");

static EN: LazyLock<HashMap<String, String>> = LazyLock::new(|| load(EN_JSON));
static DE: LazyLock<HashMap<String, String>> = LazyLock::new(|| load(DE_JSON));

/// Flattens `{"login": {"title": "…"}}` into `login.title`.
pub fn load(json: &str) -> HashMap<String, String> {
    fn walk(prefix: &str, value: &serde_json::Value, out: &mut HashMap<String, String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            serde_json::Value::String(s) => {
                out.insert(prefix.to_string(), s.clone());
            }
            other => {
                out.insert(prefix.to_string(), other.to_string());
            }
        }
    }
    let value: serde_json::Value =
        serde_json::from_str(json).expect("bundled translation files are valid JSON");
    let mut out = HashMap::new();
    walk("", &value, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_preferred_supported_language() {
        assert_eq!(Lang::negotiate("de-DE,de;q=0.9,en;q=0.8"), Lang::De);
        assert_eq!(Lang::negotiate("fr-FR, en;q=0.5, de;q=0.7"), Lang::De);
        assert_eq!(Lang::negotiate("fr"), Lang::En);
        assert_eq!(Lang::negotiate(""), Lang::En);
        assert_eq!(Lang::negotiate("de;q=0"), Lang::En);
    }

    #[test]
    fn stored_codes_map_to_languages() {
        assert_eq!(Lang::from_code("de"), Lang::De);
        assert_eq!(Lang::from_code("de_DE"), Lang::De);
        assert_eq!(Lang::from_code("en_EN"), Lang::En);
        assert_eq!(Lang::from_code("xx"), Lang::En);
    }
}
