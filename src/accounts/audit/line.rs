//! One audit entry as a line of the audit stream and of `passgate audit export`: a JSON object
//! of the versioned schema documented in `docs/audit.md`.

use serde_json::{Map, Value, json};

use crate::accounts::clock;
use crate::entities::audit_log;

/// The schema's version (`"v"`); raised only when a field changes meaning or goes away
/// (new fields and new event kinds keep it).
pub const SCHEMA_VERSION: u32 = 1;

/// The fields every line has, in this order.
pub const FIELDS: [&str; 8] = [
    "v", "id", "time", "event", "actor", "target", "address", "details",
];

/// The line of `entry`, without the newline.
pub fn line(entry: &audit_log::Model) -> String {
    let actor = match (entry.actor_id, entry.actor_name.as_deref()) {
        (None, None | Some("")) => Value::Null,
        (id, name) => json!({"id": id, "name": name.filter(|n| !n.is_empty())}),
    };
    let target = match (entry.target_id, entry.target_name.as_deref()) {
        (None, None) => Value::Null,
        (id, name) => json!({"id": id, "name": name}),
    };
    let address = match entry.source_ip.as_str() {
        "" => Value::Null,
        ip => Value::from(ip),
    };
    // serde_json keeps insertion order only with `preserve_order`; build the object by hand so
    // that every line reads in the documented order.
    let fields: [(&str, Value); 8] = [
        ("v", SCHEMA_VERSION.into()),
        ("id", entry.audit_id.into()),
        ("time", clock::rfc3339(entry.created).into()),
        ("event", entry.action.clone().into()),
        ("actor", actor),
        ("target", target),
        ("address", address),
        (
            "details",
            Value::Object(details(&entry.action, &entry.detail)),
        ),
    ];
    let mut out = String::from("{");
    for (i, (key, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&Value::from(*key).to_string());
        out.push(':');
        out.push_str(&value.to_string());
    }
    out.push('}');
    out
}

/// An entry's stored detail as an object: `key=value` pairs become fields (`true`/`false`
/// booleans, whole numbers numbers, anything else a string; a value may hold spaces, as an
/// application's name: words up to the next `key=` belong to it); a detail that does not
/// start with a pair (the reason of a failed sign-in, `passkey` on a passkey sign-in) becomes
/// one field, named after what it says for that event.
pub fn details(event: &str, detail: &str) -> Map<String, Value> {
    let detail = detail.trim();
    let mut out = Map::new();
    if detail.is_empty() {
        return out;
    }
    let mut pairs: Vec<(&str, String)> = Vec::new();
    for word in detail.split_whitespace() {
        match word.split_once('=').filter(|(key, _)| is_key(key)) {
            Some((key, value)) => pairs.push((key, value.to_string())),
            None => match pairs.last_mut() {
                Some((_, value)) => {
                    value.push(' ');
                    value.push_str(word);
                }
                None => break,
            },
        }
    }
    if pairs.is_empty() {
        let key = match event {
            super::action::LOGIN => "method",
            super::action::LOGIN_FAILED => "reason",
            _ => "text",
        };
        out.insert(key.to_string(), detail.into());
    }
    for (key, value) in pairs {
        out.insert(key.to_string(), typed(&value));
    }
    out
}

fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn typed(value: &str) -> Value {
    match value {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => match value.parse::<i64>() {
            Ok(number) if number.to_string() == value => number.into(),
            _ => value.into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str, detail: &str) -> audit_log::Model {
        audit_log::Model {
            audit_id: 42,
            created: time::macros::datetime!(2026-12-06 10:00:00),
            actor_id: Some(1),
            actor_name: Some("admin".into()),
            target_id: Some(7),
            target_name: Some("bob".into()),
            action: action.into(),
            detail: detail.into(),
            source_ip: "192.0.2.10".into(),
            app_id: None,
        }
    }

    #[test]
    fn a_line_has_the_documented_fields_in_order() {
        let line = line(&entry(
            "password_reset",
            "require_password_change=true expires=2026-12-07T10:00:00Z generated=true revoke_api_keys=false reset_mfa=false",
        ));
        assert_eq!(
            line,
            r#"{"v":1,"id":42,"time":"2026-12-06T10:00:00Z","event":"password_reset","actor":{"id":1,"name":"admin"},"target":{"id":7,"name":"bob"},"address":"192.0.2.10","details":{"expires":"2026-12-07T10:00:00Z","generated":true,"require_password_change":true,"reset_mfa":false,"revoke_api_keys":false}}"#
        );
        let parsed: Value = serde_json::from_str(&line).unwrap();
        let keys: Vec<&str> = parsed
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = FIELDS.to_vec();
        expected.sort_unstable();
        assert_eq!(keys, expected);
    }

    #[test]
    fn free_text_details_get_a_name_and_anonymous_actors_are_null() {
        let mut failed = entry("login_failed", "incorrect credentials");
        failed.actor_id = None;
        failed.actor_name = Some(String::new());
        let parsed: Value = serde_json::from_str(&line(&failed)).unwrap();
        assert_eq!(parsed["actor"], Value::Null);
        assert_eq!(
            parsed["details"],
            json!({"reason": "incorrect credentials"})
        );
        assert_eq!(
            details("login", "passkey"),
            json!({"method": "passkey"}).as_object().unwrap().clone()
        );
        assert_eq!(
            details("user_updated", "changed=email,enabled"),
            json!({"changed": "email,enabled"})
                .as_object()
                .unwrap()
                .clone()
        );
        assert!(details("logout", "").is_empty());
        // A value with spaces (an application's name) runs to the next key.
        assert_eq!(
            details("app_created", "app=The Team Wiki policy=two_factor hosts=wiki.example.org roles=0"),
            json!({"app": "The Team Wiki", "policy": "two_factor", "hosts": "wiki.example.org", "roles": 0})
                .as_object()
                .unwrap()
                .clone()
        );
        // A number that does not read back the same stays text.
        assert_eq!(details("x", "a=007")["a"], json!("007"));
        assert_eq!(details("x", "a=-1")["a"], json!(-1));
    }

    #[test]
    fn the_command_line_is_an_actor_without_an_id_from_local() {
        let mut cli = entry("password_reset", "");
        cli.actor_id = None;
        cli.actor_name = Some("cli".into());
        cli.source_ip = "local".into();
        let parsed: Value = serde_json::from_str(&line(&cli)).unwrap();
        assert_eq!(parsed["actor"], json!({"id": null, "name": "cli"}));
        assert_eq!(parsed["address"], json!("local"));
    }
}
