//! `X-Authy-Signature` for OneTouch callbacks, computed exactly as the official SDKs verify
//! it: HMAC-SHA256 under the app's API key of `nonce|METHOD|url|params`, where params is the
//! callback body flattened PHP-style (`a%5Bb%5D=c`), sorted, with array indices blanked.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;
use sha2::Sha256;

/// Python's `urllib.parse.quote` with its default safe `/`: everything but letters, digits,
/// `_.-~` and `/` is escaped.
const QUOTE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~')
    .remove(b'/');

fn quote(text: &str) -> String {
    utf8_percent_encode(text, QUOTE).to_string()
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(b) => b.to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn flatten(out: &mut Vec<String>, key: &str, value: &Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(out, &format!("{key}{}", quote(&format!("[{k}]"))), v);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let indexed = format!("{key}{}", quote(&format!("[{i}]")));
                match item {
                    Value::Object(_) => flatten(out, &indexed, item),
                    other => out.push(format!("{indexed}={}", quote(&scalar(other)))),
                }
            }
        }
        other => out.push(format!("{key}={}", quote(&scalar(other)))),
    }
}

/// The sorted parameter string the SDKs sign.
pub fn canonical_params(body: &Value) -> String {
    let mut pairs = Vec::new();
    if let Value::Object(map) = body {
        for (k, v) in map {
            flatten(&mut pairs, &quote(k), v);
        }
    }
    // The SDKs' order of operations: escape, sort, then blank the array indices.
    let joined = pairs.join("&").replace('/', "%2F").replace("%20", "+");
    let mut sorted: Vec<&str> = joined.split('&').collect();
    sorted.sort_unstable();
    blank_indices(&sorted.join("&")).replace("=None", "=")
}

/// `%5B12%5D` → `%5B%5D`, as the SDKs' regular expression does.
fn blank_indices(pair: &str) -> String {
    let mut out = String::with_capacity(pair.len());
    let mut rest = pair;
    while let Some(at) = rest.find("%5B") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 3..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if after[digits..].starts_with("%5D") {
            out.push_str("%5B%5D");
            rest = &after[digits + 3..];
        } else {
            out.push_str("%5B");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

pub fn sign(api_key: &str, nonce: &str, method: &str, url: &str, body: &Value) -> String {
    let data = format!("{nonce}|{method}|{url}|{}", canonical_params(body));
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(api_key.as_bytes())
        .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
    mac.update(data.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The signatures of authy-python's own tests, made by Authy's servers.
    #[test]
    fn matches_signatures_made_by_authy() {
        let key = "mTIn3Dq5HrF7r84rNTA0OrHys077egq3";
        let nonce = "1427849783.886085";
        let url = "https://api.authy.com/dashboard/json/application/webhooks";
        let params = json!({"b": "val|ue&2", "a": "value1"});
        assert_eq!(
            sign(key, nonce, "POST", url, &params),
            "2CT+wezo66Br1U24xZpowp0AuPioH8s+nQVCWA01/PA="
        );
        assert_eq!(
            sign(key, nonce, "GET", url, &params),
            "Sm7Qi5toEQThBH3ZiKWKiXRfr2XRctK6cn8C73lS0dU="
        );
    }

    #[test]
    fn nested_arrays_nulls_and_spaces() {
        let body = json!({"x": {"b c": [1, 2], "d": null}, "e": true});
        assert_eq!(
            canonical_params(&body),
            "e=true&x%5Bb+c%5D%5B%5D=1&x%5Bb+c%5D%5B%5D=2&x%5Bd%5D="
        );
    }
}
