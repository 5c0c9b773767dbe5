//! What `/oauth2/authorize` does with a checked request (SPEC §16), as a pure function over
//! plain data — the request, the application, the browser's sign-in — in this order:
//!
//! 1. the application is set to `deny` → `access_denied`;
//! 2. nobody is signed in → the sign-in (`login_required` for `prompt=none`);
//! 3. `prompt=login`, or a sign-in older than `max_age` → a fresh sign-in
//!    (`login_required` for `prompt=none`);
//! 4. a step of the walk is missing (forced change, enrolment, the second factor a
//!    `two_factor` app needs) → that step (`interaction_required` for `prompt=none`);
//! 5. the user is in none of the application's roles → `access_denied`;
//! 6. otherwise → issue a code.
//!
//! The walk itself is `accounts::sso::walk`, the one state machine every surface asks.

use crate::accounts::apps::{App, Policy};
use crate::accounts::oidc::code;
use crate::accounts::oidc::request::{AuthorizationRequest, Prompt};
use crate::accounts::sso::walk::{Standing, Step, next_step};

/// The browser's sign-in, as the decision needs it.
#[derive(Clone, Debug)]
pub struct SignedIn {
    /// When it signed in (Unix seconds): the ID token's `auth_time`.
    pub signed_in_at: i64,
    pub standing: Standing,
    /// The ids of the user's roles.
    pub role_ids: Vec<i32>,
}

/// What to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Back to the client with this error.
    Refuse(&'static str, &'static str),
    /// To the sign-in page; `again`: even though someone is signed in (`prompt=login`,
    /// `max_age`).
    SignIn { again: bool },
    /// To this step of the walk.
    Step(Step),
    /// Issue the code.
    Issue,
}

/// See the module's list.
pub fn decide(
    request: &AuthorizationRequest,
    app: &App,
    signed_in: Option<&SignedIn>,
    now: i64,
) -> Outcome {
    let quiet = request.prompt == Prompt::None;
    if app.policy == Policy::Deny {
        return Outcome::Refuse(code::ACCESS_DENIED, "the application is closed");
    }
    let Some(signed_in) = signed_in else {
        return if quiet {
            Outcome::Refuse(code::LOGIN_REQUIRED, "nobody is signed in")
        } else {
            Outcome::SignIn { again: false }
        };
    };
    // `max_age=0` always asks again (a sign-in is at best of this very second).
    let too_old = request
        .max_age
        .is_some_and(|max_age| max_age == 0 || now - signed_in.signed_in_at > max_age);
    if request.prompt == Prompt::Login || too_old {
        return if quiet {
            Outcome::Refuse(code::LOGIN_REQUIRED, "the sign-in is older than max_age")
        } else {
            Outcome::SignIn { again: true }
        };
    }
    match next_step(&signed_in.standing, app.policy == Policy::TwoFactor) {
        Step::Arrive => {}
        _ if quiet => {
            return Outcome::Refuse(
                code::INTERACTION_REQUIRED,
                "the user has a step of the sign-in to finish",
            );
        }
        step => return Outcome::Step(step),
    }
    let in_roles = app.allowed_roles.is_empty()
        || signed_in
            .role_ids
            .iter()
            .any(|id| app.allowed_roles.contains(id));
    if !in_roles {
        return Outcome::Refuse(code::ACCESS_DENIED, "the user may not use this application");
    }
    Outcome::Issue
}

#[cfg(test)]
mod tests;
