//! `GET /api/v2/openapi.json`: the OpenAPI 3 document of the API, generated from the
//! handlers' `#[utoipa::path]` annotations as the router registers them (see `api::router`),
//! so the document and the routes cannot drift apart.

use std::collections::BTreeMap;

use axum::Extension;
use axum::body::Bytes;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{self, RefOr, Required};
use utoipa::{IntoResponses, Modify, OpenApi};

use crate::accounts::password::PolicyViolation;
use crate::config::SESSION_COOKIE;
use crate::error::Error;
use crate::paths;

/// The document's frame: info, tags and security schemes. The paths and their schemas are
/// added by the router from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "passgate",
        description = "Users, temporary passwords and API keys, compatible with Crafty \
            Controller 4's user API. Every answer but this document is JSON in an envelope: \
            `{\"status\":\"ok\",\"data\":…}` or \
            `{\"status\":\"error\",\"error\":CODE,\"error_data\":message}`. Request bodies \
            are JSON objects of at most 64 KiB (an empty body counts as `{}`); unknown fields \
            are refused (400 `INVALID_JSON_SCHEMA`). A method a path does not serve answers 405 \
            `METHOD_NOT_ALLOWED`, an unknown path under /api/v2 404 `NOT_FOUND`. Every path also \
            answers with one trailing slash (`/api/v2/users/`), as in Crafty; those twins are \
            the same operations and are not listed twice."
    ),
    tags(
        (name = "auth", description = "Login tokens"),
        (name = "users", description = "Users and temporary passwords"),
        (name = "keys", description = "API keys"),
        (name = "mfa", description = "Two-factor sign-in: TOTP devices and recovery codes"),
        (name = "passkeys", description = "Passkeys (WebAuthn): passwordless sign-in and a second factor"),
        (name = "meta", description = "This document and the API index"),
    ),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "`Authorization: Bearer <token>`: a login token from \
                         `POST /api/v2/auth/login`, or an API key (`pgk_…`) from \
                         `POST /api/v2/users/{id}/key`. Not accepted in the query string.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The web session, for same-origin calls; POST, PATCH and DELETE also need \
                 the session's CSRF token in the `X-CSRF-Token` header.",
            ))),
        );
    }
}

/// The document, as served.
#[derive(Clone)]
pub struct Document(Bytes);

impl Document {
    pub fn new(mut doc: openapi::OpenApi) -> Self {
        optional_bodies(&mut doc);
        let text = doc.to_json().expect("the OpenAPI document serializes");
        Document(Bytes::from(text))
    }
}

/// [`ApiJson`](super::ApiJson) reads an empty body as `{}`, so a body whose schema requires
/// no field may be left out.
fn optional_bodies(doc: &mut openapi::OpenApi) {
    let schemas = doc.components.as_ref().map(|c| &c.schemas);
    let requires_nothing = |schema: &RefOr<Schema>| {
        let schema = match schema {
            RefOr::Ref(r) => schemas
                .and_then(|s| s.get(r.ref_location.trim_start_matches("#/components/schemas/"))),
            inline => Some(inline),
        };
        matches!(schema, Some(RefOr::T(Schema::Object(o))) if o.required.is_empty())
    };
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.post,
            &mut item.patch,
            &mut item.put,
            &mut item.delete,
        ];
        for operation in operations.into_iter().flatten() {
            let Some(RefOr::T(body)) = operation.request_body.as_mut() else {
                continue;
            };
            let optional = body.content.values().all(|content| match content {
                RefOr::T(content) => content.schema.as_ref().is_some_and(requires_nothing),
                RefOr::Ref(_) => false,
            });
            if optional {
                body.required = Some(Required::False);
            }
        }
    }
}

/// This document (public, outside the envelope).
#[utoipa::path(
    get,
    path = paths::api::OPENAPI,
    tag = "meta",
    operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI document of this API", body = Object))
)]
pub async fn serve(Extension(Document(text)): Extension<Document>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], text).into_response()
}

/// The error answers of one route, grouped by status. Statuses and codes come from
/// [`Error`] itself, so they cannot differ from what the route sends.
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
        vec![IncorrectCredentials, TempPasswordExpired, AccountDisabled, MfaRequired, IncorrectMfa, PasswordAuthDisabled],
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
        vec![UserExists, policy(), AccessDenied, PasswordChangeRequired, MfaSetupRequired],
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
    /// POST /users/{id}/totp/recovery/renew
    RenewCodesErrors => [
        authenticated(), body(),
        vec![WrongMfaCode, AccessDenied, PasswordChangeRequired, MfaSetupRequired, UserNotFound],
        vec![TooManyAttempts { retry_after_seconds: 60 }],
        unsafe_method(),
    ];
}
