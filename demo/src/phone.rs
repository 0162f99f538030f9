//! Steps 7 (continued) to 11: this computer as the bank customer's phone — registered by
//! scanning the bank's QR (software key sealed in the vault), a payment approved with a
//! signature bound to what was shown, the bank checking that evidence with the device's key,
//! and a transactional code read from a QR image and verified by the server.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use countersign_app::device::{
    self, Decision, DeviceClient, DeviceSigner, RegistrationLink, SoftwareSigner,
};
use countersign_app::scan::{self, Payload};
use countersign_app::txotp::Transaction;
use countersign_app::vault::{DeviceKey, EntryMeta, Vault, new_registration_id};
use countersign_app::{Account, Clock, SystemClock, transactional};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::bank::Bank;
use crate::error::{DemoError, fail};
use crate::step;

/// The phone once registered: its client, its key, and the bank's Authy-style account.
struct Phone {
    client: DeviceClient,
    public_key_spki: Vec<u8>,
    account: Account,
}

/// The customer's side of steps `server_step`… (the bank's server runs as step `server_step`).
pub async fn run(server_step: u32, bank: &Bank, vault: &mut Vault) -> Result<(), DemoError> {
    let authy_id = enrol_customer(bank).await?;
    step(
        server_step + 1,
        "The phone registers (software key sealed in the vault)",
    );
    let phone = register(bank, authy_id, vault).await?;
    step(
        server_step + 2,
        "\"Approve 713.00 EUR to Hermione Granger?\" — signed on the phone",
    );
    let uuid = approve_payment(bank, &phone.client, authy_id).await?;
    step(server_step + 3, "The bank checks the evidence");
    check_evidence(bank, authy_id, &uuid, &phone.public_key_spki).await?;
    step(
        server_step + 4,
        "A transactional code from a QR on the bank's page",
    );
    transactional_qr(bank, &phone.account, authy_id).await
}

async fn enrol_customer(bank: &Bank) -> Result<i64, DemoError> {
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
    Ok(authy_id)
}

/// The registration link in the QR image the bank's page shows, as the camera reads it.
async fn scan_registration_qr(bank: &Bank, authy_id: i64) -> Result<RegistrationLink, DemoError> {
    let path = format!("/protected/json/users/{authy_id}/registrations");
    let registration = bank.call("POST", &path, &[]).await?;
    let qr = registration["qr_code"]
        .as_str()
        .and_then(|url| url.strip_prefix("data:image/png;base64,"))
        .ok_or_else(|| fail("no registration QR"))?;
    let png = STANDARD.decode(qr).map_err(fail)?;
    let scanned = scan::scan_image(&png)?;
    match scanned.first().map(|code| &code.payload) {
        Some(Payload::DeviceRegistration(link)) => Ok(link.clone()),
        other => Err(fail(format!("the registration QR read as {other:?}"))),
    }
}

async fn register(bank: &Bank, authy_id: i64, vault: &mut Vault) -> Result<Phone, DemoError> {
    let link = scan_registration_qr(bank, authy_id).await?;
    println!(
        "Scanned the registration QR: a countersign://register link for {}.",
        link.server_url
    );
    let signer = Arc::new(SoftwareSigner::generate());
    let software_key = signer.secret();
    let (client, registered) =
        DeviceClient::register(&link, signer.clone(), "Demo phone", "android", None).await?;
    let credentials = client.credentials().clone();
    let key = DeviceKey::Software(software_key);
    vault.save_device(&credentials.to_record(&new_registration_id(), key))?;
    let account = registered
        .account
        .ok_or_else(|| fail("no TOTP account in the registration"))?;
    vault.add(account.clone(), EntryMeta::default())?;
    println!(
        "Registered as device {} with a new P-256 key (proof of possession signed); the key and the server's public key are sealed in the vault, next to the bank's {}-digit Authy-style account. Server clock offset: {} s.",
        credentials.device_id,
        account.params.digits(),
        client.clock_offset()
    );
    Ok(Phone {
        client,
        public_key_spki: signer.public_key_spki()?,
        account,
    })
}

/// The bank asks; the phone fetches, verifies, shows, and signs the number picked. Returns
/// the request's uuid.
async fn approve_payment(
    bank: &Bank,
    phone: &DeviceClient,
    authy_id: i64,
) -> Result<String, DemoError> {
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
    Ok(uuid)
}

/// The bank verifies the signed answer with the key the server registered for the device,
/// and that it is bound to the payment as shown.
async fn check_evidence(
    bank: &Bank,
    authy_id: i64,
    uuid: &str,
    phone_key: &[u8],
) -> Result<(), DemoError> {
    let path = format!("/onetouch/json/approval_requests/{uuid}");
    let request = bank.call("GET", &path, &[]).await?;
    let jws = request["approval_request"]["countersign"]["signed_answer"]["jws"]
        .as_str()
        .ok_or_else(|| fail("no signed answer"))?;
    let path = format!("/protected/json/users/{authy_id}/devices");
    let devices = bank.call("GET", &path, &[]).await?;
    let public_key = devices["devices"][0]["public_key"]
        .as_str()
        .and_then(|key| URL_SAFE_NO_PAD.decode(key).ok())
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
    if phone_key != public_key {
        return Err(fail("the server holds another key for this device"));
    }
    Ok(())
}

/// The bank renders a payment as a QR image; the phone scans it and computes the code bound to
/// it; the server verifies that code against the same payment.
async fn transactional_qr(bank: &Bank, account: &Account, authy_id: i64) -> Result<(), DemoError> {
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
    let code = transactional::code(account, &transaction, SystemClock.now_unix())?;
    println!("The phone's code for exactly this payment: {code}");
    let query = verification_query(&transaction);
    let form: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let path = format!("/protected/json/verify/{code}/{authy_id}");
    let verified = bank.call("GET", &path, &form).await?;
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

/// The Authy verify query for a transactional code: the transaction's message and details.
fn verification_query(transaction: &Transaction) -> Vec<(String, String)> {
    // force=true as the Authy SDKs send it: check even before the user's first verification.
    let mut query: Vec<(String, String)> = vec![
        ("force".into(), "true".into()),
        ("message".into(), transaction.message.clone()),
    ];
    let details = transaction.details.iter();
    query.extend(details.map(|(k, v)| (format!("details[{k}]"), v.clone())));
    let hidden = transaction.hidden_details.iter();
    query.extend(hidden.map(|(k, v)| (format!("hidden_details[{k}]"), v.clone())));
    query
}

fn sha256_hex(text: &str) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(text.as_bytes()))
}
