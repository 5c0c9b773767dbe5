//! `GET /api/v2/openapi.json`: the OpenAPI 3 document of the API, generated from the
//! handlers' `#[utoipa::path]` annotations as the router registers them (see `api::router`),
//! so the document and the routes cannot drift apart.

use axum::Extension;
use axum::body::Bytes;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{self, RefOr, Required};
use utoipa::{Modify, OpenApi};

use crate::config::SESSION_COOKIE;
use crate::paths;

mod errors;

pub use errors::*;

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
        (name = "roles", description = "Roles: groups of users, which may require a second factor of their members"),
        (name = "mfa", description = "Two-factor sign-in: TOTP devices and recovery codes"),
        (name = "passkeys", description = "Passkeys (WebAuthn): passwordless sign-in and a second factor"),
        (name = "apps", description = "Applications that passgate signs users in to (single sign-on; superusers)"),
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
