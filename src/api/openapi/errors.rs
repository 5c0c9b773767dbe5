//! The error answers each route declares in the document, grouped by status; their statuses
//! and codes come from [`Error`] itself, so they cannot differ from what the route sends.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use utoipa::IntoResponses;
use utoipa::openapi::{self, RefOr};

use crate::accounts::password::PolicyViolation;
use crate::error::Error;

/// The error answers of one route, grouped by status. Statuses and codes come from
/// `Error` itself, so they cannot differ from what the route sends.
fn error_responses(errors: Vec<Error>) -> BTreeMap<String, RefOr<openapi::Response>> {
    let mut by_status: BTreeMap<u16, Vec<(&'static str, Vec<String>)>> = BTreeMap::new();
    for error in &errors {
        let entry = by_status.entry(error.status().as_u16()).or_default();
        match entry.iter_mut().find(|(code, _)| *code == error.code()) {
            Some((_, messages)) => messages.push(error.to_string()),
            None => entry.push((error.code(), vec![error.to_string()])),
        }
    }
    by_status
        .into_iter()
        .map(|(status, codes)| (status.to_string(), RefOr::T(response(status, &codes))))
        .collect()
}

fn response(status: u16, codes: &[(&'static str, Vec<String>)]) -> openapi::Response {
    let listed: Vec<String> = codes
        .iter()
        .map(|(code, messages)| format!("`{code}` ({})", messages.join(" / ")))
        .collect();
    let mut description = listed.join("; ");
    let mut headers = json!({});
    if status == 401 {
        description.push_str(". `ACCESS_DENIED` comes with `WWW-Authenticate: Bearer`");
        headers["WWW-Authenticate"] = json!({"schema": {"type": "string"}});
    }
    if status == 429 || status == 503 {
        headers["Retry-After"] = json!({
            "description": "Seconds until a new attempt may succeed",
            "schema": {"type": "integer", "minimum": 1},
        });
    }
    let examples: serde_json::Map<String, Value> = codes
        .iter()
        .map(|(code, messages)| {
            let value = json!({"status": "error", "error": code, "error_data": messages[0]});
            (code.to_string(), json!({ "value": value }))
        })
        .collect();
    let schema = json!({
        "type": "object",
        "required": ["status", "error", "error_data"],
        "additionalProperties": false,
        "properties": {
            "status": {"type": "string", "enum": ["error"]},
            "error": {"type": "string", "enum": codes.iter().map(|(c, _)| *c).collect::<Vec<_>>()},
            "error_data": {"type": "string", "description": "A message for people; may change"},
        },
    });
    let value = json!({
        "description": description,
        "headers": headers,
        "content": {"application/json": {"schema": schema, "examples": examples}},
    });
    serde_json::from_value(value).expect("a valid OpenAPI response object")
}

/// Failures any route can have.
fn server() -> Vec<Error> {
    vec![
        Error::Internal(anyhow::anyhow!("a failure")),
        Error::DatabaseUnavailable,
    ]
}

/// Failures of every route behind authentication.
fn authenticated() -> Vec<Error> {
    let mut errors = vec![Error::Unauthenticated, Error::TempPasswordExpired];
    errors.extend(server());
    errors
}

/// Failures of reading a JSON body.
fn body() -> Vec<Error> {
    vec![
        Error::InvalidJson,
        Error::InvalidJsonSchema(
            "the body does not match the schema (type, length, range, missing or unknown field)"
                .into(),
        ),
        Error::PayloadTooLarge,
    ]
}

/// A session caller's POST, PATCH or DELETE without the CSRF header.
fn unsafe_method() -> Vec<Error> {
    vec![Error::CsrfRejected]
}

fn policy() -> Error {
    Error::PasswordPolicy(PolicyViolation::TooWeak)
}

/// Declares, per route, the error answers the route can give (`responses(…)` of its
/// `#[utoipa::path]`).
macro_rules! route_errors {
    ($($(#[$doc:meta])* $name:ident => [$($group:expr),* $(,)?];)*) => {$(
        $(#[$doc])*
        pub struct $name;

        impl IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<openapi::Response>> {
                #[allow(unused_imports)]
                use crate::error::Error::*;
                error_responses([$($group),*].into_iter().flatten().collect())
            }
        }
    )*};
}

route_errors! {
    /// POST /auth/login
    LoginErrors => [
        body(),
        vec![IncorrectCredentials, TempPasswordExpired, AccountDisabled, MfaRequired, IncorrectMfa, PasswordAuthDisabled, MfaUnavailable],
        server(),
        vec![TooManyAttempts { retry_after_seconds: 60 }],
    ];
    /// POST /auth/invalidate_tokens: allowed through the gate.
    InvalidateErrors => [authenticated(), unsafe_method()];
    /// GET /users
    ListUsersErrors => [authenticated(), vec![PasswordChangeRequired, MfaSetupRequired]];
    /// POST /users
    CreateUserErrors => [
        authenticated(), body(),
        vec![UserExists, policy(), UnknownRole(99), RolesNotAssignable { creating: true }],
        vec![AccessDenied, PasswordChangeRequired, MfaSetupRequired],
        unsafe_method(),
    ];
    /// GET /users/{id}
    ShowUserErrors => [
        authenticated(),
        vec![AccessDenied, PasswordChangeRequired, MfaSetupRequired, UserNotFound],
    ];
    /// PATCH /users/{id}
    UpdateUserErrors => [
        authenticated(), body(),
        vec![UserExists, policy(), IncorrectCurrentPassword],
        vec![UnknownRole(99), RolesNotAssignable { creating: false }],
        vec![AccessDenied, LastSuperuser, PasswordChangeRequired, MfaSetupRequired, UserNotFound],
        unsafe_method(),
    ];
    /// DELETE /users/{id}
    DeleteUserErrors => [
        authenticated(),
        vec![AccessDenied, LastSuperuser, PasswordChangeRequired, MfaSetupRequired, UserNotFound],
        unsafe_method(),
    ];
    /// POST /users/{id}/reset-password
    ResetErrors => [
        authenticated(), body(),
        vec![policy(), SelfResetNotAllowed, AccessDenied, PasswordChangeRequired, MfaSetupRequired, UserNotFound],
        unsafe_method(),
    ];
    /// POST /users/{id}/reset-link
    ResetLinkErrors => [
        authenticated(), body(),
        vec![SelfResetNotAllowed, AccessDenied, PasswordChangeRequired, UserNotFound],
        unsafe_method(),
    ];
    /// DELETE /users/{id}/reset-link
    RevokeLinkErrors => [
        authenticated(),
        vec![SelfResetNotAllowed, AccessDenied, PasswordChangeRequired, UserNotFound],
        unsafe_method(),
    ];
    /// DELETE /users/{id}/sessions
    EndSessionsErrors => [
        authenticated(),
        vec![AccessDenied, PasswordChangeRequired, MfaSetupRequired, UserNotFound],
        unsafe_method(),
    ];
    /// GET /users/{id}/key
    ListKeysErrors => [
        authenticated(),
        vec![AccessDenied, PasswordChangeRequired, MfaSetupRequired, UserNotFound],
    ];
    /// POST /users/{id}/key
    CreateKeyErrors => [
        authenticated(), body(),
        vec![AccessDenied, PasswordChangeRequired, MfaSetupRequired, UserNotFound],
        unsafe_method(),
    ];
    /// GET /api/v2 (public)
    IndexErrors => [server()];
    /// PATCH /users/{id}/key (Crafty's way to create a key)
    CraftyKeyErrors => [
        authenticated(), body(),
        vec![AccessDenied, PasswordChangeRequired, UserNotFound],
        unsafe_method(),
    ];
    /// GET /users/{id}/key/{key_id}: never the secret
    ShowKeyErrors => [
        authenticated(),
        vec![AccessDenied, PasswordChangeRequired, UserNotFound, NotFound, KeyNotRetrievable],
    ];
    /// DELETE /users/{id}/key/{key_id}
    DeleteKeyErrors => [
        authenticated(),
        vec![AccessDenied, PasswordChangeRequired, MfaSetupRequired, UserNotFound, NotFound],
        unsafe_method(),
    ];
    /// POST /users/{id}/totp: allowed through the enrolment gate (for @me).
    EnrolErrors => [
        authenticated(),
        vec![AccessDenied, PasswordChangeRequired, MfaSetupRequired, UserNotFound],
        unsafe_method(),
    ];
    /// POST /users/{id}/totp/{totp_id}/verify: allowed through the enrolment gate (for @me).
    VerifyEnrolmentErrors => [
        authenticated(), body(),
        vec![WrongMfaCode, AccessDenied, PasswordChangeRequired, MfaSetupRequired, UserNotFound, NotFound],
        unsafe_method(),
    ];
    /// GET /users/{id}/totp
    ListFactorsErrors => [
        authenticated(),
        vec![AccessDenied, PasswordChangeRequired, MfaSetupRequired, UserNotFound],
    ];
    /// DELETE /users/{id}/totp/{totp_id}
    RemoveFactorErrors => [
        authenticated(),
        vec![MfaRequiredByPolicy, AccessDenied, PasswordChangeRequired, MfaSetupRequired, UserNotFound, NotFound],
        unsafe_method(),
    ];
    /// POST /auth/passkey/login/options (public)
    PasskeyOptionsErrors => [body(), vec![PasskeysDisabled], server()];
    /// POST /auth/passkey/login/verify (public)
    PasskeySignInErrors => [
        body(),
        vec![PasskeysDisabled, IncorrectCredentials, AccountDisabled],
        server(),
    ];
    /// GET /users/{id}/passkeys
    ListPasskeysErrors => [
        authenticated(),
        vec![AccessDenied, PasswordChangeRequired, MfaSetupRequired, UserNotFound],
    ];
    /// POST /users/{id}/passkeys: allowed through the enrolment gate (for @me).
    StartPasskeyErrors => [
        authenticated(),
        vec![PasskeysDisabled, AccessDenied, PasswordChangeRequired, MfaSetupRequired, UserNotFound],
        unsafe_method(),
    ];
    /// POST /users/{id}/passkeys/{passkey_id}/verify: allowed through the enrolment gate (for @me).
    RegisterPasskeyErrors => [
        authenticated(), body(),
        vec![PasskeysDisabled, PasskeyVerificationFailed, AccessDenied, PasswordChangeRequired, MfaSetupRequired, UserNotFound],
        unsafe_method(),
    ];
    /// DELETE /users/{id}/passkeys/{passkey_id}
    RemovePasskeyErrors => [
        authenticated(),
        vec![MfaRequiredByPolicy, AccessDenied, PasswordChangeRequired, MfaSetupRequired, UserNotFound, NotFound],
        unsafe_method(),
    ];
    /// GET /apps
    ListAppsErrors => [authenticated(), vec![AccessDenied, PasswordChangeRequired, MfaSetupRequired]];
    /// POST /apps
    CreateAppErrors => [
        authenticated(), body(),
        vec![AppNameExists, HostTaken("another application already has the host wiki.example.org".into())],
        vec![AccessDenied, PasswordChangeRequired, MfaSetupRequired],
        unsafe_method(),
    ];
    /// GET and DELETE /apps/{id}
    AppErrors => [
        authenticated(),
        vec![AccessDenied, PasswordChangeRequired, MfaSetupRequired, AppNotFound],
        unsafe_method(),
    ];
    /// POST /apps/{id}/secret
    AppSecretErrors => [
        authenticated(),
        vec![InvalidJsonSchema("oidc: the application is no OpenID Connect client".into())],
        vec![AccessDenied, PasswordChangeRequired, MfaSetupRequired, AppNotFound],
        unsafe_method(),
    ];
    /// PATCH /apps/{id}
    ChangeAppErrors => [
        authenticated(), body(),
        vec![AppNameExists, HostTaken("another application already has the host wiki.example.org".into())],
        vec![AccessDenied, PasswordChangeRequired, MfaSetupRequired, AppNotFound],
        unsafe_method(),
    ];
    /// GET /roles
    ListRolesErrors => [authenticated(), vec![AccessDenied, PasswordChangeRequired, MfaSetupRequired]];
    /// POST /roles
    CreateRoleErrors => [
        authenticated(), body(),
        vec![RoleNameExists, AccessDenied, PasswordChangeRequired, MfaSetupRequired],
        unsafe_method(),
    ];
    /// GET /roles/{id}, its users and servers
    ShowRoleErrors => [
        authenticated(),
        vec![AccessDenied, PasswordChangeRequired, MfaSetupRequired, RoleNotFound],
    ];
    /// PATCH /roles/{id}
    ChangeRoleErrors => [
        authenticated(), body(),
        vec![RoleNameExists, AccessDenied, PasswordChangeRequired, MfaSetupRequired, RoleNotFound],
        unsafe_method(),
    ];
    /// DELETE /roles/{id}
    DeleteRoleErrors => [
        authenticated(),
        vec![RoleInUse("wiki".into())],
        vec![AccessDenied, PasswordChangeRequired, MfaSetupRequired, RoleNotFound],
        unsafe_method(),
    ];
    /// POST /users/{id}/totp/recovery/renew
    RenewCodesErrors => [
        authenticated(), body(),
        vec![WrongMfaCode, AccessDenied, PasswordChangeRequired, MfaSetupRequired, UserNotFound],
        vec![TooManyAttempts { retry_after_seconds: 60 }],
        unsafe_method(),
    ];
}
