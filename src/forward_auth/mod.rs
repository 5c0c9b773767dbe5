//! The forward-auth endpoints (SPEC §15.2), a surface of their own beside the panel and the
//! API: `/api/authz/forward-auth` (Traefik, Caddy) and `/api/authz/auth-request` (nginx).
//! Each request is read from a trusted proxy's headers once ([`target`]), decided by the pure
//! `accounts::sso::decide` over the cached applications and the SSO session (one statement,
//! read only when the answer depends on it), and answered as the proxies expect ([`answer`]).
//! Errors use the API's JSON envelope (`UNTRUSTED_PROXY`, `INVALID_FORWARDED_HEADERS`).

mod answer;
mod target;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use crate::accounts::sso::{self, SsoState};
use crate::auth::sso as sso_session;
use crate::error::Error;
use crate::metrics::ForwardAuth;
use crate::paths;
use crate::state::AppState;

pub use answer::Flavour;
pub use target::Forwarded;

/// `/api/authz/forward-auth` and `/api/authz/auth-request`. Any method is accepted (proxies
/// ask with GET, some with the original method); the decision is about the forwarded one.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            paths::FORWARD_AUTH,
            any(
                |state: State<AppState>, peer: ConnectInfo<SocketAddr>, headers: HeaderMap| {
                    decide(state, peer, headers, Flavour::ForwardAuth)
                },
            ),
        )
        .route(
            paths::AUTH_REQUEST,
            any(
                |state: State<AppState>, peer: ConnectInfo<SocketAddr>, headers: HeaderMap| {
                    decide(state, peer, headers, Flavour::AuthRequest)
                },
            ),
        )
}

async fn decide(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    flavour: Flavour,
) -> Response {
    match decide_or_fail(&state, peer, &headers, flavour).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

async fn decide_or_fail(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    flavour: Flavour,
) -> Result<Response, Error> {
    if state.config.sso.is_none() {
        return Err(Error::SsoDisabled);
    }
    if !state.config.is_trusted_proxy(peer.ip()) {
        tracing::warn!(
            address = %peer.ip(),
            "a forward-auth request from a peer that is not a trusted proxy: add its address \
             to PASSGATE_TRUSTED_PROXIES if it is your proxy"
        );
        return Err(Error::UntrustedProxy);
    }
    let forwarded = match flavour {
        Flavour::ForwardAuth => target::from_forwarded_headers(headers),
        Flavour::AuthRequest => target::from_original_headers(headers),
    }
    .map_err(Error::BadForwardedRequest)?;
    let apps = state.apps.table(&state.db).await?;
    let target = sso::Target {
        host: &forwarded.host,
        port: forwarded.port,
        uri: &forwarded.uri,
    };
    let routed = sso::route(&target, &apps);
    let session: Option<SsoState> = match sso_session::token_in(headers) {
        Some(token) if routed.needs_session() => {
            match sso_session::load(&state.db, &token).await? {
                Some(loaded) => {
                    let state_now = loaded.state(&state.config);
                    if state_now.is_some() {
                        loaded.keep_alive(&state.db);
                    }
                    state_now
                }
                None => None,
            }
        }
        _ => None,
    };
    let decision = sso::decide(routed, session.as_ref());
    crate::metrics::forward_auth_decision(match &decision {
        sso::Decision::Public => ForwardAuth::Public,
        sso::Decision::Allow { .. } => ForwardAuth::Allow,
        sso::Decision::SignIn { .. } | sso::Decision::Step { .. } => ForwardAuth::SignIn,
        sso::Decision::Forbidden { .. } | sso::Decision::UnknownHost => ForwardAuth::Deny,
    });
    Ok(answer::render(
        &state.config,
        flavour,
        &forwarded,
        headers,
        &decision,
    ))
}
