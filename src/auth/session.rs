//! Web sessions: what a session holds, and whether it still stands for its user.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use tower_sessions::Session;

use crate::accounts::grants::{self, Grant};
use crate::accounts::users;
use crate::auth::csrf;
use crate::auth::session_store::{SIGNED_IN_KEY, USER_ID_KEY};
use crate::entities::users as user_entity;
use crate::error::{Error, Result};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};

/// The user's `security_stamp` when the session was established.
pub const STAMP_KEY: &str = "stamp";
/// Whether the sign-in that established the session was made with a temporary password
/// (the only session a forced change lets skip `current_password`).
pub const PROVED_TEMPORARY_KEY: &str = "proved_temporary";
/// When the session was established (Unix seconds); its absolute end follows from it
/// ([`outlived`]).
pub const SIGNED_IN_AT_KEY: &str = "signed_in_at";
/// The address the session was last seen from (for the sessions page).
pub const ADDRESS_KEY: &str = "address";
/// A short summary of the session's browser (for the sessions page).
pub const BROWSER_KEY: &str = "browser";
/// Whether the sign-in passed a second factor (at sign-in, or by setting one up in it).
pub const SECOND_FACTOR_KEY: &str = "second_factor";
/// Set when this request (re)established the session: the browser's SSO session follows it
/// (`auth::sso::follow_sign_in` removes it before the session is stored).
pub const SSO_DUE_KEY: &str = "__sso_due";
/// The application the walk ends at in this request, for the audit entry of the SSO session
/// issued with it (removed with [`SSO_DUE_KEY`]).
pub const SSO_APP_KEY: &str = "__sso_app";

/// What a sign-in proved, for [`establish`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proof {
    /// A password (or a reset link) alone.
    Password,
    /// A second factor: a TOTP or recovery code, a passkey, or a factor set up in this walk.
    SecondFactor,
    /// A credential change of a signed-in user: what the session proved before stands.
    Kept,
}

/// A session failure: 503 when the database is unreachable, an internal error otherwise.
pub fn session_error(err: tower_sessions::session::Error) -> Error {
    let text = err.to_string();
    if text.contains(crate::auth::session_store::UNAVAILABLE) {
        Error::DatabaseUnavailable
    } else {
        Error::Internal(anyhow::anyhow!("session: {text}"))
    }
}

/// A signed-in user and their grants, read fresh with the session.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SignedIn {
    pub user: user_entity::Model,
    pub grants: Vec<Grant>,
    /// The user's second factor and live link, read in the same statement (`None`: not read).
    #[serde(default)]
    pub status: Option<users::RowStatus>,
}

/// Whether a session signed in at `signed_in_at` (Unix seconds) has passed its absolute
/// lifetime at `now`: its end is the sign-in time plus the lifetime *in force now*
/// (`PASSGATE_SESSION_MAX_HOURS`), never a time fixed at sign-in, so lowering the setting
/// (after an incident) ends older sessions at their next request. One rule for every kind of
/// session that has a sign-in time; `None` (no sign-in time known) has outlived it.
pub fn outlived(
    signed_in_at: Option<i64>,
    max_lifetime: time::Duration,
    now: time::OffsetDateTime,
) -> bool {
    match signed_in_at.and_then(|at| time::OffsetDateTime::from_unix_timestamp(at).ok()) {
        Some(signed_in_at) => now >= signed_in_at + max_lifetime,
        None => true,
    }
}

/// The signed-in user behind a session, read fresh from the database (in the statement that
/// loaded the session, see `DbSessionStore::load`). A session whose stamp no longer matches,
/// whose user is disabled or gone, whose temporary password has expired, or which has passed
/// its absolute lifetime (`max_lifetime`, the setting in force: [`outlived`]) is ended here
/// and treated as anonymous.
pub async fn current_user(
    session: &Session,
    db: &impl ConnectionTrait,
    max_lifetime: time::Duration,
) -> Result<Option<SignedIn>> {
    let Some(user_id) = session
        .get::<i32>(USER_ID_KEY)
        .await
        .map_err(session_error)?
    else {
        return Ok(None);
    };
    let stamp = session
        .get::<String>(STAMP_KEY)
        .await
        .map_err(session_error)?
        .unwrap_or_default();
    let signed_in_at = session
        .get::<i64>(SIGNED_IN_AT_KEY)
        .await
        .map_err(session_error)?;
    let loaded = session
        .get::<Option<SignedIn>>(SIGNED_IN_KEY)
        .await
        .map_err(session_error)?;
    let signed_in = match loaded {
        Some(loaded) => loaded,
        // Not loaded with the session (a store without the join): read it now.
        None => grants::user_with_grants(db, user_id)
            .await?
            .map(|(user, grants)| SignedIn {
                user,
                grants,
                status: None,
            }),
    };
    match signed_in {
        Some(signed_in)
            if signed_in.user.user_id == user_id
                && signed_in.user.enabled
                && !stamp.is_empty()
                && signed_in.user.security_stamp == stamp
                && !outlived(signed_in_at, max_lifetime, time::OffsetDateTime::now_utc())
                && !users::temp_password_expired(&signed_in.user) =>
        {
            touch(session).await?;
            Ok(Some(signed_in))
        }
        _ => {
            session.flush().await.map_err(session_error)?;
            Ok(None)
        }
    }
}

/// The session key holding when the session's expiry was last moved (Unix seconds).
pub const TOUCHED_KEY: &str = "touched";
/// How often an active session's inactivity expiry is moved forward (a write each time).
const TOUCH_EVERY_SECONDS: i64 = 300;

/// Keeps an active session alive: tower-sessions stores a session (and with it its
/// inactivity expiry) only when it changes, so a session in use is re-saved every few
/// minutes; otherwise it would end a fixed time after sign-in however busy its user is.
async fn touch(session: &Session) -> Result<()> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let touched = session
        .get::<i64>(TOUCHED_KEY)
        .await
        .map_err(session_error)?;
    if touched.is_none_or(|at| now - at >= TOUCH_EVERY_SECONDS) {
        session
            .insert(TOUCHED_KEY, now)
            .await
            .map_err(session_error)?;
    }
    Ok(())
}

/// Whether this session's sign-in was made with a temporary password.
pub async fn proved_temporary(session: &Session) -> Result<bool> {
    Ok(session
        .get::<bool>(PROVED_TEMPORARY_KEY)
        .await
        .map_err(session_error)?
        .unwrap_or(false))
}

/// Binds the session to `user`, who has just proved their password (a reset link) or changed
/// a credential of their own (which leaves no temporary password): a new session id (no
/// fixation), the current stamp, whether the password was a temporary one, the sign-in time
/// (from which its absolute end follows), whether a second factor was passed (`proof`), a new
/// CSRF token, and the key of its one-time results (kept when the same user's session is
/// re-established). With single sign-on the browser's SSO session follows.
pub async fn establish(session: &Session, user: &user_entity::Model, proof: Proof) -> Result<()> {
    // As OpenID Connect's `amr` says it: a password, or a password and a code (a passkey
    // registered in the session says so itself, see [`set_amr`]); a change keeps it.
    let amr = match proof {
        Proof::Password => Some(AMR_PASSWORD.to_string()),
        Proof::SecondFactor => Some(AMR_PASSWORD_AND_CODE.to_string()),
        Proof::Kept => None,
    };
    bind(session, user, user.require_password_change, proof, amr).await
}

/// Binds the session to the user of a sign-in, as [`establish`] does; it skips
/// `current_password` in a forced change only when the sign-in proved the temporary password
/// (not a passkey sign-in), and records whether a second factor was passed.
pub async fn establish_sign_in(
    session: &Session,
    signed_in: &crate::auth::login::SignIn,
) -> Result<()> {
    let proof = match signed_in.factor {
        crate::accounts::mfa::FactorUsed::None => Proof::Password,
        _ => Proof::SecondFactor,
    };
    bind(
        session,
        &signed_in.user,
        signed_in.proved_temporary(),
        proof,
        Some(amr_of(signed_in)),
    )
    .await
}

/// How a sign-in proved itself, as OpenID Connect's `amr` words (SPEC §16): `pwd` for the
/// password, `otp` for a TOTP or recovery code, `hwk` for a passkey.
fn amr_of(signed_in: &crate::auth::login::SignIn) -> String {
    use crate::accounts::mfa::FactorUsed;
    let mut words = Vec::new();
    if signed_in.password_proved {
        words.push(AMR_PASSWORD);
    }
    match signed_in.factor {
        FactorUsed::None => {}
        FactorUsed::Totp | FactorUsed::RecoveryCode { .. } => words.push(AMR_CODE),
        FactorUsed::Passkey => words.push(AMR_PASSKEY),
    }
    if words.is_empty() {
        words.push(AMR_PASSWORD);
    }
    words.join(" ")
}

/// `amr`: the methods a sign-in used, or `None` to keep the session's (a change of password).
async fn bind(
    session: &Session,
    user: &user_entity::Model,
    proved_temporary: bool,
    proof: Proof,
    amr: Option<String>,
) -> Result<()> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    crate::auth::one_time::start(session, user.user_id).await?;
    session.cycle_id().await.map_err(session_error)?;
    session
        .remove_value(SIGNED_IN_KEY)
        .await
        .map_err(session_error)?;
    // A new sign-in: the apps' `sid` of a previous one in this browser does not carry over.
    session
        .remove_value(crate::auth::sign_in_id::KEY)
        .await
        .map_err(session_error)?;
    session
        .insert(USER_ID_KEY, user.user_id)
        .await
        .map_err(session_error)?;
    session
        .insert(STAMP_KEY, &user.security_stamp)
        .await
        .map_err(session_error)?;
    session
        .insert(PROVED_TEMPORARY_KEY, proved_temporary)
        .await
        .map_err(session_error)?;
    session
        .insert(SIGNED_IN_AT_KEY, now)
        .await
        .map_err(session_error)?;
    let second_factor = match proof {
        Proof::Password => false,
        Proof::SecondFactor => true,
        Proof::Kept => passed_second_factor(session).await?,
    };
    session
        .insert(SECOND_FACTOR_KEY, second_factor)
        .await
        .map_err(session_error)?;
    if let Some(amr) = amr {
        set_amr(session, &amr).await?;
    }
    session
        .insert(SSO_DUE_KEY, true)
        .await
        .map_err(session_error)?;
    csrf::rotate(session).await?;
    Ok(())
}

/// The session key of the sign-in's methods (`amr`, space-separated, SPEC §16).
pub const AMR_KEY: &str = "amr";
pub const AMR_PASSWORD: &str = "pwd";
pub const AMR_PASSWORD_AND_CODE: &str = "pwd otp";
const AMR_CODE: &str = "otp";
const AMR_PASSKEY: &str = "hwk";

/// The sign-in's methods (`amr` words, space-separated; a password when none was recorded).
pub async fn amr(session: &Session) -> Result<String> {
    Ok(session
        .get::<String>(AMR_KEY)
        .await
        .map_err(session_error)?
        .unwrap_or_else(|| AMR_PASSWORD.to_string()))
}

/// Records how the sign-in proved itself, after [`establish`] (a passkey registered in the
/// session adds `hwk` to what it had).
pub async fn set_amr(session: &Session, words: &str) -> Result<()> {
    session.insert(AMR_KEY, words).await.map_err(session_error)
}

/// Whether this session's sign-in passed a second factor.
pub async fn passed_second_factor(session: &Session) -> Result<bool> {
    Ok(session
        .get::<bool>(SECOND_FACTOR_KEY)
        .await
        .map_err(session_error)?
        .unwrap_or(false))
}

/// Asks for an SSO session to be issued with this panel session at the end of the request
/// (the browser has none that stands), naming the application the walk ends at.
pub async fn want_sso(session: &Session, app: Option<&str>) -> Result<()> {
    session
        .insert(SSO_DUE_KEY, true)
        .await
        .map_err(session_error)?;
    if let Some(app) = app {
        session
            .insert(SSO_APP_KEY, app)
            .await
            .map_err(session_error)?;
    }
    Ok(())
}

/// Ends the session (the row is deleted and the cookie expired).
pub async fn end(session: &Session) -> Result<()> {
    session.flush().await.map_err(session_error)
}

/// The signed-in user of a `/panel` request, put in place by the gate.
impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<SignedIn>()
            .cloned()
            .ok_or(Error::Unauthenticated)
    }
}

#[cfg(test)]
mod tests {
    use super::outlived;
    use time::{Duration, OffsetDateTime};

    #[test]
    fn a_session_ends_its_lifetime_after_its_sign_in_under_the_setting_in_force() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let at = |ago: Duration| Some((now - ago).unix_timestamp());
        let week = Duration::hours(168);
        assert!(!outlived(at(Duration::hours(3)), week, now));
        // The same session under a setting lowered since its sign-in.
        assert!(outlived(at(Duration::hours(3)), Duration::hours(2), now));
        assert!(!outlived(
            at(Duration::hours(2) - Duration::SECOND),
            Duration::hours(2),
            now
        ));
        assert!(outlived(at(Duration::hours(2)), Duration::hours(2), now));
        // No sign-in time known (or one that is no time at all): over.
        assert!(outlived(None, week, now));
        assert!(outlived(Some(i64::MAX), week, now));
    }
}
