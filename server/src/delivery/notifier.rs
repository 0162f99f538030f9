//! Push delivery of approval requests. A push carries only ids — `{"type":
//! "approval_request", "uuid"}` — the device fetches the content itself over the signed
//! device API, so nothing a bank asks the user to approve passes through Google, Apple or a
//! relay. Polling always works without push.
//!
//! Each configured provider ([`Pusher`]) says which device OSes it serves; the
//! [`PushRouter`] gives a device to the first that serves its OS.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::store::db::Db;
use crate::store::{push_log, push_targets};

/// Where one push goes.
pub struct PushTarget {
    pub device_id: i64,
    /// The device's OS as registered (`android`, `ios`, …): picks the provider.
    pub os: String,
    pub token: String,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    #[error("no push provider is configured for {0} devices")]
    NoProvider(String),
    #[error("the push token is no longer valid")]
    Unregistered,
    #[error("the push provider refused the message (HTTP {status}: {reason})")]
    Refused { status: u16, reason: String },
    #[error("the push provider could not be reached: {0}")]
    Unreachable(String),
    #[error("the push provider did not answer within {0} s")]
    Timeout(u64),
    #[error("the push credentials are unusable: {0}")]
    Credentials(String),
}

pub type PushFuture<'a> = Pin<Box<dyn Future<Output = Result<(), PushError>> + Send + 'a>>;

/// One configured push provider.
pub trait Pusher: Send + Sync {
    /// True when this provider delivers to devices of `os` (lower-cased).
    fn serves(&self, os: &str) -> bool;
    /// Tells one device that approval request `uuid` is waiting.
    fn push<'a>(&'a self, target: &'a PushTarget, uuid: &'a str) -> PushFuture<'a>;
}

pub trait Notifier: Send + Sync {
    /// Tells one device that approval request `uuid` is waiting.
    fn notify<'a>(&'a self, target: &'a PushTarget, uuid: &'a str) -> PushFuture<'a>;
}

/// The configured push providers, in registry order.
#[derive(Default)]
pub struct PushRouter {
    pub providers: Vec<Box<dyn Pusher>>,
}

impl Notifier for PushRouter {
    fn notify<'a>(&'a self, target: &'a PushTarget, uuid: &'a str) -> PushFuture<'a> {
        let os = target.os.to_ascii_lowercase();
        match self.providers.iter().find(|p| p.serves(&os)) {
            Some(provider) => provider.push(target, uuid),
            None => Box::pin(async move { Err(PushError::NoProvider(target.os.clone())) }),
        }
    }
}

/// The data every push carries.
pub fn approval_data(uuid: &str) -> Value {
    json!({"type": "approval_request", "uuid": uuid})
}

/// Largest provider answer read: error and token answers are a few hundred bytes.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// A provider's answer as JSON, read only up to [`MAX_ANSWER_BYTES`] (longer, or not JSON:
/// `None`). Time is bounded by the HTTP client's timeout.
pub(crate) async fn bounded_json(mut response: reqwest::Response) -> Option<Value> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.ok()? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return None;
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).ok()
}

/// A provider's refusal: its status and the reason it gave, if any.
pub(crate) async fn refusal(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body = bounded_json(response).await.unwrap_or(Value::Null);
    // FCM: {"error": {"status", "details": [{"errorCode"}]}}; APNs: {"reason"}.
    let reason = body["reason"]
        .as_str()
        .or_else(|| body["error"]["details"][0]["errorCode"].as_str())
        .or_else(|| body["error"]["status"].as_str())
        .unwrap_or("")
        .to_owned();
    (status, reason)
}

/// Pushes approval request `uuid` to every active device of the user that has a push token,
/// in the background. A token the provider reports as unregistered is forgotten.
pub fn notify_user(db: Db, notifier: Arc<dyn Notifier>, user_id: i64, uuid: String) {
    tokio::spawn(async move {
        let rows = match push_targets::of_user(&db, user_id).await {
            Ok(rows) => rows,
            Err(e) => {
                tracing::error!(error = %e, "loading push targets");
                return;
            }
        };
        let mut delivered = false;
        for row in rows {
            let target = PushTarget {
                device_id: row.device_id,
                os: row.os,
                token: row.token,
            };
            let outcome = notifier.notify(&target, &uuid).await;
            log_attempt(&db, &uuid, &target, &outcome).await;
            match outcome {
                Ok(()) => delivered = true,
                Err(PushError::Unregistered) => {
                    tracing::info!(
                        device = target.device_id,
                        "push token unregistered; forgotten"
                    );
                    let _ = push_targets::forget_token(&db, target.device_id).await;
                }
                Err(e) => tracing::warn!(device = target.device_id, error = %e, "push failed"),
            }
        }
        if delivered {
            let _ = push_targets::mark_notified(&db, &uuid).await;
        }
    });
}

/// Keeps the attempt for the console's deliveries page (best effort).
async fn log_attempt(db: &Db, uuid: &str, target: &PushTarget, outcome: &Result<(), PushError>) {
    let (state, reason) = match outcome {
        Ok(()) => ("sent", String::new()),
        Err(PushError::Unregistered) => ("unregistered", String::new()),
        Err(e) => ("failed", e.to_string()),
    };
    let attempt = push_log::PushAttempt {
        uuid,
        device_id: target.device_id,
        os: &target.os,
        state,
        reason: &reason,
        time: crate::clock::now(),
    };
    if let Err(e) = push_log::insert(db, &attempt).await {
        tracing::warn!(error = %e, "could not log a push attempt");
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Answers one request with `body` as JSON, then closes.
    async fn answer_once(body: String) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            // The request head first (a GET: no body).
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            while !request.ends_with(b"\r\n\r\n") {
                let n = stream.read(&mut buffer).await.unwrap();
                if n == 0 {
                    return;
                }
                request.extend_from_slice(&buffer[..n]);
            }
            let head = format!(
                "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(body.as_bytes()).await;
        });
        url
    }

    async fn refusal_of(body: String) -> (u16, String) {
        let url = answer_once(body).await;
        let response = reqwest::Client::new().get(url).send().await.unwrap();
        refusal(response).await
    }

    #[tokio::test]
    async fn a_refusal_reason_is_read_from_a_short_answer_only() {
        let reason = |padding: usize| {
            json!({"reason": "BadDeviceToken", "padding": "x".repeat(padding)}).to_string()
        };
        assert_eq!(
            refusal_of(reason(100)).await,
            (400, "BadDeviceToken".to_owned())
        );
        // Past the bound the answer is not read into memory, and no reason is taken from it.
        assert_eq!(
            refusal_of(reason(MAX_ANSWER_BYTES)).await,
            (400, String::new())
        );
    }
}
