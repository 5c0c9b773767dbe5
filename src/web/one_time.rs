//! One-time results (a password now; reset links and recovery codes later): the POST that
//! produces one keeps it in the signed-in session under a random id and redirects (303, or
//! `HX-Location` for htmx) to `GET /panel/result/{id}`, which takes it out on first display.
//! A reload or the back button finds nothing and says *already shown*: never a second action.
//!
//! The secret sits in the session row (server side) only between the POST and the GET that
//! shows it; at most [`MAX_ENTRIES`] unshown results are kept per session, the oldest dropped.

use std::collections::BTreeMap;

use axum::http::HeaderValue;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use rand::RngExt;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::auth::session::session_error;
use crate::error::Result;
use crate::paths;
use crate::web::Hx;

const KEY: &str = "one_time";
/// Unshown results kept per session (a person opens a few tabs, not dozens).
pub const MAX_ENTRIES: usize = 8;

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
    UserDraft(Box<crate::web::users::new::UserFields>),
    /// A new authenticator's secret (SPEC §9).
    Enrolment(EnrolShown),
    /// What a bulk action did (SPEC §11).
    Bulk(BulkShown),
    /// New recovery codes.
    RecoveryCodes {
        codes: Vec<String>,
        /// Where the sign-in walk ends (`rd`): *I have stored them* goes on there.
        #[serde(default)]
        rd: Option<String>,
    },
}

#[derive(Default, Serialize, Deserialize)]
struct Entries(BTreeMap<String, (i64, OneTime)>);

fn new_id() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Keeps `item` for one display; returns its id.
pub async fn put(session: &Session, item: OneTime) -> Result<String> {
    let mut entries = session
        .get::<Entries>(KEY)
        .await
        .map_err(session_error)?
        .unwrap_or_default();
    let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64;
    while entries.0.len() >= MAX_ENTRIES {
        let oldest = entries
            .0
            .iter()
            .min_by_key(|(_, (at, _))| *at)
            .map(|(id, _)| id.clone());
        match oldest {
            Some(id) => entries.0.remove(&id),
            None => break,
        };
    }
    let id = new_id();
    entries.0.insert(id.clone(), (now, item));
    session.insert(KEY, &entries).await.map_err(session_error)?;
    Ok(id)
}

/// Takes the result out: `Some` on its first display only.
pub async fn take(session: &Session, id: &str) -> Result<Option<OneTime>> {
    let Some(mut entries) = session.get::<Entries>(KEY).await.map_err(session_error)? else {
        return Ok(None);
    };
    let taken = entries.0.remove(id).map(|(_, item)| item);
    if taken.is_some() {
        if entries.0.is_empty() {
            session.remove_value(KEY).await.map_err(session_error)?;
        } else {
            session.insert(KEY, &entries).await.map_err(session_error)?;
        }
    }
    Ok(taken)
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

/// The answer to the POST that produced result `id`: 303 to its page, or for htmx an
/// `HX-Location` that loads it into the dialog slot without touching the address bar.
pub fn redirect_to(hx: Hx, id: &str) -> Response {
    see_other(hx, &paths::result(id))
}
