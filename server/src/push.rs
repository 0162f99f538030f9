//! Push delivery of approval requests: a `Notifier` trait with FCM HTTP v1 (Android) and APNs
//! (iOS) providers. A push carries only ids — `{"type": "approval_request", "uuid"}` — the
//! device fetches the content itself over the signed device API, so nothing a bank asks the
//! user to approve passes through Google or Apple. Polling always works without push.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use countersign_protocol::{self as device, SoftwareSigner};
use serde_json::{Value, json};
use sqlx::Row;

use crate::state::{AppState, now};

/// Where one push goes.
pub struct PushTarget {
    pub device_id: i64,
    /// The device's OS as registered (`android`, `ios`, …): picks the provider.
    pub os: String,
    pub token: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("no push provider is configured for {0} devices")]
    NoProvider(String),
    #[error("the push token is no longer valid")]
    Unregistered,
    #[error("the push provider refused the message (HTTP {status}: {reason})")]
    Refused { status: u16, reason: String },
    #[error("the push provider could not be reached: {0}")]
    Unreachable(String),
    #[error("the push credentials are unusable: {0}")]
    Credentials(String),
}

pub type PushFuture<'a> = Pin<Box<dyn Future<Output = Result<(), PushError>> + Send + 'a>>;

pub trait Notifier: Send + Sync {
    /// Tells one device that approval request `uuid` is waiting.
    fn notify<'a>(&'a self, target: &'a PushTarget, uuid: &'a str) -> PushFuture<'a>;
}

/// The configured providers, chosen by the device's OS.
#[derive(Default)]
pub struct Providers {
    pub fcm: Option<Fcm>,
    pub apns: Option<Apns>,
}

impl Notifier for Providers {
    fn notify<'a>(&'a self, target: &'a PushTarget, uuid: &'a str) -> PushFuture<'a> {
        Box::pin(async move {
            match target.os.to_ascii_lowercase().as_str() {
                "android" => match &self.fcm {
                    Some(fcm) => fcm.send(&target.token, uuid).await,
                    None => Err(PushError::NoProvider(target.os.clone())),
                },
                "ios" | "ipados" => match &self.apns {
                    Some(apns) => apns.send(&target.token, uuid).await,
                    None => Err(PushError::NoProvider(target.os.clone())),
                },
                _ => Err(PushError::NoProvider(target.os.clone())),
            }
        })
    }
}

/// Pushes approval request `uuid` to every active device of the user that has a push token,
/// in the background. A token the provider reports as unregistered is forgotten.
pub fn notify_user(state: AppState, user_id: i64, uuid: String) {
    tokio::spawn(async move {
        let rows = match sqlx::query(
            "SELECT id, os_type, push_token FROM devices WHERE user_id = $1 AND revoked = 0 AND push_token IS NOT NULL AND push_token <> ''",
        )
        .bind(user_id)
        .fetch_all(&state.db.pool)
        .await
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::error!(error = %e, "loading push targets");
                return;
            }
        };
        let mut delivered = false;
        for row in rows {
            let target = PushTarget {
                device_id: row.get(0),
                os: row.get(1),
                token: row.get(2),
            };
            match state.notifier.notify(&target, &uuid).await {
                Ok(()) => delivered = true,
                Err(PushError::Unregistered) => {
                    tracing::info!(
                        device = target.device_id,
                        "push token unregistered; forgotten"
                    );
                    let _ = sqlx::query("UPDATE devices SET push_token = NULL WHERE id = $1")
                        .bind(target.device_id)
                        .execute(&state.db.writer)
                        .await;
                }
                Err(e) => tracing::warn!(device = target.device_id, error = %e, "push failed"),
            }
        }
        if delivered {
            let _ = sqlx::query("UPDATE approval_requests SET notified = 1 WHERE uuid = $1")
                .bind(&uuid)
                .execute(&state.db.writer)
                .await;
        }
    });
}

fn data(uuid: &str) -> Value {
    json!({"type": "approval_request", "uuid": uuid})
}

async fn refused(response: reqwest::Response) -> (u16, String) {
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

/// Firebase Cloud Messaging, HTTP v1 API, authorised by a service account (OAuth 2.0 JWT
/// bearer grant, RS256).
pub struct Fcm {
    http: reqwest::Client,
    endpoint: String,
    project_id: String,
    client_email: String,
    token_uri: String,
    key: RsaKeyPair,
    /// The OAuth access token and when it expires.
    access: Mutex<Option<(String, i64)>>,
}

impl Fcm {
    /// From the service account JSON Google issues (`project_id`, `client_email`,
    /// `private_key`, `token_uri`). `endpoint` overrides `https://fcm.googleapis.com`.
    pub fn from_service_account(
        json: &str,
        endpoint: Option<String>,
        http: reqwest::Client,
    ) -> Result<Fcm, PushError> {
        let bad = |what: &str| PushError::Credentials(format!("service account: {what}"));
        let account: Value = serde_json::from_str(json).map_err(|_| bad("not JSON"))?;
        let field = |name: &str| {
            account[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| bad(&format!("no {name}")))
        };
        let pem = zeroize::Zeroizing::new(field("private_key")?);
        let body: zeroize::Zeroizing<String> = zeroize::Zeroizing::new(
            pem.lines()
                .filter(|line| !line.starts_with("-----"))
                .flat_map(|line| line.trim().chars())
                .collect(),
        );
        let der = zeroize::Zeroizing::new(
            base64::engine::general_purpose::STANDARD
                .decode(body.as_bytes())
                .map_err(|_| bad("private_key is not PEM"))?,
        );
        let key = RsaKeyPair::from_pkcs8(&der)
            .map_err(|_| bad("private_key is not an RSA PKCS#8 key"))?;
        Ok(Fcm {
            http,
            endpoint: endpoint
                .unwrap_or_else(|| "https://fcm.googleapis.com".into())
                .trim_end_matches('/')
                .to_owned(),
            project_id: field("project_id")?,
            client_email: field("client_email")?,
            token_uri: field("token_uri")?,
            key,
            access: Mutex::new(None),
        })
    }

    fn assertion(&self, time: i64) -> Result<String, PushError> {
        let header = URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "typ": "JWT"}).to_string());
        let claims = URL_SAFE_NO_PAD.encode(
            json!({
                "iss": self.client_email,
                "scope": "https://www.googleapis.com/auth/firebase.messaging",
                "aud": self.token_uri,
                "iat": time,
                "exp": time + 3600,
            })
            .to_string(),
        );
        let signing_input = format!("{header}.{claims}");
        let mut signature = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| PushError::Credentials("RS256 signing failed".into()))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }

    async fn access_token(&self) -> Result<String, PushError> {
        let time = now();
        if let Ok(cached) = self.access.lock()
            && let Some((token, expires)) = cached.as_ref()
            && *expires > time + 60
        {
            return Ok(token.clone());
        }
        let response = self
            .http
            .post(&self.token_uri)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", &self.assertion(time)?),
            ])
            .send()
            .await
            .map_err(|e| PushError::Unreachable(e.without_url().to_string()))?;
        if !response.status().is_success() {
            let (status, reason) = refused(response).await;
            return Err(PushError::Credentials(format!(
                "token endpoint answered HTTP {status} {reason}"
            )));
        }
        let body: Value = response
            .json()
            .await
            .map_err(|_| PushError::Credentials("token endpoint answer is not JSON".into()))?;
        let token = body["access_token"]
            .as_str()
            .ok_or_else(|| PushError::Credentials("no access_token".into()))?
            .to_owned();
        let expires = time + body["expires_in"].as_i64().unwrap_or(3600);
        if let Ok(mut cached) = self.access.lock() {
            *cached = Some((token.clone(), expires));
        }
        Ok(token)
    }

    async fn send(&self, token: &str, uuid: &str) -> Result<(), PushError> {
        let access = self.access_token().await?;
        let response = self
            .http
            .post(format!(
                "{}/v1/projects/{}/messages:send",
                self.endpoint, self.project_id
            ))
            .bearer_auth(access)
            .json(&json!({"message": {
                "token": token,
                "data": data(uuid),
                "android": {"priority": "high", "ttl": "300s"},
            }}))
            .send()
            .await
            .map_err(|e| PushError::Unreachable(e.without_url().to_string()))?;
        if response.status().is_success() {
            return Ok(());
        }
        let (status, reason) = refused(response).await;
        if status == 404 || reason == "UNREGISTERED" {
            return Err(PushError::Unregistered);
        }
        Err(PushError::Refused { status, reason })
    }
}

/// Apple Push Notification service, token-based (ES256 provider token from a `.p8` key).
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
                .unwrap_or_else(|| "https://api.push.apple.com".into())
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
        let mut body = data(uuid);
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
        let (status, reason) = refused(response).await;
        if status == 410 || reason == "BadDeviceToken" || reason == "Unregistered" {
            return Err(PushError::Unregistered);
        }
        Err(PushError::Refused { status, reason })
    }
}
