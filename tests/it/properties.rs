//! Property tests: the gate and the permission rules hold for generated inputs, and no
//! request body makes the server fail.

use axum::http::StatusCode;
use passgate::accounts::credentials::ResetOptions;
use passgate::accounts::permissions::{
    Caller, Denied, EditScope, KeyScope, Target, can_delete, can_edit, can_reset, can_view,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::helpers::*;

const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE",
];

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("users".to_string()),
        Just("@me".to_string()),
        Just("%40me".to_string()),
        Just("%40ME".to_string()),
        Just("auth".to_string()),
        Just("invalidate_tokens".to_string()),
        Just("invalidate_tokens%2F".to_string()),
        Just("login".to_string()),
        Just("key".to_string()),
        Just("reset-password".to_string()),
        Just("..".to_string()),
        Just(".".to_string()),
        Just("".to_string()),
        Just("1".to_string()),
        Just("2".to_string()),
        Just("USERS".to_string()),
        Just("openapi.json".to_string()),
        "[a-z0-9_@%.;=-]{0,8}",
    ]
}

fn path() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            Just("/api/v2/"),
            Just("/api/v2//"),
            Just("//api/v2/"),
            Just("/API/v2/"),
            Just("/api/v2/./")
        ],
        proptest::collection::vec(segment(), 0..5),
        prop_oneof![
            Just(""),
            Just("/"),
            Just("?x=1"),
            Just("?method=PATCH"),
            Just(";a=b")
        ],
    )
        .prop_map(|(prefix, segments, suffix)| format!("{prefix}{}{suffix}", segments.join("/")))
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        Just(br#"{"password":"Copper-Meadow-Violin-29"}"#.to_vec()),
        Just(br#"{"password":"Copper-Meadow-Violin-29","email":"x@example.com"}"#.to_vec()),
        Just(br#"{"superuser":true}"#.to_vec()),
        Just(br#"{"username":"intruder","password":"Copper-Meadow-Violin-29"}"#.to_vec()),
        Just(br#"{}"#.to_vec()),
        proptest::collection::vec(any::<u8>(), 0..64),
    ]
}

/// The only calls a flagged user may make successfully (a query string, or one trailing
/// slash, does not change the route). The public routes (sign-in, the OpenAPI document, the
/// API index) authenticate nobody, so the gate does not stand in front of them.
fn allowed(method: &str, path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    let path = passgate::without_one_trailing_slash(path).unwrap_or(path);
    let public = matches!(
        (method, path),
        ("GET" | "HEAD", "/api/v2/openapi.json" | "/api/v2") | ("POST", "/api/v2/auth/login")
    );
    public
        || (method == "PATCH" && (path == "/api/v2/users/@me" || path == "/api/v2/users/%40me"))
        || (method == "POST" && path == "/api/v2/auth/invalidate_tokens")
}

#[test]
fn a_flagged_token_never_gets_a_2xx_but_the_two_allowed_calls() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let app = runtime.block_on(async {
        let app = spawn_app().await;
        app.user("admin", STRONG, true).await;
        app.user("bob", STRONG, false).await;
        app
    });
    let flag = |app: &TestApp| {
        runtime.block_on(async {
            app.reset("bob", STRONG_2, ResetOptions::default()).await;
            app.token("bob", STRONG_2).await
        })
    };
    let token = std::cell::RefCell::new(flag(&app));
    let mut runner = TestRunner::new(Config {
        cases: 400,
        failure_persistence: None,
        ..Config::default()
    });
    let strategy = (
        proptest::sample::select(METHODS.to_vec()),
        path(),
        body(),
        any::<bool>(),
    );
    runner
        .run(&strategy, |(method, path, body, override_header)| {
            let auth = format!("Bearer {}", token.borrow());
            let mut headers = vec![
                ("authorization", auth.as_str()),
                ("content-type", "application/json"),
            ];
            if override_header {
                headers.push(("x-http-method-override", "PATCH"));
            }
            let (status, fine) = runtime.block_on(async {
                let response = app.api_raw_lenient(method, &path, &headers, body).await;
                (response.0, response.1)
            });
            prop_assert!(fine, "{method} {path}: the answer is the JSON envelope");
            prop_assert!(
                status != StatusCode::INTERNAL_SERVER_ERROR,
                "{method} {path}: 500"
            );
            if status.is_success() {
                prop_assert!(allowed(method, &path), "{method} {path} got {status}");
                // The allowed call changed the password or ended the token: flag bob again.
                *token.borrow_mut() = flag(&app);
            }
            Ok(())
        })
        .unwrap();
    let bob = runtime.block_on(app.find("bob"));
    assert!(!bob.superuser);
    assert!(
        runtime
            .block_on(passgate::accounts::users::find_by_username(
                &app.db, "intruder"
            ))
            .unwrap()
            .is_none()
    );
}

#[test]
fn no_request_body_makes_reset_or_patch_fail_with_500() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (app, admin) = runtime.block_on(async {
        let app = spawn_app().await;
        app.user("admin", STRONG, true).await;
        app.user("bob", STRONG, false).await;
        let admin = app.token("admin", STRONG).await;
        (app, admin)
    });
    let bob = runtime.block_on(app.find("bob")).user_id;
    let auth = format!("Bearer {admin}");
    let json_value = proptest::arbitrary::any::<(Option<i64>, Option<String>, Option<bool>, u8)>()
        .prop_map(|(number, text, flag, pick)| {
            let field = [
                "length",
                "expires_hours",
                "password",
                "require_password_change",
                "revoke_api_keys",
                "email",
                "lang",
                "enabled",
                "manager",
                "permissions",
                "username",
                "x",
            ][pick as usize % 12];
            let value = match pick % 4 {
                0 => serde_json::json!(number),
                1 => serde_json::json!(text),
                2 => serde_json::json!(flag),
                _ => serde_json::json!([{"name": text, "quantity": number}]),
            };
            serde_json::json!({ field: value }).to_string().into_bytes()
        });
    let bodies = prop_oneof![json_value, proptest::collection::vec(any::<u8>(), 0..200)];
    let mut runner = TestRunner::new(Config {
        cases: 600,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&(bodies, any::<bool>()), |(body, reset)| {
            let (method, path) = if reset {
                ("POST", format!("/api/v2/users/{bob}/reset-password"))
            } else {
                ("PATCH", format!("/api/v2/users/{bob}"))
            };
            let headers = [("authorization", auth.as_str())];
            let (status, fine) =
                runtime.block_on(app.api_raw_lenient(method, &path, &headers, body));
            prop_assert!(fine);
            prop_assert!(!status.is_server_error(), "{status}");
            Ok(())
        })
        .unwrap();
}

fn caller() -> impl Strategy<Value = Caller> {
    (
        1..4i32,
        any::<bool>(),
        proptest::option::of(-1..3i32),
        proptest::option::of((any::<bool>(), any::<bool>())),
    )
        .prop_map(|(user_id, superuser, user_config, key)| Caller {
            user_id,
            superuser,
            user_config,
            roles_config: None,
            proved_temporary: false,
            key: key.map(|(full_access, with_user_config)| KeyScope {
                full_access,
                permissions: if with_user_config {
                    vec!["USER_CONFIG".into()]
                } else {
                    vec![]
                },
            }),
        })
}

fn target() -> impl Strategy<Value = Target> {
    (1..4i32, any::<bool>(), proptest::option::of(1..4i32)).prop_map(
        |(user_id, superuser, manager)| Target {
            user_id,
            superuser,
            manager,
        },
    )
}

proptest! {
    #![proptest_config(Config { cases: 4000, failure_persistence: None, ..Config::default() })]

    /// Whatever the rules allow on another user, a superuser's rights or the manager's
    /// `USER_CONFIG` stand behind it; nobody acts on a superuser without being one.
    #[test]
    fn no_actor_gains_a_right_the_rules_do_not_give(caller in caller(), target in target(),
        enabled in proptest::option::of(any::<bool>()), superuser in any::<bool>(), permissions in any::<bool>()) {
        let is_self = caller.user_id == target.user_id;
        let manages = caller.has_user_config() && !target.superuser && target.manager == Some(caller.user_id);
        let key_superuser = caller.key.as_ref().is_none_or(|k| k.full_access);
        prop_assert_eq!(caller.is_superuser(), caller.superuser && key_superuser);
        if can_reset(&caller, &target).is_ok() {
            prop_assert!(!is_self && (caller.is_superuser() || manages));
        }
        if is_self {
            prop_assert_eq!(can_reset(&caller, &target), Err(Denied::SelfReset));
            prop_assert!(can_delete(&caller, &target).is_err());
        }
        if can_delete(&caller, &target).is_ok() || can_view(&caller, &target).is_ok() && !is_self {
            prop_assert!(caller.is_superuser() || manages);
        }
        if target.superuser && !caller.is_superuser() && !is_self {
            prop_assert!(can_reset(&caller, &target).is_err());
            prop_assert!(can_delete(&caller, &target).is_err());
            let profile = EditScope { profile: true, ..Default::default() };
            prop_assert!(can_edit(&caller, &target, &profile).is_err());
        }
        let scope = EditScope { enabled, superuser, permissions, ..Default::default() };
        if can_edit(&caller, &target, &scope).is_ok() {
            if superuser || permissions {
                prop_assert!(caller.is_superuser(), "only superusers grant superuser or permissions");
            }
            if is_self {
                prop_assert!(enabled != Some(false) && !superuser, "nobody disables or demotes themselves");
            } else {
                prop_assert!(caller.is_superuser() || manages);
            }
        }
    }
}
