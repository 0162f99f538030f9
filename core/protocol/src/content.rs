//! The canonical strings of docs/device-protocol.md.

use data_encoding::HEXLOWER;
use sha2::{Digest, Sha256};

use countersign_otp::txotp::enc;

fn hex_sha256(text: &str) -> String {
    HEXLOWER.encode(&Sha256::digest(text.as_bytes()))
}

/// `message=enc(message)` then `&enc(key)=enc(value)` per detail, in display order.
pub fn displayed_content(message: &str, details: &[(String, String)]) -> String {
    let mut out = format!("message={}", enc(message));
    for (key, value) in details {
        out.push('&');
        out.push_str(&enc(key));
        out.push('=');
        out.push_str(&enc(value));
    }
    out
}

/// Hex SHA-256 of the hidden details, sorted by `enc(key)`, as `enc(key)=enc(value)` joined by `&`.
pub fn hidden_details_sha256(hidden: &[(String, String)]) -> String {
    let mut pairs: Vec<(String, String)> = hidden.iter().map(|(k, v)| (enc(k), enc(v))).collect();
    pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let joined: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    hex_sha256(&joined.join("&"))
}

/// What a device signs on every authenticated request.
pub fn request_string(
    method: &str,
    path_and_query: &str,
    timestamp: u64,
    nonce: &str,
    body: &[u8],
) -> String {
    let body_hash = HEXLOWER.encode(&Sha256::digest(body));
    format!(
        "countersign-device-request-v1\n{}\n{path_and_query}\n{timestamp}\n{nonce}\n{body_hash}",
        method.to_ascii_uppercase()
    )
}

/// What a new device signs to prove it holds its key. It holds the one-time registration
/// code: built in one allocation of the final size, so wiping the result wipes every copy.
pub fn registration_string(
    code: &str,
    public_key_b64: &str,
    name: &str,
    os: &str,
    push_token: Option<&str>,
) -> String {
    const DOMAIN: &str = "countersign-device-registration-v1";
    let token = push_token.unwrap_or("");
    let parts = [code, public_key_b64, name, os, token];
    let mut out =
        String::with_capacity(DOMAIN.len() + parts.iter().map(|p| p.len() + 1).sum::<usize>());
    out.push_str(DOMAIN);
    for part in parts {
        out.push('\n');
        out.push_str(part);
    }
    out
}
