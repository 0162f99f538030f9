//! Shared server state and the per-request `Call` extractor (format, authenticated app,
//! parameters).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::db::Db;
use crate::delivery::{Notifier, Sender};
use crate::error::ApiError;
use crate::params::Params;
use crate::render::{self, Format};
use crate::seal::MasterKey;

pub struct Settings {
    /// Consecutive failed verifications before a user is locked out.
    pub max_failures: i64,
    /// Seconds a locked-out user stays locked.
    pub lockout_seconds: i64,
    /// Public base URL of this server, put into device-facing links.
    pub public_url: String,
    pub approvals: ApprovalLimits,
}

/// Bounds on OneTouch approval requests: a request that lives for ever, or an app that piles
/// up pending requests without end, is an attack surface (a stale request approved by
/// mistake, a phone flooded with prompts).
#[derive(Clone, Copy, Debug)]
pub struct ApprovalLimits {
    pub default_seconds: i64,
    pub max_seconds: i64,
    pub pending_per_user: i64,
    pub pending_per_app: i64,
}

impl ApprovalLimits {
    pub fn new(default_seconds: i64, max_seconds: i64, per_user: i64, per_app: i64) -> Self {
        let max_seconds = max_seconds.max(1);
        ApprovalLimits {
            default_seconds: default_seconds.clamp(1, max_seconds),
            max_seconds,
            pending_per_user: per_user.max(1),
            pending_per_app: per_app.max(1),
        }
    }

    /// The lifetime a request gets: the default when none is asked, the maximum for 0
    /// (Authy's "never") or anything longer.
    pub fn lifetime(&self, asked: Option<i64>) -> i64 {
        match asked {
            None => self.default_seconds,
            Some(0) => self.max_seconds,
            Some(seconds) => seconds.min(self.max_seconds),
        }
    }
}

/// Buffered statistics counts per (app, event kind).
pub type EventCounts = std::sync::Mutex<std::collections::HashMap<(i64, &'static str), i64>>;

/// API keys seen recently (hash → app). Entries live a few seconds, so a removed key stops
/// working everywhere within that time without a database read on every request.
pub type KeyCache = std::sync::Mutex<std::collections::HashMap<String, (App, std::time::Instant)>>;
const KEY_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

pub struct Inner {
    pub db: Db,
    pub health: Arc<crate::health::Health>,
    pub accepted: crate::batch::Batcher,
    pub events: EventCounts,
    pub keys: KeyCache,
    pub master: MasterKey,
    pub sender: Arc<dyn Sender>,
    pub notifier: Arc<dyn Notifier>,
    pub http: reqwest::Client,
    pub settings: Settings,
}

pub type AppState = Arc<Inner>;

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub fn hash_api_key(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Clone, Debug)]
pub struct App {
    pub id: i64,
    pub name: String,
    pub token_length: u32,
    pub callback_url: Option<String>,
    pub callback_method: String,
}

/// An authenticated API call: the answer format, the app the API key belongs to, and the
/// request's parameters.
pub struct Call {
    pub format: Format,
    pub app: App,
    pub params: Params,
}

/// Rejection that still answers in the requested format (JSON when it is unknown).
pub struct Rejection(pub Format, pub ApiError);

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        render::respond(self.0, self.1.status, &self.1.body())
    }
}

pub fn format_of(path: &str) -> Option<Format> {
    // /protected/{format}/… and /onetouch/{format}/…
    path.split('/').nth(2).and_then(Format::parse)
}

pub async fn app_for_key(state: &AppState, key: &str) -> Result<App, ApiError> {
    let hash = hash_api_key(key);
    if let Ok(cache) = state.keys.lock()
        && let Some((app, at)) = cache.get(&hash)
        && at.elapsed() < KEY_CACHE_TTL
    {
        return Ok(app.clone());
    }
    let app = load_app(state, &hash).await?;
    if let Ok(mut cache) = state.keys.lock() {
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(hash, (app.clone(), std::time::Instant::now()));
    }
    Ok(app)
}

async fn load_app(state: &AppState, hash: &str) -> Result<App, ApiError> {
    let row = sqlx::query("SELECT id, name, token_length, callback_url, callback_method FROM apps WHERE api_key_hash = $1")
        .bind(hash)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(ApiError::invalid_api_key)?;
    Ok(App {
        id: row.get(0),
        name: row.get(1),
        token_length: row.get::<i64, _>(2) as u32,
        callback_url: row.get(3),
        callback_method: row.get(4),
    })
}

impl FromRequest<AppState> for Call {
    type Rejection = Rejection;

    async fn from_request(req: Request, state: &AppState) -> Result<Call, Rejection> {
        let path = req.uri().path().to_owned();
        let format = format_of(&path).ok_or_else(|| {
            Rejection(
                Format::Json,
                ApiError::not_found("Format not supported: use json or xml."),
            )
        })?;
        let query = req.uri().query().map(str::to_owned);
        let headers = req.headers().clone();
        let key = headers
            .get("x-authy-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_owned);
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > crate::api::MAX_BODY) {
            let error = ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "60002",
                "The request body is too large.",
            );
            return Err(Rejection(format, error));
        }
        let body = Bytes::from_request(req, state).await.map_err(|_| {
            Rejection(
                format,
                ApiError::invalid_request("The request body could not be read."),
            )
        })?;
        // The key may also come as the api_key parameter, as old Authy clients send it.
        let params = Params::parse(query.as_deref(), content_type.as_deref(), &body)
            .map_err(|e| Rejection(format, e))?;
        let key = key
            .or_else(|| params.text("api_key").map(str::to_owned))
            .ok_or_else(|| Rejection(format, ApiError::invalid_api_key()))?;
        let app = app_for_key(state, &key)
            .await
            .map_err(|e| Rejection(format, e))?;
        Ok(Call {
            format,
            app,
            params,
        })
    }
}

impl Call {
    pub fn ok(&self, body: serde_json::Value) -> Response {
        render::respond(self.format, axum::http::StatusCode::OK, &body)
    }

    pub fn error(&self, error: ApiError) -> Response {
        render::respond(self.format, error.status, &error.body())
    }

    /// Runs a handler body and renders its result in this call's format.
    pub fn answer(
        &self,
        result: Result<(axum::http::StatusCode, serde_json::Value), ApiError>,
    ) -> Response {
        match result {
            Ok((status, body)) => render::respond(self.format, status, &body),
            Err(error) => self.error(error),
        }
    }
}
