//! Differential tests against independent implementations: Python's pyotp (HOTP, TOTP),
//! Python's oath (OCRA) and the totp-rs crate (TOTP, Steam). Thousands of random secrets,
//! times, algorithms and digit counts; zero disagreements allowed.
//!
//! The Python side needs `pyotp` and `oath`; `scripts/test` installs them into a virtual
//! environment and points `COUNTERSIGN_PYTHON` at it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use countersign_app::ocra::{Inputs, Suite};
use countersign_app::otp::{Algorithm, hotp_code};
use countersign_app::{Account, OtpParameters, Secret};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::json;

const CASES: usize = 4000;

fn hash(algorithm: Algorithm, data: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    match algorithm {
        Algorithm::Sha1 => sha1::Sha1::digest(data).to_vec(),
        Algorithm::Sha256 => sha2::Sha256::digest(data).to_vec(),
        Algorithm::Sha512 => sha2::Sha512::digest(data).to_vec(),
    }
}

fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

/// Keys of `min` to 64 bytes. pyotp refuses keys under 112 bits, so its cases start at 14
/// bytes; the totp-rs comparison covers the 80-bit keys many services issue.
fn random_key(rng: &mut StdRng, min: usize) -> Vec<u8> {
    let len = rng.random_range(min..=64);
    (0..len).map(|_| rng.random()).collect()
}

fn random_algorithm(rng: &mut StdRng) -> Algorithm {
    Algorithm::ALL[rng.random_range(0..3)]
}

/// Sends every request to the Python reference and returns its answers in order.
fn python_answers(requests: &[serde_json::Value]) -> Vec<String> {
    let python = std::env::var("COUNTERSIGN_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/otp_reference.py"
    );
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {python}: {e}; run scripts/test"));
    let mut stdin = child.stdin.take().unwrap();
    let input: String = requests.iter().map(|r| format!("{r}\n")).collect();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let answers: Vec<String> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(|l| l.unwrap())
        .collect();
    let written = writer.join().unwrap();
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "the Python reference at {python} failed (are pyotp and oath installed? scripts/test sets up .venv)"
    );
    written.unwrap();
    assert_eq!(answers.len(), requests.len(), "one answer per request");
    answers
}

#[test]
fn totp_and_hotp_agree_with_pyotp() {
    let mut rng = StdRng::seed_from_u64(0x7070_7074);
    let mut requests = Vec::new();
    let mut ours = Vec::new();
    for i in 0..CASES {
        let key = random_key(&mut rng, 14);
        let algorithm = random_algorithm(&mut rng);
        let digits: u32 = rng.random_range(6..=10);
        let secret = Secret::from_bytes(key.clone()).unwrap();
        if i % 2 == 0 {
            let period: u32 = *[30, 60, 15, 1, 45, 90, 120]
                .get(rng.random_range(0..7))
                .unwrap();
            let time: u64 = rng.random_range(0..4_000_000_000);
            let account = Account::new(
                None,
                "x",
                secret,
                OtpParameters::totp(algorithm, digits, period).unwrap(),
            );
            ours.push(account.code_at(time).code.to_string());
            requests.push(
                json!({"kind": "totp", "key": hex(&key), "algorithm": algorithm.name(),
                "digits": digits, "period": period, "time": time}),
            );
        } else {
            let counter: u64 = if rng.random_bool(0.5) {
                rng.random_range(0..1000)
            } else {
                rng.random_range(0..(1u64 << 62))
            };
            ours.push(hotp_code(algorithm, secret.expose(), counter, digits as u8).to_string());
            requests.push(
                json!({"kind": "hotp", "key": hex(&key), "algorithm": algorithm.name(),
                "digits": digits, "counter": counter}),
            );
        }
    }
    let theirs = python_answers(&requests);
    let disagreements: Vec<_> = ours
        .iter()
        .zip(&theirs)
        .zip(&requests)
        .filter(|((a, b), _)| a != b)
        .map(|((a, b), r)| format!("{r}: ours {a}, pyotp {b}"))
        .collect();
    assert!(
        disagreements.is_empty(),
        "{} disagreements, first: {:?}",
        disagreements.len(),
        disagreements.first()
    );
}

#[test]
fn ocra_agrees_with_python_oath() {
    let mut rng = StdRng::seed_from_u64(0x0c2a);
    let mut requests = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..CASES {
        let algorithm = random_algorithm(&mut rng);
        let digits: u8 = rng.random_range(4..=10);
        let counter = rng.random_bool(0.3);
        let (format, max) = [
            ("N", 8u8),
            ("N", 20),
            ("A", 8),
            ("A", 40),
            ("H", 16),
            ("H", 64),
        ][rng.random_range(0..6)];
        let pin = rng.random_bool(0.3).then(|| random_algorithm(&mut rng));
        let time_step = rng
            .random_bool(0.6)
            .then(|| ["30S", "1M", "45S", "1H", "60S"][rng.random_range(0..5)]);
        let mut suite_text = format!("OCRA-1:HOTP-{}-{digits}:", algorithm.name());
        if counter {
            suite_text.push_str("C-");
        }
        suite_text.push_str(&format!("Q{format}{max:02}"));
        if let Some(p) = pin {
            suite_text.push_str(&format!("-P{}", p.name()));
        }
        if let Some(t) = time_step {
            suite_text.push_str(&format!("-T{t}"));
        }
        let len = rng.random_range(1..=usize::from(max));
        let challenge: String = match format {
            "N" => {
                // No leading zero beyond a lone "0": oath reads the number, as the RFC does.
                let mut s: String = (0..len)
                    .map(|_| char::from(b'0' + rng.random_range(0..10)))
                    .collect();
                if s.len() > 1 && s.starts_with('0') {
                    s.replace_range(0..1, "7");
                }
                s
            }
            "A" => (0..len)
                .map(|_| {
                    char::from(
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz"
                            [rng.random_range(0..62)],
                    )
                })
                .collect(),
            _ => (0..(len / 2).max(1) * 2)
                .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
                .collect(),
        };
        let key = random_key(&mut rng, 10);
        let pin_text: String = (0..rng.random_range(4..=8))
            .map(|_| char::from(b'0' + rng.random_range(0..10)))
            .collect();
        let pin_hash: Option<Vec<u8>> = pin.map(|p| hash(p, pin_text.as_bytes()));
        let counter_value = counter.then(|| rng.random_range(0..u64::MAX / 2));
        let time_steps = time_step.map(|_| rng.random_range(0..100_000_000u64));

        let suite = Suite::parse(&suite_text).unwrap();
        let code = suite
            .compute(
                &key,
                &Inputs {
                    counter: counter_value,
                    challenge: &challenge,
                    pin_hash: pin_hash.as_deref(),
                    session: None,
                    time_steps,
                },
            )
            .unwrap();
        ours.push(code.to_string());
        requests.push(json!({"kind": "ocra", "suite": suite_text, "key": hex(&key), "challenge": challenge,
            "counter": counter_value, "pin": pin.map(|_| pin_text.clone()), "time_steps": time_steps}));
    }
    let theirs = python_answers(&requests);
    let disagreements: Vec<_> = ours
        .iter()
        .zip(&theirs)
        .zip(&requests)
        .filter(|((a, b), _)| a != b)
        .map(|((a, b), r)| format!("{r}: ours {a}, oath {b}"))
        .collect();
    assert!(
        disagreements.is_empty(),
        "{} disagreements, first: {:?}",
        disagreements.len(),
        disagreements.first()
    );
}

#[test]
fn totp_and_steam_agree_with_totp_rs() {
    let mut rng = StdRng::seed_from_u64(0x5715);
    for _ in 0..CASES {
        let key = random_key(&mut rng, 10);
        // totp-rs's SHA-1 at 6 to 8 digits: the range it supports.
        let digits: u32 = rng.random_range(6..=8);
        let period: u64 = [30, 60, 15][rng.random_range(0..3)];
        let time: u64 = rng.random_range(0..4_000_000_000);
        let algorithm = random_algorithm(&mut rng);
        let reference = totp_rs::TOTP::new_unchecked(
            match algorithm {
                Algorithm::Sha1 => totp_rs::Algorithm::SHA1,
                Algorithm::Sha256 => totp_rs::Algorithm::SHA256,
                Algorithm::Sha512 => totp_rs::Algorithm::SHA512,
            },
            digits as usize,
            1,
            period,
            key.clone(),
        );
        let ours = Account::new(
            None,
            "x",
            Secret::from_bytes(key.clone()).unwrap(),
            OtpParameters::totp(algorithm, digits, period as u32).unwrap(),
        );
        assert_eq!(ours.code_at(time).code.as_str(), reference.generate(time));

        let steam_reference = totp_rs::TOTP::new_steam(key.clone());
        let steam = Account::new(
            None,
            "x",
            Secret::from_bytes(key).unwrap(),
            OtpParameters::steam(),
        );
        assert_eq!(
            steam.code_at(time).code.as_str(),
            steam_reference.generate(time)
        );
    }
}

fn random_text(rng: &mut StdRng) -> String {
    const SPECIAL: &[char] = &[
        '&', '=', '[', ']', '+', '%', ' ', '\u{301}', 'e', '~', '-', '€', 'ü', '漢', '.', '/', '?',
        '#',
    ];
    let len = rng.random_range(1..16);
    (0..len)
        .map(|_| {
            if rng.random_bool(0.5) {
                SPECIAL[rng.random_range(0..SPECIAL.len())]
            } else {
                char::from(rng.random_range(b'A'..=b'z'))
            }
        })
        .collect()
}

#[test]
fn transactional_codes_agree_with_python() {
    use countersign_app::transactional;
    use countersign_app::txotp::Transaction;

    let mut rng = StdRng::seed_from_u64(0x7e07);
    let mut requests = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..CASES / 4 {
        let entries = |rng: &mut StdRng| -> Vec<(String, String)> {
            (0..rng.random_range(0..5))
                .map(|i| (format!("{i}{}", random_text(rng)), random_text(rng)))
                .collect()
        };
        let tx = Transaction {
            message: random_text(&mut rng),
            details: entries(&mut rng),
            hidden_details: entries(&mut rng),
        };
        let key = random_key(&mut rng, 14);
        let algorithm = random_algorithm(&mut rng);
        let digits: u32 = rng.random_range(6..=10);
        let period: u32 = [30, 60, 45, 15][rng.random_range(0..4)];
        let time: u64 = rng.random_range(0..4_000_000_000);
        let account = Account::new(
            None,
            "x",
            Secret::from_bytes(key.clone()).unwrap(),
            OtpParameters::totp(algorithm, digits, period).unwrap(),
        );
        let code = transactional::code(&account, &tx, time).unwrap();
        ours.push(format!("{code} {}", tx.canonical_string()));
        requests.push(
            json!({"kind": "transactional", "key": hex(&key), "algorithm": algorithm.name(),
            "digits": digits, "period": period, "time": time, "txotp": tx.to_uri().unwrap()}),
        );
    }
    let theirs = python_answers(&requests);
    let disagreements: Vec<_> = ours.iter().zip(&theirs).filter(|(a, b)| a != b).collect();
    assert!(
        disagreements.is_empty(),
        "{} disagreements, first: {:?}",
        disagreements.len(),
        disagreements.first()
    );
}

/// Countersign's encrypted exports open with independent implementations of their formats.
#[test]
fn encrypted_exports_open_with_independent_libraries() {
    use countersign_app::transfer;
    use countersign_app::vault::{EntryMeta, KdfParams, Vault};

    let dir = tempfile::tempdir().unwrap();
    let mut vault = Vault::create(&dir.path().join("v.db"), "pw", KdfParams::MINIMUM).unwrap();
    let mut rng = StdRng::seed_from_u64(0xe4);
    let mut expected = Vec::new();
    for i in 0..12 {
        let key = random_key(&mut rng, 10);
        let params = match i % 3 {
            0 => OtpParameters::totp(random_algorithm(&mut rng), rng.random_range(6..=10), 30)
                .unwrap(),
            1 => OtpParameters::hotp(Algorithm::Sha1, 6, rng.random_range(0..1000)).unwrap(),
            _ => OtpParameters::steam(),
        };
        let account = Account::new(
            Some(format!("Issuer {i} é")),
            format!("user{i}@example.com"),
            Secret::from_bytes(key).unwrap(),
            params,
        );
        let kind = ["totp", "hotp", "steam"][i % 3];
        expected.push(json!({"issuer": account.issuer, "label": account.label, "secret": account.secret.to_base32(), "type": kind}));
        vault.add(account, EntryMeta::default()).unwrap();
    }
    let aegis_path = dir.path().join("aegis.json");
    std::fs::write(
        &aegis_path,
        transfer::export_aegis(vault.entries().unwrap(), Some("aegis pw")).as_bytes(),
    )
    .unwrap();
    let backup_path = dir.path().join("backup.csbackup");
    std::fs::write(
        &backup_path,
        transfer::export_backup(vault.entries().unwrap(), "backup pw", KdfParams::MINIMUM).unwrap(),
    )
    .unwrap();

    let python = std::env::var("COUNTERSIGN_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/check_exports.py"
    );
    for (kind, path, password) in [
        ("aegis", &aegis_path, "aegis pw"),
        ("backup", &backup_path, "backup pw"),
    ] {
        let out = Command::new(&python)
            .args([script, kind])
            .arg(path)
            .arg(password)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{kind}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let decoded: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            decoded,
            serde_json::Value::Array(expected.clone()),
            "{kind}"
        );
    }
}
