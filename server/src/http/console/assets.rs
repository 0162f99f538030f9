//! The console's stylesheet and script, built into the binary (nothing to build or fetch at
//! run time). Pages link them by a URL carrying a hash of their content, so a browser may
//! keep them for ever yet never runs an old script against a new page.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

pub const STYLE: &Asset = &Asset {
    name: "console.css",
    content_type: "text/css; charset=utf-8",
    body: include_str!("assets/console.css"),
};

pub const SCRIPT: &Asset = &Asset {
    name: "console.js",
    content_type: "text/javascript; charset=utf-8",
    body: include_str!("assets/console.js"),
};

/// Checks an approval's signed evidence in the browser (WebCrypto).
pub const EVIDENCE: &Asset = &Asset {
    name: "evidence.js",
    content_type: "text/javascript; charset=utf-8",
    body: include_str!("assets/evidence.js"),
};

/// Keeps the approval list up to date (polls its JSON).
pub const APPROVALS: &Asset = &Asset {
    name: "approvals.js",
    content_type: "text/javascript; charset=utf-8",
    body: include_str!("assets/approvals.js"),
};

const ALL: &[&Asset] = &[STYLE, SCRIPT, EVIDENCE, APPROVALS];

/// The first 16 hex digits of each asset's SHA-256, in the order of `ALL`.
static HASHES: LazyLock<Vec<String>> = LazyLock::new(|| {
    use sha2::{Digest, Sha256};
    ALL.iter()
        .map(|asset| {
            let digest = Sha256::digest(asset.body.as_bytes());
            data_encoding::HEXLOWER.encode(&digest[..8])
        })
        .collect()
});

fn hash_of(asset: &Asset) -> &'static str {
    ALL.iter()
        .position(|a| a.name == asset.name)
        .and_then(|i| HASHES.get(i))
        .map_or("", String::as_str)
}

/// The URL a page links the asset by.
pub fn url(asset: &Asset) -> String {
    format!("/console/assets/{}?v={}", asset.name, hash_of(asset))
}

/// `GET /console/assets/{name}`.
pub async fn serve(Path(name): Path<String>) -> Response {
    let Some(asset) = ALL.iter().find(|a| a.name == name) else {
        return (StatusCode::NOT_FOUND, "Not found.").into_response();
    };
    (
        [
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        asset.body,
    )
        .into_response()
}
