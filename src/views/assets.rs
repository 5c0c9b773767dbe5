//! Static assets: htmx compiled in with `include_str!`, the rest embedded with rust-embed.
//! URLs carry a content hash, so they can be cached for a year and never go stale.

use std::collections::HashMap;
use std::sync::LazyLock;

use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

const HTMX: &str = include_str!("../../assets/htmx.min.js");

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Embedded;

/// One asset: its bytes, its type and the hash in its URL.
pub struct Asset {
    pub body: std::borrow::Cow<'static, [u8]>,
    pub content_type: &'static str,
    pub version: String,
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

/// The asset of that name, if there is one.
pub fn lookup(name: &str) -> Option<&'static Asset> {
    ASSETS.get(name)
}
