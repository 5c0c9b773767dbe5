//! Translations are complete: every locale has every key, and the code uses no unknown key.

use std::collections::BTreeSet;
use std::path::Path;

use passgate::accounts::password::PolicyViolation;
use passgate::i18n::{DE_JSON, EN_JSON, Lang, load};

const NAMESPACES: [&str; 13] = [
    "base",
    "login",
    "dashboard",
    "validators",
    "error",
    "userConfig",
    "panelConfig",
    "tempPassword",
    "audit",
    "overview",
    "roles",
    "sso",
    "apps",
];

fn keys_used_in(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            keys_used_in(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for literal in text.split('"').skip(1).step_by(2) {
                let Some((ns, rest)) = literal.split_once('.') else {
                    continue;
                };
                if NAMESPACES.contains(&ns)
                    && !rest.is_empty()
                    && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
                {
                    out.insert(literal.to_string());
                }
            }
        }
    }
}

#[test]
fn every_locale_has_the_same_keys() {
    let en: BTreeSet<String> = load(EN_JSON).into_keys().collect();
    let de: BTreeSet<String> = load(DE_JSON).into_keys().collect();
    let missing_de: Vec<_> = en.difference(&de).collect();
    let missing_en: Vec<_> = de.difference(&en).collect();
    assert!(missing_de.is_empty(), "German lacks {missing_de:?}");
    assert!(missing_en.is_empty(), "English lacks {missing_en:?}");
    for (key, text) in load(DE_JSON) {
        assert!(!text.trim().is_empty(), "empty German text for {key}");
    }
}

#[test]
fn the_code_uses_no_unknown_key() {
    let mut used = BTreeSet::new();
    keys_used_in(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut used,
    );
    assert!(used.len() > 30, "the scan finds the keys ({})", used.len());
    let violations = [
        PolicyViolation::TooShort { min: 8 },
        PolicyViolation::TooLong { max: 128 },
        PolicyViolation::SameAsUsername,
        PolicyViolation::Common,
        PolicyViolation::TooWeak,
        PolicyViolation::ReusesCurrent,
        PolicyViolation::ReusesTemporary,
    ];
    for v in violations {
        used.insert(format!("validators.{}", v.code()));
    }
    for lang in Lang::ALL {
        let known: BTreeSet<&str> = lang.keys().collect();
        let unknown: Vec<_> = used
            .iter()
            .filter(|k| !known.contains(k.as_str()))
            .collect();
        assert!(unknown.is_empty(), "{:?} lacks {unknown:?}", lang);
    }
}

#[test]
fn spec_namespaces_for_login_messages_exist() {
    for lang in Lang::ALL {
        assert_ne!(
            lang.t("login.passwordChangeRequired"),
            "login.passwordChangeRequired"
        );
        assert_ne!(
            lang.t("login.tempPasswordExpired"),
            "login.tempPasswordExpired"
        );
    }
    assert_ne!(Lang::En.t("login.title"), Lang::De.t("login.title"));
}
