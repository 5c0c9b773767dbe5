//! The *second factor pending* state of a web sign-in (SPEC §9): the password was right and
//! the user has a second factor. Nothing is signed in yet, so no session row exists; the
//! browser holds a small signed cookie (`passgate_mfa`: the user id, when it ends — five
//! minutes after the password —, and a tag of the user's stamp) that lets it reach the code
//! page and nothing else. It carries no secret and grants nothing without the code; a reset
//! or any credential change in between (a new stamp) voids it, on every instance.

use axum::http::{HeaderMap, HeaderValue, header};
use subtle::ConstantTimeEq;

use crate::auth::tokens::SigningKey;
use crate::entities::users as user_entity;

pub const COOKIE: &str = "passgate_mfa";
const PURPOSE: &str = "second-factor-pending";
/// How long the code page waits after the password.
pub const MINUTES: i64 = 5;

/// A pending second step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pending {
    pub user_id: i32,
}

fn stamp_tag(key: &SigningKey, stamp: &str) -> String {
    key.sign_for("second-factor-stamp", stamp)[..16].to_string()
}

fn signed(key: &SigningKey, body: &str) -> String {
    key.sign_for(PURPOSE, body)
}

/// `Set-Cookie` starting the pending state for `user`.
pub fn start(key: &SigningKey, user: &user_entity::Model, secure: bool) -> Option<HeaderValue> {
    let expires = time::OffsetDateTime::now_utc().unix_timestamp() + MINUTES * 60;
    let body = format!(
        "{}.{expires}.{}",
        user.user_id,
        stamp_tag(key, &user.security_stamp)
    );
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={body}.{}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        signed(key, &body),
        MINUTES * 60
    ))
    .ok()
}

/// `Set-Cookie` that ends the pending state.
pub fn clear() -> HeaderValue {
    HeaderValue::from_static("passgate_mfa=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// The pending sign-in of the request, if its cookie is genuine and not past its time; the
/// caller checks it against the user's current stamp with [`still_valid`].
pub fn read(key: &SigningKey, headers: &HeaderMap) -> Option<(Pending, String)> {
    let value = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())?;
    let (body, signature) = value.rsplit_once('.')?;
    if !bool::from(signed(key, body).as_bytes().ct_eq(signature.as_bytes())) {
        return None;
    }
    let mut parts = body.splitn(3, '.');
    let user_id: i32 = parts.next()?.parse().ok()?;
    let expires: i64 = parts.next()?.parse().ok()?;
    let tag = parts.next()?.to_string();
    (time::OffsetDateTime::now_utc().unix_timestamp() < expires)
        .then_some((Pending { user_id }, tag))
}

/// Whether the pending state still belongs to `user` as they are now (same stamp, enabled).
pub fn still_valid(key: &SigningKey, tag: &str, user: &user_entity::Model) -> bool {
    user.enabled
        && bool::from(
            stamp_tag(key, &user.security_stamp)
                .as_bytes()
                .ct_eq(tag.as_bytes()),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(set_cookie: &HeaderValue) -> HeaderMap {
        let pair = set_cookie
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(&pair).unwrap());
        headers
    }

    #[test]
    fn a_pending_cookie_is_read_back_only_untampered_and_with_the_same_stamp() {
        let key = SigningKey::from_bytes(vec![7; 32]);
        let now = crate::accounts::clock::now();
        let mut user = user_entity::Model {
            user_id: 1,
            username: "alice".into(),
            password: String::new(),
            email: None,
            enabled: true,
            superuser: false,
            manager: None,
            lang: "en".into(),
            created: now,
            last_update: now,
            last_login: None,
            last_ip: String::new(),
            security_stamp: "stamp".into(),
            require_password_change: false,
            password_expires: None,
            require_mfa: false,
            disable_password_auth: false,
            passkey_handle: None,
            theme: "default".into(),
            hints: true,
            server_order: String::new(),
            dashboard_columns: String::new(),
        };
        let cookie = start(&key, &user, false).unwrap();
        let (pending, tag) = read(&key, &headers(&cookie)).expect("genuine");
        assert_eq!(pending.user_id, user.user_id);
        assert!(still_valid(&key, &tag, &user));
        // Another key, or a changed id, is not accepted.
        assert!(read(&SigningKey::from_bytes(vec![8; 32]), &headers(&cookie)).is_none());
        let forged =
            cookie
                .to_str()
                .unwrap()
                .replacen(&format!("{COOKIE}=1."), &format!("{COOKIE}=2."), 1);
        assert!(read(&key, &headers(&HeaderValue::from_str(&forged).unwrap())).is_none());
        // A new stamp (a reset, a password change) voids it.
        user.security_stamp = "rotated".into();
        assert!(!still_valid(&key, &tag, &user));
    }
}
