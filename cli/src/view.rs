//! JSON shapes printed by the commands. Secrets appear only when asked for.

use countersign_app::Account;
use countersign_app::account::TimedCode;
use countersign_app::otpauth::{self, Warning};
use countersign_app::scan::{Payload, ScannedCode};
use countersign_app::txotp::Transaction;
use serde::Serialize;
use serde_json::json;

#[derive(Serialize)]
pub struct AccountView {
    pub issuer: Option<String>,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub algorithm: String,
    pub digits: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counter: Option<u64>,
    pub secret_bits: usize,
    pub weak_secret: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

impl AccountView {
    pub fn new(account: &Account, show_secret: bool) -> Self {
        let params = account.params;
        AccountView {
            issuer: account.issuer.clone(),
            label: account.label.clone(),
            kind: params.kind().name(),
            algorithm: params.algorithm_name().to_string(),
            digits: params.digits(),
            period: params.period(),
            counter: params.counter(),
            secret_bits: account.secret.bits(),
            weak_secret: account.secret.is_weak(),
            secret: show_secret.then(|| account.secret.to_base32()),
            uri: show_secret.then(|| otpauth::to_uri(account)),
        }
    }
}

#[derive(Serialize)]
pub struct ParsedView {
    pub account: AccountView,
    pub warnings: Vec<Warning>,
}

#[derive(Serialize)]
pub struct CodeView {
    pub code: String,
    /// Time step (time-based) or counter (HOTP) of the code.
    pub step: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds_remaining: Option<u32>,
}

impl From<TimedCode> for CodeView {
    fn from(c: TimedCode) -> Self {
        CodeView {
            code: c.code.to_string(),
            step: c.step,
            seconds_remaining: c.seconds_remaining,
        }
    }
}

#[derive(Serialize)]
pub struct TransactionView<'a> {
    pub message: &'a str,
    pub details: Vec<[&'a str; 2]>,
    pub hidden_details: Vec<[&'a str; 2]>,
    pub length: usize,
    pub long: bool,
    pub canonical: String,
    pub challenge: String,
}

impl<'a> TransactionView<'a> {
    pub fn new(tx: &'a Transaction, length: usize, long: bool) -> Self {
        let pairs = |list: &'a [(String, String)]| {
            list.iter().map(|(k, v)| [k.as_str(), v.as_str()]).collect()
        };
        TransactionView {
            message: &tx.message,
            details: pairs(&tx.details),
            hidden_details: pairs(&tx.hidden_details),
            length,
            long,
            canonical: tx.canonical_string(),
            challenge: countersign_app::transactional::challenge(tx),
        }
    }
}

/// One scanned QR code: where it is, what it says, and what it is.
#[derive(Serialize)]
pub struct ScannedView<'a> {
    pub file: &'a str,
    pub text: &'a str,
    pub corners: Vec<[f32; 2]>,
    pub kind: &'static str,
    pub payload: serde_json::Value,
}

impl<'a> ScannedView<'a> {
    pub fn new(file: &'a str, code: &'a ScannedCode) -> Self {
        let payload = match &code.payload {
            Payload::Account(parsed) => json!({
                "account": AccountView::new(&parsed.account, false),
                "warnings": parsed.warnings,
            }),
            Payload::MigrationBatch(batch) => json!({
                "batch_id": batch.batch_id,
                "batch_index": batch.batch_index,
                "batch_size": batch.batch_size,
                "accounts": batch.accounts.iter().map(|a| AccountView::new(a, false)).collect::<Vec<_>>(),
                "failures": batch.failures,
            }),
            Payload::Transaction(parsed) => json!(TransactionView::new(
                &parsed.transaction,
                parsed.len,
                parsed.is_long()
            )),
            Payload::DeviceRegistration(link) => json!({"server_url": link.server_url}),
            Payload::Text => serde_json::Value::Null,
            Payload::Malformed { reason, .. } => json!({"error": reason}),
        };
        ScannedView {
            file,
            text: &code.text,
            corners: code.corners.iter().map(|p| [p.x, p.y]).collect(),
            kind: code.payload.kind().as_str(),
            payload,
        }
    }
}

pub fn print_json<T: Serialize>(value: &T) -> Result<(), serde_json::Error> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
