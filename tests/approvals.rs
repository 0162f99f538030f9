//! Approval benchmark (issue 6): the whole signed-approval round trip over loopback, one
//! approval at a time as a customer experiences it — the bank creates a OneTouch request, the
//! device (the core's `DeviceClient`, software P-256 key) fetches its pending challenges,
//! verifies the server's signature, signs and sends its answer, and the bank reads the status
//! `approved` with the evidence. Reports p50 / p99 per approval. Bar: p99 ≤ 20 ms.
//!
//! `cargo bench -p countersign-server --bench approvals [-- --approvals 1000]`; PostgreSQL with
//! `scripts/with-postgres cargo bench …` (COUNTERSIGN_TEST_DATABASE_URL).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use std::sync::Arc;
use std::time::{Duration, Instant};

use countersign_core::device::{Decision, DeviceClient, RegistrationLink, SoftwareSigner};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_countersign-server");

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    // `cargo test --benches` runs this once as a smoke test with a few approvals.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let approvals = arg("--approvals", if smoke { 20 } else { 1000 });

    let dir = tempfile::tempdir().unwrap();
    let database_url = match std::env::var("COUNTERSIGN_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => format!("sqlite:{}", dir.path().join("bench.db").display()),
    };
    let key_file = dir.path().join("master.key");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base_url = format!("http://127.0.0.1:{port}");
    let server_command = || {
        let mut command = std::process::Command::new(BIN);
        command
            .env("COUNTERSIGN_DATABASE_URL", &database_url)
            .env("COUNTERSIGN_MASTER_KEY_FILE", &key_file)
            .env("COUNTERSIGN_PUBLIC_URL", &base_url)
            .env("RUST_LOG", "warn");
        command
    };
    let app: Value = serde_json::from_slice(
        &server_command()
            .args(["app", "create", "--name", "Bench", "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let api_key = app["api_key"].as_str().unwrap().to_owned();
    let mut server = server_command()
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .spawn()
        .unwrap();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let bank = reqwest::Client::new();
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let request = bank
            .post(format!("{base_url}{path}"))
            .header("X-Authy-API-Key", &api_key)
            .form(&form);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let user = post(
        "/protected/json/users/new".into(),
        vec![
            ("user[email]", "bench@example.com".into()),
            ("user[cellphone]", "7700900123".into()),
            ("user[country_code]", "44".into()),
        ],
    )
    .await;
    let authy_id = user["user"]["id"].as_i64().unwrap();
    let registration = post(
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

    let mut latencies = Vec::with_capacity(approvals as usize);
    let started = Instant::now();
    for i in 0..approvals {
        let start = Instant::now();
        let created = post(
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
        let status: Value = bank
            .get(format!("{base_url}/onetouch/json/approval_requests/{uuid}"))
            .header("X-Authy-API-Key", &api_key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(status["approval_request"]["status"], "approved");
        assert!(status["approval_request"]["signed_answer"]["jws"].is_string());
        latencies.push(start.elapsed().as_secs_f64() * 1e3);
    }
    let total = started.elapsed().as_secs_f64();
    let _ = server.kill();
    let _ = server.wait();

    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    println!(
        "approvals ({}): {approvals} round trips (create → fetch + verify → sign + answer → status approved) in {total:.2} s: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (bar: p99 ≤ 20 ms)",
        if database_url.starts_with("sqlite") {
            "SQLite"
        } else {
            "PostgreSQL"
        },
        at(0.5),
        at(0.99),
        latencies[latencies.len() - 1]
    );
}
