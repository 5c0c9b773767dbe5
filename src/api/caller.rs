//! Who is calling the API (login token, API key, or the session cookie with its CSRF header),
//! and the gate that holds a user with a pending password change to the change itself.

use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use crate::accounts::audit::Actor;
use crate::accounts::grants::{self, Grant};
use crate::accounts::permissions::{Caller, KeyScope, ROLES_CONFIG, USER_CONFIG};
use crate::accounts::users::RowStatus;
use crate::accounts::{api_keys, clock, mfa, users};
use crate::auth::client_ip::ClientIp;
use crate::auth::{csrf, session, tokens};
use crate::entities::{api_keys as key_entity, users as user_entity};
use crate::error::{Error, Result};
use crate::paths::api::{INVALIDATE_TOKENS, PASSKEY_VERIFY, PASSKEYS, TOTP, TOTP_VERIFY, USER};
use crate::state::AppState;

/// How the caller proved who they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    Session,
    LoginToken,
    ApiKey(KeyScope),
}

/// The authenticated caller of an API request.
#[derive(Clone, Debug)]
pub struct ApiCaller {
    pub user: user_entity::Model,
    pub via: Via,
    pub grants: Vec<Grant>,
    pub ip: ClientIp,
    /// The session or login token comes from a sign-in with a temporary password.
    pub proved_temporary: bool,
    /// The login token comes from a sign-in that passed a second factor (its `mfa` claim).
    pub mfa: bool,
    /// The user must have a second factor and has none: held at enrolment (not for keys).
    pub mfa_setup_required: bool,
    /// The user's second factor and live link, read with the user (`None` for an API key).
    pub status: Option<RowStatus>,
}

impl ApiCaller {
    /// The caller as the permission rules see them.
    pub fn rules(&self) -> Caller {
        Caller {
            user_id: self.user.user_id,
            superuser: self.user.superuser,
            user_config: grants::quantity(&self.grants, USER_CONFIG),
            roles_config: grants::quantity(&self.grants, ROLES_CONFIG),
            key: match &self.via {
                Via::ApiKey(scope) => Some(scope.clone()),
                _ => None,
            },
            proved_temporary: self.proved_temporary && !matches!(self.via, Via::ApiKey(_)),
        }
    }

    /// The caller as the audit log names them.
    pub fn actor(&self) -> Actor {
        Actor::user(&self.user, self.ip.to_string())
    }

    /// Held at the change-password step: flagged, and not using an API key.
    pub fn held_by_gate(&self) -> bool {
        self.user.require_password_change && !matches!(self.via, Via::ApiKey(_))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ApiCaller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<ApiCaller>()
            .cloned()
            .ok_or(Error::Unauthenticated)
    }
}

/// The gate's decision, on the route the router matched (never the raw path): while a
/// change is pending only `PATCH /users/@me` and `POST /auth/invalidate_tokens` pass.
pub fn gate_allows(method: &Method, route: Option<&str>, id: Option<&str>) -> bool {
    match route {
        Some(USER) => *method == Method::PATCH && id == Some("@me"),
        Some(INVALIDATE_TOKENS) => *method == Method::POST,
        _ => false,
    }
}

/// The enrolment gate's decision, on the matched route: a user who must have a second
/// factor and has none reaches only the enrolment itself — listing their own devices
/// (`GET /users/@me/totp`, `GET /users/@me/passkeys`: a client looks at what exists before it
/// starts, and Crafty's gate lets its TOTP routes through), starting one
/// (`POST /users/@me/totp`, a passkey's registration) and its verify — and
/// `POST /auth/invalidate_tokens`.
pub fn mfa_gate_allows(method: &Method, route: Option<&str>, id: Option<&str>) -> bool {
    let own = id == Some("@me");
    match route {
        Some(TOTP | PASSKEYS) => {
            own && matches!(*method, Method::GET | Method::HEAD | Method::POST)
        }
        Some(TOTP_VERIFY | PASSKEY_VERIFY) => own && *method == Method::POST,
        Some(INVALIDATE_TOKENS) => *method == Method::POST,
        _ => false,
    }
}

/// Middleware on the authenticated API routes: authenticate, apply the gate, hand the
/// caller to the handler.
pub async fn authenticate(
    State(state): State<AppState>,
    session: Session,
    ip: ClientIp,
    request: Request,
    next: Next,
) -> Response {
    let (mut parts, body) = request.into_parts();
    let caller = match identify(&state, &session, &parts, ip).await {
        Ok(caller) => caller,
        Err(err) => return err.into_response(),
    };
    if caller.held_by_gate() || caller.mfa_setup_required {
        let route = parts
            .extensions
            .get::<MatchedPath>()
            .map(|m| m.as_str().to_owned());
        let params = RawPathParams::from_request_parts(&mut parts, &state)
            .await
            .ok();
        let id = params.as_ref().and_then(|p| {
            p.iter()
                .find(|(name, _)| *name == "id")
                .map(|(_, v)| v.to_owned())
        });
        // A pending password change comes first (SPEC §9: the change, then enrolment).
        if caller.held_by_gate() {
            if !gate_allows(&parts.method, route.as_deref(), id.as_deref()) {
                return Error::PasswordChangeRequired.into_response();
            }
        } else if !mfa_gate_allows(&parts.method, route.as_deref(), id.as_deref()) {
            return Error::MfaSetupRequired.into_response();
        }
    }
    parts.extensions.insert(caller);
    next.run(Request::from_parts(parts, body)).await
}

async fn identify(
    state: &AppState,
    session: &Session,
    parts: &Parts,
    ip: ClientIp,
) -> Result<ApiCaller> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(bearer_token)
            .ok_or(Error::Unauthenticated)?;
        return if token.starts_with(api_keys::PREFIX) {
            by_api_key(state, token, ip).await
        } else {
            by_login_token(state, token, ip).await
        };
    }
    let session::SignedIn {
        user,
        grants,
        status,
    } = session::current_user(session, &state.db, state.config.session_max_lifetime)
        .await?
        .ok_or(Error::Unauthenticated)?;
    let proved_temporary = session::proved_temporary(session).await?;
    if !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS) {
        // A cookie rides along with cross-site requests; the header proves same origin.
        let expected = csrf::token(session).await?;
        let given = parts
            .headers
            .get(csrf::HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !csrf::verify(&expected, given) {
            return Err(Error::CsrfRejected);
        }
    }
    let mfa_setup_required = must_enrol(state, &user, status).await?;
    Ok(ApiCaller {
        user,
        via: Via::Session,
        grants,
        ip,
        proved_temporary,
        mfa: false,
        mfa_setup_required,
        status,
    })
}

/// Whether a session or token user must have a second factor and has none: from `status`
/// when it was read with the user (the user's flag, the policy and their roles, decided on
/// every request); otherwise read now.
async fn must_enrol(
    state: &AppState,
    user: &user_entity::Model,
    status: Option<RowStatus>,
) -> Result<bool> {
    Ok(match status {
        Some(status) => mfa::factor_missing(state.mfa.policy, user, &status),
        None => {
            !mfa::has_factor(&state.db, user.user_id).await?
                && mfa::required_of(&state.db, state.mfa.policy, user).await?
        }
    })
}

/// The token of an `Authorization: Bearer <token>` value. The scheme is matched without
/// regard to case (RFC 7235 §2.1; Crafty clients send `bearer` too).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

async fn by_login_token(state: &AppState, token: &str, ip: ClientIp) -> Result<ApiCaller> {
    let claims = tokens::verify(&state.signing_key, token).ok_or(Error::Unauthenticated)?;
    let (user, grants, status) = users::signed_in_user(&state.db, claims.user_id)
        .await?
        .filter(|(u, _, _)| u.enabled)
        .filter(|(u, _, _)| {
            let current = tokens::stamp_fingerprint(&u.security_stamp);
            bool::from(current.as_bytes().ct_eq(claims.stamp.as_bytes()))
        })
        .ok_or(Error::Unauthenticated)?;
    if users::temp_password_expired(&user) {
        return Err(Error::TempPasswordExpired);
    }
    let mfa_setup_required = must_enrol(state, &user, Some(status)).await?;
    Ok(ApiCaller {
        user,
        via: Via::LoginToken,
        grants,
        ip,
        proved_temporary: claims.tmp,
        mfa: claims.mfa,
        mfa_setup_required,
        status: Some(status),
    })
}

async fn by_api_key(state: &AppState, token: &str, ip: ClientIp) -> Result<ApiCaller> {
    let (key, user) = api_keys::authenticate(&state.db, token)
        .await?
        .filter(|(_, owner)| owner.enabled)
        .ok_or(Error::Unauthenticated)?;
    // Record use at most once a minute per key.
    let now = clock::now();
    key_entity::Entity::update_many()
        .col_expr(key_entity::Column::LastUsed, Expr::value(Some(now)))
        .filter(key_entity::Column::KeyId.eq(key.key_id))
        .filter(
            key_entity::Column::LastUsed
                .is_null()
                .or(key_entity::Column::LastUsed.lt(now - time::Duration::minutes(1))),
        )
        .exec(&state.db)
        .await?;
    let grants = grants::load(&state.db, user.user_id).await?;
    Ok(ApiCaller {
        user,
        via: Via::ApiKey(api_keys::scope_of(&key)),
        grants,
        ip,
        proved_temporary: false,
        mfa: false,
        // API keys are exempt from the gates.
        mfa_setup_required: false,
        status: None,
    })
}

#[cfg(test)]
mod tests {
    use super::bearer_token;

    #[test]
    fn the_bearer_scheme_is_matched_in_any_case() {
        for value in ["Bearer t0k", "bearer t0k", "BEARER t0k", "bEaReR  t0k "] {
            assert_eq!(bearer_token(value), Some("t0k"), "{value}");
        }
        for value in [
            "Basic dXNlcjpwYXNz",
            "Bearer",
            "Bearer ",
            "Bearert0k",
            "t0k",
            "",
        ] {
            assert_eq!(bearer_token(value), None, "{value}");
        }
    }
}
