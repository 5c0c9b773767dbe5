//! Why a web session ended, for the sign-in page. The panel gate redirects a request whose
//! session no longer stands to `/login?ended=REASON` (a word, never a secret):
//!
//! - `expired`: the user's temporary password expired (`password_expires` passed);
//! - `reset`: an administrator reset the password (the stamp rotated, the rows were deleted);
//! - `signed_out`: a sign-out, a password change or `invalidate_tokens` elsewhere;
//! - `ended`: anything else (idle timeout, a disabled or deleted account).
//!
//! A rotated stamp deletes the user's session rows, so the browser's session cookie then
//! names nothing. To still know whose session it was, a signed-in browser also carries a
//! small cookie with the user id and an HMAC of it (`passgate_seen`, HttpOnly, no secret;
//! the HMAC makes it unforgeable, so nobody learns why someone else's session ended). It is
//! cleared when its reason has been given. The reason is read from the user's row and
//! the newest audit entry about them.

use axum::http::{HeaderMap, HeaderValue, header};
use sea_orm::ConnectionTrait;

use crate::accounts::audit::{self, action};
use crate::accounts::users;
use crate::auth::tokens::SigningKey;
use crate::error::Result;

pub const HINT_COOKIE: &str = "passgate_seen";
const PURPOSE: &str = "session-hint";
/// As long as a session can live at most (`PASSGATE_SESSION_MAX_HOURS` default).
const HINT_MAX_AGE_SECONDS: i64 = 7 * 24 * 3600;

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    Expired,
    Reset,
    SignedOut,
    Other,
}

impl EndReason {
    pub fn code(self) -> &'static str {
        match self {
            EndReason::Expired => "expired",
            EndReason::Reset => "reset",
            EndReason::SignedOut => "signed_out",
            EndReason::Other => "ended",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        [
            EndReason::Expired,
            EndReason::Reset,
            EndReason::SignedOut,
            EndReason::Other,
        ]
        .into_iter()
        .find(|r| r.code() == code)
    }

    /// The translation key of the sentence on the sign-in page.
    pub fn message_key(self) -> &'static str {
        match self {
            EndReason::Expired => "login.endedExpired",
            EndReason::Reset => "login.endedReset",
            EndReason::SignedOut => "login.endedSignedOut",
            EndReason::Other => "login.endedOther",
        }
    }
}

fn cookie_value(key: &SigningKey, user_id: i32) -> String {
    let id = user_id.to_string();
    format!("{id}.{}", key.sign_for(PURPOSE, &id))
}

/// The user id in the request's hint cookie, if it carries a valid one.
pub fn hinted_user(key: &SigningKey, headers: &HeaderMap) -> Option<i32> {
    let value = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == HINT_COOKIE)
        .map(|(_, value)| value.to_string())?;
    let (id, _) = value.split_once('.')?;
    let user_id: i32 = id.parse().ok()?;
    let expected = cookie_value(key, user_id);
    let same: bool = subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), value.as_bytes()).into();
    same.then_some(user_id)
}

/// `Set-Cookie` for a signed-in user's hint.
pub fn set_hint(key: &SigningKey, user_id: i32, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{HINT_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={HINT_MAX_AGE_SECONDS}{secure}",
        cookie_value(key, user_id)
    ))
    .ok()
}

/// `Set-Cookie` that removes the hint.
pub fn clear_hint() -> HeaderValue {
    HeaderValue::from_static("passgate_seen=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// Why the session of `user_id` ended, from their row and the newest audit entry about them.
pub async fn reason(db: &impl ConnectionTrait, user_id: i32) -> Result<EndReason> {
    let Some(user) = users::find_by_id(db, user_id).await? else {
        return Ok(EndReason::Other);
    };
    if !user.enabled {
        return Ok(EndReason::Other);
    }
    if users::temp_password_expired(&user) {
        return Ok(EndReason::Expired);
    }
    let newest = audit::latest_about(
        db,
        user_id,
        &[
            action::LOGIN,
            action::LOGOUT,
            action::PASSWORD_RESET,
            action::PASSWORD_CHANGED,
            action::TOKENS_INVALIDATED,
            action::SESSIONS_ENDED,
            action::RESET_LINK_USED,
        ],
    )
    .await?;
    Ok(match newest.as_deref() {
        Some(action::PASSWORD_RESET) => EndReason::Reset,
        Some(
            action::LOGOUT
            | action::PASSWORD_CHANGED
            | action::TOKENS_INVALIDATED
            | action::SESSIONS_ENDED
            | action::RESET_LINK_USED,
        ) => EndReason::SignedOut,
        _ => EndReason::Other,
    })
}
