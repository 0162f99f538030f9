//! The device side of docs/device-protocol.md over HTTP: registration, polling for pending
//! approval requests (each challenge verified with the server's key before anything is shown),
//! answering, and push-token updates. Async (reqwest); the caller supplies the tokio runtime.
//!
//! The client learns the server's clock from each response's `Date` header and signs request
//! timestamps and judges challenge expiry on that clock, so a phone whose clock is minutes off
//! still works.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::{
    DeviceSigner, RegistrationLink, SignerError, UndisplayableContent, check_displayable,
    registration_string, request_string,
};
use crate::account::{Account, OtpParameters};
use crate::otp::Algorithm;
use crate::secret::Secret;
use crate::vault::{DeviceKey, DeviceRecord};

/// Largest answer read from a server: a page of pending challenges, each at most a few
/// hundred KiB (docs/device-protocol.md, Displayable content). A server cannot make the
/// phone buffer more.
const MAX_RESPONSE_BYTES: usize = 8 << 20;
/// Largest registration answer (it carries the user's TOTP seed; read into one buffer that is
/// wiped afterwards, so it is allocated once at this size).
const MAX_REGISTRATION_RESPONSE_BYTES: usize = 64 << 10;

/// What a device keeps after registering (not secret; the key stays in its signer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCredentials {
    pub server_url: String,
    pub device_id: i64,
    /// The user's id on the server (Authy id).
    pub authy_id: i64,
    /// The server's challenge-signing key, SubjectPublicKeyInfo DER.
    pub server_public_key: Vec<u8>,
}

impl DeviceCredentials {
    /// The record the vault keeps for the registration `registration_id` (see
    /// [`crate::vault::new_registration_id`]), whose device key is `key`.
    pub fn to_record(&self, registration_id: &str, key: DeviceKey) -> DeviceRecord {
        DeviceRecord {
            registration_id: registration_id.to_owned(),
            server_url: self.server_url.clone(),
            device_id: self.device_id,
            authy_id: self.authy_id,
            server_public_key: self.server_public_key.clone(),
            key,
        }
    }

    pub fn from_record(record: &DeviceRecord) -> DeviceCredentials {
        DeviceCredentials {
            server_url: record.server_url.clone(),
            device_id: record.device_id,
            authy_id: record.authy_id,
            server_public_key: record.server_public_key.clone(),
        }
    }
}

/// The result of registering: credentials, and the user's Authy-style TOTP account.
#[derive(Debug, Clone)]
pub struct Registration {
    pub credentials: DeviceCredentials,
    pub account: Option<Account>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    #[error("the server could not be reached: {0}")]
    Network(String),
    /// The server refused the request; `error` is the protocol's error code.
    #[error("the server refused the request: {error} ({message})")]
    Rejected {
        status: u16,
        error: String,
        message: String,
    },
    #[error("the server's answer is not what the protocol specifies: {0}")]
    InvalidResponse(String),
    #[error("a challenge is not signed by this server's key")]
    BadChallengeSignature,
    #[error("a challenge is not for this user or kind of approval")]
    ChallengeMismatch,
    /// Signed by the server, but not displayable (docs/device-protocol.md, Displayable
    /// content): never shown, cannot be answered.
    #[error("a challenge cannot be displayed: {0}")]
    Undisplayable(UndisplayableContent),
    #[error("the approval request has expired")]
    Expired,
    #[error("this request needs the number shown on the other screen, one of {0:?}")]
    NumberRequired(Vec<u8>),
    #[error(transparent)]
    Signer(#[from] SignerError),
}

/// A pending approval request, verified: signed by the server and addressed to this user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub uuid: String,
    pub message: String,
    /// Shown in this order.
    pub details: Vec<(String, String)>,
    pub hidden_details_sha256: String,
    pub created_at: i64,
    /// 0: never expires.
    pub expires_at: i64,
    /// Number matching: pick the one the bank's page shows. Empty when not used.
    pub number_choices: Vec<u8>,
    nonce: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Deny,
}

/// Pending requests: the verified ones, and why any others were refused.
#[derive(Debug, Default)]
pub struct Pending {
    pub challenges: Vec<Challenge>,
    pub refused: Vec<ClientError>,
}

pub struct DeviceClient {
    http: reqwest::Client,
    credentials: DeviceCredentials,
    signer: Arc<dyn DeviceSigner>,
    /// Server clock minus local clock, seconds.
    clock_offset: AtomicI64,
}

fn local_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn http_client() -> Result<reqwest::Client, ClientError> {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .map_err(|e| ClientError::Network(e.to_string()))
}

fn network(error: reqwest::Error) -> ClientError {
    // Without the URL: it may carry a registration code.
    ClientError::Network(error.without_url().to_string())
}

/// The server's clock from a response, when it sent a `Date` header.
fn server_clock(response: &reqwest::Response) -> Option<i64> {
    let date = response
        .headers()
        .get(reqwest::header::DATE)?
        .to_str()
        .ok()?;
    let time = httpdate::parse_http_date(date).ok()?;
    time.duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs() as i64)
}

/// The whole body, refused beyond `limit` bytes. `capacity` is reserved up front; a body that
/// fits never moves, so wiping the returned buffer wipes every copy this client made.
async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
    capacity: usize,
) -> Result<Zeroizing<Vec<u8>>, ClientError> {
    let mut body = Zeroizing::new(Vec::with_capacity(capacity.min(limit)));
    while let Some(chunk) = response.chunk().await.map_err(network)? {
        if body.len() + chunk.len() > limit {
            return Err(ClientError::InvalidResponse(format!(
                "the answer is larger than {limit} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The protocol error in a refusal's body.
fn rejection(status: u16, body: &[u8]) -> ClientError {
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return ClientError::InvalidResponse(format!("HTTP {status} without a JSON body"));
    };
    let text = |key: &str| body[key].as_str().unwrap_or("").chars().take(200).collect();
    ClientError::Rejected {
        status,
        error: text("error"),
        message: text("message"),
    }
}

/// The body of a successful answer, or the protocol error the server gave.
async fn read(response: reqwest::Response) -> Result<Value, ClientError> {
    let status = response.status().as_u16();
    let body = read_body(response, MAX_RESPONSE_BYTES, 16 << 10).await?;
    if !(200..300).contains(&status) {
        return Err(rejection(status, &body));
    }
    serde_json::from_slice(&body)
        .map_err(|_| ClientError::InvalidResponse(format!("HTTP {status} without a JSON body")))
}

/// `POST /device/v1/register`'s body. Serialised into one buffer sized for it, which is wiped.
#[derive(Serialize)]
struct RegisterBody<'a> {
    code: &'a str,
    public_key: &'a str,
    name: &'a str,
    os: &'a str,
    push_token: Option<&'a str>,
    signature: &'a str,
}

impl RegisterBody<'_> {
    fn to_json(&self) -> Zeroizing<Vec<u8>> {
        let text_len = self.code.len()
            + self.public_key.len()
            + self.name.len()
            + self.os.len()
            + self.push_token.map_or(0, str::len)
            + self.signature.len();
        // JSON escaping makes a byte at most 6 bytes long (`\u00XX`): no reallocation.
        let mut out = Zeroizing::new(Vec::with_capacity(6 * text_len + 256));
        // Writing plain strings into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, self);
        out
    }
}

/// The registration answer. The TOTP seed is read straight into a wiped string.
#[derive(Deserialize)]
struct Registered {
    device_id: Option<i64>,
    authy_id: Option<i64>,
    server_public_key: Option<String>,
    #[serde(default)]
    totp: Option<TotpSeed>,
}

#[derive(Deserialize)]
struct TotpSeed {
    #[serde(default)]
    secret: Option<Zeroizing<String>>,
    #[serde(default)]
    digits: Option<Value>,
    #[serde(default)]
    period: Option<Value>,
    #[serde(default)]
    algorithm: Option<Value>,
    #[serde(default)]
    issuer: Option<Value>,
    #[serde(default)]
    label: Option<Value>,
}

fn random_nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes[..]);
    URL_SAFE_NO_PAD.encode(bytes)
}

impl DeviceClient {
    /// Registers this device with the server named by `link`, proving possession of the
    /// signer's key.
    pub async fn register(
        link: &RegistrationLink,
        signer: Arc<dyn DeviceSigner>,
        name: &str,
        os: &str,
        push_token: Option<&str>,
    ) -> Result<(DeviceClient, Registration), ClientError> {
        let http = http_client()?;
        let public_key = URL_SAFE_NO_PAD.encode(signer.public_key_spki()?);
        let proof = Zeroizing::new(registration_string(
            &link.code,
            &public_key,
            name,
            os,
            push_token,
        ));
        let signature = URL_SAFE_NO_PAD.encode(signer.sign_raw(proof.as_bytes())?);
        let body = RegisterBody {
            code: &link.code,
            public_key: &public_key,
            name,
            os,
            push_token,
            signature: &signature,
        }
        .to_json();
        let response = http
            .post(format!("{}/device/v1/register", link.server_url))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            // The HTTP stack frees this buffer through its owner, which wipes it.
            .body(bytes::Bytes::from_owner(body))
            .send()
            .await
            .map_err(network)?;
        let offset = server_clock(&response).map(|server| server - local_now());
        let status = response.status().as_u16();
        let limit = MAX_REGISTRATION_RESPONSE_BYTES;
        let body = read_body(response, limit, limit).await?;
        if !(200..300).contains(&status) {
            return Err(rejection(status, &body));
        }
        let invalid = |what: &str| ClientError::InvalidResponse(format!("registration: {what}"));
        let registered: Registered =
            serde_json::from_slice(&body).map_err(|_| invalid("not the protocol's JSON"))?;
        let credentials = DeviceCredentials {
            server_url: link.server_url.clone(),
            device_id: registered
                .device_id
                .ok_or_else(|| invalid("no device_id"))?,
            authy_id: registered.authy_id.ok_or_else(|| invalid("no authy_id"))?,
            server_public_key: registered
                .server_public_key
                .and_then(|key| URL_SAFE_NO_PAD.decode(key).ok())
                .ok_or_else(|| invalid("no server_public_key"))?,
        };
        let account = registered.totp.as_ref().and_then(totp_account);
        let client = DeviceClient::new(credentials.clone(), signer)?;
        if let Some(offset) = offset {
            client.clock_offset.store(offset, Ordering::Relaxed);
        }
        Ok((
            client,
            Registration {
                credentials,
                account,
            },
        ))
    }

    /// A client for a device registered earlier.
    pub fn new(
        credentials: DeviceCredentials,
        signer: Arc<dyn DeviceSigner>,
    ) -> Result<DeviceClient, ClientError> {
        Ok(DeviceClient {
            http: http_client()?,
            credentials,
            signer,
            clock_offset: AtomicI64::new(0),
        })
    }

    pub fn credentials(&self) -> &DeviceCredentials {
        &self.credentials
    }

    /// Server clock minus local clock, in seconds, as last observed.
    pub fn clock_offset(&self) -> i64 {
        self.clock_offset.load(Ordering::Relaxed)
    }

    /// Now on the server's clock.
    pub fn server_now(&self) -> i64 {
        local_now() + self.clock_offset()
    }

    /// A device-authenticated request (signature over method, path, timestamp, nonce, body).
    async fn signed(&self, method: &str, path: &str, body: &[u8]) -> Result<Value, ClientError> {
        let timestamp = u64::try_from(self.server_now()).unwrap_or(0);
        let nonce = random_nonce();
        let message = request_string(method, path, timestamp, &nonce, body);
        let signature = URL_SAFE_NO_PAD.encode(self.signer.sign_raw(message.as_bytes())?);
        let url = format!("{}{path}", self.credentials.server_url);
        let request = match method {
            "GET" => self.http.get(url),
            _ => self
                .http
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_vec()),
        };
        let response = request
            .header(
                "X-Countersign-Device",
                self.credentials.device_id.to_string(),
            )
            .header("X-Countersign-Timestamp", timestamp.to_string())
            .header("X-Countersign-Nonce", nonce)
            .header("X-Countersign-Signature", signature)
            .send()
            .await
            .map_err(network)?;
        if let Some(server) = server_clock(&response) {
            self.clock_offset
                .store(server - local_now(), Ordering::Relaxed);
        }
        read(response).await
    }

    /// The user's pending approval requests. Each challenge is verified before it is
    /// returned; any that fail are listed in `refused` and never shown.
    pub async fn pending(&self) -> Result<Pending, ClientError> {
        let body = self
            .signed("GET", "/device/v1/approval_requests", b"")
            .await?;
        let list = body["approval_requests"]
            .as_array()
            .ok_or_else(|| ClientError::InvalidResponse("no approval_requests list".into()))?;
        let mut pending = Pending::default();
        for item in list {
            match item.as_str().ok_or(ClientError::BadChallengeSignature) {
                Ok(jws) => match self.verify_challenge(jws) {
                    Ok(challenge) => pending.challenges.push(challenge),
                    Err(error) => pending.refused.push(error),
                },
                Err(error) => pending.refused.push(error),
            }
        }
        Ok(pending)
    }

    /// Checks a challenge: the server's signature, the protocol version and kind, this
    /// user, not expired (server clock).
    pub fn verify_challenge(&self, jws: &str) -> Result<Challenge, ClientError> {
        let (_, payload) = super::verify_compact(jws, &self.credentials.server_public_key)
            .map_err(|_| ClientError::BadChallengeSignature)?;
        let payload: Value = serde_json::from_slice(&payload)
            .map_err(|_| ClientError::InvalidResponse("challenge payload is not JSON".into()))?;
        if payload["v"].as_i64() != Some(1)
            || payload["typ"].as_str() != Some("payment-approval")
            || payload["authy_id"].as_i64() != Some(self.credentials.authy_id)
        {
            return Err(ClientError::ChallengeMismatch);
        }
        let text = |key: &str| {
            payload[key]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| ClientError::InvalidResponse(format!("challenge has no {key}")))
        };
        let details: Vec<(String, String)> = serde_json::from_value(payload["details"].clone())
            .map_err(|_| ClientError::InvalidResponse("challenge details".into()))?;
        let message = text("message")?;
        // A verified signature says who sent it, not that it can be shown faithfully.
        check_displayable(&message, &details).map_err(ClientError::Undisplayable)?;
        let expires_at = payload["expires_at"].as_i64().unwrap_or(0);
        if expires_at != 0 && expires_at <= self.server_now() {
            return Err(ClientError::Expired);
        }
        let number_choices = match payload.get("number_choices") {
            None | Some(Value::Null) => Vec::new(),
            Some(list) => serde_json::from_value(list.clone())
                .map_err(|_| ClientError::InvalidResponse("number_choices".into()))?,
        };
        Ok(Challenge {
            uuid: text("uuid")?,
            message,
            details,
            hidden_details_sha256: text("hidden_details_sha256")?,
            created_at: payload["created_at"].as_i64().unwrap_or(0),
            expires_at,
            number_choices,
            nonce: text("nonce")?,
        })
    }

    /// Answers a verified challenge. With number matching, approving needs the number the
    /// user picked among `number_choices`. Returns the request's new status.
    pub async fn answer(
        &self,
        challenge: &Challenge,
        decision: Decision,
        number: Option<u8>,
    ) -> Result<String, ClientError> {
        if challenge.expires_at != 0 && challenge.expires_at <= self.server_now() {
            return Err(ClientError::Expired);
        }
        let mut payload = json!({
            "v": 1,
            "typ": "payment-approval",
            "uuid": challenge.uuid,
            "nonce": challenge.nonce,
            "device_id": self.credentials.device_id,
            "decision": match decision { Decision::Approve => "approve", Decision::Deny => "deny" },
            "content_sha256": challenge.content_sha256(),
            "hidden_details_sha256": challenge.hidden_details_sha256,
            "iat": self.server_now(),
        });
        if decision == Decision::Approve && !challenge.number_choices.is_empty() {
            match number {
                Some(number) if challenge.number_choices.contains(&number) => {
                    payload["number"] = json!(number)
                }
                _ => {
                    return Err(ClientError::NumberRequired(
                        challenge.number_choices.clone(),
                    ));
                }
            }
        }
        let header = json!({
            "alg": "ES256",
            "typ": "countersign-answer+jws",
            "kid": self.credentials.device_id.to_string(),
        });
        let jws = super::sign_compact(
            &header,
            payload.to_string().as_bytes(),
            self.signer.as_ref(),
        )
        .map_err(|error| match error {
            super::JwsError::Signer(error) => ClientError::Signer(error),
            other => ClientError::InvalidResponse(other.to_string()),
        })?;
        let path = format!("/device/v1/approval_requests/{}/answer", challenge.uuid);
        let body = json!({"answer": jws}).to_string();
        let answered = self.signed("POST", &path, body.as_bytes()).await?;
        answered["status"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| ClientError::InvalidResponse("answer without status".into()))
    }

    /// Sets (or with `None` clears) the token the server pushes to.
    pub async fn update_push_token(&self, token: Option<&str>) -> Result<(), ClientError> {
        let body = json!({"push_token": token}).to_string();
        self.signed("POST", "/device/v1/push_token", body.as_bytes())
            .await
            .map(|_| ())
    }
}

impl Challenge {
    /// What the app shows: the message, then the details in order.
    pub fn displayed_content(&self) -> String {
        super::displayed_content(&self.message, &self.details)
    }

    /// Hex SHA-256 of [`Challenge::displayed_content`]: what the answer binds.
    pub fn content_sha256(&self) -> String {
        use sha2::{Digest, Sha256};
        data_encoding::HEXLOWER.encode(&Sha256::digest(self.displayed_content().as_bytes()))
    }
}

/// The Authy-style TOTP account the server sends at registration, if well-formed.
fn totp_account(totp: &TotpSeed) -> Option<Account> {
    let secret = Secret::from_base32(totp.secret.as_ref()?).ok()?;
    let algorithm = match totp
        .algorithm
        .as_ref()
        .and_then(Value::as_str)
        .unwrap_or("SHA1")
    {
        "SHA256" => Algorithm::Sha256,
        "SHA512" => Algorithm::Sha512,
        _ => Algorithm::Sha1,
    };
    let number = |value: &Option<Value>, default: i64| {
        u32::try_from(value.as_ref().and_then(Value::as_i64).unwrap_or(default)).ok()
    };
    let params = OtpParameters::totp(
        algorithm,
        number(&totp.digits, 6)?,
        number(&totp.period, 30)?,
    )
    .ok()?;
    let text = |value: &Option<Value>| value.as_ref().and_then(Value::as_str).map(str::to_owned);
    Some(Account::new(
        text(&totp.issuer),
        text(&totp.label).unwrap_or_default(),
        secret,
        params,
    ))
}
