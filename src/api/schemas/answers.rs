//! The `data` of the other answers, which the handlers build with `json!`: described for the
//! OpenAPI document, never built (`tests/it/api_openapi.rs` checks real answers against them).
#![allow(dead_code)]

use utoipa::{IntoParams, ToSchema};

use super::{PermissionEntry, RoleRow, UserFields, UserRow};

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

/// `data` of `GET /users/{id}`: the user, their roles (as objects, as Crafty answers them)
/// and their permissions.
#[derive(ToSchema)]
pub struct UserDetail {
    #[serde(flatten)]
    user: UserFields,
    roles: Vec<RoleRow>,
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

/// `data` of `GET /roles`: the roles, or with `?ids=true` (as in Crafty) only the ids.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum RoleList {
    Rows(Vec<RoleRow>),
    Ids(Vec<i32>),
}

/// `data` of `POST /roles` (200, as in Crafty).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatedRole {
    /// The new role's id (a number, as Crafty answers it).
    #[schema(example = 3)]
    role_id: i32,
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
    /// The user's roles, as objects (as Crafty answers them).
    pub roles: Vec<RoleRow>,
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
    /// character each; passgate has no `SERVER_CREATION`.
    #[schema(pattern = "^0[01][01]$", example = "010")]
    permissions: String,
    /// Users (`USER_CONFIG`) and roles (`ROLES_CONFIG`) the user manages now; passgate has
    /// no servers (0).
    counters: CraftyCounts,
    /// The `USER_CONFIG` and `ROLES_CONFIG` quantities (-1 = no cap; 0 without the
    /// permission); 0 for `SERVER_CREATION`.
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
