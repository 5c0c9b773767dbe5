use super::*;

fn request(prompt: Prompt, max_age: Option<i64>) -> AuthorizationRequest {
    AuthorizationRequest {
        client_id: "wiki".into(),
        app_id: 1,
        redirect_uri: "https://wiki.example.org/cb".into(),
        scope: "openid".into(),
        state: None,
        nonce: None,
        code_challenge: None,
        prompt,
        max_age,
        login_hint: None,
        received_at: 1000,
    }
}

fn app(policy: Policy, roles: &[i32]) -> App {
    App {
        app_id: 1,
        name: "Wiki".into(),
        description: String::new(),
        policy,
        hosts: Vec::new(),
        public_paths: Vec::new(),
        allowed_roles: roles.to_vec(),
        oidc: None,
    }
}

fn user(standing: Standing, roles: &[i32]) -> SignedIn {
    SignedIn {
        signed_in_at: 900,
        standing,
        role_ids: roles.to_vec(),
    }
}

const DONE: Standing = Standing {
    require_password_change: false,
    must_have_factor: false,
    has_factor: false,
    session_passed_factor: false,
};
const CHANGE: Standing = Standing {
    require_password_change: true,
    ..DONE
};
const MUST_ENROL: Standing = Standing {
    must_have_factor: true,
    ..DONE
};
const HAS_FACTOR: Standing = Standing {
    has_factor: true,
    ..DONE
};
const PASSED: Standing = Standing {
    has_factor: true,
    session_passed_factor: true,
    ..DONE
};

#[test]
fn every_rule_in_its_order() {
    use crate::accounts::sso::walk::Step as Walk;
    use Outcome::{Issue, Refuse, SignIn};
    let denied = Refuse(code::ACCESS_DENIED, "");
    // (prompt, max_age, the app's policy, its roles, the sign-in and its roles, outcome)
    type Case = (
        Prompt,
        Option<i64>,
        Policy,
        &'static [i32],
        Option<(Standing, &'static [i32])>,
        Outcome,
    );
    let cases: Vec<Case> = vec![
        // 1. deny, whoever asks.
        (
            Prompt::Default,
            None,
            Policy::Deny,
            &[],
            None,
            denied.clone(),
        ),
        (
            Prompt::None,
            None,
            Policy::Deny,
            &[],
            Some((DONE, &[])),
            denied.clone(),
        ),
        // 2. nobody signed in.
        (
            Prompt::Default,
            None,
            Policy::OneFactor,
            &[],
            None,
            SignIn { again: false },
        ),
        (
            Prompt::None,
            None,
            Policy::OneFactor,
            &[],
            None,
            Refuse(code::LOGIN_REQUIRED, ""),
        ),
        // 3. prompt=login, max_age.
        (
            Prompt::Login,
            None,
            Policy::OneFactor,
            &[],
            Some((DONE, &[])),
            SignIn { again: true },
        ),
        (
            Prompt::Default,
            Some(50),
            Policy::OneFactor,
            &[],
            Some((DONE, &[])),
            SignIn { again: true },
        ),
        (
            Prompt::Default,
            Some(0),
            Policy::OneFactor,
            &[],
            Some((DONE, &[])),
            SignIn { again: true },
        ),
        (
            Prompt::None,
            Some(50),
            Policy::OneFactor,
            &[],
            Some((DONE, &[])),
            Refuse(code::LOGIN_REQUIRED, ""),
        ),
        (
            Prompt::Default,
            Some(100),
            Policy::OneFactor,
            &[],
            Some((DONE, &[])),
            Issue,
        ),
        // 4. the walk's steps, before the roles.
        (
            Prompt::Default,
            None,
            Policy::OneFactor,
            &[7],
            Some((CHANGE, &[])),
            Outcome::Step(Walk::ChangePassword),
        ),
        (
            Prompt::None,
            None,
            Policy::OneFactor,
            &[],
            Some((CHANGE, &[])),
            Refuse(code::INTERACTION_REQUIRED, ""),
        ),
        (
            Prompt::Default,
            None,
            Policy::OneFactor,
            &[],
            Some((MUST_ENROL, &[])),
            Outcome::Step(Walk::Enrol),
        ),
        (
            Prompt::Default,
            None,
            Policy::TwoFactor,
            &[],
            Some((DONE, &[])),
            Outcome::Step(Walk::Enrol),
        ),
        (
            Prompt::Default,
            None,
            Policy::TwoFactor,
            &[],
            Some((HAS_FACTOR, &[])),
            Outcome::Step(Walk::SecondFactor),
        ),
        (
            Prompt::None,
            None,
            Policy::TwoFactor,
            &[],
            Some((HAS_FACTOR, &[])),
            Refuse(code::INTERACTION_REQUIRED, ""),
        ),
        (
            Prompt::Default,
            None,
            Policy::TwoFactor,
            &[],
            Some((PASSED, &[])),
            Issue,
        ),
        (
            Prompt::Default,
            None,
            Policy::OneFactor,
            &[],
            Some((HAS_FACTOR, &[])),
            Issue,
        ),
        // 5. roles.
        (
            Prompt::Default,
            None,
            Policy::OneFactor,
            &[7],
            Some((DONE, &[3])),
            denied.clone(),
        ),
        (
            Prompt::None,
            None,
            Policy::OneFactor,
            &[7],
            Some((DONE, &[])),
            denied.clone(),
        ),
        (
            Prompt::Default,
            None,
            Policy::OneFactor,
            &[7],
            Some((DONE, &[3, 7])),
            Issue,
        ),
        // 6.
        (
            Prompt::None,
            None,
            Policy::OneFactor,
            &[],
            Some((DONE, &[])),
            Issue,
        ),
    ];
    for (prompt, max_age, policy, app_roles, signed_in, expected) in cases {
        let signed_in = signed_in.map(|(standing, roles)| user(standing, roles));
        let got = decide(
            &request(prompt, max_age),
            &app(policy, app_roles),
            signed_in.as_ref(),
            1000,
        );
        let same = match (&got, &expected) {
            (Refuse(a, _), Refuse(b, _)) => a == b,
            _ => got == expected,
        };
        assert!(
            same,
            "{prompt:?} max_age={max_age:?} {policy:?} roles={app_roles:?} {signed_in:?}: {got:?}, expected {expected:?}"
        );
    }
}
