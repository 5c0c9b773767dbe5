//! Static assets: htmx compiled in with `include_str!`, the rest embedded with rust-embed.
//! URLs carry a content hash, so they can be cached for a year and never go stale.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

use crate::state::AppState;

const HTMX: &str = include_str!("../../assets/htmx.min.js");

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Embedded;

struct Asset {
    body: std::borrow::Cow<'static, [u8]>,
    content_type: &'static str,
    version: String,
}

static ASSETS: LazyLock<HashMap<String, Asset>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    map.insert(
        "htmx.min.js".to_string(),
        asset(std::borrow::Cow::Borrowed(HTMX.as_bytes()), "htmx.min.js"),
    );
    for name in Embedded::iter().filter(|n| n.as_ref() != "htmx.min.js") {
        if let Some(file) = Embedded::get(&name) {
            map.insert(name.to_string(), asset(file.data, &name));
        }
    }
    map
});

fn asset(body: std::borrow::Cow<'static, [u8]>, name: &str) -> Asset {
    let version = hex::encode(&Sha256::digest(&body)[..6]);
    let content_type = match name.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    };
    Asset {
        body,
        content_type,
        version,
    }
}

/// The versioned URL of an asset, e.g. `/assets/3fa9c0d1e2b4/app.css`.
pub fn asset_url(name: &str) -> String {
    match ASSETS.get(name) {
        Some(asset) => format!("/assets/{}/{name}", asset.version),
        None => format!("/assets/missing/{name}"),
    }
}

async fn serve(Path((version, name)): Path<(String, String)>) -> Response {
    let Some(asset) = ASSETS.get(&name) else {
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
    Router::new().route("/assets/{version}/{name}", get(serve))
}
