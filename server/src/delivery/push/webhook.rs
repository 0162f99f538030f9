//! `webhook`: a generic push provider — POSTs each push as JSON to an operator's relay, which
//! forwards it to the device by its own means (a self-hosted push service, UnifiedPush, a
//! vendor's API). The body is
//! `{"os", "token", "data": {"type": "approval_request", "uuid"}, "sent_at"}`: `data` is what
//! FCM and APNs carry too, ids only. With a `secret` the body is signed:
//! `X-Countersign-Signature: sha256=<lowercase hex HMAC-SHA256(secret, body)>`, so the relay
//! can refuse pushes that did not come from this server (`sent_at` lets it refuse old ones).
//!
//! `[push.webhook]`: `url`, optional `secret`, `platforms` (device OS names it serves;
//! default every OS no earlier provider serves) and `timeout_seconds` (default 5, 1 to 30).
//! 2xx is delivered, 410 means the token is gone (forgotten), anything else is refused.

use std::time::Duration;

use data_encoding::HEXLOWER;
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::delivery::notifier::{PushError, PushFuture, PushTarget, Pusher, approval_data};
use crate::delivery::now;
use crate::delivery::provider::{Context, DeliveryError, PushProvider, Table, parse_table};

pub const PROVIDER: PushProvider = PushProvider {
    name: "webhook",
    build,
};

/// The header carrying the body's signature.
pub const SIGNATURE_HEADER: &str = "x-countersign-signature";
const DEFAULT_TIMEOUT_SECONDS: u64 = 5;
const TIMEOUT_RANGE: std::ops::RangeInclusive<u64> = 1..=30;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookConfig {
    url: String,
    secret: Option<String>,
    platforms: Option<Vec<String>>,
    timeout_seconds: Option<u64>,
}

fn build(table: &Table, context: &Context) -> Result<Box<dyn Pusher>, DeliveryError> {
    let config: WebhookConfig = parse_table("push", PROVIDER.name, table)?;
    let invalid = |reason: &str| DeliveryError::config("push", PROVIDER.name, reason);
    let timeout = config.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT_SECONDS);
    if !TIMEOUT_RANGE.contains(&timeout) {
        return Err(invalid("timeout_seconds must be 1 to 30"));
    }
    if reqwest::Url::parse(&config.url).is_err() {
        return Err(invalid("url is not a URL"));
    }
    let secret = config.secret.map(Zeroizing::new);
    if secret.as_ref().is_some_and(|s| s.is_empty()) {
        return Err(invalid("secret must not be empty (leave it out to send unsigned)"));
    }
    Ok(Box::new(WebhookPusher {
        http: context.http.clone(),
        url: config.url,
        secret,
        platforms: config
            .platforms
            .map(|list| list.iter().map(|os| os.to_ascii_lowercase()).collect()),
        timeout: Duration::from_secs(timeout),
    }))
}

pub struct WebhookPusher {
    http: reqwest::Client,
    url: String,
    secret: Option<Zeroizing<String>>,
    /// Lower-cased OS names; `None` serves every OS.
    platforms: Option<Vec<String>>,
    timeout: Duration,
}

/// `sha256=<hex>` of the body under `secret`.
fn signature(secret: &[u8], body: &[u8]) -> Result<String, PushError> {
    // HMAC takes keys of any length; the error is only there for fixed-key MACs.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .map_err(|_| PushError::Credentials("the webhook secret cannot key HMAC".into()))?;
    mac.update(body);
    Ok(format!(
        "sha256={}",
        HEXLOWER.encode(&mac.finalize().into_bytes())
    ))
}

impl WebhookPusher {
    async fn send(&self, target: &PushTarget, uuid: &str) -> Result<(), PushError> {
        let body = json!({
            "os": target.os,
            "token": target.token,
            "data": approval_data(uuid),
            "sent_at": now(),
        })
        .to_string();
        let mut request = self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .timeout(self.timeout);
        if let Some(secret) = &self.secret {
            let signed = signature(secret.as_bytes(), body.as_bytes())?;
            request = request.header(SIGNATURE_HEADER, signed);
        }
        let response = request.body(body).send().await.map_err(|e| {
            if e.is_timeout() {
                PushError::Timeout(self.timeout.as_secs())
            } else {
                PushError::Unreachable(e.without_url().to_string())
            }
        })?;
        match response.status().as_u16() {
            200..=299 => Ok(()),
            410 => Err(PushError::Unregistered),
            status => Err(PushError::Refused {
                status,
                reason: String::new(),
            }),
        }
    }
}

impl Pusher for WebhookPusher {
    fn serves(&self, os: &str) -> bool {
        self.platforms
            .as_ref()
            .is_none_or(|list| list.iter().any(|p| p == os))
    }

    fn push<'a>(&'a self, target: &'a PushTarget, uuid: &'a str) -> PushFuture<'a> {
        Box::pin(self.send(target, uuid))
    }
}
