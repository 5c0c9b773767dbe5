//! An audit entry's stored detail read as a sentence, per kind, in the viewer's language.

use crate::i18n::Lang;

/// An audit entry's stored detail (`key=value` pairs, or a short reason for failed sign-ins)
/// as a translated sentence; a detail this does not know is shown as stored.
pub fn detail_sentence(lang: Lang, action: &str, detail: &str) -> String {
    let pairs: Vec<(&str, &str)> = detail
        .split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .collect();
    let get = |key: &str| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let yes_no = |value: Option<&str>| {
        if value == Some("true") {
            lang.t("panelConfig.yes")
        } else {
            lang.t("panelConfig.no")
        }
    };
    let expiry = |value: Option<&str>| match value.and_then(display_time) {
        Some(at) => lang.t("audit.expiresAt").replace("{at}", &at),
        None => lang.t("audit.expiresNever").to_string(),
    };
    let change = |value: Option<&str>| {
        if value == Some("true") {
            lang.t("audit.changeRequired")
        } else {
            lang.t("audit.changeNotRequired")
        }
        .to_string()
    };
    let parts: Vec<String> = match action {
        "password_reset" if !pairs.is_empty() => {
            let mut parts = vec![
                if get("generated") == Some("true") {
                    lang.t("audit.resetGenerated")
                } else {
                    lang.t("audit.resetChosen")
                }
                .to_string(),
                expiry(get("expires")),
                change(get("require_password_change")),
            ];
            if get("revoke_api_keys") == Some("true") {
                parts.push(lang.t("audit.keysRevoked").to_string());
            }
            if get("reset_mfa") == Some("true") {
                parts.push(lang.t("audit.factorsRemoved").to_string());
            }
            parts
        }
        "user_created" if !pairs.is_empty() => vec![
            if get("superuser") == Some("true") {
                lang.t("audit.createdSuperuser")
            } else {
                lang.t("audit.createdUser")
            }
            .to_string(),
            if get("setup_link") == Some("true") {
                lang.t("audit.withSetupLink").to_string()
            } else {
                change(get("require_password_change"))
            },
            expiry(get("expires")),
        ],
        "password_changed" if get("forced").is_some() => vec![
            if get("forced") == Some("true") {
                lang.t("audit.forcedChange")
            } else {
                lang.t("audit.voluntaryChange")
            }
            .to_string(),
        ],
        "user_updated" if get("changed").is_some() => {
            let fields: Vec<String> = get("changed")
                .unwrap_or_default()
                .split(',')
                .filter(|f| !f.is_empty())
                .map(|f| {
                    let key = format!("audit.fields.{f}");
                    let text = lang.t(&key);
                    if text == key {
                        f.to_string()
                    } else {
                        text.to_string()
                    }
                })
                .collect();
            vec![
                lang.t("audit.changedFields")
                    .replace("{fields}", &fields.join(", ")),
            ]
        }
        "api_key_created" if get("key_id").is_some() => vec![
            lang.t("audit.keyCreated")
                .replace("{id}", get("key_id").unwrap_or_default())
                .replace("{full}", yes_no(get("full_access"))),
        ],
        "api_key_deleted" if get("key_id").is_some() => {
            vec![
                lang.t("audit.keyDeleted")
                    .replace("{id}", get("key_id").unwrap_or_default()),
            ]
        }
        "reset_link_created" if get("expires").is_some() => {
            let mut parts = vec![
                if get("purpose") == Some("setup") {
                    lang.t("audit.setupLinkMade")
                } else {
                    lang.t("audit.resetLinkMade")
                }
                .replace("{at}", &expiry(get("expires"))),
            ];
            if get("revoke_api_keys") == Some("true") {
                parts.push(lang.t("audit.linkRevokesKeys").to_string());
            }
            parts
        }
        "reset_link_used" => {
            let mut parts = vec![lang.t("audit.resetLinkUsed").to_string()];
            if get("revoke_api_keys") == Some("true") {
                parts.push(lang.t("audit.keysRevoked").to_string());
            }
            parts
        }
        "login" if detail == "passkey" => vec![lang.t("audit.withPasskey").to_string()],
        "passkey_added" | "passkey_removed" if get("passkey").is_some() => {
            passkey_sentence(lang, action, detail)
        }
        "mfa_enrolled" if get("device").is_some() => vec![
            lang.t("audit.deviceAdded")
                .replace("{id}", get("device").unwrap_or_default())
                .replace("{codes}", get("recovery_codes").unwrap_or("0")),
        ],
        "mfa_removed" if get("device").is_some() => vec![
            lang.t("audit.deviceRemoved")
                .replace("{id}", get("device").unwrap_or_default())
                .replace("{left}", get("devices_left").unwrap_or("0")),
        ],
        "mfa_reset" if get("devices").is_some() => vec![
            lang.t("audit.factorsReset")
                .replace("{count}", get("devices").unwrap_or("0")),
        ],
        "role_created"
        | "role_updated"
        | "role_deleted"
        | "role_member_added"
        | "role_member_removed"
            if get("role").is_some() =>
        {
            vec![role_sentence(lang, action, &get)]
        }
        "recovery_codes_renewed" => vec![lang.t("audit.codesRenewed").to_string()],
        "sessions_ended" if get("scope").is_some() => vec![match get("scope") {
            Some("one") => lang.t("audit.sessionsOne").to_string(),
            Some("others") => lang
                .t("audit.sessionsOthers")
                .replace("{count}", get("count").unwrap_or("0")),
            _ => lang.t("audit.sessionsAll").to_string(),
        }],
        "password_change_required" => vec![lang.t("audit.changeRequiredBulk").to_string()],
        "recovery_code_used" if get("left").is_some() => vec![
            lang.t("audit.codeUsed")
                .replace("{left}", get("left").unwrap_or("0")),
        ],
        "login_failed" => match detail {
            "incorrect second factor" => vec![lang.t("audit.failFactor").to_string()],
            "passkey not accepted" => vec![lang.t("audit.failPasskey").to_string()],
            "password sign-in turned off (passkey)" => {
                vec![lang.t("audit.failPasswordOff").to_string()]
            }
            "incorrect credentials" => vec![lang.t("audit.failIncorrect").to_string()],
            "temporary password expired" => vec![lang.t("audit.failExpired").to_string()],
            "account disabled" => vec![lang.t("audit.failDisabled").to_string()],
            _ => return detail.to_string(),
        },
        "app_created"
        | "app_updated"
        | "app_deleted"
        | "app_client_secret_regenerated"
        | "sso_session_issued"
        | "sso_refused" => {
            let decoded = |key: &str| {
                get(key).map(|value| {
                    url::form_urlencoded::parse(format!("v={value}").as_bytes())
                        .next()
                        .map(|(_, v)| v.into_owned())
                        .unwrap_or_default()
                })
            };
            return crate::views::apps::audit_sentence(lang, action, &decoded)
                .unwrap_or_else(|| detail.to_string());
        }
        _ => return detail.to_string(),
    };
    format!("{}.", parts.join("; "))
}

/// A passkey added or removed, named by the name its owner gave it (`name=`, the last pair:
/// the rest of the detail); entries from before names were recorded give its number.
fn passkey_sentence(lang: Lang, action: &str, detail: &str) -> Vec<String> {
    let (head, name) = match detail.split_once(" name=") {
        Some((head, name)) => (head, Some(name)),
        None => (detail, None),
    };
    // Only the pairs before the name: a name may look like a pair.
    let get = |key: &str| {
        head.split_whitespace()
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    };
    let left = get("passkeys_left").unwrap_or("0");
    let mut parts = vec![match (action, name) {
        ("passkey_added", Some(name)) => lang.t("passkeyUse.auditAdded").replace("{name}", name),
        ("passkey_added", None) => lang
            .t("audit.passkeyAdded")
            .replace("{id}", get("passkey").unwrap_or_default()),
        (_, Some(name)) => lang
            .t("passkeyUse.auditRemoved")
            .replace("{name}", name)
            .replace("{left}", left),
        (_, None) => lang
            .t("audit.passkeyRemoved")
            .replace("{id}", get("passkey").unwrap_or_default())
            .replace("{left}", left),
    }];
    if get("replaced").is_some() {
        parts.push(lang.t("passkeyUse.auditReplaced").to_string());
    }
    if get("discoverable") == Some("false") {
        parts.push(lang.t("passkeyUse.auditNeedsName").to_string());
    }
    if get("password_back_on") == Some("true") {
        parts.push(lang.t("passkeyUse.auditPasswordBackOn").to_string());
    }
    parts
}

/// A role entry (SPEC §14) as a sentence; the role's name is stored form-encoded.
fn role_sentence<'a>(lang: Lang, action: &str, get: &dyn Fn(&str) -> Option<&'a str>) -> String {
    let name = get("name")
        .and_then(|encoded| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("name={encoded}")).ok()
        })
        .and_then(|pairs| pairs.into_iter().next())
        .map(|(_, name)| name)
        .unwrap_or_default();
    let yes_no = |value: Option<&str>| {
        if value == Some("true") {
            lang.t("panelConfig.yes")
        } else {
            lang.t("panelConfig.no")
        }
    };
    let key = match action {
        "role_created" => "roles.audit.created",
        "role_updated" => "roles.audit.updated",
        "role_deleted" => "roles.audit.deleted",
        "role_member_added" => "roles.audit.memberAdded",
        _ => "roles.audit.memberRemoved",
    };
    let fields: Vec<String> = get("changed")
        .unwrap_or_default()
        .split(',')
        .filter(|f| !f.is_empty())
        .map(|f| match f {
            "name" => lang.t("roles.audit.fields.name"),
            "manager" => lang.t("roles.audit.fields.manager"),
            "mfa_required" => lang.t("roles.audit.fields.mfa_required"),
            other => other,
        })
        .map(str::to_string)
        .collect();
    lang.t(key)
        .replace("{name}", &name)
        .replace("{mfa}", yes_no(get("mfa_required")))
        .replace("{fields}", &fields.join(", "))
        .replace("{n}", get("members").unwrap_or("0"))
}

/// `2026-11-27T10:00:00Z` as `2026-11-27 10:00`.
fn display_time(rfc3339: &str) -> Option<String> {
    let at = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()?
        .to_offset(time::UtcOffset::UTC);
    Some(format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    ))
}

#[cfg(test)]
mod reset_link_tests {
    use super::*;

    #[test]
    fn reset_link_entries_read_as_sentences_in_both_languages() {
        let made =
            "purpose=reset expires=2026-12-04T10:00:00Z revoke_api_keys=true reset_mfa=false";
        assert_eq!(
            detail_sentence(Lang::En, "reset_link_created", made),
            "A single-use link to set a new password (expires 2026-12-04 10:00 UTC); using it will delete the API keys."
        );
        let german = detail_sentence(Lang::De, "reset_link_created", made);
        assert!(german.starts_with("Ein einmaliger Link"), "{german}");
        assert_eq!(
            detail_sentence(
                Lang::En,
                "reset_link_used",
                "purpose=reset revoke_api_keys=false reset_mfa=false"
            ),
            "The user set a new password with a reset link."
        );
    }
}

#[cfg(test)]
mod factor_tests {
    use super::detail_sentence;
    use crate::i18n::Lang;

    #[test]
    fn factor_entries_read_as_sentences_in_both_languages() {
        for lang in [Lang::En, Lang::De] {
            for (action, detail) in [
                ("passkey_added", "passkey=3"),
                ("passkey_removed", "passkey=3 passkeys_left=0"),
                ("mfa_enrolled", "device=2 recovery_codes=10"),
                ("mfa_removed", "device=2 devices_left=1"),
                ("mfa_reset", "devices=2"),
                ("recovery_code_used", "left=9"),
                ("login", "passkey"),
                ("login_failed", "incorrect second factor"),
            ] {
                let sentence = detail_sentence(lang, action, detail);
                assert!(sentence.ends_with('.'), "{action}: {sentence}");
                assert!(!sentence.contains('='), "{action}: {sentence}");
            }
        }
        assert_eq!(
            detail_sentence(Lang::En, "passkey_removed", "passkey=3 passkeys_left=0"),
            "Passkey 3 removed, 0 left."
        );
    }

    #[test]
    fn passkey_entries_name_the_passkey_by_its_name() {
        assert_eq!(
            detail_sentence(
                Lang::En,
                "passkey_added",
                "passkey=7 discoverable=true name=Work laptop"
            ),
            "Passkey “Work laptop” registered."
        );
        assert_eq!(
            detail_sentence(
                Lang::En,
                "passkey_added",
                "passkey=8 discoverable=true replaced=7 name=Key = blue replaced=1"
            ),
            "Passkey “Key = blue replaced=1” registered; registered again in place of the \
             one from before."
        );
        assert_eq!(
            detail_sentence(
                Lang::En,
                "passkey_removed",
                "passkey=8 passkeys_left=0 password_back_on=true name=Phone"
            ),
            "Passkey “Phone” removed, 0 left; password sign-in is on again (it was off while \
             passkeys were the only way in)."
        );
        let german = detail_sentence(
            Lang::De,
            "passkey_removed",
            "passkey=8 passkeys_left=1 password_back_on=false name=Telefon",
        );
        assert!(german.contains("„Telefon“"), "{german}");
        assert!(!german.contains("passkey="), "{german}");
    }
}

#[cfg(test)]
mod role_tests {
    use super::detail_sentence;
    use crate::i18n::Lang;

    #[test]
    fn role_entries_read_as_sentences_in_both_languages() {
        assert_eq!(
            detail_sentence(
                Lang::En,
                "role_created",
                "role=3 name=finance+team manager=none mfa_required=true"
            ),
            "Role “finance team” created (second factor required: Yes)."
        );
        assert_eq!(
            detail_sentence(
                Lang::En,
                "role_updated",
                "role=3 name=ops changed=name,mfa_required manager=2 mfa_required=false"
            ),
            "Role “ops” changed: name, second factor required."
        );
        assert_eq!(
            detail_sentence(Lang::De, "role_member_added", "role=3 name=%C3%A4rzte"),
            "Die Rolle „ärzte“ erhalten."
        );
        for lang in [Lang::En, Lang::De] {
            for (action, detail) in [
                ("role_deleted", "role=3 name=ops members=2"),
                ("role_member_removed", "role=3 name=ops"),
            ] {
                let sentence = detail_sentence(lang, action, detail);
                assert!(
                    sentence.contains("ops") && sentence.ends_with('.'),
                    "{sentence}"
                );
                assert!(!sentence.contains('='), "{sentence}");
            }
        }
    }
}
