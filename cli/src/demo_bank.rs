//! The second half of `countersign demo`: a bank's Countersign server started in this
//! process on a loopback port (temporary SQLite database), this computer registered as the
//! customer's phone, a payment approved with a signature bound to what was shown, the bank
//! checking that evidence, and a transactional code read from a QR image and verified by the
//! server.

use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use countersign_app::device::{
    self, Decision, DeviceClient, DeviceSigner, RegistrationLink, SoftwareSigner,
};
use countersign_app::scan::{self, Payload};
use countersign_app::vault::{EntryMeta, Vault};
use countersign_app::{Clock, SystemClock, transactional};
use countersign_server::config::FileConfig;
use serde_json::Value;

use crate::error::CliError;

fn step(n: u32, title: &str) {
    println!("\n== {n}. {title}");
}

fn fail(what: impl std::fmt::Display) -> CliError {
    CliError::Usage(format!("demo: {what}"))
}

/// The bank's backend: Authy API calls with its API key.
struct Bank {
    http: reqwest::Client,
    base_url: String,
    api_key: String,
}

impl Bank {
    async fn call(
        &self,
        method: &str,
        path: &str,
        form: &[(&str, &str)],
    ) -> Result<Value, CliError> {
        let url = format!("{}{path}", self.base_url);
        let request = match method {
            "GET" => self.http.get(url).query(form),
            _ => self.http.post(url).form(form),
        };
        let response = request
            .header("X-Authy-API-Key", &self.api_key)
            .send()
            .await
            .map_err(|e| fail(format!("{path}: {e}")))?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .map_err(|e| fail(format!("{path}: {e}")))?;
        if !status.is_success() {
            return Err(fail(format!("{path} answered {status}: {body}")));
        }
        Ok(body)
    }
}

/// Runs steps `first`… of the demo with the unlocked `vault` as the phone's storage.
pub fn run(first: u32, dir: &Path, vault: &mut Vault) -> Result<(), CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(fail)?;
    runtime.block_on(story(first, dir, vault))
}

async fn story(first: u32, dir: &Path, vault: &mut Vault) -> Result<(), CliError> {
    step(first, "A bank's Countersign server");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(fail)?;
    let address = listener.local_addr().map_err(fail)?;
    let base_url = format!("http://{address}");
    let config = FileConfig {
        database_url: Some(format!("sqlite:{}", dir.join("bank.db").display())),
        listen: Some(address.to_string()),
        public_url: Some(base_url.clone()),
        ..FileConfig::default()
    };
    let state = countersign_server::run::state(&config)
        .await
        .map_err(fail)?;
    let (app_id, api_key) =
        countersign_server::run::create_app(&state, "Gringotts Bank", 7, None, "post")
            .await
            .map_err(fail)?;
    let server = countersign_server::run::start(state, listener).map_err(fail)?;
    println!(
        "Serving the Authy API on {base_url} (SQLite in a temporary folder); app {app_id} created."
    );
    let outcome = with_server(
        first,
        Bank {
            http: reqwest::Client::new(),
            base_url,
            api_key,
        },
        vault,
    )
    .await;
    server.stop().await.map_err(fail)?;
    println!("Server stopped.");
    outcome
}

async fn with_server(first: u32, bank: Bank, vault: &mut Vault) -> Result<(), CliError> {
    let user = bank
        .call(
            "POST",
            "/protected/json/users/new",
            &[
                ("user[email]", "hermione@hogwarts.example"),
                ("user[cellphone]", "7700900123"),
                ("user[country_code]", "44"),
            ],
        )
        .await?;
    let authy_id = user["user"]["id"]
        .as_i64()
        .ok_or_else(|| fail("no user id"))?;
    println!(
        "The bank enrols its customer with POST /protected/json/users/new: Authy id {authy_id}."
    );

    step(
        first + 1,
        "The phone registers (software key sealed in the vault)",
    );
    let registration = bank
        .call(
            "POST",
            &format!("/protected/json/users/{authy_id}/registrations"),
            &[],
        )
        .await?;
    // The bank's page shows the registration QR; the phone's camera reads it.
    let qr = registration["qr_code"]
        .as_str()
        .and_then(|url| url.strip_prefix("data:image/png;base64,"))
        .ok_or_else(|| fail("no registration QR"))?;
    let png = base64::engine::general_purpose::STANDARD
        .decode(qr)
        .map_err(fail)?;
    let scanned = scan::scan_image(&png)?;
    let link: RegistrationLink = match scanned.first().map(|code| &code.payload) {
        Some(Payload::DeviceRegistration(link)) => link.clone(),
        other => return Err(fail(format!("the registration QR read as {other:?}"))),
    };
    println!(
        "Scanned the registration QR: a countersign://register link for {}.",
        link.server_url
    );
    let signer = Arc::new(SoftwareSigner::generate());
    let software_key = signer.secret();
    let (phone, registered) =
        DeviceClient::register(&link, signer.clone(), "Demo phone", "android", None).await?;
    let credentials = phone.credentials().clone();
    let key = countersign_app::vault::DeviceKey::Software(software_key);
    vault
        .save_device(&credentials.to_record(&countersign_app::vault::new_registration_id(), key))?;
    let authy_account = registered
        .account
        .ok_or_else(|| fail("no TOTP account in the registration"))?;
    vault.add(authy_account.clone(), EntryMeta::default())?;
    println!(
        "Registered as device {} with a new P-256 key (proof of possession signed); the key and the server's public key are sealed in the vault, next to the bank's {}-digit Authy-style account. Server clock offset: {} s.",
        credentials.device_id,
        authy_account.params.digits(),
        phone.clock_offset()
    );

    step(
        first + 2,
        "\"Approve 713.00 EUR to Hermione Granger?\" — signed on the phone",
    );
    let created = bank
        .call(
            "POST",
            &format!("/onetouch/json/users/{authy_id}/approval_requests"),
            &[
                ("message", "Approve payment"),
                ("details[Amount]", "713.00 EUR"),
                ("details[Payee]", "Hermione Granger"),
                ("details[IBAN]", "GB33BUKB20201555555555"),
                ("hidden_details[Payment ID]", "P-2291"),
                ("seconds_to_expire", "300"),
                ("number_matching", "true"),
            ],
        )
        .await?;
    let uuid = created["approval_request"]["uuid"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    let number = created["approval_request"]["number"].as_i64().unwrap_or(0);
    println!("The bank creates OneTouch request {uuid}; its web page shows the number {number}.");
    let pending = phone.pending().await?;
    let challenge = pending
        .challenges
        .iter()
        .find(|c| c.uuid == uuid)
        .ok_or_else(|| fail("the request did not reach the phone"))?;
    println!("The phone fetches it, verifies the server's signature, and shows:");
    println!("  {}", challenge.message);
    for (key, value) in &challenge.details {
        println!("    {key}: {value}");
    }
    println!(
        "  Which number does the bank's page show? {:?}",
        challenge.number_choices
    );
    let picked = challenge
        .number_choices
        .iter()
        .copied()
        .find(|&n| i64::from(n) == number)
        .ok_or_else(|| fail("the shown number is not among the choices"))?;
    let status = phone
        .answer(challenge, Decision::Approve, Some(picked))
        .await?;
    println!(
        "The customer picks {picked} and approves; the answer is signed over exactly what was shown: {status}."
    );

    step(first + 3, "The bank checks the evidence");
    let request = bank
        .call(
            "GET",
            &format!("/onetouch/json/approval_requests/{uuid}"),
            &[],
        )
        .await?;
    let jws = request["approval_request"]["signed_answer"]["jws"]
        .as_str()
        .ok_or_else(|| fail("no signed answer"))?;
    let devices = bank
        .call(
            "GET",
            &format!("/protected/json/users/{authy_id}/devices"),
            &[],
        )
        .await?;
    let public_key = devices["devices"][0]["public_key"]
        .as_str()
        .and_then(|key| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(key)
                .ok()
        })
        .ok_or_else(|| fail("no device key"))?;
    let (_, payload) = device::verify_compact(jws, &public_key)
        .map_err(|e| fail(format!("the evidence does not verify: {e}")))?;
    let payload: Value = serde_json::from_slice(&payload).map_err(fail)?;
    let shown = device::displayed_content(
        "Approve payment",
        &[
            ("Amount".into(), "713.00 EUR".into()),
            ("Payee".into(), "Hermione Granger".into()),
            ("IBAN".into(), "GB33BUKB20201555555555".into()),
        ],
    );
    let expected = sha256_hex(&shown);
    let altered = sha256_hex(&shown.replace("713.00", "7130.00"));
    println!(
        "Status {}; the JWS (ES256) verifies with the device's registered key; decision {}, number {}.",
        request["approval_request"]["status"], payload["decision"], payload["number"]
    );
    if payload["content_sha256"] != expected.as_str()
        || payload["content_sha256"] == altered.as_str()
    {
        return Err(fail("the evidence is not bound to the payment as shown"));
    }
    println!("Its content hash is that of the payment as shown (7130.00 EUR would not match).");
    assert_same(signer.public_key_spki()?, public_key)?;

    step(
        first + 4,
        "A transactional code from a QR on the bank's page",
    );
    let tx_uri = "txotp://totp?message=Approve+payment&details[Amount]=713.00+EUR&details[Payee]=Hermione+Granger&hidden_details[Payment+ID]=P-2292";
    let png =
        countersign_server::http::qr_png(tx_uri, 360).ok_or_else(|| fail("rendering the QR"))?;
    let frame = scan::scan_image(&png)?;
    let transaction = match frame.first().map(|code| &code.payload) {
        Some(Payload::Transaction(parsed)) => parsed.transaction.clone(),
        other => return Err(fail(format!("the payment QR read as {other:?}"))),
    };
    println!(
        "The bank renders the payment as a {}-byte PNG; the phone scans it: \"{}\" with {} details.",
        png.len(),
        transaction.message,
        transaction.details.len()
    );
    let now = SystemClock.now_unix();
    let code = transactional::code(&authy_account, &transaction, now)?;
    println!("The phone's code for exactly this payment: {code}");
    // force=true as the Authy SDKs send it: check even before the user's first verification.
    let mut query: Vec<(String, String)> = vec![
        ("force".into(), "true".into()),
        ("message".into(), transaction.message.clone()),
    ];
    query.extend(
        transaction
            .details
            .iter()
            .map(|(k, v)| (format!("details[{k}]"), v.clone())),
    );
    query.extend(
        transaction
            .hidden_details
            .iter()
            .map(|(k, v)| (format!("hidden_details[{k}]"), v.clone())),
    );
    let form: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let verified = bank
        .call(
            "GET",
            &format!("/protected/json/verify/{code}/{authy_id}"),
            &form,
        )
        .await?;
    if verified["token"] != "is valid" {
        return Err(fail(format!(
            "the server did not accept the code: {verified}"
        )));
    }
    println!(
        "The server verifies it against the same payment: {}",
        verified["message"]
    );
    Ok(())
}

fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn assert_same(ours: Vec<u8>, registered: Vec<u8>) -> Result<(), CliError> {
    if ours == registered {
        Ok(())
    } else {
        Err(fail("the server holds another key for this device"))
    }
}
