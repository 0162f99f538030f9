//! Device signatures: DER ↔ raw conversion, ES256 JWS, and the canonical content strings —
//! checked against Python's `cryptography` and a Python implementation of the spec.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use countersign_app::device::{self, DeviceSigner, JwsError, SignatureFormatError, SoftwareSigner};
use serde_json::json;

fn python(args: &[&str]) -> String {
    let python = std::env::var("COUNTERSIGN_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/check_es256.py"
    );
    let out = Command::new(python)
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn der_raw_conversion_pads_short_components() {
    // r = 1 (one byte), s = 0x80… (needs DER's zero sign byte).
    let mut raw = [0u8; 64];
    raw[31] = 1;
    raw[32] = 0x80;
    raw[63] = 7;
    let der = device::raw_to_der(&raw).unwrap();
    assert_eq!(&der[..5], &[0x30, 3 + 35, 0x02, 0x01, 0x01]);
    assert_eq!(&der[5..8], &[0x02, 33, 0x00]);
    assert_eq!(device::der_to_raw(&der).unwrap(), raw);
    // r with 31 significant bytes and a high bit: padded back to 32 on the way out.
    let mut short = [0u8; 64];
    short[1..32].fill(0xff);
    short[32..].fill(0x11);
    assert_eq!(
        device::der_to_raw(&device::raw_to_der(&short).unwrap()).unwrap(),
        short
    );
    // Real signatures survive the round trip, including those whose r or s is shorter than
    // 32 bytes (about one in 128). A fixed key makes the signatures (RFC 6979) and so the test
    // deterministic.
    let signer = SoftwareSigner::from_secret(&[0x42; 32]).unwrap();
    let spki = signer.public_key_spki().unwrap();
    let mut shorter = 0;
    for i in 0..2000u32 {
        let der = signer.sign_der(&i.to_be_bytes()).unwrap();
        let raw = device::der_to_raw(&der).unwrap();
        shorter += usize::from(raw[0] == 0 || raw[32] == 0);
        assert_eq!(device::raw_to_der(&raw).unwrap(), der);
        assert!(device::verify_es256(&spki, &i.to_be_bytes(), &raw));
    }
    assert!(
        shorter > 0,
        "these 2000 signatures include short components"
    );
    for bad in [
        &[][..],
        &[0x30, 0x00],
        &[0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01],
        &[0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01],
    ] {
        assert_eq!(device::der_to_raw(bad), Err(SignatureFormatError::NotDer));
    }
    assert_eq!(
        device::raw_to_der(&[0u8; 63]),
        Err(SignatureFormatError::RawLength)
    );
}

#[test]
fn jws_round_trip_and_tampering() {
    let signer = SoftwareSigner::generate();
    let spki = signer.public_key_spki().unwrap();
    let header = json!({"alg": "ES256", "typ": "countersign-answer+jws", "kid": "device-1"});
    let payload = br#"{"v":1,"typ":"payment-approval","decision":"approve"}"#;
    let jws = device::sign_compact(&header, payload, &signer).unwrap();
    let (h, p) = device::verify_compact(&jws, &spki).unwrap();
    assert_eq!((h, p.as_slice()), (header, &payload[..]));
    // Another payload under the same signature, another key, another algorithm: refused.
    let parts: Vec<&str> = jws.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(br#"{"decision":"deny"}"#),
        parts[2]
    );
    assert_eq!(
        device::verify_compact(&forged, &spki),
        Err(JwsError::Signature)
    );
    let other = SoftwareSigner::generate().public_key_spki().unwrap();
    assert_eq!(
        device::verify_compact(&jws, &other),
        Err(JwsError::Signature)
    );
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
        parts[1]
    );
    assert_eq!(
        device::verify_compact(&none, &spki),
        Err(JwsError::Algorithm)
    );
    assert_eq!(
        device::verify_compact("a.b", &spki),
        Err(JwsError::Malformed)
    );
    assert!(device::sign_compact(&json!({"alg": "HS256"}), payload, &signer).is_err());
}

#[test]
fn jws_interoperates_with_python_cryptography() {
    // Ours, verified by Python.
    let signer = SoftwareSigner::generate();
    let spki = URL_SAFE_NO_PAD.encode(signer.public_key_spki().unwrap());
    for i in 0..20 {
        let jws = device::sign_compact(
            &json!({"alg": "ES256", "kid": "d"}),
            format!("{{\"n\":{i}}}").as_bytes(),
            &signer,
        )
        .unwrap();
        assert_eq!(python(&["verify", &spki, &jws]), "valid");
        // One character of the signature changed.
        let mut bytes = jws.clone().into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            python(&["verify", &spki, &String::from_utf8(bytes).unwrap()]),
            "invalid"
        );
    }
    // Python's, verified by ours.
    for _ in 0..10 {
        let made = python(&["make", r#"{"decision":"approve"}"#]);
        let (spki, jws) = made.split_once('\n').unwrap();
        let (_, payload) =
            device::verify_compact(jws, &URL_SAFE_NO_PAD.decode(spki).unwrap()).unwrap();
        assert_eq!(payload, br#"{"decision":"approve"}"#);
    }
}

#[test]
fn content_hashes_match_an_independent_implementation() {
    let details = vec![
        ("Amount".to_string(), "713.00 EUR".to_string()),
        ("Payee".to_string(), "Hermione Granger".to_string()),
        ("Empfa\u{308}nger".to_string(), "José & Co".to_string()),
    ];
    let hidden = vec![("z".to_string(), "last"), ("a b".to_string(), "first")]
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect::<Vec<_>>();
    let request = json!({"message": "Approve payment", "details": details, "hidden": hidden});
    let theirs: serde_json::Value =
        serde_json::from_str(&python(&["content", &request.to_string()])).unwrap();
    let content = device::displayed_content("Approve payment", &details);
    assert_eq!(content, theirs["content"]);
    assert_eq!(
        device::hidden_details_sha256(&hidden),
        theirs["hidden_details_sha256"]
    );
    // Display order matters for what was shown; swapping two details changes the content.
    let swapped = vec![details[1].clone(), details[0].clone(), details[2].clone()];
    assert_ne!(
        device::displayed_content("Approve payment", &swapped),
        content
    );
}

#[test]
fn request_and_registration_strings() {
    let s = device::request_string(
        "post",
        "/device/v1/approval_requests/u/answer",
        1_795_000_000,
        "bm9uY2U",
        b"{}",
    );
    assert_eq!(
        s,
        "countersign-device-request-v1\nPOST\n/device/v1/approval_requests/u/answer\n1795000000\nbm9uY2U\n44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
    );
    assert_eq!(
        device::registration_string("CODE", "PK", "Pixel", "android", None),
        "countersign-device-registration-v1\nCODE\nPK\nPixel\nandroid\n"
    );
}

const SPEC: &str = include_str!("../../docs/device-protocol.md");

/// The `vectors` block of docs/device-protocol.md as `name: value` pairs.
fn spec_vectors() -> std::collections::HashMap<String, String> {
    let start = SPEC.find("```vectors\n").expect("vectors block") + "```vectors\n".len();
    let end = start + SPEC[start..].find("```").expect("end of block");
    SPEC[start..end]
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (k, v) = l.split_once(": ").unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

#[test]
fn the_specifications_vectors_hold() {
    let v = spec_vectors();
    let details: Vec<(String, String)> = serde_json::from_str(&v["details"]).unwrap();
    let hidden: Vec<(String, String)> = serde_json::from_str(&v["hidden_details"]).unwrap();
    let content = device::displayed_content(&v["message"], &details);
    assert_eq!(content, v["content"]);
    use sha2::Digest;
    assert_eq!(
        hex(&sha2::Sha256::digest(content.as_bytes())),
        v["content_sha256"]
    );
    assert_eq!(
        device::hidden_details_sha256(&hidden),
        v["hidden_details_sha256"]
    );
    assert_eq!(
        device::hidden_details_sha256(&[]),
        v["no_hidden_details_sha256"]
    );
    let request = device::request_string(
        "POST",
        &v["request_path"],
        v["request_timestamp"].parse().unwrap(),
        &v["request_nonce"],
        v["request_body"].as_bytes(),
    );
    assert_eq!(request.replace('\n', "\\n"), v["request_string"]);
    // ES256 with a fixed key: RFC 6979 deterministic nonces make the signature reproducible.
    let key_bytes: Vec<u8> = data_encoding::HEXLOWER_PERMISSIVE
        .decode(&v["device_key"].as_bytes()[..64])
        .unwrap();
    let signer = SoftwareSigner::from_secret(&key_bytes).unwrap();
    let spki = URL_SAFE_NO_PAD.encode(signer.public_key_spki().unwrap());
    assert_eq!(spki, v["device_public_key"]);
    assert_eq!(
        hex(&signer.sign_raw(b"sample").unwrap()),
        v["rfc6979_sample"]
    );
    let signature = URL_SAFE_NO_PAD.encode(signer.sign_raw(request.as_bytes()).unwrap());
    assert_eq!(signature, v["request_signature"]);
    let answer = device::sign_compact(
        &serde_json::from_str(&v["answer_header"]).unwrap(),
        v["answer_payload"].as_bytes(),
        &signer,
    )
    .unwrap();
    assert_eq!(answer, v["answer_jws"]);
    // And an independent ES256 implementation accepts the vector JWS.
    assert_eq!(python(&["verify", &spki, &v["answer_jws"]]), "valid");
}

/// A client of a made-up bank whose challenge key is `server`'s.
fn client_trusting(server: &SoftwareSigner) -> device::DeviceClient {
    device::DeviceClient::new(
        device::DeviceCredentials {
            server_url: "https://auth.bank.example".into(),
            device_id: 7,
            authy_id: 42,
            server_public_key: server.public_key_spki().unwrap(),
        },
        std::sync::Arc::new(SoftwareSigner::generate()),
    )
    .unwrap()
}

/// A challenge for user 42 signed by `server`, its payload given as JSON text.
fn challenge_jws(server: &SoftwareSigner, payload: &str) -> String {
    device::sign_compact(
        &json!({"alg": "ES256", "typ": "countersign-challenge+jws", "kid": "server"}),
        payload.as_bytes(),
        server,
    )
    .unwrap()
}

fn payment_payload(message: &str, details: serde_json::Value) -> String {
    json!({
        "v": 1, "typ": "payment-approval", "uuid": "6f2c3f3e-52a6-4c36-9a55-3f6b0f1f9d21",
        "authy_id": 42, "message": message, "details": details,
        "hidden_details_sha256": "00", "created_at": 0, "expires_at": 0, "nonce": "n",
    })
    .to_string()
}

#[test]
fn a_signed_challenge_that_cannot_be_displayed_is_never_shown() {
    // Issue 10, finding 11: the server's signature verifies, the content would forge a line.
    let server = SoftwareSigner::generate();
    let client = client_trusting(&server);
    let fine = payment_payload(
        "Approve payment",
        json!([["Amount", "713.00 EUR"], ["Payee", "Hermione Granger"]]),
    );
    let shown = client
        .verify_challenge(&challenge_jws(&server, &fine))
        .unwrap();
    assert_eq!(shown.details[1].1, "Hermione Granger");

    let refused = |payload: &str| {
        client
            .verify_challenge(&challenge_jws(&server, payload))
            .expect_err("refused")
            .to_string()
    };
    let forged_line = payment_payload(
        "Approve payment",
        json!([
            ["Payee", "Hermione Granger\nAmount: 7.00 EUR"],
            ["Amount", "713.00 EUR"]
        ]),
    );
    assert_eq!(
        refused(&forged_line),
        "a challenge cannot be displayed: the value of detail 0 contains a control character (U+000A) at character 16"
    );
    let reordered = payment_payload("Approve payment", json!([["Amount", "\u{202E}RUE 00.317"]]));
    assert_eq!(
        refused(&reordered),
        "a challenge cannot be displayed: the value of detail 0 contains a bidirectional control (U+202E) at character 0"
    );
    let twice = payment_payload(
        "Approve payment",
        json!([
            ["Amount", "7.00 EUR"],
            ["Payee", "Hermione Granger"],
            ["AMOUNT", "713.00 EUR"]
        ]),
    );
    assert_eq!(
        refused(&twice),
        "a challenge cannot be displayed: details 0 and 2 have the same key (compared ignoring case, width and white space)"
    );
    // A lone surrogate cannot even be decoded: refused as malformed, never shown.
    let surrogate = fine.replace("Hermione Granger", "Hermione \\ud800Granger");
    assert!(surrogate.contains("\\ud800"));
    assert!(
        client
            .verify_challenge(&challenge_jws(&server, &surrogate))
            .is_err()
    );
}

#[test]
fn registration_links_need_https_unless_the_server_is_on_this_machine() {
    // Issue 10, finding 12: over plain HTTP an on-path attacker replaces the challenge key.
    let link = |server: &str| {
        format!(
            "countersign://register?v=1&server={}&code=MFRGGZDFMZTWQ2LK",
            URL_SAFE_NO_PAD.encode(server)
        )
    };
    let error = device::RegistrationLink::parse(&link("http://auth.bank.example"))
        .expect_err("plain HTTP to a remote server");
    assert_eq!(
        error.to_string(),
        "registration link names a plain http:// server that is not on this device; https:// is required"
    );
    assert!(device::RegistrationLink::parse(&link("http://192.168.1.10:8080")).is_err());
    for local in [
        "http://127.0.0.1:8080",
        "http://[::1]:8080",
        "http://localhost:8080",
    ] {
        assert_eq!(
            device::RegistrationLink::parse(&link(local))
                .unwrap()
                .server_url,
            local
        );
    }
    assert_eq!(
        device::RegistrationLink::parse(&link("https://auth.bank.example/"))
            .unwrap()
            .server_url,
        "https://auth.bank.example"
    );
}

/// The label docs/device-protocol.md gives each kind of refusal.
fn refusal_label(error: &device::UndisplayableContent) -> &'static str {
    use device::{ForbiddenCharacter as C, UndisplayableContent as U};
    match error {
        U::Empty { .. } => "empty",
        U::TooLong { .. } => "too_long",
        U::TooManyDetails { .. } => "too_many_details",
        U::SurroundingWhitespace { .. } => "surrounding_whitespace",
        U::Forbidden {
            class: C::Control, ..
        } => "control",
        U::Forbidden {
            class: C::LineBreak,
            ..
        } => "line_break",
        U::Forbidden {
            class: C::Bidirectional,
            ..
        } => "bidirectional",
        U::Forbidden {
            class: C::Invisible,
            ..
        } => "invisible",
        U::Forbidden {
            class: C::Unassigned,
            ..
        } => "unassigned",
        U::TooManyCombiningMarks { .. } => "combining_marks",
        U::DuplicateKey { .. } => "duplicate_key",
        _ => "other",
    }
}

#[test]
fn the_displayable_content_vectors_hold() {
    let start = SPEC
        .find("```display-vectors\n")
        .expect("display-vectors block")
        + "```display-vectors\n".len();
    let end = start + SPEC[start..].find("```").expect("end of block");
    let mut checked = 0;
    for line in SPEC[start..end].lines().filter(|l| !l.trim().is_empty()) {
        let (expected, input) = line.split_once(": ").unwrap();
        let (message, details): (String, Vec<(String, String)>) =
            serde_json::from_str(input).unwrap();
        let got = match device::check_displayable(&message, &details) {
            Ok(()) => "ok",
            Err(error) => refusal_label(&error),
        };
        assert_eq!(got, expected, "{line}");
        checked += 1;
    }
    assert!(checked >= 20, "the block lists every rule");
}
