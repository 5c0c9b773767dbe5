//! Every row of SPEC §15.2 × every kind of user and session, as a table.

use super::*;
use crate::accounts::apps::{HostPattern, PublicPath};

const ROLE_STAFF: i32 = 1;
const ROLE_ADMINS: i32 = 2;

fn app(id: i32, host: &str, policy: Policy, public: &[&str], roles: &[i32]) -> App {
    App {
        app_id: id,
        name: format!("app{id}"),
        description: String::new(),
        policy,
        hosts: vec![HostPattern::parse(host).unwrap()],
        public_paths: public
            .iter()
            .map(|p| PublicPath::parse(p).unwrap())
            .collect(),
        allowed_roles: roles.to_vec(),
        oidc: None,
    }
}

fn apps() -> AppTable {
    AppTable::new(vec![
        app(1, "wiki.example.org", Policy::OneFactor, &["/public/"], &[]),
        app(2, "vault.example.org", Policy::TwoFactor, &["/health"], &[]),
        app(3, "old.example.org", Policy::Deny, &["/public/"], &[]),
        app(
            4,
            "admin.example.org",
            Policy::OneFactor,
            &[],
            &[ROLE_ADMINS],
        ),
        app(
            5,
            "*.team.example.org",
            Policy::TwoFactor,
            &[],
            &[ROLE_STAFF, ROLE_ADMINS],
        ),
    ])
}

/// The kinds of session a request may carry.
#[derive(Clone, Copy, Debug)]
enum Kind {
    None,
    /// Signed in with a password; no factor, none required.
    Plain,
    /// A temporary password: the change is pending.
    MustChange,
    /// A factor is required and missing.
    MustEnrol,
    /// Has a factor and proved it in this session.
    TwoFactor,
    /// Has a factor but this session did not prove it (signed in through a reset link).
    FactorUnproved,
    /// Plain, in the staff role.
    Staff,
    /// Two factors, in the admins role.
    Admin,
}

fn session(kind: Kind) -> Option<SsoState> {
    let standing = |change, must, has, passed| Standing {
        require_password_change: change,
        must_have_factor: must,
        has_factor: has,
        session_passed_factor: passed,
    };
    let (standing, roles) = match kind {
        Kind::None => return None,
        Kind::Plain => (standing(false, false, false, false), vec![]),
        Kind::MustChange => (standing(true, false, false, false), vec![]),
        Kind::MustEnrol => (standing(false, true, false, false), vec![]),
        Kind::TwoFactor => (standing(false, false, true, true), vec![]),
        Kind::FactorUnproved => (standing(false, false, true, false), vec![]),
        Kind::Staff => (
            standing(false, false, false, false),
            vec![(ROLE_STAFF, "staff".to_string())],
        ),
        Kind::Admin => (
            standing(false, true, true, true),
            vec![(ROLE_ADMINS, "admins".to_string())],
        ),
    };
    Some(SsoState {
        identity: Identity {
            user_id: 7,
            username: "alice".into(),
            email: None,
            roles,
        },
        standing,
    })
}

fn outcome(host: &str, uri: &str, kind: Kind) -> String {
    let table = apps();
    let target = Target {
        host,
        port: Some(443),
        uri,
    };
    let routed = route(&target, &table);
    let state = session(kind);
    // The handler reads the session only when the route needs it; the answer must not
    // depend on one it did not read.
    let decision = if routed.needs_session() {
        decide(routed, state.as_ref())
    } else {
        let without = format!("{:?}", decide(routed, None));
        let with = decide(routed, state.as_ref());
        assert_eq!(without, format!("{with:?}"), "{host}{uri} {kind:?}");
        with
    };
    match decision {
        Decision::UnknownHost => "403 unknown host".into(),
        Decision::Forbidden { user: None, .. } => "403 deny".into(),
        Decision::Forbidden { user: Some(_), .. } => "403 roles".into(),
        Decision::Public => "200 public".into(),
        Decision::SignIn { .. } => "sign in".into(),
        Decision::Step { step, .. } => format!("step {step:?}"),
        Decision::Allow { app, identity } => format!("200 app{} {}", app.app_id, identity.username),
    }
}

#[test]
fn every_rule_of_the_decision_in_its_order() {
    use Kind::*;
    let kinds = [
        None,
        Plain,
        MustChange,
        MustEnrol,
        TwoFactor,
        FactorUnproved,
        Staff,
        Admin,
    ];
    // (host, uri) → the outcome for each kind, in the order of `kinds`.
    let rows: [(&str, &str, [&str; 8]); 11] = [
        // 1. Unknown host: refused whatever the session (fail closed), also a name that only
        // ends like a registered one, or one label too deep below a wildcard.
        ("intranet.example.org", "/", ["403 unknown host"; 8]),
        ("evilwiki.example.org", "/", ["403 unknown host"; 8]),
        ("a.b.team.example.org", "/", ["403 unknown host"; 8]),
        // 2. Deny, even on its public paths.
        ("old.example.org", "/public/x", ["403 deny"; 8]),
        // 3. Public paths pass without a session, for anyone; a path spelled to climb out
        // does not.
        ("wiki.example.org", "/public/a?b", ["200 public"; 8]),
        ("vault.example.org", "/health", ["200 public"; 8]),
        (
            "wiki.example.org",
            "/public/%2e%2e/private",
            [
                "sign in",
                "200 app1 alice",
                "step ChangePassword",
                "step Enrol",
                "200 app1 alice",
                "200 app1 alice",
                "200 app1 alice",
                "200 app1 alice",
            ],
        ),
        // 4.–7. One factor is enough for the wiki; the walk's missing steps come first.
        (
            "wiki.example.org",
            "/page",
            [
                "sign in",
                "200 app1 alice",
                "step ChangePassword",
                "step Enrol",
                "200 app1 alice",
                "200 app1 alice",
                "200 app1 alice",
                "200 app1 alice",
            ],
        ),
        // The vault needs two factors: set one up, or prove it in this session.
        (
            "vault.example.org",
            "/",
            [
                "sign in",
                "step Enrol",
                "step ChangePassword",
                "step Enrol",
                "200 app2 alice",
                "step SecondFactor",
                "step Enrol",
                "200 app2 alice",
            ],
        ),
        // 6. Roles: only admins; the steps still come before the roles.
        (
            "admin.example.org",
            "/",
            [
                "sign in",
                "403 roles",
                "step ChangePassword",
                "step Enrol",
                "403 roles",
                "403 roles",
                "403 roles",
                "200 app4 alice",
            ],
        ),
        // A wildcard app for staff and admins, with two factors.
        (
            "chat.team.example.org",
            "/",
            [
                "sign in",
                "step Enrol",
                "step ChangePassword",
                "step Enrol",
                "403 roles",
                "step SecondFactor",
                "step Enrol",
                "200 app5 alice",
            ],
        ),
    ];
    let mut failures = Vec::new();
    for (host, uri, expected) in rows {
        for (kind, expected) in kinds.iter().zip(expected) {
            let got = outcome(host, uri, *kind);
            if got != expected {
                failures.push(format!(
                    "{host}{uri} with {kind:?}: expected {expected}, got {got}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn identity_carries_the_roles_of_the_user() {
    let table = apps();
    let state = session(Kind::Admin).unwrap();
    let target = Target {
        host: "admin.example.org",
        port: Some(443),
        uri: "/",
    };
    match decide(route(&target, &table), Some(&state)) {
        Decision::Allow { identity, .. } => {
            assert_eq!(identity.roles, vec![(ROLE_ADMINS, "admins".to_string())]);
        }
        other => panic!("{other:?}"),
    }
}
