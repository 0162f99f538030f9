//! Yandex.Key and mOTP accounts through the `countersign` binary: codes from their URIs
//! (published vectors, docs/formats/otp-kinds.md) and how `uri parse` shows them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use assert_cmd::Command;
use serde_json::Value;

/// Aegis YAOTPTest.java: PIN 7586 (base32 "G42TQNQ"), code "oactmacq" at 1581064020.
const YAOTP: &str =
    "otpauth://yaotp/Yandex:alice?secret=LA2V6KMCGYMWWVEW64RNP3JA3IAAAAAAHTSG4HRZPI&pin=G42TQNQ";
/// Aegis MOTPTest.java: PIN 1234, code "e7d8b6" at 165892298.
const MOTP: &str = "motp://Example:bob?secret=e3152afee62599c8&pin=1234";

fn json_of(args: &[&str]) -> Value {
    let out = Command::cargo_bin("countersign")
        .unwrap()
        .env_remove("COUNTERSIGN_SECRET")
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn codes_of_yandex_and_motp_uris() {
    let yandex = json_of(&["code", "--uri", YAOTP, "--at", "1581064020", "--json"]);
    assert_eq!(yandex["code"], "oactmacq");
    assert_eq!(yandex["seconds_remaining"], 30); // 1581064020 starts a 30 s step
    let motp = json_of(&["code", "--uri", MOTP, "--at", "165892298", "--json"]);
    assert_eq!(motp["code"], "e7d8b6");
    assert_eq!(motp["seconds_remaining"], 2);
}

#[test]
fn uri_parse_shows_the_kind_but_not_the_pin() {
    let view = json_of(&["uri", "parse", YAOTP, "--json"]);
    assert_eq!(view["account"]["type"], "yandex");
    assert_eq!(view["account"]["algorithm"], "SHA256");
    assert_eq!(view["account"]["digits"], 8);
    assert_eq!(view["account"]["period"], 30);
    assert!(!view.to_string().contains("G42TQNQ"));
    let view = json_of(&["uri", "parse", MOTP, "--json"]);
    assert_eq!(view["account"]["type"], "motp");
    assert_eq!(view["account"]["algorithm"], "MD5");
    assert!(!view.to_string().contains("1234"));
}
