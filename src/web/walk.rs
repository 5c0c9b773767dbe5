//! The web side of the sign-in walk (SPEC §9, §15.4): the destination is carried as `rd`
//! through every step (in the step's URL, or a hidden field of its form), and where a
//! signed-in user goes next is asked of the one state machine (`accounts::sso::walk`) — for
//! an application, of the forward-auth decision itself, so the walk ends where the proxy will
//! let the user through. `GET /login?rd=` is the walk's resume point: a page that finished a
//! step links there. The end of every web sign-in is here too ([`signed_in`]): the password
//! form, the code page and the passkey script all finish the same way.

use axum::Json;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tower_sessions::Session;

use crate::accounts::audit::{self, Actor, action};
use crate::accounts::mfa::{self, FactorUsed};
use crate::accounts::roles;
use crate::accounts::sso::{
    Decision, Destination, Identity, ReturnTo, SsoState, Standing, Step, Target, decide, route,
};
use crate::auth::client_ip::ClientIp;
use crate::auth::login::SignIn;
use crate::auth::{pending, session, sso};
use crate::entities::users;
use crate::error::Result;
use crate::paths;
use crate::state::AppState;
use crate::web::{Hx, change_password, redirect};

/// `rd` in a query or a form: where the sign-in walk ends (checked by [`destination`]).
#[derive(serde::Deserialize, Default)]
pub struct RdField {
    #[serde(default)]
    pub rd: Option<String>,
}

/// `rd` as a destination: an application's URL if it passes [`ReturnTo::parse`] (single
/// sign-on on), the dashboard otherwise — never the raw value.
pub fn destination(state: &AppState, rd: Option<&str>) -> Destination {
    if let Some(path) = rd.and_then(|rd| authorize_request(state, rd)) {
        return Destination::Authorize(path);
    }
    let (Some(sso), Some(rd)) = (state.config.sso.as_ref(), rd.filter(|r| !r.is_empty())) else {
        return Destination::Dashboard;
    };
    match ReturnTo::parse(rd, sso, !state.config.cookie_secure) {
        Some(to) => Destination::App(to),
        None => Destination::Dashboard,
    }
}

/// `rd` as passgate's own authorization request (OpenID Connect on): a path that is exactly
/// `/oauth2/authorize?` and a query of printable ASCII (no `#`, no backslash), re-encoded
/// pair by pair, so nothing but the authorization endpoint can be reached with it.
fn authorize_request(state: &AppState, rd: &str) -> Option<String> {
    state.oidc.as_ref()?;
    let prefix = format!("{}?", paths::oidc::AUTHORIZE);
    let query = rd.strip_prefix(&prefix)?;
    let clean = rd.len() <= 4096
        && query
            .bytes()
            .all(|b| b > b' ' && b < 0x7f && b != b'#' && b != b'\\');
    if !clean {
        return None;
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    let query = serde_urlencoded::to_string(pairs).ok()?;
    Some(format!("{prefix}{query}"))
}

/// The username an authorization request suggests (`login_hint`), to pre-fill the sign-in.
pub fn login_hint(destination: &Destination) -> Option<String> {
    let Destination::Authorize(path) = destination else {
        return None;
    };
    let query = path.split_once('?').map_or("", |(_, q)| q);
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    pairs
        .into_iter()
        .find(|(k, v)| k == "login_hint" && !v.is_empty() && v.len() <= 255)
        .map(|(_, v)| v)
}

/// The name of the application a destination leads to ("Sign in to continue to *Wiki*").
pub async fn app_name(state: &AppState, destination: &Destination) -> Option<String> {
    let to = match destination {
        Destination::Dashboard => return None,
        Destination::Authorize(path) => {
            return crate::web::oidc::authorize::app_name(state, path).await;
        }
        Destination::App(to) => to,
    };
    let apps = state.apps.table(&state.db).await.ok()?;
    apps.find(to.host(), to.effective_port())
        .map(|app| app.name.clone())
}

/// The page of a step, carrying the destination.
pub fn step_url(step: Step, destination: &Destination) -> String {
    let path = match step {
        Step::ChangePassword => paths::CHANGE_PASSWORD,
        Step::Enrol => paths::TOTP_SETUP,
        Step::SecondFactor => paths::SECOND_FACTOR,
        Step::Arrive => return resume_url(destination),
    };
    paths::with_rd(path, destination.rd())
}

/// Where a signed-in user belongs in the panel: the forced change, or the dashboard (whose
/// gate holds a user who must set up a second factor).
pub fn home(user: &users::Model) -> &'static str {
    paths::home(user.require_password_change)
}

/// Where a page that finished a step sends the user on: the walk's resume point for an
/// application (it asks what is next), the dashboard otherwise.
pub fn resume_url(destination: &Destination) -> String {
    match destination {
        Destination::Dashboard => paths::DASHBOARD.to_string(),
        Destination::App(_) => login_url(destination),
        // The authorization endpoint asks the walk itself (and sends a signed-out browser
        // to the sign-in).
        Destination::Authorize(path) => path.clone(),
    }
}

/// The sign-in page, carrying the destination (for someone not, or no longer, signed in).
pub fn login_url(destination: &Destination) -> String {
    paths::with_rd(paths::LOGIN, destination.rd())
}

/// Where the signed-in `user` goes next: the page of the step the walk is missing, or the
/// destination. An application is reached only if it admits the user (otherwise the
/// access-denied page, and the refusal is audited), and with single sign-on the browser gets
/// an SSO session for it if it has none that stands.
pub async fn next_url(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    ip: ClientIp,
    user: &users::Model,
    destination: &Destination,
) -> Result<String> {
    let to = match destination {
        // The panel's gate walks the rest (the same machine, see `web::gate`).
        Destination::Dashboard => return Ok(home(user).to_string()),
        // So does the authorization endpoint (`web::oidc::authorize`).
        Destination::Authorize(path) => return Ok(path.clone()),
        Destination::App(to) => to,
    };
    let standing = Standing {
        require_password_change: user.require_password_change,
        must_have_factor: mfa::required_of(&state.db, state.mfa.policy, user).await?,
        has_factor: mfa::has_factor(&state.db, user.user_id).await?,
        session_passed_factor: session::passed_second_factor(session).await?,
    };
    let apps = state.apps.table(&state.db).await?;
    let uri = to.path_and_query();
    let target = Target {
        host: to.host(),
        port: to.effective_port(),
        uri: &uri,
    };
    let identity = Identity {
        user_id: user.user_id,
        username: user.username.clone(),
        email: user.email.clone(),
        roles: roles::of_user(&state.db, user.user_id)
            .await?
            .into_iter()
            .map(|role| (role.role_id, role.role_name))
            .collect(),
    };
    let signed_in = SsoState { identity, standing };
    let app = match decide(route(&target, &apps), Some(&signed_in)) {
        Decision::Step { step, .. } => return Ok(step_url(step, destination)),
        Decision::Forbidden {
            app,
            user: by_roles,
        } => {
            let reason = if by_roles.is_some() {
                "roles"
            } else {
                "policy"
            };
            audit::record(
                &state.db,
                &Actor::user(user, ip.to_string()),
                Some((user.user_id, &user.username)),
                action::SSO_REFUSED,
                format!("app={} reason={reason}", audit::value(&app.name)),
            )
            .await?;
            return Ok(paths::with_rd(paths::DENIED, destination.rd()));
        }
        Decision::Allow { app, .. } => Some(app.name.clone()),
        // A host in the domain that no application has (passgate itself, a site without a
        // sign-in): nothing to refuse here.
        Decision::Public | Decision::UnknownHost | Decision::SignIn { .. } => None,
    };
    if !browser_has_sso(state, headers, user).await? {
        session::want_sso(session, app.as_deref()).await?;
    }
    Ok(to.as_str().to_string())
}

/// Whether the request carries an SSO session of `user` that still stands.
async fn browser_has_sso(
    state: &AppState,
    headers: &HeaderMap,
    user: &users::Model,
) -> Result<bool> {
    if state.config.sso.is_none() {
        return Ok(true);
    }
    let Some(token) = sso::token_in(headers) else {
        return Ok(false);
    };
    Ok(sso::load(&state.db, &token)
        .await?
        .and_then(|loaded| loaded.state(&state.config))
        .is_some_and(|standing| standing.identity.user_id == user.user_id))
}

/// How the step that signed the user in expects its answer.
#[derive(Clone, Copy, Debug)]
pub enum Reply {
    /// A form: a 303, or for htmx the next step swapped in place (`HX-Redirect` otherwise).
    Page(Hx),
    /// The passkey script: `{"redirect": URL}`, which it follows.
    Script,
}

/// Where a sign-in's walk ends, and what the request says about the browser (its SSO
/// cookie, its address) for the step that decides the way on.
#[derive(Clone, Copy)]
pub struct Arrival<'a> {
    pub destination: &'a Destination,
    pub headers: &'a HeaderMap,
    pub ip: ClientIp,
}

/// Signs the browser in after `signed_in` — a new session id, the second-factor pending
/// cookie gone — and answers with the next step: the forced change (in place with htmx), the
/// dashboard, or for an application the walk's next step or the application itself.
pub async fn signed_in(
    state: &AppState,
    session: &Session,
    reply: Reply,
    signed_in: SignIn,
    arrival: Arrival<'_>,
) -> Result<Response> {
    session::establish_sign_in(session, &signed_in).await?;
    let mut response = match reply {
        Reply::Page(hx) if hx.0 && signed_in.user.require_password_change => {
            // Swap the sign-in form for the change form in place.
            change_password::forced_box(
                session,
                state,
                &signed_in.user,
                signed_in.proved_temporary(),
                arrival.destination.rd(),
            )
            .await
        }
        _ => {
            let next = match arrival.destination {
                Destination::Dashboard => next_page(&signed_in),
                // The authorization endpoint decides again, now signed in (`web::oidc`).
                Destination::Authorize(path) => path.clone(),
                Destination::App(_) => {
                    next_url(
                        state,
                        session,
                        arrival.headers,
                        arrival.ip,
                        &signed_in.user,
                        arrival.destination,
                    )
                    .await?
                }
            };
            match reply {
                Reply::Page(hx) => redirect(hx, &next),
                Reply::Script => Json(json!({ "redirect": next })).into_response(),
            }
        }
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, pending::clear());
    Ok(response)
}

/// Where a user goes right after signing in to the panel: the forced change when one is
/// pending, else the dashboard (saying once that a recovery code was spent and how many are
/// left).
fn next_page(signed_in: &SignIn) -> String {
    if signed_in.user.require_password_change {
        return paths::CHANGE_PASSWORD.to_string();
    }
    match signed_in.factor {
        FactorUsed::RecoveryCode { left } => {
            format!("{}?recovery_codes_left={left}", paths::DASHBOARD)
        }
        _ => paths::DASHBOARD.to_string(),
    }
}
