//! Serving: the app's middleware stack, the listener, background work and shutdown.

use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderName, HeaderValue, StatusCode, Uri, header};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::accounts::bootstrap;
use crate::auth::session_store::DbSessionStore;
use crate::config::{ClientTimeouts, Config, MAX_BODY_BYTES, SESSION_COOKIE, SESSION_IDLE};
use crate::state::AppState;
use crate::{api, db, forward_auth, oauth, web};

const CSP: &str = web::csp::POLICY;

/// The whole application, for `main` and for tests. One trailing slash is taken off the
/// path before routing (Crafty registers every route as `…/?` and its clients call
/// `/api/v2/users/`), so a twin reaches the same route, with the same gate, as the path
/// without it; `//` and other spellings stay unknown.
pub fn app(state: AppState) -> Router {
    let routed = routes(state);
    Router::new().fallback_service(
        tower::ServiceBuilder::new()
            .layer(middleware::map_request(trim_one_trailing_slash))
            .service(routed),
    )
}

/// `/a/b/` becomes `/a/b` (the query kept); `/`, `/a/b` and `/a/b//` stay as they are.
pub fn without_one_trailing_slash(path: &str) -> Option<&str> {
    let trimmed = path.strip_suffix('/')?;
    (!trimmed.is_empty() && !trimmed.ends_with('/')).then_some(trimmed)
}

async fn trim_one_trailing_slash(mut request: Request) -> Request {
    let uri = request.uri();
    let Some(path) = without_one_trailing_slash(uri.path()) else {
        return request;
    };
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    let Ok(path_and_query) = PathAndQuery::try_from(path_and_query) else {
        return request;
    };
    parts.path_and_query = Some(path_and_query);
    if let Ok(uri) = Uri::from_parts(parts) {
        *request.uri_mut() = uri;
    }
    request
}

fn routes(state: AppState) -> Router {
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.cookie_secure)
        .with_expiry(Expiry::OnInactivity(SESSION_IDLE));
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(web::router(state.clone()))
        .merge(api::router(state.clone()))
        .merge(oauth::router())
        .merge(forward_auth::router())
        .route(crate::paths::HEALTHZ, get(health))
        .fallback(web::not_found)
        // Inside the session layer: a request that (re)established the panel session gets
        // its SSO session (SPEC §15.3).
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::auth::sso::follow_sign_in,
        ))
        .layer(sessions)
        .layer(security_header(header::CONTENT_SECURITY_POLICY, CSP))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::REFERRER_POLICY, "no-referrer"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(header::CACHE_CONTROL, "no-store"))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                // The path only: no query string, no headers (cookies) in the log, and a reset
                // link's token left out (SPEC §2).
                tracing::info_span!("request", id, method = %request.method(), path = %loggable_path(request.uri().path()))
            }),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(axum::middleware::from_fn_with_state(
            state.config.timeouts.body,
            body_within,
        ))
        .with_state(state)
}

/// Reads a request's body (bodies are small: at most [`MAX_BODY_BYTES`] are accepted) within
/// `limit` of the handler being reached, so a client that trickles its body cannot hold a
/// connection and a task: past the limit it gets 408 and the connection is closed. A body
/// over the size limit is passed on cut just past it, for the surface's own 413.
async fn body_within(
    State(limit): State<Duration>,
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::body::HttpBody;
    use http_body_util::BodyExt;
    let (parts, mut body) = request.into_parts();
    if body.is_end_stream() {
        // Nothing to wait for (a GET, or an empty body): no timer, no copy.
        return next.run(Request::from_parts(parts, body)).await;
    }
    let read = async {
        let mut bytes = Vec::new();
        while bytes.len() <= MAX_BODY_BYTES {
            match body.frame().await {
                None => break,
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        bytes.extend_from_slice(&data);
                    }
                }
                Some(Err(_)) => return None,
            }
        }
        bytes.truncate(MAX_BODY_BYTES + 1);
        Some(bytes)
    };
    match tokio::time::timeout(limit, read).await {
        Ok(Some(bytes)) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        Ok(None) => (StatusCode::BAD_REQUEST, "unreadable request body").into_response(),
        Err(_) => {
            let mut response =
                (StatusCode::REQUEST_TIMEOUT, "request body too slow").into_response();
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

/// The path as the log shows it: a reset link's token is replaced by `…`.
pub fn loggable_path(path: &str) -> &str {
    if path.starts_with(crate::paths::RESET_PAGE_PREFIX) {
        "/reset/…"
    } else {
        path
    }
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

async fn health(State(state): State<AppState>) -> impl IntoResponse {
    if db::ping(&state.db).await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}

/// Connects, migrates, creates the first admin if the database is empty, and serves until
/// SIGINT or SIGTERM, letting requests in flight finish.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let db = db::open_with(&config.database_url, config.pool()).await?;
    let state = AppState::load(db.clone(), config.clone()).await?;
    if let Some(password) =
        bootstrap::ensure_admin(&db, &state.hasher, &state.config.policy).await?
    {
        // Printed to the console once, never logged.
        println!(
            "Created the superuser '{}'. Its password (shown only now; it must be changed at first sign-in):\n\n    {}\n",
            bootstrap::ADMIN_USERNAME,
            password.expose()
        );
    }
    let cleanup = DbSessionStore::new(db.clone());
    let cleanup_db = db.clone();
    let throttle = config.throttle;
    let max_lifetime = config.session_max_lifetime;
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(600));
        loop {
            interval.tick().await;
            if let Err(err) = cleanup.delete_expired().await {
                tracing::warn!(error = %err, "deleting expired sessions failed");
            }
            if let Err(err) = crate::auth::sso::prune(&cleanup_db, max_lifetime).await {
                tracing::warn!(error = %err, "deleting expired single sign-on sessions failed");
            }
            if let Err(err) = crate::auth::throttle::prune(&cleanup_db, &throttle).await {
                tracing::warn!(error = %err, "pruning the login throttle failed");
            }
            if let Err(err) = crate::accounts::mfa::prune_enrolments(&cleanup_db).await {
                tracing::warn!(error = %err, "pruning expired two-factor enrolments failed");
            }
            if let Err(err) = crate::accounts::passkeys::prune_ceremonies(&cleanup_db).await {
                tracing::warn!(error = %err, "pruning expired passkey ceremonies failed");
            }
            if let Err(err) = crate::accounts::oidc::grants::prune(&cleanup_db).await {
                tracing::warn!(error = %err, "pruning ended OpenID Connect grants failed");
            }
        }
    });
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.bind))?;
    if let Some(sso) = &config.sso {
        tracing::info!(
            cookie_domain = %sso.cookie_domain,
            trusted_proxies = config.trusted_proxies.len(),
            "single sign-on is on"
        );
    }
    if config.public_url.is_none() {
        tracing::warn!(
            base = %config.link_base(),
            "PASSGATE_PUBLIC_URL is not set: reset links use the bind address as their base"
        );
    }
    tracing::info!(address = %config.bind, "passgate listening");
    println!("passgate is listening on http://{}", config.bind);
    let timeouts = state.config.timeouts;
    let router = app(state);
    crate::malloc::release_free_memory();
    serve_connections(listener, router, timeouts, shutdown_signal()).await;
    db.close().await.ok();
    tracing::info!("passgate stopped");
    Ok(())
}

/// Accepts connections and serves `router` on each (HTTP/1.1) until `shutdown` completes,
/// then lets the requests in flight finish. Unlike `axum::serve`, this sets hyper's header
/// read timeout: a client must send a request's headers within `timeouts.headers`, or the
/// connection is closed (SPEC §3a; the body's limit is [`body_within`]).
pub async fn serve_connections(
    listener: tokio::net::TcpListener,
    router: Router,
    timeouts: ClientTimeouts,
    shutdown: impl std::future::Future<Output = ()>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;

    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait a moment, keep serving.
                    tracing::warn!(error = %err, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            router.clone().oneshot(request.map(axum::body::Body::new))
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(timeouts.headers);
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::{loggable_path, without_one_trailing_slash};

    #[test]
    fn exactly_one_trailing_slash_is_taken_off() {
        assert_eq!(
            without_one_trailing_slash("/api/v2/users/"),
            Some("/api/v2/users")
        );
        assert_eq!(without_one_trailing_slash("/api/v2/"), Some("/api/v2"));
        for unchanged in ["/", "//", "/api/v2/users", "/api/v2/users//", ""] {
            assert_eq!(without_one_trailing_slash(unchanged), None, "{unchanged}");
        }
    }

    #[test]
    fn a_reset_links_token_never_reaches_the_log() {
        assert_eq!(
            loggable_path("/reset/3q2-7wXhAbCdEfGhIjKlMnOpQrStUvWxYz0123456789"),
            "/reset/…"
        );
        assert_eq!(loggable_path("/reset/"), "/reset/…");
        assert_eq!(loggable_path("/login"), "/login");
        assert_eq!(
            loggable_path("/api/v2/users/7/reset-link"),
            "/api/v2/users/7/reset-link"
        );
    }
}
