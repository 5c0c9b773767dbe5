//! Serves the asset table of `views::assets` under content-hashed URLs.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::paths;
use crate::state::AppState;
use crate::views::assets;

async fn serve(Path((version, name)): Path<(String, String)>) -> Response {
    let Some(asset) = assets::lookup(&name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // An old version still gets the current file, but must not be cached as if it matched.
    let cache = if version == asset.version {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = asset.body.clone().into_owned().into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

pub fn router() -> Router<AppState> {
    Router::new().route(paths::ASSETS_ROUTE, get(serve))
}
