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

use crate::db::Db;
use crate::store::push_targets;

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

/// A provider's refusal: its status and the reason it gave, if any.
pub(crate) async fn refusal(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
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
            match notifier.notify(&target, &uuid).await {
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
