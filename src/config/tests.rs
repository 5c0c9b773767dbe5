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
fn public_url_is_the_base_of_links() {
    let default = RawConfig::default().validate().unwrap();
    assert_eq!(default.link_base(), "http://127.0.0.1:8000");
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

#[test]
fn bad_values_name_their_variable() {
    let cases = [
        RawConfig {
            bind: Some("nonsense".into()),
            ..Default::default()
        },
        RawConfig {
            database_url: Some("mysql://x".into()),
            ..Default::default()
        },
        RawConfig {
            cookie_secure: Some("maybe".into()),
            ..Default::default()
        },
        RawConfig {
            trusted_proxies: Some("10.0.0.0/8, banana".into()),
            ..Default::default()
        },
        RawConfig {
            min_password_length: Some("6".into()),
            ..Default::default()
        },
        RawConfig {
            max_connections: Some("0".into()),
            ..Default::default()
        },
        RawConfig {
            acquire_timeout_secs: Some("soon".into()),
            ..Default::default()
        },
    ];
    for raw in cases {
        let err = raw.clone().validate().unwrap_err();
        assert!(!err.contains('\n'), "one line: {err}");
        assert!(
            err.contains("PASSGATE_") || err.contains("policy"),
            "{raw:?}: {err}"
        );
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
