//! A phone registered for a user through the device protocol (docs/device-protocol.md) with
//! the core's software key, as the Countersign app registers: the suites that need a device
//! (to answer approval requests, to call the device API, to be revoked) share this one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use countersign_protocol::{self as device, DeviceSigner, SoftwareSigner};
use data_encoding::HEXLOWER;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{Value, json};
use sha2::Digest;

pub struct Phone {
    pub base_url: String,
    pub http: Client,
    pub id: i64,
    pub signer: SoftwareSigner,
    /// The server's public key (SPKI), which signs the challenges.
    pub server_key: Vec<u8>,
}

/// What a phone says of itself when it registers.
pub struct Registration<'a> {
    pub name: &'a str,
    pub os: &'a str,
    pub push_token: Option<&'a str>,
}

impl Default for Registration<'_> {
    fn default() -> Self {
        Registration {
            name: "Pixel 9",
            os: "android",
            push_token: None,
        }
    }
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A nonce no other request of this process uses.
pub fn fresh_nonce() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("n{}-{}", NEXT.fetch_add(1, Ordering::Relaxed), unix_now())
}

/// Registers a phone for `user` of the server's app ("Pixel 9", Android, no push token).
pub fn register(server: &super::Server, user: i64) -> Phone {
    register_as(
        &server.base_url,
        &server.api_key,
        server.client(),
        user,
        &Registration::default(),
    )
}

/// Registers a phone for `user` of the app whose key is `api_key`: a registration code from
/// the Authy API, then the device's proof of its key.
pub fn register_as(
    base_url: &str,
    api_key: &str,
    http: Client,
    user: i64,
    registration: &Registration<'_>,
) -> Phone {
    let answer: Value = http
        .post(format!(
            "{base_url}/protected/json/users/{user}/registrations"
        ))
        .header("X-Authy-API-Key", api_key)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let code = answer["registration"]["code"].as_str().unwrap();
    let signer = SoftwareSigner::generate();
    let public_key = URL_SAFE_NO_PAD.encode(signer.public_key_spki().unwrap());
    let Registration {
        name,
        os,
        push_token,
    } = *registration;
    let proof = device::registration_string(code, &public_key, name, os, push_token);
    let signature = URL_SAFE_NO_PAD.encode(signer.sign_raw(proof.as_bytes()).unwrap());
    let mut body = json!({"code": code, "public_key": public_key, "name": name, "os": os, "signature": signature});
    if let Some(token) = push_token {
        body["push_token"] = json!(token);
    }
    let registered: Value = http
        .post(format!("{base_url}/device/v1/register"))
        .json(&body)
        .send()
        .unwrap()
        .json()
        .unwrap();
    Phone {
        base_url: base_url.to_owned(),
        http,
        id: registered["device_id"]
            .as_i64()
            .unwrap_or_else(|| panic!("the device did not register: {registered}")),
        signer,
        server_key: URL_SAFE_NO_PAD
            .decode(registered["server_public_key"].as_str().unwrap())
            .unwrap(),
    }
}

impl Phone {
    /// A device API request signed as the protocol says, with a fresh timestamp and nonce.
    pub fn signed(&self, method: &str, path: &str, body: &[u8]) -> RequestBuilder {
        self.signed_at(method, path, body, unix_now(), &fresh_nonce())
    }

    /// The same with the timestamp and nonce chosen (clock and replay tests).
    pub fn signed_at(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        timestamp: u64,
        nonce: &str,
    ) -> RequestBuilder {
        let message = device::request_string(method, path, timestamp, nonce, body);
        let signature = URL_SAFE_NO_PAD.encode(self.signer.sign_raw(message.as_bytes()).unwrap());
        let url = format!("{}{path}", self.base_url);
        let request = if method == "GET" {
            self.http.get(url)
        } else {
            self.http
                .post(url)
                .header("Content-Type", "application/json")
                .body(body.to_vec())
        };
        request
            .header("X-Countersign-Device", self.id.to_string())
            .header("X-Countersign-Timestamp", timestamp.to_string())
            .header("X-Countersign-Nonce", nonce)
            .header("X-Countersign-Signature", signature)
    }

    /// The pending requests' challenges, each verified under the server's key.
    pub fn challenges(&self) -> Result<Vec<Value>, String> {
        let listed: Value = self
            .signed("GET", "/device/v1/approval_requests", b"")
            .send()
            .and_then(|r| r.json())
            .map_err(|e| e.to_string())?;
        let Some(all) = listed["approval_requests"].as_array() else {
            return Err(format!("no approval_requests in {listed}"));
        };
        all.iter()
            .map(|jws| {
                let jws = jws.as_str().ok_or("a challenge that is not a string")?;
                let (_, payload) = device::verify_compact(jws, &self.server_key)
                    .map_err(|e| format!("a challenge the server did not sign: {e:?}"))?;
                serde_json::from_slice(&payload).map_err(|e| e.to_string())
            })
            .collect()
    }

    /// The signed answer (a compact JWS) to `challenge`: the content shown, hashed, and the
    /// decision (`approve` or `deny`).
    pub fn answer_jws(&self, challenge: &Value, decision: &str) -> String {
        let details: Vec<(String, String)> =
            serde_json::from_value(challenge["details"].clone()).unwrap_or_default();
        let message = challenge["message"].as_str().unwrap_or_default();
        let shown = device::displayed_content(message, &details);
        let content = HEXLOWER.encode(&sha2::Sha256::digest(shown.as_bytes()));
        let payload = json!({
            "v": 1, "typ": "payment-approval", "uuid": challenge["uuid"], "nonce": challenge["nonce"],
            "device_id": self.id, "decision": decision, "content_sha256": content,
            "hidden_details_sha256": challenge["hidden_details_sha256"], "iat": unix_now(),
        });
        let header =
            json!({"alg": "ES256", "typ": "countersign-answer+jws", "kid": self.id.to_string()});
        device::sign_compact(&header, payload.to_string().as_bytes(), &self.signer).unwrap()
    }

    /// Sends the answer to `challenge`.
    pub fn answer(&self, challenge: &Value, decision: &str) -> reqwest::Result<Response> {
        let uuid = challenge["uuid"].as_str().unwrap_or_default();
        self.send_answer(uuid, &self.answer_jws(challenge, decision))
    }

    /// Sends `jws` as the answer to request `uuid`.
    pub fn send_answer(&self, uuid: &str, jws: &str) -> reqwest::Result<Response> {
        let body = json!({ "answer": jws }).to_string();
        let path = format!("/device/v1/approval_requests/{uuid}/answer");
        self.signed("POST", &path, body.as_bytes()).send()
    }

    /// Approves or denies the pending request `uuid` as shown; panics unless the answer is
    /// taken. Returns the answer sent.
    pub fn decide(&self, uuid: &str, decision: &str) -> String {
        let challenges = self.challenges().unwrap();
        let challenge = challenges
            .iter()
            .find(|c| c["uuid"] == uuid)
            .unwrap_or_else(|| panic!("no pending request {uuid}"));
        let jws = self.answer_jws(challenge, decision);
        let answered = self.send_answer(uuid, &jws).unwrap();
        assert_eq!(
            answered.status().as_u16(),
            200,
            "{}",
            answered.text().unwrap()
        );
        jws
    }
}
