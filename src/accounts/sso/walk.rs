//! The sign-in walk as one state machine (SPEC §9, §15.4): password → second factor → forced
//! change → enrolment → the app's `two_factor` policy → on to the destination. Where a user
//! stands is plain data ([`Standing`]); [`next_step`] says what is missing; every surface
//! (the panel's gate, the sign-in pages with `rd`, the forward-auth decision, and later the
//! OpenID Connect authorization endpoint) asks the same function.
//!
//! The password and the sign-in's own second factor come before any session exists (see
//! `auth::login` and `auth::pending`); this machine takes over once one does.

use crate::accounts::sso::ReturnTo;

/// Where a walk ends, carried through every step as a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// The panel's dashboard (a sign-in without `rd`, or with one that was dropped).
    Dashboard,
    /// An application's URL (`rd`, checked by [`ReturnTo::parse`]).
    App(ReturnTo),
    /// passgate's own OpenID Connect authorization request (`/oauth2/authorize?…`, SPEC
    /// §16), resumed once the walk is done: the endpoint itself decides what comes next.
    Authorize(String),
}

impl Destination {
    /// The `rd` value that carries this destination through a step's URL or form (`None`
    /// for the dashboard).
    pub fn rd(&self) -> Option<&str> {
        match self {
            Destination::Dashboard => None,
            Destination::App(to) => Some(to.as_str()),
            Destination::Authorize(path) => Some(path.as_str()),
        }
    }
}

/// What a signed-in user still has to do before going on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The forced password change (a temporary password).
    ChangePassword,
    /// Setting up a second factor (required and missing, or wanted by the app).
    Enrol,
    /// Proving a second factor in this session (the app needs `two_factor`).
    SecondFactor,
    /// Nothing: on to the destination.
    Arrive,
}

/// Where a user and their session stand, read fresh with the session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Standing {
    pub require_password_change: bool,
    /// The user must have a second factor (`mfa::required`: their flag, the server's policy,
    /// a role that requires one).
    pub must_have_factor: bool,
    /// The user has a TOTP device or a passkey.
    pub has_factor: bool,
    /// This session passed a second factor (at sign-in, or by setting one up in it).
    pub session_passed_factor: bool,
}

/// The next step of the walk: the forced change first, then a missing factor (required, or
/// wanted by an app that needs `two_factor`), then that app's proof of one in this session.
pub fn next_step(standing: &Standing, app_needs_two_factor: bool) -> Step {
    if standing.require_password_change {
        Step::ChangePassword
    } else if !standing.has_factor && (standing.must_have_factor || app_needs_two_factor) {
        Step::Enrol
    } else if app_needs_two_factor && !standing.session_passed_factor {
        Step::SecondFactor
    } else {
        Step::Arrive
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_standing_has_one_next_step() {
        // (change pending, must have a factor, has one, session passed one) × app needs 2FA.
        let cases = [
            // A pending change comes first, whatever else is missing.
            ((true, true, false, false), false, Step::ChangePassword),
            ((true, false, true, true), true, Step::ChangePassword),
            // Then a factor that must exist.
            ((false, true, false, false), false, Step::Enrol),
            ((false, true, false, false), true, Step::Enrol),
            // An app needing two factors sends a user without one to set one up …
            ((false, false, false, false), true, Step::Enrol),
            // … and one who has a factor but did not prove it in this session to prove it.
            ((false, false, true, false), true, Step::SecondFactor),
            ((false, true, true, false), true, Step::SecondFactor),
            // Done.
            ((false, false, false, false), false, Step::Arrive),
            ((false, true, true, false), false, Step::Arrive),
            ((false, false, true, true), true, Step::Arrive),
        ];
        for ((change, must, has, passed), two_factor, expected) in cases {
            let standing = Standing {
                require_password_change: change,
                must_have_factor: must,
                has_factor: has,
                session_passed_factor: passed,
            };
            assert_eq!(
                next_step(&standing, two_factor),
                expected,
                "{standing:?}, app needs two factors: {two_factor}"
            );
        }
    }
}
