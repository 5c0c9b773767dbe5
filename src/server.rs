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
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::accounts::audit::stream::AuditStream;
use crate::accounts::bootstrap;
use crate::auth::session_store::DbSessionStore;
use crate::config::{
    AuditSink, ClientTimeouts, Config, MAX_BODY_BYTES, SESSION_COOKIE, SESSION_IDLE,
};
use crate::state::AppState;
use crate::{api, db, forward_auth, oauth, web};

mod background;
mod observe;

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
    let mut router = Router::new()
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
        ));
    let measured = state.config.operations.metrics_bind.is_some();
    router = router
        .layer(sessions)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&web::csp::policy(&state.config))
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'")),
        ))
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
        ));
    // Outermost, so the time includes the session's load; only when metrics are served
    // (otherwise not even the clock is read).
    if measured {
        router = router.layer(middleware::from_fn(observe::measure));
    }
    router.with_state(state)
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

/// Connects, migrates (refusing a database from a newer passgate), listens, creates the first
/// admin if the database is empty, and serves until SIGINT or SIGTERM, letting requests in
/// flight finish. With `PASSGATE_METRICS_BIND` also serves `/metrics` on that address; with
/// `PASSGATE_AUDIT_FILE` streams the audit log.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let ops = config.operations.clone();
    // Before anything is recorded, so that no count is lost.
    let exporter = match ops.metrics_bind {
        Some(_) => Some(crate::metrics::install().map_err(|e| anyhow::anyhow!(e))?),
        None => None,
    };
    let db = db::open_with(&config.database_url, config.pool()).await?;
    let state = AppState::load(db.clone(), config.clone()).await?;
    // Before the first admin is created, so that its entry is streamed too.
    let audit_stream = match &ops.audit_sink {
        Some(sink) => Some(
            AuditStream::start(db.clone(), sink.clone())
                .await
                .map_err(|e| anyhow::anyhow!(e))?,
        ),
        None => None,
    };
    // Standard output carries only audit lines when the stream goes there.
    let console = |text: String| {
        if ops.audit_sink == Some(AuditSink::Stdout) {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    };
    // Listening before the first admin is made: a busy port must not leave the only copy of
    // its password beside a failure (and the next start would print none).
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.bind))?;
    if let Some(password) =
        bootstrap::ensure_admin(&db, &state.hasher, &state.config.policy).await?
    {
        // Printed to the console once, never logged.
        console(format!(
            "Created the superuser '{}'. Its password (shown only now; it must be changed at first sign-in):\n\n    {}\n",
            bootstrap::ADMIN_USERNAME,
            password.expose()
        ));
    }
    background::prune_expired(&db, &config);
    if let Some(days) = ops.audit_retention_days {
        background::audit_retention(&db, days);
    }
    background::reopen_on_sighup(audit_stream)
        .map_err(|e| anyhow::anyhow!("cannot handle SIGHUP: {e}"))?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let metrics_server = match (ops.metrics_bind, exporter) {
        (Some(address), Some(exporter)) => {
            let metrics_listener = tokio::net::TcpListener::bind(address)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {address} (metrics): {e}"))?;
            background::metrics_upkeep(exporter.clone());
            tracing::info!(%address, "metrics at /metrics");
            let app = observe::metrics_app(db.clone(), exporter);
            let timeouts = config.timeouts;
            let mut stopped = stopped.clone();
            Some(tokio::spawn(async move {
                let shutdown = async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                };
                serve_connections(metrics_listener, app, timeouts, shutdown).await;
            }))
        }
        _ => None,
    };
    if let Some(sso) = &config.sso {
        tracing::info!(
            cookie_domain = %sso.cookie_domain,
            trusted_proxies = config.trusted_proxies.len(),
            "single sign-on is on"
        );
    }
    match (&config.public_url, config.loopback_default_url()) {
        (Some(_), _) => {}
        (None, Some(url)) => tracing::info!(
            %url,
            "PASSGATE_PUBLIC_URL is not set: links and passkeys use the loopback default \
             (single sign-on and OpenID Connect need it set)"
        ),
        (None, None) => tracing::warn!(
            base = %config.link_base(),
            "PASSGATE_PUBLIC_URL is not set: reset links use the bind address as their base"
        ),
    }
    tracing::info!(address = %config.bind, "passgate listening");
    // Where to open it: the public URL (configured, or http://localhost:PORT on a loopback
    // bind, the one origin passkeys work at), else the bind address.
    console(match config.public_base() {
        Some(url) => format!("passgate is listening on {}: open {url}/login", config.bind),
        None => format!("passgate is listening on http://{}", config.bind),
    });
    let timeouts = state.config.timeouts;
    let router = app(state);
    crate::malloc::release_free_memory();
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    let mut stopped = stopped;
    let shutdown = async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    serve_connections(listener, router, timeouts, shutdown).await;
    if let Some(metrics_server) = metrics_server {
        let _ = metrics_server.await;
    }
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
