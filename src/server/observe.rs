//! Metrics on the server side: every request measured by its route template, and `/metrics`
//! served on a listener of its own (`PASSGATE_METRICS_BIND`), never on the public one.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sea_orm::DatabaseConnection;

use crate::metrics::Exporter;

/// Middleware: counts and times a request under its route's template (`unmatched` for a
/// path no route knows: the path itself never becomes a label).
pub async fn measure(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned());
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    crate::metrics::http_request(
        route.as_deref().unwrap_or("unmatched"),
        method.as_str(),
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// The metrics listener's app: `GET /metrics`, nothing else.
pub fn metrics_app(db: DatabaseConnection, exporter: Exporter) -> Router {
    Router::new()
        .route(crate::paths::METRICS, get(scrape))
        .with_state((db, exporter))
}

/// The exposition, with the gauges read from the database now. 503 while the database cannot
/// be read (Prometheus then records the scrape as failed).
async fn scrape(State((db, exporter)): State<(DatabaseConnection, Exporter)>) -> Response {
    match crate::accounts::gauges::read(&db).await {
        Ok(gauges) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            exporter.render(&gauges),
        )
            .into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "metrics: reading the gauges failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}
