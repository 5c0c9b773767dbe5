//! One-time results (a password, a link, recovery codes, a new authenticator's secret, a
//! Generate button's draft): the POST that produces one keeps it under a random id and
//! redirects (303, or `HX-Location` for htmx) to `GET /panel/result/{id}`, which takes it out
//! on first display. A reload or the back button finds nothing and says *already shown*:
//! never a second action.
//!
//! Here: what each result holds and how it travels. Where it waits — sealed, bound to this
//! session and its user, deleted when shown — is `auth::one_time`.

use axum::http::HeaderValue;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::auth::one_time::{self as store, Owner};
use crate::error::{Error, Result};
use crate::paths;
use crate::state::AppState;
use crate::web::{Hx, Viewer};

// No `Debug` on these: they carry passwords.

/// A reset whose new password is shown once.
#[derive(Clone, Serialize, Deserialize)]
pub struct ResetShown {
    pub target_id: i32,
    pub target_name: String,
    pub password: String,
    pub expires: Option<String>,
    pub require_change: bool,
}

/// A new reset or set-up link, shown once (SPEC §10).
#[derive(Clone, Serialize, Deserialize)]
pub struct LinkShown {
    pub target_id: i32,
    pub target_name: String,
    pub url: String,
    /// When it stops working, formatted.
    pub expires: String,
}

/// A bulk action's report: the names it was applied to and those left alone (with why).
#[derive(Clone, Serialize, Deserialize)]
pub struct BulkShown {
    /// `require_change` or `end_sessions`.
    pub action: String,
    pub applied: Vec<String>,
    /// Username and reason (`yourself`, `not_allowed`).
    pub skipped: Vec<(String, String)>,
    pub unknown: usize,
}

/// A created user, with the initial password when there is one to pass on.
#[derive(Clone, Serialize, Deserialize)]
pub struct CreatedShown {
    pub user_id: i32,
    pub username: String,
    pub password: Option<String>,
    /// The set-up link instead of a password.
    #[serde(default)]
    pub link: Option<LinkShown>,
    pub require_change: bool,
}

/// The reset form as the Generate button left it (without JavaScript the POST redirects to
/// the form, which shows this once).
#[derive(Clone, Serialize, Deserialize)]
pub struct ResetDraft {
    pub target_id: i32,
    pub password: String,
    pub length: usize,
    pub expires_hours: String,
    pub require_change: bool,
    pub revoke_keys: bool,
    #[serde(default)]
    pub reset_mfa: bool,
}

/// A started enrolment: its secret, shown once on the enrolment page.
#[derive(Clone, Serialize, Deserialize)]
pub struct EnrolShown {
    pub enrolment_id: i32,
    pub secret: String,
    pub otpauth_uri: String,
    /// Where the sign-in walk ends (`rd`), carried on to the next step.
    #[serde(default)]
    pub rd: Option<String>,
}

/// Everything that is shown exactly once.
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OneTime {
    Reset(ResetShown),
    /// A reset link made in the reset dialog.
    Link(LinkShown),
    Created(CreatedShown),
    ResetDraft(ResetDraft),
    /// The new-user form as the Generate button left it.
    UserDraft(Box<crate::web::users::form::UserFields>),
    /// A new authenticator's secret (SPEC §9).
    Enrolment(EnrolShown),
    /// What a bulk action did (SPEC §11).
    Bulk(BulkShown),
    /// New recovery codes.
    /// An OpenID Connect client's secret (SPEC §16).
    ClientSecret(crate::web::apps::client::SecretShown),
    RecoveryCodes {
        codes: Vec<String>,
        /// Where the sign-in walk ends (`rd`): *I have stored them* goes on there.
        #[serde(default)]
        rd: Option<String>,
    },
}

/// Keeps `item` for one display by this viewer's session; returns its id.
pub async fn put(state: &AppState, viewer: &Viewer, item: OneTime) -> Result<String> {
    let payload = Zeroizing::new(serde_json::to_vec(&item).map_err(|e| Error::Internal(e.into()))?);
    let owner = Owner::of(&viewer.session, viewer.user.user_id).await?;
    store::put(&state.db, &state.mfa.cipher, &owner, &payload).await
}

/// Takes the result out: `Some` on its first display only (and only in the session that made
/// it).
pub async fn take(state: &AppState, viewer: &Viewer, id: &str) -> Result<Option<OneTime>> {
    let owner = Owner::of(&viewer.session, viewer.user.user_id).await?;
    let Some(payload) = store::take(&state.db, &state.mfa.cipher, &owner, id).await? else {
        return Ok(None);
    };
    serde_json::from_slice(&payload)
        .map(Some)
        .map_err(|e| Error::Internal(e.into()))
}

/// The answer to a POST whose result is shown by the GET at `url` (with htmx: the fragment
/// of `url`, loaded into the dialog slot).
pub fn see_other(hx: Hx, url: &str) -> Response {
    if hx.0 {
        let spec = serde_json::json!({
            "path": url,
            "target": "#dialog-slot",
            "swap": "innerHTML",
            "push": "false",
        });
        let mut response = axum::http::StatusCode::OK.into_response();
        if let Ok(value) = HeaderValue::from_str(&spec.to_string()) {
            response.headers_mut().insert("hx-location", value);
        }
        response
    } else {
        Redirect::to(url).into_response()
    }
}

/// Where a result's page leads back to — also when it is opened again and says *already
/// shown*, when the result itself is gone: its URL carries it (`?back=`), one of these only,
/// each a link built from `paths` (nothing a URL could point elsewhere with).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Back {
    /// The users table (a password, a link, a created user, a bulk report).
    Users,
    /// An application's page (its client secret).
    App(i32),
    /// The viewer's security page (a new authenticator, recovery codes).
    Security,
}

impl Back {
    fn query(self) -> String {
        match self {
            Back::Users => "users".into(),
            Back::App(id) => format!("app-{id}"),
            Back::Security => "security".into(),
        }
    }

    /// The `back` a result's URL gave; anything else is the users table.
    pub fn parse(raw: Option<&str>) -> Back {
        match raw {
            Some("security") => Back::Security,
            Some(raw) => raw
                .strip_prefix("app-")
                .and_then(|id| id.parse::<i32>().ok())
                .filter(|id| *id > 0)
                .map_or(Back::Users, Back::App),
            None => Back::Users,
        }
    }

    /// The link and the translation key of its words.
    pub fn link(self) -> (String, &'static str) {
        match self {
            Back::Users => (paths::USERS.to_string(), "panelConfig.backToUsers"),
            Back::App(id) => (paths::edit_app(id), "oneTime.backToApp"),
            Back::Security => (paths::SECURITY.to_string(), "oneTime.backToSecurity"),
        }
    }
}

/// The answer to the POST that produced result `id`: 303 to its page, or for htmx an
/// `HX-Location` that loads it into the dialog slot without touching the address bar. `back`:
/// where the page leads back to, even once shown.
pub fn redirect_to(hx: Hx, id: &str, back: Back) -> Response {
    see_other(hx, &format!("{}?back={}", paths::result(id), back.query()))
}

#[cfg(test)]
mod tests {
    use super::Back;

    #[test]
    fn a_result_leads_back_only_to_a_page_of_its_own() {
        for back in [Back::Users, Back::App(12), Back::Security] {
            assert_eq!(Back::parse(Some(&back.query())), back);
        }
        for other in [
            "",
            "app-",
            "app-x",
            "app--3",
            "app-0",
            "//evil.example",
            "/panel/users",
        ] {
            assert_eq!(Back::parse(Some(other)), Back::Users, "{other}");
        }
        assert_eq!(Back::parse(None), Back::Users);
    }
}
