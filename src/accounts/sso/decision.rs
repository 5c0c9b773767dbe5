//! The forward-auth decision (SPEC §15.2) as a pure function over plain data: the target,
//! the applications, and the SSO session read in one statement. First match wins:
//!
//! 1. no application has the host → forbidden (fail closed);
//! 2. the application's policy is `deny` → forbidden;
//! 3. the path is under one of its public paths → public (empty identity headers);
//! 4. no valid SSO session → sign in;
//! 5. a step of the walk is missing (forced change, enrolment, the second factor the app
//!    needs) → that step, never access;
//! 6. the user is in none of the app's `allowed_roles` → forbidden;
//! 7. otherwise → allowed, with the identity.
//!
//! [`route`] does 1–3 from the applications alone (no database), so the handler reads the
//! session only when the answer depends on it; [`decide`] does the rest.

use crate::accounts::apps::{App, AppTable, Policy, is_public};
use crate::accounts::sso::walk::{Standing, Step, next_step};

/// The request the proxy asks about.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    /// Lower-case, no port.
    pub host: &'a str,
    /// Explicit, or the scheme's default.
    pub port: Option<u16>,
    /// Path and query as forwarded.
    pub uri: &'a str,
}

/// Who is signed in, as the identity headers carry them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    pub user_id: i32,
    pub username: String,
    pub email: Option<String>,
    /// The user's roles: (id, name), by name.
    pub roles: Vec<(i32, String)>,
}

/// A valid SSO session: whose it is and where its walk stands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SsoState {
    pub identity: Identity,
    pub standing: Standing,
}

/// Steps 1–3: what the applications alone say about the target.
#[derive(Clone, Copy, Debug)]
pub enum Route<'a> {
    UnknownHost,
    Denied(&'a App),
    Public(&'a App),
    /// The answer depends on the session.
    Protected(&'a App),
}

impl Route<'_> {
    pub fn needs_session(&self) -> bool {
        matches!(self, Route::Protected(_))
    }
}

/// The answer.
#[derive(Clone, Debug)]
pub enum Decision<'a> {
    /// No application has the host (403).
    UnknownHost,
    /// The app's policy is `deny`, or the user is in none of its roles (403). `user` is set
    /// when a signed-in user was refused (the page then offers sign-out).
    Forbidden {
        app: &'a App,
        user: Option<Identity>,
    },
    /// A public path (200, identity headers present and empty).
    Public,
    /// No valid SSO session: sign in.
    SignIn { app: &'a App },
    /// Signed in, but a step of the walk is missing: that step's page.
    Step { app: &'a App, step: Step },
    /// 200 with the identity.
    Allow { app: &'a App, identity: Identity },
}

/// Steps 1–3.
pub fn route<'a>(target: &Target<'_>, apps: &'a AppTable) -> Route<'a> {
    let Some(app) = apps.find(target.host, target.port) else {
        return Route::UnknownHost;
    };
    if app.policy == Policy::Deny {
        Route::Denied(app)
    } else if is_public(target.uri, &app.public_paths) {
        Route::Public(app)
    } else {
        Route::Protected(app)
    }
}

/// Steps 4–7 (and the answer of 1–3), given the request's SSO session if it is valid.
pub fn decide<'a>(route: Route<'a>, session: Option<&SsoState>) -> Decision<'a> {
    let app = match route {
        Route::UnknownHost => return Decision::UnknownHost,
        Route::Denied(app) => return Decision::Forbidden { app, user: None },
        Route::Public(_) => return Decision::Public,
        Route::Protected(app) => app,
    };
    let Some(session) = session else {
        return Decision::SignIn { app };
    };
    match next_step(&session.standing, app.policy == Policy::TwoFactor) {
        Step::Arrive => {}
        step => return Decision::Step { app, step },
    }
    if !app.admits(&session.identity) {
        return Decision::Forbidden {
            app,
            user: Some(session.identity.clone()),
        };
    }
    Decision::Allow {
        app,
        identity: session.identity.clone(),
    }
}

#[cfg(test)]
mod tests;
