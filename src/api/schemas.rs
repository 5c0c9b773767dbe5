//! The API's JSON shapes as the OpenAPI document describes them: the user row and the
//! permission entry the handlers use, and the other answers' `data`, which the handlers
//! build with `json!` (`tests/it/api_openapi.rs` checks real answers against these).

// The answer shapes after `PermissionEntry` are described, never built.
#![allow(dead_code)]

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::accounts::clock;
use crate::accounts::users::RowStatus;
use crate::entities::users as user_entity;

/// A user as the API shows it: never the hash or the stamp.
#[derive(Serialize, ToSchema)]
pub struct UserRow {
    pub user_id: i32,
    pub username: String,
    #[schema(required = true)]
    pub email: Option<String>,
    pub enabled: bool,
    pub superuser: bool,
    /// The id of the user who manages this one (a `USER_CONFIG` holder).
    #[schema(required = true)]
    pub manager: Option<i32>,
    #[schema(example = "en")]
    pub lang: String,
    #[schema(format = DateTime)]
    pub created: String,
    #[schema(format = DateTime, required = true)]
    pub last_login: Option<String>,
    pub require_password_change: bool,
    /// When the temporary password expires; `null` = never.
    #[schema(format = DateTime, required = true)]
    pub password_expires: Option<String>,
    /// The user must have a second factor (besides the server's `PASSGATE_REQUIRE_MFA`).
    pub require_mfa: bool,
    /// The user has at least one second factor (a TOTP device or a passkey).
    pub mfa_enabled: bool,
    /// When the user's live reset or set-up link expires; `null` = no live link (SPEC §10).
    #[schema(format = DateTime, required = true)]
    pub reset_link_expires: Option<String>,
    /// Password sign-in is refused while the user has a passkey (Crafty's field).
    pub disable_password_auth: bool,
    /// Crafty's preference, stored and returned as given (passgate does not use it).
    #[schema(example = "default", max_length = 255)]
    pub theme: String,
    /// Crafty's preference, stored and returned as given.
    pub hints: bool,
    /// Crafty's preference, stored and returned as given.
    #[schema(max_length = 255)]
    pub server_order: String,
    /// Crafty's preference, stored and returned as given.
    #[schema(
        example = "server,actions,cpuUsage,memUsage,size,players,status",
        max_length = 255
    )]
    pub dashboard_columns: String,
    /// Always empty: passgate has no roles (Crafty clients read the field).
    #[schema(max_items = 0)]
    pub roles: Vec<i32>,
}

impl UserRow {
    /// The row of `u`; `status` is what comes from the user's devices and links.
    pub fn new(u: &user_entity::Model, status: RowStatus) -> Self {
        UserRow {
            user_id: u.user_id,
            username: u.username.clone(),
            email: u.email.clone(),
            enabled: u.enabled,
            superuser: u.superuser,
            manager: u.manager,
            lang: u.lang.clone(),
            created: clock::rfc3339(u.created),
            last_login: u.last_login.map(clock::rfc3339),
            require_password_change: u.require_password_change,
            password_expires: u.password_expires.map(clock::rfc3339),
            require_mfa: u.require_mfa,
            mfa_enabled: status.has_factor,
            reset_link_expires: status.link_expires.map(clock::rfc3339),
            disable_password_auth: u.disable_password_auth,
            theme: u.theme.clone(),
            hints: u.hints,
            server_order: u.server_order.clone(),
            dashboard_columns: u.dashboard_columns.clone(),
            roles: Vec::new(),
        }
    }
}

/// Crafty's permission shape: `{"name":"USER_CONFIG","quantity":-1,"enabled":true}`.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PermissionEntry {
    /// A permission name; passgate knows `USER_CONFIG`.
    #[schema(example = "USER_CONFIG")]
    pub name: String,
    /// For `USER_CONFIG`: how many users the holder may create; -1 = no limit. Ignored
    /// for API keys.
    #[serde(default = "no_cap")]
    #[schema(default = -1, minimum = -1)]
    pub quantity: i32,
    /// An entry with `false` grants nothing.
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub enabled: bool,
}

fn no_cap() -> i32 {
    -1
}

fn yes() -> bool {
    true
}

/// `{"status":"ok","data":…}`: every successful answer of the API.
#[derive(ToSchema)]
pub struct Envelope<T> {
    #[schema(inline)]
    status: OkStatus,
    data: T,
}

/// The constant `"ok"`.
#[derive(ToSchema)]
pub enum OkStatus {
    #[serde(rename = "ok")]
    Ok,
}

/// `data` of a call that answers with nothing more than success: `{}`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

/// `data` of `POST /auth/login`.
#[derive(ToSchema)]
pub struct LoginData {
    /// A login token for `Authorization: Bearer …`. It ends when the user's password
    /// changes, a reset happens, the account is disabled or `invalidate_tokens` is called.
    token: String,
    /// The user's id, as a string (as in Crafty).
    #[schema(example = "3")]
    user_id: String,
    /// Where the panel sends the user next: the change-password page while a change is
    /// required.
    #[schema(
        pattern = "^/panel/(dashboard|change_password)$",
        example = "/panel/dashboard"
    )]
    page: String,
    /// While set, the token reaches only `PATCH /users/@me` (to set the password) and
    /// `POST /auth/invalidate_tokens`.
    require_password_change: bool,
    /// Present when a recovery code was used: that it will not work again.
    #[schema(required = false)]
    warning: String,
    /// Present when a recovery code was used: how many unused ones are left.
    #[schema(required = false, minimum = 0)]
    recovery_codes_left: u64,
}

/// `data` of `POST /users/{id}/totp`.
#[derive(ToSchema)]
pub struct StartedEnrolment {
    otp: PendingTotp,
}

/// A pending TOTP device; its secret is shown here once.
#[derive(ToSchema)]
pub struct PendingTotp {
    /// The enrolment's id, for `…/totp/{totp_id}/verify`.
    #[schema(example = "4")]
    id: String,
    /// The secret, base32 (RFC 4648, no padding).
    #[schema(format = Password, pattern = "^[A-Z2-7]+$")]
    totp_secret: String,
    /// The `otpauth://totp/…` URI for a QR code.
    #[schema(format = Password, pattern = "^otpauth://totp/")]
    otpauth_uri: String,
    username: String,
    /// When the enrolment started (it expires 10 minutes later).
    #[schema(format = DateTime)]
    iat: String,
}

/// `data` of verify and renew: the new recovery codes (`XXXX-XXXX-XXXX-XXXX`), shown once;
/// empty when an enrolment adds a device to a user who already has codes.
#[derive(ToSchema)]
pub struct BackupCodes {
    #[schema(example = json!(["ABCD-EFGH-JKLM-N234"]))]
    backup_codes: Vec<String>,
    /// The new device's id (verify only).
    #[schema(required = false, example = "3")]
    id: String,
    /// A fresh login token, when a caller signed in by login token or session changed their
    /// own factors (the change ended every other token).
    #[schema(required = false)]
    token: String,
}

/// `data` of `DELETE /users/{id}/totp/{totp_id}`: `{}`, or a fresh login token when callers
/// removed their own device.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenOnly {
    #[schema(required = false)]
    token: String,
}

/// One TOTP device of a user (never its secret).
#[derive(ToSchema)]
pub struct FactorRow {
    #[schema(example = "3")]
    id: String,
    name: String,
    #[schema(format = DateTime)]
    created: String,
    #[schema(format = DateTime, required = true)]
    last_used: Option<String>,
}

/// A TOTP code: six digits as a string, or as an integer (Crafty's schema). Written by
/// hand: the derive cannot put a pattern on an untagged variant.
pub struct TotpCode;

impl utoipa::PartialSchema for TotpCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[0-9]{6}$"))
                    .examples(["123456"]),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(0))
                    .maximum(Some(999_999)),
            )
            .into()
    }
}

impl ToSchema for TotpCode {}

/// `data` of `GET /users/{id}`: the user and their permissions.
#[derive(ToSchema)]
pub struct UserDetail {
    #[serde(flatten)]
    user: UserRow,
    permissions: Vec<PermissionEntry>,
}

/// `data` of `PATCH /users/{id}`: the user as stored now.
#[derive(ToSchema)]
pub struct UpdatedUser {
    #[serde(flatten)]
    user: UserRow,
    /// A fresh login token, present only when callers (not by API key) changed their own
    /// password, since the change ended every other token.
    #[schema(required = false)]
    token: String,
}

/// `data` of `POST /users` (201).
#[derive(ToSchema)]
pub struct CreatedUser {
    /// The new user's id, as a string (as in Crafty).
    #[schema(example = "7")]
    user_id: String,
    /// The generated password, present only when the body had neither `password` nor
    /// `setup_link`; shown once.
    #[schema(required = false, format = Password)]
    password: String,
    /// With `setup_link`: the single-use link, shown this once.
    #[schema(required = false)]
    url: String,
    /// With `setup_link`: when the link stops working (RFC 3339, UTC).
    #[schema(required = false, format = DateTime)]
    expires: String,
}

/// `data` of `POST /users/{id}/reset-password`.
#[derive(ToSchema)]
pub struct ResetData {
    /// The target's id, as a string (as in Crafty).
    #[schema(example = "7")]
    user_id: String,
    require_password_change: bool,
    /// When the temporary password expires (RFC 3339, UTC); `null` = never.
    #[schema(format = DateTime, required = true, example = "2026-11-27T10:00:00Z")]
    password_expires: Option<String>,
    /// The generated password, present only when the body had no `password`; shown once.
    #[schema(required = false, format = Password)]
    password: String,
}

/// `data` of `GET /users`: the rows, or with `?ids=true` (as in Crafty) only the ids.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum UserList {
    Rows(Vec<UserRow>),
    Ids(Vec<i32>),
}

/// `data` of `GET /api/v2` (Crafty's API index).
#[derive(ToSchema)]
pub struct ApiIndex {
    /// passgate's version.
    #[schema(example = "0.1.0")]
    version: String,
    message: String,
}

/// `data` of `GET /users/{id}/public`: Crafty's public attributes.
#[derive(ToSchema)]
pub struct PublicUser {
    pub user_id: i32,
    #[schema(format = DateTime)]
    pub created: String,
    pub username: String,
    pub enabled: bool,
    pub superuser: bool,
    #[schema(example = "en")]
    pub lang: String,
    /// Always empty: passgate has no roles.
    #[schema(max_items = 0)]
    pub roles: Vec<i32>,
}

/// Crafty's three crafty permissions, by name.
#[derive(ToSchema)]
#[allow(non_snake_case)] // the field names are the JSON keys, Crafty's permission names
pub struct CraftyCounts {
    SERVER_CREATION: i64,
    USER_CONFIG: i64,
    ROLES_CONFIG: i64,
}

/// `data` of `GET /users/{id}/permissions`, in Crafty's shape.
#[derive(ToSchema)]
pub struct CraftyPermissions {
    /// Crafty's crafty-permission mask: `SERVER_CREATION`, `USER_CONFIG`, `ROLES_CONFIG`, one
    /// character each; passgate has only `USER_CONFIG`.
    #[schema(pattern = "^0[01]0$", example = "010")]
    permissions: String,
    /// Users the user manages now (`USER_CONFIG`); passgate has no servers or roles (0).
    counters: CraftyCounts,
    /// The `USER_CONFIG` quantity (-1 = no cap; 0 without the permission); 0 for the others.
    limits: CraftyCounts,
}

/// `data` of Crafty's `PATCH /users/{id}/key`.
#[derive(ToSchema)]
pub struct CraftyCreatedKey {
    /// The key's id (Crafty answers a number here).
    #[schema(example = 12)]
    id: i32,
    /// The key for `Authorization: Bearer …`; shown in this answer and never again (Crafty
    /// would answer only the id and hand out the secret later, which passgate cannot).
    #[schema(pattern = "^pgk_", example = "pgk_12_…")]
    token: String,
}

/// `data` of `POST /users/{id}/reset-link`.
#[derive(ToSchema)]
pub struct ResetLinkData {
    /// The single-use link, shown this once: `<PASSGATE_PUBLIC_URL>/reset/<token>`.
    #[schema(example = "https://passgate.example.org/reset/3q2-7wXh…")]
    url: String,
    /// When the link stops working (RFC 3339, UTC).
    #[schema(format = DateTime, example = "2026-12-04T10:00:00Z")]
    expires: String,
}

/// One API key of a user, as `GET /users/{id}/key` lists it (never the secret).
#[derive(ToSchema)]
pub struct KeyRow {
    #[schema(example = "12")]
    key_id: String,
    /// The same id as a number, under Crafty's name.
    #[schema(example = 12)]
    id: i32,
    name: String,
    /// Whether the key may use every right of its owner, including superuser rights.
    full_access: bool,
    /// The permissions the key may use (each listed with `quantity` -1).
    permissions: Vec<PermissionEntry>,
    /// The same as Crafty's mask (`SERVER_CREATION`, `USER_CONFIG`, `ROLES_CONFIG`).
    #[schema(pattern = "^0[01]0$", example = "010")]
    crafty_permissions: String,
    /// Crafty's server-permission mask: always zeros, passgate has no servers.
    #[schema(pattern = "^0{8}$", example = "00000000")]
    server_permissions: String,
    #[schema(format = DateTime)]
    created: String,
    #[schema(format = DateTime, required = true)]
    last_used: Option<String>,
}

/// `data` of `POST /users/{id}/key` (201).
#[derive(ToSchema)]
pub struct CreatedKey {
    #[schema(example = "12")]
    key_id: String,
    /// The key for `Authorization: Bearer …`; shown in this answer and never again.
    #[schema(pattern = "^pgk_", example = "pgk_12_…")]
    token: String,
}

/// `?ids=true`: only the ids (Crafty's parameter of `GET /users`).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IdsOnly {
    /// `true` answers the visible users' ids only; any other value, the rows.
    #[param(example = "true")]
    ids: Option<String>,
}

/// `{id}`: whose resource.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserId {
    /// A numeric user id, or `@me` for the caller. Anything else names no user
    /// (404 `USER_NOT_FOUND`).
    #[param(pattern = "^(@me|[0-9]+)$", example = "@me")]
    id: String,
}

/// `{id}` and `{totp_id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserTotpId {
    /// A numeric user id, or `@me` for the caller. Anything else names no user
    /// (404 `USER_NOT_FOUND`).
    #[param(pattern = "^(@me|[0-9]+)$", example = "@me")]
    id: String,
    /// The enrolment's id (verify) or the device's id (delete). Another user's is 404
    /// `NOT_FOUND`.
    #[param(pattern = "^[0-9]+$", example = "3")]
    totp_id: String,
}

/// `{id}` and `{passkey_id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPasskeyId {
    /// A numeric user id, or `@me` for the caller. Anything else names no user
    /// (404 `USER_NOT_FOUND`).
    #[param(pattern = "^(@me|[0-9]+)$", example = "@me")]
    id: String,
    /// The registration's `challenge_id` (verify) or the passkey's id (delete). Another
    /// user's is refused.
    #[param(example = "3")]
    passkey_id: String,
}

/// `{id}` and `{key_id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserKeyId {
    /// A numeric user id, or `@me` for the caller. Anything else names no user
    /// (404 `USER_NOT_FOUND`).
    #[param(pattern = "^(@me|[0-9]+)$", example = "@me")]
    id: String,
    /// The key's id (`key_id` in the key list). A key of another user is 404 `NOT_FOUND`.
    #[param(pattern = "^[0-9]+$", example = "12")]
    key_id: String,
}
