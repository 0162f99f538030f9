//! A registered device that answers approval requests while an SDK driver runs, so that the
//! libraries see what Authy sends when a user taps "Approve" or "Deny": the status and the
//! signed callback their validators check. It speaks the device protocol
//! (docs/device-protocol.md) with the core's software signer, as a phone would.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use countersign_protocol::{self as device, DeviceSigner, SoftwareSigner};
use data_encoding::HEXLOWER;
use reqwest::blocking::Client;
use serde_json::{Value, json};
use sha2::Digest;

/// The device's decision for a request's message: "Approve payment" is approved, "Deny
/// payment" denied, any other request left pending (to expire).
fn decision_for(message: &serde_json::Value) -> Option<&'static str> {
    match message.as_str()? {
        "Approve payment" => Some("approve"),
        "Deny payment" => Some("deny"),
        _ => None,
    }
}

struct Device {
    base_url: String,
    http: Client,
    id: i64,
    signer: SoftwareSigner,
    server_key: Vec<u8>,
}

/// Answers the requests of one user until dropped.
pub struct Approver {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Approver {
    /// Registers a device for `authy_id` (through the Authy API with `api_key`), then polls.
    pub fn start(base_url: &str, api_key: &str, http: Client, authy_id: i64) -> Approver {
        let device = register(base_url, api_key, http, authy_id);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut answered = HashSet::new();
            while !flag.load(Ordering::Relaxed) {
                device.answer_pending(&mut answered);
                std::thread::sleep(Duration::from_millis(150));
            }
        });
        Approver {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Approver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn register(base_url: &str, api_key: &str, http: Client, authy_id: i64) -> Device {
    let registration: Value = http
        .post(format!(
            "{base_url}/protected/json/users/{authy_id}/registrations"
        ))
        .header("X-Authy-API-Key", api_key)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let code = registration["registration"]["code"].as_str().unwrap();
    let signer = SoftwareSigner::generate();
    let public_key = URL_SAFE_NO_PAD.encode(signer.public_key_spki().unwrap());
    let proof = device::registration_string(code, &public_key, "Pixel 9", "android", None);
    let signature = URL_SAFE_NO_PAD.encode(signer.sign_raw(proof.as_bytes()).unwrap());
    let answer: Value = http
        .post(format!("{base_url}/device/v1/register"))
        .json(&json!({"code": code, "public_key": public_key, "name": "Pixel 9", "os": "android", "signature": signature}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    Device {
        base_url: base_url.to_owned(),
        http,
        id: answer["device_id"].as_i64().expect("the device registers"),
        signer,
        server_key: URL_SAFE_NO_PAD
            .decode(answer["server_public_key"].as_str().unwrap())
            .unwrap(),
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn nonce() -> String {
    use std::sync::atomic::AtomicU64;
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("sdk{}-{}", NEXT.fetch_add(1, Ordering::Relaxed), unix_now())
}

impl Device {
    /// A device request signed as the protocol says.
    fn signed(&self, method: &str, path: &str, body: &[u8]) -> reqwest::blocking::RequestBuilder {
        let (timestamp, nonce) = (unix_now(), nonce());
        let message = device::request_string(method, path, timestamp, &nonce, body);
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

    /// The server-signed challenges of the pending requests (unverifiable ones are skipped).
    fn challenges(&self) -> Vec<Value> {
        let Ok(listed) = self
            .signed("GET", "/device/v1/approval_requests", b"")
            .send()
            .and_then(|r| r.json::<Value>())
        else {
            return Vec::new();
        };
        let jws = listed["approval_requests"].as_array().cloned();
        jws.unwrap_or_default()
            .iter()
            .filter_map(|jws| device::verify_compact(jws.as_str()?, &self.server_key).ok())
            .filter_map(|(_, payload)| serde_json::from_slice(&payload).ok())
            .collect()
    }

    fn answer_pending(&self, answered: &mut HashSet<String>) {
        for challenge in self.challenges() {
            let uuid = challenge["uuid"].as_str().unwrap_or_default().to_owned();
            let Some(decision) = decision_for(&challenge["message"]) else {
                continue;
            };
            if answered.contains(&uuid) {
                continue;
            }
            let body = json!({"answer": self.answer(&challenge, decision)}).to_string();
            let path = format!("/device/v1/approval_requests/{uuid}/answer");
            let sent = self.signed("POST", &path, body.as_bytes()).send();
            if sent.is_ok_and(|response| response.status().is_success()) {
                answered.insert(uuid);
            }
        }
    }

    /// What the device signs: the content it showed, hashed, and its decision.
    fn answer(&self, challenge: &Value, decision: &str) -> String {
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
        device::sign_compact(
            &json!({"alg": "ES256", "typ": "countersign-answer+jws", "kid": self.id.to_string()}),
            payload.to_string().as_bytes(),
            &self.signer,
        )
        .unwrap()
    }
}
