//! The identifier of one browser sign-in, which apps see as the ID token's `sid` (SPEC §16):
//! random, made when the sign-in first signs in to an app, kept in the session's data (so it
//! survives the session id's cycling), and never the session id (a credential). Signing out
//! ends the OpenID Connect grants made under it; a new sign-in starts without one.

use rand::RngExt;
use tower_sessions::Session;

use crate::auth::session::session_error;
use crate::error::Result;

pub const KEY: &str = "oidc_sid";

/// The sign-in's identifier, if it has signed in to an app.
pub async fn get(session: &Session) -> Result<Option<String>> {
    session.get::<String>(KEY).await.map_err(session_error)
}

/// The sign-in's identifier, made now if it has none yet.
pub async fn get_or_make(session: &Session) -> Result<String> {
    if let Some(sid) = get(session).await? {
        return Ok(sid);
    }
    let bytes: [u8; 16] = rand::rng().random();
    let sid = hex::encode(bytes);
    session.insert(KEY, &sid).await.map_err(session_error)?;
    Ok(sid)
}
