//! Yandex.Key and mOTP against an independent Python implementation written from the
//! published descriptions (`tests/reference/otp_kinds_reference.py`): thousands of random
//! secrets, PINs and times; zero disagreements allowed. Also the Yandex secret checksum:
//! 26-byte secrets made by the Python side (polynomial long division) must pass ours, and
//! the same with one bit flipped must not.
//!
//! `scripts/test` points `COUNTERSIGN_PYTHON` at its virtual environment; the reference
//! needs only the standard library.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use countersign_app::otp::{YandexSecretError, yandex_secret};
use countersign_app::{Account, OtpParameters, Pin, Secret};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::json;
use sha2::Digest;

const CASES: usize = 3000;

fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

/// Sends every request to the Python reference and returns its answers in order.
fn python_answers(requests: &[serde_json::Value]) -> Vec<String> {
    let python = std::env::var("COUNTERSIGN_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/otp_kinds_reference.py"
    );
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {python}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    let input: String = requests.iter().map(|r| format!("{r}\n")).collect();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let answers: Vec<String> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(|l| l.unwrap())
        .collect();
    writer.join().unwrap().unwrap();
    assert!(
        child.wait().unwrap().success(),
        "the Python reference failed"
    );
    assert_eq!(answers.len(), requests.len(), "one answer per request");
    answers
}

fn random_bytes(rng: &mut StdRng, len: usize) -> Vec<u8> {
    (0..len).map(|_| rng.random()).collect()
}

/// PINs as people choose them (4 to 16 digits), and now and then any printable text.
fn random_pin(rng: &mut StdRng) -> String {
    let len = rng.random_range(4..=16);
    if rng.random_range(0..8) == 0 {
        let pool: Vec<char> = "aZ09 !é€ß-_".chars().collect();
        (0..len)
            .map(|_| pool[rng.random_range(0..pool.len())])
            .collect()
    } else {
        (0..len)
            .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
            .collect()
    }
}

fn random_time(rng: &mut StdRng) -> u64 {
    rng.random_range(0..4_102_444_800) // up to 2100
}

#[test]
fn yandex_and_motp_codes_agree_with_the_python_reference() {
    let mut rng = StdRng::seed_from_u64(0x7961_6f74_7000);
    let mut requests = Vec::new();
    let mut accounts = Vec::new();
    let mut leading_zero_keys = 0;
    for i in 0..CASES {
        let yandex = i % 2 == 0;
        let key = if yandex {
            random_bytes(&mut rng, 16)
        } else {
            let len = rng.random_range(4..=32);
            random_bytes(&mut rng, len)
        };
        let pin = random_pin(&mut rng);
        let time = random_time(&mut rng);
        if yandex && sha2::Sha256::digest([pin.as_bytes(), &key].concat())[0] == 0 {
            leading_zero_keys += 1;
        }
        let kind = if yandex { "yandex" } else { "motp" };
        requests.push(json!({"kind": kind, "key": hex(&key), "pin": pin, "time": time}));
        let params = if yandex {
            OtpParameters::yandex()
        } else {
            OtpParameters::motp()
        };
        let account = Account::new(None, "x", Secret::from_bytes(key).unwrap(), params)
            .with_pin(Pin::new(&pin).unwrap());
        accounts.push((account, time));
    }
    // About 1 in 256 derived keys starts with a zero byte: the rule that drops it is hit.
    assert!(
        leading_zero_keys > 0,
        "no case exercised the leading zero rule"
    );
    let answers = python_answers(&requests);
    for ((account, time), (answer, request)) in accounts.iter().zip(answers.iter().zip(&requests)) {
        assert_eq!(account.code_at(*time).code.as_str(), answer, "{request}");
    }
}

#[test]
fn yandex_checksums_agree_with_the_python_reference() {
    let mut rng = StdRng::seed_from_u64(0x6368_6563_6b00);
    let requests: Vec<_> = (0..CASES)
        .map(|_| {
            let nibble = rng.random_range(0..16u8);
            json!({"kind": "yandex-full", "key": hex(&random_bytes(&mut rng, 16)),
                   "extra": hex(&random_bytes(&mut rng, 8)), "nibble": nibble})
        })
        .collect();
    for full_hex in python_answers(&requests) {
        let full = data_encoding::HEXLOWER.decode(full_hex.as_bytes()).unwrap();
        assert_eq!(
            yandex_secret(&full).unwrap().expose(),
            &full[..16],
            "{full_hex}"
        );
        let mut flipped = full.clone();
        // Every one of the 208 bits counts: 196 of message, 12 of checksum.
        let bit = rng.random_range(0..26 * 8);
        flipped[bit / 8] ^= 0x80 >> (bit % 8);
        assert_eq!(
            yandex_secret(&flipped).unwrap_err(),
            YandexSecretError::Checksum,
            "{full_hex} with bit {bit} flipped"
        );
    }
}
