//! `fcm`: Firebase Cloud Messaging, HTTP v1 API, for Android devices, authorised by a
//! service account (OAuth 2.0 JWT bearer grant, RS256). `[push.fcm]`:
//! `service_account_file` (the JSON Google issues), optional `endpoint` (overrides
//! `https://fcm.googleapis.com`: tests, proxies).

use std::path::PathBuf;
use std::sync::Mutex;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::delivery::notifier::{
    PushError, PushFuture, PushTarget, Pusher, approval_data, bounded_json, refusal,
};
use crate::delivery::now;
use crate::delivery::provider::{
    Context, DeliveryError, PushProvider, Table, parse_table, read_secret_file,
};

pub const PROVIDER: PushProvider = PushProvider { name: "fcm", build };

const DEFAULT_ENDPOINT: &str = "https://fcm.googleapis.com";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FcmConfig {
    service_account_file: PathBuf,
    endpoint: Option<String>,
}

fn build(table: &Table, context: &Context) -> Result<Box<dyn Pusher>, DeliveryError> {
    let config: FcmConfig = parse_table("push", PROVIDER.name, table)?;
    let path = &config.service_account_file;
    let json = read_secret_file("push", PROVIDER.name, path)?;
    let text = std::str::from_utf8(&json).map_err(|_| {
        DeliveryError::config("push", PROVIDER.name, format!("{} is not UTF-8", path.display()))
    })?;
    let fcm = Fcm::from_service_account(text, config.endpoint, context.http.clone())
        .map_err(|e| DeliveryError::config("push", PROVIDER.name, e.to_string()))?;
    Ok(Box::new(fcm))
}

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

/// The DER inside a PEM block (header and footer lines dropped).
fn pem_der(pem: &str) -> Option<Zeroizing<Vec<u8>>> {
    let body: Zeroizing<String> = Zeroizing::new(
        pem.lines()
            .filter(|line| !line.starts_with("-----"))
            .flat_map(|line| line.trim().chars())
            .collect(),
    );
    STANDARD.decode(body.as_bytes()).ok().map(Zeroizing::new)
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
        let pem = Zeroizing::new(field("private_key")?);
        let der = pem_der(&pem).ok_or_else(|| bad("private_key is not PEM"))?;
        let key = RsaKeyPair::from_pkcs8(&der)
            .map_err(|_| bad("private_key is not an RSA PKCS#8 key"))?;
        Ok(Fcm {
            http,
            endpoint: endpoint
                .unwrap_or_else(|| DEFAULT_ENDPOINT.into())
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
            let (status, reason) = refusal(response).await;
            return Err(PushError::Credentials(format!(
                "token endpoint answered HTTP {status} {reason}"
            )));
        }
        let body = bounded_json(response)
            .await
            .ok_or_else(|| PushError::Credentials("token endpoint answer is not JSON".into()))?;
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
                "data": approval_data(uuid),
                "android": {"priority": "high", "ttl": "300s"},
            }}))
            .send()
            .await
            .map_err(|e| PushError::Unreachable(e.without_url().to_string()))?;
        if response.status().is_success() {
            return Ok(());
        }
        let (status, reason) = refusal(response).await;
        if status == 404 || reason == "UNREGISTERED" {
            return Err(PushError::Unregistered);
        }
        Err(PushError::Refused { status, reason })
    }
}

impl Pusher for Fcm {
    fn serves(&self, os: &str) -> bool {
        os == "android"
    }

    fn push<'a>(&'a self, target: &'a PushTarget, uuid: &'a str) -> PushFuture<'a> {
        Box::pin(self.send(&target.token, uuid))
    }
}
