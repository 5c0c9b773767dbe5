//! The SSO session and its cookie (SPEC §15.3). The cookie `passgate_sso` (`Domain=` the
//! SSO cookie domain, HttpOnly, SameSite=Lax, Secure when configured) holds a random token;
//! the row in `sso_sessions` is keyed by the token's SHA-256, so the database never holds a
//! usable cookie. The row kind is its own: the panel and the API never read it (their
//! session store reads `sessions` only), so this cookie, which every app's backend receives,
//! opens nothing but the forward-auth decision and the redirect of §15.4.
//!
//! An SSO session follows the panel session of the same browser: whenever a request
//! (re)establishes the panel session — a sign-in, a second factor, a credential change that
//! rotated the stamp — [`follow_sign_in`] issues a fresh SSO session with the same user,
//! stamp, sign-in time and second factor, and replaces the browser's cookie. A rotated stamp
//! deletes the user's SSO rows in the same transaction (`credentials::end_sessions`), on
//! every instance at once.
//!
//! The forward-auth decision reads a session with [`load`] (in `sso/loaded.rs`: one
//! statement with the user, factors and roles, and whether the session still stands).

use axum::extract::{Request, State};
use axum::http::header::{COOKIE, SET_COOKIE, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use rand::RngExt;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement};
use sha2::{Digest, Sha256};
use time::{OffsetDateTime, PrimitiveDateTime};
use tower_sessions::Session;

use crate::accounts::{audit, clock, users};
use crate::auth::client_ip::ClientIp;
use crate::auth::session::{
    SECOND_FACTOR_KEY, SIGNED_IN_AT_KEY, SSO_APP_KEY, SSO_DUE_KEY, STAMP_KEY,
};
use crate::auth::session_store::USER_ID_KEY;
use crate::config::{Config, SESSION_IDLE, SsoConfig};
use crate::entities::sso_sessions;
use crate::error::Result;
use crate::state::AppState;

pub const COOKIE_NAME: &str = "passgate_sso";
/// How often a used SSO session's idle end is moved (a write each time, off the decision).
const TOUCH_EVERY: time::Duration = time::Duration::minutes(5);

/// The row id of a cookie's token.
pub fn id_of(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The token in the request's SSO cookie, if any.
pub fn token_in(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE_NAME && !value.is_empty())
        .map(|(_, value)| value.to_string())
}

/// `Set-Cookie` for a new SSO session: for the whole domain, kept by the browser as long as
/// a session may live (the server ends it earlier when idle or rotated).
pub fn set_cookie(config: &Config, sso: &SsoConfig, token: &str) -> Option<HeaderValue> {
    let secure = if config.cookie_secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={token}; Domain={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        sso.cookie_domain,
        config.session_max_lifetime.whole_seconds()
    ))
    .ok()
}

/// `Set-Cookie` that removes the SSO cookie.
pub fn clear_cookie(config: &Config, sso: &SsoConfig) -> Option<HeaderValue> {
    let secure = if config.cookie_secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}=; Domain={}; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}",
        sso.cookie_domain
    ))
    .ok()
}

fn to_primitive(at: OffsetDateTime) -> PrimitiveDateTime {
    let utc = at.to_offset(time::UtcOffset::UTC);
    PrimitiveDateTime::new(utc.date(), utc.time())
}

/// What an SSO session is issued with: the panel session's sign-in, as it stands.
#[derive(Clone, Debug)]
pub struct Issue {
    pub user_id: i32,
    pub stamp: String,
    pub signed_in_at: OffsetDateTime,
    pub second_factor: bool,
    pub address: String,
    pub browser: String,
}

/// Stores a new SSO session and returns its token — only while `stamp` is still the user's
/// (one statement; a rotation that committed meanwhile wins and nothing is stored: `None`).
pub async fn issue(conn: &impl ConnectionTrait, issue: &Issue) -> Result<Option<String>> {
    let bytes: [u8; 32] = rand::rng().random();
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let now = clock::now();
    let backend = conn.get_database_backend();
    // The user id and stamp are used twice: numbered on PostgreSQL; SQLite numbers `?` in
    // order, so they are given again at the end.
    let (p, check_user, check_stamp): (Vec<String>, String, String) = match backend {
        DbBackend::Postgres => (
            (1..=9).map(|i| format!("${i}")).collect(),
            "$2".into(),
            "$3".into(),
        ),
        _ => (vec!["?".to_string(); 9], "?".into(), "?".into()),
    };
    let sql = format!(
        "INSERT INTO sso_sessions (id, user_id, stamp, signed_in_at, last_seen, expires, \
         second_factor, address, browser) SELECT {} \
         WHERE EXISTS (SELECT 1 FROM users WHERE users.user_id = {check_user} \
         AND users.security_stamp = {check_stamp})",
        p.join(", ")
    );
    let mut values: Vec<sea_orm::Value> = vec![
        id_of(&token).into(),
        issue.user_id.into(),
        issue.stamp.clone().into(),
        to_primitive(issue.signed_in_at).into(),
        now.into(),
        (now + SESSION_IDLE).into(),
        issue.second_factor.into(),
        issue.address.chars().take(64).collect::<String>().into(),
        issue.browser.chars().take(64).collect::<String>().into(),
    ];
    if backend != DbBackend::Postgres {
        values.push(issue.user_id.into());
        values.push(issue.stamp.clone().into());
    }
    let inserted = conn
        .execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok((inserted.rows_affected() > 0).then_some(token))
}

/// Ends the SSO session of `token` (signing out); nothing if it is gone already.
pub async fn end(conn: &impl ConnectionTrait, token: &str) -> Result<()> {
    sso_sessions::Entity::delete_by_id(id_of(token))
        .exec(conn)
        .await?;
    Ok(())
}

/// Deletes the SSO sessions past their idle end or their absolute lifetime (`max_lifetime`
/// after their sign-in), as the periodic clean-up does for panel sessions.
pub async fn prune(conn: &impl ConnectionTrait, max_lifetime: time::Duration) -> Result<u64> {
    use sea_orm::sea_query::Condition;
    use sea_orm::{ColumnTrait, QueryFilter};
    let now = clock::now();
    let gone = sso_sessions::Entity::delete_many()
        .filter(
            Condition::any()
                .add(sso_sessions::Column::Expires.lte(now))
                .add(sso_sessions::Column::SignedInAt.lte(now - max_lifetime)),
        )
        .exec(conn)
        .await?;
    Ok(gone.rows_affected)
}

mod loaded;

pub use loaded::{Loaded, load};

/// Middleware (inside the session layer): after a request that (re)established the panel
/// session (`session::establish` marks it), the browser's SSO session follows — a new one
/// with the same user, stamp, sign-in time and second factor, its cookie set, the browser's
/// previous SSO session ended. Without single sign-on it only clears the mark.
pub async fn follow_sign_in(
    State(state): State<AppState>,
    session: Session,
    ip: ClientIp,
    request: Request,
    next: Next,
) -> Response {
    let previous = token_in(request.headers());
    let browser = crate::auth::browser::summary(
        request
            .headers()
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
    );
    let mut response = next.run(request).await;
    // Only a request that changed its session can have established it (and reading an
    // unchanged one would cost a statement on requests that never touch it).
    if !session.is_modified() {
        return response;
    }
    let due = session
        .remove::<bool>(SSO_DUE_KEY)
        .await
        .ok()
        .flatten()
        .unwrap_or(false);
    let app = session.remove::<String>(SSO_APP_KEY).await.ok().flatten();
    let Some(sso) = state.config.sso.as_ref().filter(|_| due) else {
        return response;
    };
    match issue_for(&state, &session, ip, browser, previous.as_deref(), app).await {
        Ok(Some(token)) => {
            if let Some(cookie) = set_cookie(&state.config, sso, &token) {
                response.headers_mut().append(SET_COOKIE, cookie);
            }
        }
        Ok(None) => {}
        // The panel sign-in stands; the apps will ask for one again.
        Err(err) => {
            let _ = err.public_message();
        }
    }
    response
}

async fn issue_for(
    state: &AppState,
    session: &Session,
    ip: ClientIp,
    browser: String,
    previous: Option<&str>,
    app: Option<String>,
) -> Result<Option<String>> {
    let read = |e| crate::auth::session::session_error(e);
    let (Some(user_id), Some(stamp)) = (
        session.get::<i32>(USER_ID_KEY).await.map_err(read)?,
        session.get::<String>(STAMP_KEY).await.map_err(read)?,
    ) else {
        return Ok(None);
    };
    let signed_in_at = session
        .get::<i64>(SIGNED_IN_AT_KEY)
        .await
        .map_err(read)?
        .and_then(|unix| OffsetDateTime::from_unix_timestamp(unix).ok())
        .unwrap_or_else(OffsetDateTime::now_utc);
    let second_factor = session
        .get::<bool>(SECOND_FACTOR_KEY)
        .await
        .map_err(read)?
        .unwrap_or(false);
    if let Some(previous) = previous {
        end(&state.db, previous).await?;
    }
    let issued = issue(
        &state.db,
        &Issue {
            user_id,
            stamp,
            signed_in_at,
            second_factor,
            address: ip.to_string(),
            browser,
        },
    )
    .await?;
    if issued.is_some()
        && let Some(user) = users::find_by_id(&state.db, user_id).await?
    {
        let detail = match &app {
            Some(app) => format!("app={} second_factor={second_factor}", audit::value(app)),
            None => format!("second_factor={second_factor}"),
        };
        audit::record(
            &state.db,
            &audit::Actor::user(&user, ip.to_string()),
            Some((user.user_id, &user.username)),
            audit::action::SSO_ISSUED,
            detail,
        )
        .await?;
    }
    Ok(issued)
}
