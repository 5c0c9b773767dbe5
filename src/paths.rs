//! Every path of the app, in one leaf module: the routers register these templates and the
//! pages link with the builders beside them, so a link and its route cannot drift apart (a
//! test below fills each template the way its builder does). The API's templates are also
//! the `path` of each handler's OpenAPI operation.

pub const LOGIN: &str = "/login";
pub const LOGOUT: &str = "/logout";
pub const DASHBOARD: &str = "/panel/dashboard";
pub const CHANGE_PASSWORD: &str = "/panel/change_password";

/// Where a signed-in user belongs: the forced change while one is pending, else the
/// dashboard (the page the API's sign-ins name, too).
pub fn home(require_password_change: bool) -> &'static str {
    if require_password_change {
        CHANGE_PASSWORD
    } else {
        DASHBOARD
    }
}
pub const USERS: &str = "/panel/panel_config";
pub const NEW_USER: &str = "/panel/users/new";
pub const EDIT_USER: &str = "/panel/edit_user";
pub const DELETE_USER: &str = "/panel/delete_user";
pub const AUDIT: &str = "/panel/audit";
pub const CHANGE_PASSWORD_DIALOG: &str = "/panel/change_password/dialog";
pub const SECURITY: &str = "/panel/security";
/// One's own sessions (SPEC §11), and ending one or all others.
pub const SESSIONS: &str = "/panel/sessions";
pub const SESSIONS_END: &str = "/panel/sessions/end";
pub const SESSIONS_END_OTHERS: &str = "/panel/sessions/end_others";
/// Ends one of one's OpenID Connect app sign-ins (SPEC §16).
pub const SESSIONS_END_APP: &str = "/panel/sessions/end_app";
/// Authenticator apps (SPEC §9).
pub const TOTP_SETUP: &str = "/panel/security/totp/setup";
pub const TOTP_START: &str = "/panel/security/totp";
pub const TOTP_RENEW: &str = "/panel/security/totp/renew";
pub const TOTP_VERIFY_ROUTE: &str = "/panel/security/totp/{id}/verify";
pub const RESULT_ROUTE: &str = "/panel/result/{id}";

pub fn totp_verify(enrolment_id: i32) -> String {
    format!("/panel/security/totp/{enrolment_id}/verify")
}

pub const TOTP_REMOVE_ROUTE: &str = "/panel/security/totp/{id}/remove";
pub fn totp_remove(device_id: i32) -> String {
    format!("/panel/security/totp/{device_id}/remove")
}

pub const TOTP_RENAME_ROUTE: &str = "/panel/security/totp/{id}/rename";
pub fn totp_rename(device_id: i32) -> String {
    format!("/panel/security/totp/{device_id}/rename")
}
/// The code page of a sign-in (second factor pending).
pub const SECOND_FACTOR: &str = "/login/second_factor";
pub const SECOND_FACTOR_PASSKEY_OPTIONS: &str = "/login/second_factor/passkey/options";
pub const SECOND_FACTOR_PASSKEY: &str = "/login/second_factor/passkey";
/// Passkeys (JSON, for `assets/passkey.js`).
pub const PASSKEY_SIGN_IN_OPTIONS: &str = "/login/passkey/options";
pub const PASSKEY_SIGN_IN: &str = "/login/passkey";
pub const PASSKEY_REGISTER_OPTIONS: &str = "/panel/security/passkeys/options";
pub const PASSKEY_REGISTER: &str = "/panel/security/passkeys";
pub const PASSKEY_PASSWORD_SIGN_IN: &str = "/panel/security/password_sign_in";

pub const PASSKEY_REMOVE_ROUTE: &str = "/panel/security/passkeys/{id}/remove";
/// Removing one of one's passkeys (a form with the current password).
pub fn passkey_remove(passkey_id: i32) -> String {
    format!("/panel/security/passkeys/{passkey_id}/remove")
}

pub const RESET_ROUTE: &str = "/panel/users/{id}/reset_password";
/// The reset dialog of one user (a page of its own without JavaScript).
pub fn reset(user_id: i32) -> String {
    format!("/panel/users/{user_id}/reset_password")
}

pub const RESET_LINK_ROUTE: &str = "/panel/users/{id}/reset_link";
/// The reset dialog's link choice: GET shows it, POST makes a link (SPEC §10).
pub fn reset_link(user_id: i32) -> String {
    format!("/panel/users/{user_id}/reset_link")
}

pub const RESET_LINK_REVOKE_ROUTE: &str = "/panel/users/{id}/reset_link/revoke";
/// Revokes a user's pending reset link.
pub fn reset_link_revoke(user_id: i32) -> String {
    format!("/panel/users/{user_id}/reset_link/revoke")
}

/// A one-time result (shown once, see `web::one_time`).
pub fn result(id: &str) -> String {
    format!("/panel/result/{id}")
}

/// Bulk actions on the users selected in the table (SPEC §11).
pub const BULK: &str = "/panel/users/bulk";
/// Ends every session and login token of a user (the edit page's button).
pub fn end_sessions(user_id: i32) -> String {
    format!("{END_SESSIONS}?id={user_id}")
}
pub const END_SESSIONS: &str = "/panel/users/end_sessions";

/// The users table narrowed to the users in a state (SPEC §18, `?status=`).
pub fn users_in_status(status: &str) -> String {
    format!("{USERS}?status={}", url_encode(status))
}

pub fn edit(user_id: i32) -> String {
    format!("{EDIT_USER}?id={user_id}")
}

/// Roles (SPEC §14): the list, a new role, a role's page (settings and members), its
/// members' form and its delete confirmation.
pub const ROLES: &str = "/panel/roles";
pub const NEW_ROLE: &str = "/panel/roles/new";
pub const ROLE_ROUTE: &str = "/panel/roles/{id}";
pub const ROLE_MEMBERS_ROUTE: &str = "/panel/roles/{id}/members";
pub const ROLE_DELETE_ROUTE: &str = "/panel/roles/{id}/delete";

pub fn role(role_id: i32) -> String {
    format!("/panel/roles/{role_id}")
}

pub fn role_members(role_id: i32) -> String {
    format!("/panel/roles/{role_id}/members")
}

pub fn role_delete(role_id: i32) -> String {
    format!("/panel/roles/{role_id}/delete")
}

/// The users table narrowed to a role's members.
pub fn users_in_role(role_id: i32) -> String {
    format!("{USERS}?role={role_id}")
}

/// The public page of a reset or set-up link: `/reset/{token}` (SPEC §10).
pub const RESET_PAGE_PREFIX: &str = "/reset/";
pub const RESET_PAGE_ROUTE: &str = "/reset/{token}";

pub fn reset_page(token: &str) -> String {
    format!("{RESET_PAGE_PREFIX}{token}")
}

/// Single sign-on (SPEC §15): the forward-auth endpoints the proxies ask, the page of a
/// signed-in user an application refuses, and the applications in the panel.
pub const FORWARD_AUTH: &str = "/api/authz/forward-auth";
pub const AUTH_REQUEST: &str = "/api/authz/auth-request";
pub const DENIED: &str = "/denied";
pub const APPS: &str = "/panel/apps";
pub const NEW_APP: &str = "/panel/apps/new";
pub const EDIT_APP_ROUTE: &str = "/panel/apps/{id}";
pub const DELETE_APP_ROUTE: &str = "/panel/apps/{id}/delete";
/// A new client secret for an application's OpenID Connect client (SPEC §16).
pub const APP_SECRET_ROUTE: &str = "/panel/apps/{id}/secret";

pub fn edit_app(app_id: i32) -> String {
    format!("/panel/apps/{app_id}")
}

pub fn delete_app(app_id: i32) -> String {
    format!("/panel/apps/{app_id}/delete")
}

pub fn app_secret(app_id: i32) -> String {
    format!("/panel/apps/{app_id}/secret")
}

/// `path` with the walk's destination (`rd`) carried in its query, if there is one.
pub fn with_rd(path: &str, rd: Option<&str>) -> String {
    match rd {
        None => path.to_string(),
        Some(rd) => {
            let separator = if path.contains('?') { '&' } else { '?' };
            let encoded: String = url_encode(rd);
            format!("{path}{separator}rd={encoded}")
        }
    }
}

/// Percent-encoding of a query value (everything but unreserved characters).
pub fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3 / 2);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Static assets, under a content-hashed segment.
pub const ASSETS_ROUTE: &str = "/assets/{version}/{name}";
pub const HEALTHZ: &str = "/healthz";
/// The Prometheus exposition, on the metrics listener only (`PASSGATE_METRICS_BIND`).
pub const METRICS: &str = "/metrics";

/// The JSON API (`/api/v2`, Crafty Controller 4's paths).
pub mod api {
    pub const ROOT: &str = "/api/v2";
    pub const ANY: &str = "/api/v2/{*rest}";
    pub const OPENAPI: &str = "/api/v2/openapi.json";
    pub const LOGIN: &str = "/api/v2/auth/login";
    pub const INVALIDATE_TOKENS: &str = "/api/v2/auth/invalidate_tokens";
    pub const PASSKEY_LOGIN_OPTIONS: &str = "/api/v2/auth/passkey/login/options";
    pub const PASSKEY_LOGIN_VERIFY: &str = "/api/v2/auth/passkey/login/verify";
    pub const USERS: &str = "/api/v2/users";
    pub const USER: &str = "/api/v2/users/{id}";
    pub const USER_PUBLIC: &str = "/api/v2/users/{id}/public";
    pub const USER_PICTURE: &str = "/api/v2/users/{id}/pfp";
    pub const USER_PERMISSIONS: &str = "/api/v2/users/{id}/permissions";
    pub const RESET_PASSWORD: &str = "/api/v2/users/{id}/reset-password";
    pub const RESET_LINK: &str = "/api/v2/users/{id}/reset-link";
    pub const SESSIONS: &str = "/api/v2/users/{id}/sessions";
    pub const KEYS: &str = "/api/v2/users/{id}/key";
    pub const KEY: &str = "/api/v2/users/{id}/key/{key_id}";
    pub const TOTP: &str = "/api/v2/users/{id}/totp";
    pub const TOTP_DEVICE: &str = "/api/v2/users/{id}/totp/{totp_id}";
    pub const TOTP_VERIFY: &str = "/api/v2/users/{id}/totp/{totp_id}/verify";
    pub const RECOVERY_RENEW: &str = "/api/v2/users/{id}/totp/recovery/renew";
    pub const PASSKEYS: &str = "/api/v2/users/{id}/passkeys";
    pub const PASSKEY: &str = "/api/v2/users/{id}/passkeys/{passkey_id}";
    /// Crafty's path; the segment is the registration ceremony's id (`challenge_id`).
    pub const PASSKEY_VERIFY: &str = "/api/v2/users/{id}/passkeys/{passkey_id}/verify";
    pub const APPS: &str = "/api/v2/apps";
    pub const APP: &str = "/api/v2/apps/{id}";
    /// Roles (SPEC §14).
    pub const ROLES: &str = "/api/v2/roles";
    pub const ROLE: &str = "/api/v2/roles/{id}";
    pub const ROLE_USERS: &str = "/api/v2/roles/{id}/users";
    pub const ROLE_SERVERS: &str = "/api/v2/roles/{id}/servers";
    pub const APP_SECRET: &str = "/api/v2/apps/{id}/secret";
}

/// The OpenID Connect provider (SPEC §16).
pub mod oidc {
    pub const DISCOVERY: &str = "/.well-known/openid-configuration";
    pub const JWKS: &str = "/oauth2/jwks";
    pub const AUTHORIZE: &str = "/oauth2/authorize";
    pub const TOKEN: &str = "/oauth2/token";
    pub const USERINFO: &str = "/oauth2/userinfo";
    pub const REVOKE: &str = "/oauth2/revoke";
    pub const INTROSPECT: &str = "/oauth2/introspect";
    pub const LOGOUT: &str = "/oauth2/logout";
    /// The sign-out confirmation's form (a page of passgate, CSRF-protected).
    pub const LOGOUT_CONFIRM: &str = "/oauth2/logout/confirm";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_builder_fills_the_template_its_route_is_registered_with() {
        let id = |template: &str| template.replace("{id}", "7");
        assert_eq!(reset(7), id(RESET_ROUTE));
        assert_eq!(reset_link(7), id(RESET_LINK_ROUTE));
        assert_eq!(reset_link_revoke(7), id(RESET_LINK_REVOKE_ROUTE));
        assert_eq!(totp_verify(7), id(TOTP_VERIFY_ROUTE));
        assert_eq!(totp_remove(7), id(TOTP_REMOVE_ROUTE));
        assert_eq!(totp_rename(7), id(TOTP_RENAME_ROUTE));
        assert_eq!(passkey_remove(7), id(PASSKEY_REMOVE_ROUTE));
        assert_eq!(result("abc"), RESULT_ROUTE.replace("{id}", "abc"));
        assert_eq!(
            reset_page("t0k"),
            RESET_PAGE_ROUTE.replace("{token}", "t0k")
        );
        assert_eq!(edit(7), format!("{EDIT_USER}?id=7"));
        assert_eq!(role(7), id(ROLE_ROUTE));
        assert_eq!(role_members(7), id(ROLE_MEMBERS_ROUTE));
        assert_eq!(role_delete(7), id(ROLE_DELETE_ROUTE));
        assert_eq!(users_in_role(7), format!("{USERS}?role=7"));
        assert_eq!(end_sessions(7), format!("{END_SESSIONS}?id=7"));
        assert_eq!(edit_app(7), id(EDIT_APP_ROUTE));
        assert_eq!(delete_app(7), id(DELETE_APP_ROUTE));
        assert_eq!(app_secret(7), id(APP_SECRET_ROUTE));
        assert_eq!(users_in_status("no_mfa"), format!("{USERS}?status=no_mfa"));
    }

    #[test]
    fn rd_is_carried_encoded() {
        assert_eq!(with_rd(LOGIN, None), "/login");
        assert_eq!(
            with_rd(LOGIN, Some("https://wiki.example.org/a b?x=1&y=2#z")),
            "/login?rd=https%3A%2F%2Fwiki.example.org%2Fa%20b%3Fx%3D1%26y%3D2%23z"
        );
        assert_eq!(with_rd("/login?x=1", Some("é")), "/login?x=1&rd=%C3%A9");
    }
}
