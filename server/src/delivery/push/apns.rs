//! `apns`: Apple Push Notification service for iOS and iPadOS devices, token-based (an
//! ES256 provider token from a `.p8` key). `[push.apns]`: `key_file` (`AuthKey_<key id>.p8`),
//! `key_id`, `team_id`, `topic` (the app's bundle id), optional `endpoint` (overrides
//! `https://api.push.apple.com`; `https://api.sandbox.push.apple.com` for development builds).

use std::path::PathBuf;
use std::sync::Mutex;

use countersign_protocol::{self as device, SoftwareSigner};
use serde::Deserialize;
use serde_json::json;

use crate::delivery::notifier::{
    PushError, PushFuture, PushTarget, Pusher, approval_data, refusal,
};
use crate::delivery::now;
use crate::delivery::provider::{
    Context, DeliveryError, PushProvider, Table, parse_table, read_secret_file,
};

pub const PROVIDER: PushProvider = PushProvider {
    name: "apns",
    build,
};

const DEFAULT_ENDPOINT: &str = "https://api.push.apple.com";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApnsConfig {
    key_file: PathBuf,
    key_id: String,
    team_id: String,
    topic: String,
    endpoint: Option<String>,
}

fn build(table: &Table, context: &Context) -> Result<Box<dyn Pusher>, DeliveryError> {
    let config: ApnsConfig = parse_table("push", PROVIDER.name, table)?;
    let key = read_secret_file("push", PROVIDER.name, &config.key_file)?;
    let apns = Apns::new(
        &key,
        config.key_id,
        config.team_id,
        config.topic,
        config.endpoint,
        context.http.clone(),
    )
    .map_err(|e| DeliveryError::config("push", PROVIDER.name, e.to_string()))?;
    Ok(Box::new(apns))
}

pub struct Apns {
    http: reqwest::Client,
    endpoint: String,
    team_id: String,
    key_id: String,
    /// The app's bundle id.
    topic: String,
    key: SoftwareSigner,
    /// Apple accepts a provider token for an hour and refuses refreshes more often than
    /// every 20 minutes: one is reused for 50 minutes.
    provider_token: Mutex<Option<(String, i64)>>,
}

impl Apns {
    /// `endpoint` overrides `https://api.push.apple.com` (`https://api.sandbox.push.apple.com`
    /// for development builds).
    pub fn new(
        p8_key: &[u8],
        key_id: String,
        team_id: String,
        topic: String,
        endpoint: Option<String>,
        http: reqwest::Client,
    ) -> Result<Apns, PushError> {
        let key = SoftwareSigner::from_pkcs8(p8_key).ok_or_else(|| {
            PushError::Credentials("the APNs key is not a P-256 PKCS#8 key".into())
        })?;
        Ok(Apns {
            http,
            endpoint: endpoint
                .unwrap_or_else(|| DEFAULT_ENDPOINT.into())
                .trim_end_matches('/')
                .to_owned(),
            team_id,
            key_id,
            topic,
            key,
            provider_token: Mutex::new(None),
        })
    }

    fn token(&self) -> Result<String, PushError> {
        let time = now();
        if let Ok(cached) = self.provider_token.lock()
            && let Some((token, issued)) = cached.as_ref()
            && time - issued < 50 * 60
        {
            return Ok(token.clone());
        }
        let token = device::sign_compact(
            &json!({"alg": "ES256", "kid": self.key_id}),
            json!({"iss": self.team_id, "iat": time})
                .to_string()
                .as_bytes(),
            &self.key,
        )
        .map_err(|e| PushError::Credentials(e.to_string()))?;
        if let Ok(mut cached) = self.provider_token.lock() {
            *cached = Some((token.clone(), time));
        }
        Ok(token)
    }

    async fn send(&self, token: &str, uuid: &str) -> Result<(), PushError> {
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(PushError::Unregistered);
        }
        let mut body = approval_data(uuid);
        // Shown by the system when the app cannot run first; the app replaces it with the
        // verified request (mutable-content lets its notification extension do that).
        body["aps"] = json!({
            "alert": {"loc-key": "APPROVAL_REQUEST_PENDING"},
            "sound": "default",
            "mutable-content": 1,
        });
        let response = self
            .http
            .post(format!("{}/3/device/{token}", self.endpoint))
            .header("authorization", format!("bearer {}", self.token()?))
            .header("apns-topic", &self.topic)
            .header("apns-push-type", "alert")
            .header("apns-priority", "10")
            .header("apns-expiration", (now() + 300).to_string())
            .json(&body)
            .send()
            .await
            .map_err(|e| PushError::Unreachable(e.without_url().to_string()))?;
        if response.status().is_success() {
            return Ok(());
        }
        let (status, reason) = refusal(response).await;
        if status == 410 || reason == "BadDeviceToken" || reason == "Unregistered" {
            return Err(PushError::Unregistered);
        }
        Err(PushError::Refused { status, reason })
    }
}

impl Pusher for Apns {
    fn serves(&self, os: &str) -> bool {
        matches!(os, "ios" | "ipados")
    }

    fn push<'a>(&'a self, target: &'a PushTarget, uuid: &'a str) -> PushFuture<'a> {
        Box::pin(self.send(&target.token, uuid))
    }
}
