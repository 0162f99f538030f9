//! JSON shapes printed by the commands. Secrets appear only when asked for.

use countersign_core::account::TimedCode;
use countersign_core::otpauth::{self, Warning};
use countersign_core::txotp::Transaction;
use countersign_core::{Account, OtpKind};
use serde::Serialize;

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
            kind: match params.kind() {
                OtpKind::Totp { .. } => "totp",
                OtpKind::Hotp { .. } => "hotp",
                OtpKind::Steam => "steam",
            },
            algorithm: params.algorithm().to_string(),
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
            challenge: countersign_core::transactional::challenge(tx),
        }
    }
}

pub fn print_json<T: Serialize>(value: &T) -> Result<(), serde_json::Error> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
