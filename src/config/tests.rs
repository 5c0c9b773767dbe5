use super::raw::{DATABASE_URL, LOG, MIN_PASSWORD_LENGTH, MIN_PASSWORD_SCORE};
use super::*;

#[test]
fn defaults_are_valid_and_local() {
    let config = RawConfig::default().validate().unwrap();
    assert_eq!(config.bind.to_string(), "127.0.0.1:8000");
    assert!(config.database_url.starts_with("sqlite:"));
    assert!(!config.cookie_secure);
    assert!(config.trusted_proxies.is_empty());
    assert_eq!(config.session_max_lifetime, time::Duration::days(7));
    assert_eq!(config.timeouts.headers, Duration::from_secs(10));
    assert_eq!(config.timeouts.body, Duration::from_secs(30));
}

#[test]
fn a_loopback_bind_without_a_public_url_is_served_at_localhost() {
    let default = RawConfig::default().validate().unwrap();
    assert_eq!(default.public_url, None, "not configured");
    assert_eq!(
        default.loopback_default_url().as_deref(),
        Some("http://localhost:8000")
    );
    assert_eq!(
        default.public_base().as_deref(),
        Some("http://localhost:8000")
    );
    assert_eq!(default.link_base(), "http://localhost:8000");
    let bound = |bind: &str| {
        RawConfig {
            bind: Some(bind.into()),
            ..Default::default()
        }
        .validate()
        .unwrap()
    };
    assert_eq!(
        bound("[::1]:9000").public_base().as_deref(),
        Some("http://localhost:9000")
    );
    assert_eq!(
        bound("127.0.0.2:8443").public_base().as_deref(),
        Some("http://localhost:8443")
    );
    // Not loopback: no default (links fall back to the bind address, passkeys stay off).
    for bind in ["0.0.0.0:8000", "[::]:8000", "192.0.2.7:8000"] {
        let config = bound(bind);
        assert_eq!(config.public_base(), None, "{bind}");
        assert_eq!(config.loopback_default_url(), None, "{bind}");
        assert_eq!(config.link_base(), format!("http://{bind}"));
    }
    // A configured URL wins and is the only one that counts as configured.
    let set = RawConfig {
        public_url: Some("https://pass.example.org".into()),
        ..Default::default()
    }
    .validate()
    .unwrap();
    assert_eq!(set.loopback_default_url(), None);
    assert_eq!(
        set.public_base().as_deref(),
        Some("https://pass.example.org")
    );
    assert_eq!(set.public_url.as_deref(), Some("https://pass.example.org"));
}

#[test]
fn public_url_is_the_base_of_links() {
    let set = RawConfig {
        public_url: Some("https://pass.example.org/panel/ ".into()),
        ..Default::default()
    }
    .validate()
    .unwrap();
    assert_eq!(set.link_base(), "https://pass.example.org/panel");
    // The path is the route of the link page.
    assert_eq!(
        set.link_url("TOKEN"),
        format!(
            "https://pass.example.org/panel{}TOKEN",
            crate::paths::RESET_PAGE_PREFIX
        )
    );
    for bad in [
        "pass.example.org",
        "ftp://x",
        "https://",
        "https://a?b=c",
        "https://u@evil",
    ] {
        let err = RawConfig {
            public_url: Some(bad.into()),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(err.starts_with("PASSGATE_PUBLIC_URL"), "{bad}: {err}");
    }
}

#[test]
fn session_max_hours_is_read_and_checked() {
    let config = RawConfig {
        session_max_hours: Some(" 12 ".into()),
        ..Default::default()
    }
    .validate()
    .unwrap();
    assert_eq!(config.session_max_lifetime, time::Duration::hours(12));
    for bad in ["0", "-1", "8761", "a week"] {
        let err = RawConfig {
            session_max_hours: Some(bad.into()),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(
            err.starts_with("PASSGATE_SESSION_MAX_HOURS"),
            "{bad}: {err}"
        );
    }
}

/// The variable's value alone set, validated for `purpose`.
fn with(variable: &Variable, value: &str, purpose: Purpose) -> Result<Config, String> {
    let mut raw = RawConfig::default();
    variable.set(&mut raw, value);
    raw.validate_for(purpose)
}

#[test]
fn every_variable_refuses_its_bad_example_in_one_line_naming_it() {
    for variable in VARIABLES {
        let err = with(variable, variable.refused, Purpose::Serve).unwrap_err();
        assert!(
            err.starts_with(&format!("{}: ", variable.name)) && !err.contains('\n'),
            "{}={:?}: {err}",
            variable.name,
            variable.refused
        );
        // Administrative commands ignore serve-only settings, whatever their value.
        let admin = with(variable, variable.refused, Purpose::Admin);
        match variable.scope {
            Scope::ServeOnly => assert!(admin.is_ok(), "{}: {admin:?}", variable.name),
            Scope::Everywhere => assert_eq!(admin.unwrap_err(), err),
        }
    }
}

#[test]
fn a_blank_variable_counts_as_unset() {
    let default = format!("{:?}", RawConfig::default().validate().unwrap());
    for variable in VARIABLES {
        for blank in ["", "   ", "\t"] {
            let config = with(variable, blank, Purpose::Serve).unwrap();
            assert_eq!(
                format!("{config:?}"),
                default,
                "{}={blank:?}",
                variable.name
            );
        }
    }
}

#[test]
fn every_field_of_the_raw_configuration_is_a_listed_variable() {
    let mut raw = RawConfig::default();
    for variable in VARIABLES {
        variable.set(&mut raw, "x");
    }
    let shown = format!("{raw:?}");
    assert!(
        !shown.contains("None"),
        "a RawConfig field no variable in VARIABLES fills: {shown}"
    );
    let mut names: Vec<&str> = VARIABLES.iter().map(|v| v.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), VARIABLES.len(), "each variable once");
}

#[test]
fn the_readme_documents_exactly_these_variables() {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("\n## Configuration\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("a Configuration section");
    let mut documented: Vec<&str> = section
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .collect();
    documented.sort();
    let mut listed: Vec<&str> = VARIABLES.iter().map(|v| v.name).collect();
    listed.sort();
    assert_eq!(documented, listed);
}

#[test]
fn the_minimum_password_length_refuses_seven_and_takes_eight_to_128() {
    let err = with(&MIN_PASSWORD_LENGTH, "7", Purpose::Admin).unwrap_err();
    assert!(
        err.starts_with("PASSGATE_MIN_PASSWORD_LENGTH: '7'"),
        "{err}"
    );
    for n in [8, 16, 17, 64, 128] {
        let config = with(&MIN_PASSWORD_LENGTH, &n.to_string(), Purpose::Admin).unwrap();
        assert_eq!(config.policy.min_length, n);
    }
    assert!(with(&MIN_PASSWORD_LENGTH, "129", Purpose::Admin).is_err());
    let err = with(&MIN_PASSWORD_SCORE, "5", Purpose::Admin).unwrap_err();
    assert!(err.starts_with("PASSGATE_MIN_PASSWORD_SCORE: '5'"), "{err}");
}

#[test]
fn a_log_filter_names_known_levels_only() {
    for good in [
        "info",
        "debug,sqlx=warn",
        "WARN",
        "passgate=trace,tower_http=off",
    ] {
        assert!(with(&LOG, good, Purpose::Serve).is_ok(), "{good}");
    }
    for bad in [
        "verbose",
        "warning",
        "info,sqlx=loud",
        "=info",
        "info,,",
        "sqlx=",
    ] {
        let err = with(&LOG, bad, Purpose::Serve).unwrap_err();
        assert!(err.starts_with("PASSGATE_LOG: "), "{bad}: {err}");
    }
}

#[test]
fn a_database_url_is_never_shown_with_its_password() {
    for bad in [
        "postgres://user:hunter2secret@db:notaport/passgate",
        "postgres://user:hunter2secret@db/passgate?sslmode=sometimes",
        "postgresql://user@db/passgate?password=hunter2secret&sslmode=bogus",
        "mysql://user:hunter2secret@db/passgate",
    ] {
        let err = with(&DATABASE_URL, bad, Purpose::Admin).unwrap_err();
        assert!(err.starts_with("PASSGATE_DATABASE_URL: "), "{err}");
        assert!(!err.contains("hunter2secret"), "{err}");
    }
    assert_eq!(
        redact_url("postgres://u:pw@h:5432/db?password=x&sslmode=require"),
        "postgres://u:***@h:5432/db?password=***&sslmode=require"
    );
    assert_eq!(
        redact_url("sqlite://passgate.db?mode=rwc"),
        "sqlite://passgate.db?mode=rwc"
    );
}

proptest::proptest! {
    /// Whatever a variable holds, the configuration is valid or refused in one line naming
    /// that variable (never a panic, never another variable's name).
    #[test]
    fn any_value_is_accepted_or_refused_naming_its_variable(
        index in 0..VARIABLES.len(),
        value in "\\PC{0,40}|[0-9a-z:/.,=@ -]{0,40}",
    ) {
        let variable = VARIABLES[index];
        if let Err(err) = with(variable, &value, Purpose::Serve) {
            let prefix = format!("{}: ", variable.name);
            proptest::prop_assert!(err.starts_with(&prefix), "{}", err);
            proptest::prop_assert!(!err.contains('\n') && !err.contains('\r'), "{}", err);
        }
    }
}

#[test]
fn mfa_settings_are_read_and_checked() {
    let config = RawConfig::default().validate().unwrap();
    assert_eq!(config.mfa.skew_steps, 1);
    assert_eq!(config.mfa.policy, MfaPolicy::None);
    assert!(config.mfa.secret_key.is_none());
    let config = RawConfig {
        totp_skew_steps: Some("0".into()),
        require_mfa: Some("Superusers".into()),
        ..Default::default()
    }
    .validate()
    .unwrap();
    assert_eq!(config.mfa.skew_steps, 0);
    assert_eq!(config.mfa.policy, MfaPolicy::Superusers);
    for (raw, variable) in [
        (
            RawConfig {
                totp_skew_steps: Some("2".into()),
                ..Default::default()
            },
            "PASSGATE_TOTP_SKEW_STEPS",
        ),
        (
            RawConfig {
                require_mfa: Some("admins".into()),
                ..Default::default()
            },
            "PASSGATE_REQUIRE_MFA",
        ),
        (
            RawConfig {
                secret_key_file: Some("/nonexistent/passgate.key".into()),
                ..Default::default()
            },
            "PASSGATE_SECRET_KEY_FILE",
        ),
    ] {
        let err = raw.validate().unwrap_err();
        assert!(err.starts_with(variable) && !err.contains('\n'), "{err}");
    }
}

#[test]
fn a_secret_key_file_holds_raw_hex_or_base64() {
    let key = [7u8; 32];
    assert_eq!(parse_secret_key(&key), Some(key));
    assert_eq!(parse_secret_key(hex::encode(key).as_bytes()), Some(key));
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(key);
    assert_eq!(parse_secret_key(format!("{b64}\n").as_bytes()), Some(key));
    assert_eq!(parse_secret_key(b"too short"), None);
    assert_eq!(parse_secret_key(&[1u8; 31]), None);
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), b"not a key").unwrap();
    let err = RawConfig {
        secret_key_file: Some(file.path().display().to_string()),
        ..Default::default()
    }
    .validate()
    .unwrap_err();
    assert!(
        err.contains("must hold a 32-byte key") && !err.contains("not a key"),
        "{err}"
    );
}

#[test]
fn trusted_proxies_accept_addresses_and_ranges() {
    let config = RawConfig {
        trusted_proxies: Some("10.0.0.0/8, 192.168.1.7,::1".into()),
        ..Default::default()
    }
    .validate()
    .unwrap();
    assert!(config.is_trusted_proxy("10.1.2.3".parse().unwrap()));
    assert!(config.is_trusted_proxy("192.168.1.7".parse().unwrap()));
    assert!(config.is_trusted_proxy("::1".parse().unwrap()));
    assert!(!config.is_trusted_proxy("192.168.1.8".parse().unwrap()));
}

#[test]
fn an_http_issuer_is_refused_while_cookies_are_secure() {
    let refused = RawConfig {
        public_url: Some("http://pass.example.org".into()),
        cookie_secure: Some("true".into()),
        ..Default::default()
    }
    .validate()
    .unwrap_err();
    assert!(refused.starts_with("PASSGATE_PUBLIC_URL"), "{refused}");
    assert!(!refused.contains('\n'), "one line");
    for (url, secure) in [
        ("https://pass.example.org", "true"),
        ("http://pass.example.org", "false"),
    ] {
        RawConfig {
            public_url: Some(url.into()),
            cookie_secure: Some(secure.into()),
            ..Default::default()
        }
        .validate()
        .unwrap_or_else(|e| panic!("{url} secure={secure}: {e}"));
    }
}
