//! Approval benchmark (issue 6): the whole signed-approval round trip over loopback, one
//! approval at a time as a customer experiences it — the bank creates a OneTouch request, the
//! device (the core's `DeviceClient`, software P-256 key) fetches its pending challenges,
//! verifies the server's signature, signs and sends its answer, and the bank reads the status
//! `approved` with the evidence. Reports p50 / p99 per approval. Bar: p99 ≤ 20 ms.
//!
//! `cargo bench -p countersign-e2e --bench approvals [-- --approvals 1000]`; PostgreSQL with
//! `scripts/with-postgres cargo bench …` (COUNTERSIGN_TEST_DATABASE_URL). The server runs in
//! this process on its own runtime (the support library), the device and the bank on another.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use std::sync::Arc;
use std::time::Instant;

use countersign_app::device::{Decision, DeviceClient, RegistrationLink, SoftwareSigner};
use serde_json::Value;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo test --benches` runs this once as a smoke test with a few approvals.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let approvals = arg("--approvals", if smoke { 20 } else { 1000 });
    let server = countersign_e2e::Server::start(&countersign_e2e::Options::default());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(round_trips(&server, approvals));
}

/// The bank's backend: Authy API calls with the app's key.
struct Bank {
    http: reqwest::Client,
    base_url: String,
    api_key: String,
}

impl Bank {
    async fn post(&self, path: String, form: Vec<(&'static str, String)>) -> Value {
        let request = self
            .http
            .post(format!("{}{path}", self.base_url))
            .header("X-Authy-API-Key", &self.api_key)
            .form(&form);
        request.send().await.unwrap().json::<Value>().await.unwrap()
    }

    async fn get(&self, path: String) -> Value {
        self.http
            .get(format!("{}{path}", self.base_url))
            .header("X-Authy-API-Key", &self.api_key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// Runs `approvals` round trips one after another and prints their latencies.
async fn round_trips(server: &countersign_e2e::Server, approvals: u64) {
    let bank = Bank {
        http: reqwest::Client::new(),
        base_url: server.base_url.clone(),
        api_key: server.api_key.clone(),
    };
    let (device, authy_id) = registered_device(&bank).await;
    let mut latencies = Vec::with_capacity(approvals as usize);
    let started = Instant::now();
    for i in 0..approvals {
        let start = Instant::now();
        one_approval(&bank, &device, authy_id, i).await;
        latencies.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let total = started.elapsed().as_secs_f64();

    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    println!(
        "approvals ({}): {approvals} round trips (create → fetch + verify → sign + answer → status approved) in {total:.2} s: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (bar: p99 ≤ 20 ms)",
        if std::env::var("COUNTERSIGN_TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty()) {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        at(0.5),
        at(0.99),
        latencies[latencies.len() - 1]
    );
}

/// A user, and a device registered for it; returns the device's client and the user's id.
async fn registered_device(bank: &Bank) -> (DeviceClient, i64) {
    let user = bank
        .post(
            "/protected/json/users/new".into(),
            vec![
                ("user[email]", "bench@example.com".into()),
                ("user[cellphone]", "7700900123".into()),
                ("user[country_code]", "44".into()),
            ],
        )
        .await;
    let authy_id = user["user"]["id"].as_i64().unwrap();
    let registration = bank
        .post(
            format!("/protected/json/users/{authy_id}/registrations"),
            vec![],
        )
        .await;
    let link =
        RegistrationLink::parse(registration["registration"]["uri"].as_str().unwrap()).unwrap();
    let (device, _) = DeviceClient::register(
        &link,
        Arc::new(SoftwareSigner::generate()),
        "Bench phone",
        "android",
        None,
    )
    .await
    .unwrap();
    (device, authy_id)
}

/// One round trip: the bank creates request `i`, the device fetches, verifies, signs and
/// answers it, the bank reads `approved` with the evidence.
async fn one_approval(bank: &Bank, device: &DeviceClient, authy_id: i64, i: u64) {
    let created = bank
        .post(
            format!("/onetouch/json/users/{authy_id}/approval_requests"),
            vec![
                ("message", "Approve payment".into()),
                ("details[Amount]", format!("{}.00 EUR", 100 + i)),
                ("details[Payee]", "Hermione Granger".into()),
                ("hidden_details[Payment ID]", format!("P-{i}")),
            ],
        )
        .await;
    let uuid = created["approval_request"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let pending = device.pending().await.unwrap();
    assert!(pending.refused.is_empty());
    let challenge = pending.challenges.iter().find(|c| c.uuid == uuid).unwrap();
    assert_eq!(
        device
            .answer(challenge, Decision::Approve, None)
            .await
            .unwrap(),
        "approved"
    );
    let status = bank
        .get(format!("/onetouch/json/approval_requests/{uuid}"))
        .await;
    assert_eq!(status["approval_request"]["status"], "approved");
    assert!(status["approval_request"]["countersign"]["signed_answer"]["jws"].is_string());
}
