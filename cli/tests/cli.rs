//! The `countersign` binary as a user or script runs it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use assert_cmd::Command;
use serde_json::Value;

const RFC_SEED_B32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // "12345678901234567890"
const AUTHY_TX: &str = "txotp://totp?message=Approve+money+transaction&details[Amount]=1000+Euros&details[To]=John+Doe&details[Destination+Account]=29385&details[Source+Account]=98381&details[Reason]=transfer+money&hidden_details[Transaction+ID]=T2293";

fn countersign() -> Command {
    let mut cmd = Command::cargo_bin("countersign").unwrap();
    cmd.env_remove("COUNTERSIGN_SECRET");
    cmd
}

fn stdout_of(args: &[&str]) -> String {
    let out = countersign().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json_of(args: &[&str]) -> Value {
    serde_json::from_str(&stdout_of(args)).unwrap()
}

/// Bad input: exit 2, exactly one line on stderr, and never a panic.
fn assert_bad_input(args: &[&str], expected: &str) {
    let out = countersign().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(expected), "{args:?}: {stderr}");
}

#[test]
fn code_matches_rfc_6238_and_4226() {
    assert_eq!(
        stdout_of(&[
            "code",
            "--secret",
            RFC_SEED_B32,
            "--digits",
            "8",
            "--at",
            "59"
        ]),
        "94287082\n"
    );
    assert_eq!(
        stdout_of(&["code", "--secret", RFC_SEED_B32, "--counter", "9"]),
        "520489\n"
    );
    let uri = format!("otpauth://totp/x?secret={RFC_SEED_B32}&digits=8");
    let view = json_of(&["code", "--uri", &uri, "--at", "1111111109", "--json"]);
    assert_eq!(view["code"], "07081804");
    assert_eq!(view["step"], 1111111109u64 / 30);
    assert_eq!(view["seconds_remaining"], 30 - 1111111109 % 30);
    // The secret may come from the environment instead of the command line.
    let out = countersign()
        .env("COUNTERSIGN_SECRET", RFC_SEED_B32)
        .args(["code", "--digits", "8", "--at", "59"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "94287082\n");
}

#[test]
fn uri_parse_hides_the_secret_unless_asked() {
    let uri = "otpauth://totp/ACME:alice?secret=JBSWY3DPEHPK3PXP&issuer=ACME&digits=7";
    let view = json_of(&["uri", "parse", uri]);
    assert_eq!(view["account"]["issuer"], "ACME");
    assert_eq!(view["account"]["digits"], 7);
    assert_eq!(view["warnings"][0]["warning"], "weak_secret");
    assert!(view["account"].get("secret").is_none());
    assert!(!view.to_string().contains("JBSWY3DPEHPK3PXP"));
    let shown = json_of(&["uri", "parse", uri, "--show-secret"]);
    assert_eq!(shown["account"]["secret"], "JBSWY3DPEHPK3PXP");
}

#[test]
fn migration_encode_then_decode() {
    let uris = [
        "otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP&issuer=A",
        "otpauth://hotp/B:b?secret=GEZDGNBVGY3TQOJQ&counter=5",
        "otpauth://steam/S:s?secret=JBSWY3DPEHPK3PXP",
    ];
    let mut args = vec!["uri", "migration", "encode", "--json"];
    args.extend(uris);
    let export = json_of(&args);
    assert_eq!(export["skipped"][0]["index"], 2);
    let encoded: Vec<String> = export["uris"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u.as_str().unwrap().to_owned())
        .collect();
    let mut decode = vec!["uri", "migration", "decode", "--show-secret"];
    decode.extend(encoded.iter().map(String::as_str));
    let decoded = json_of(&decode);
    assert_eq!(decoded["missing_parts"], serde_json::json!([]));
    let labels: Vec<&str> = decoded["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["a", "b"]);
    assert_eq!(decoded["accounts"][1]["counter"], 5);
}

#[test]
fn txotp_code_and_verify_exit_codes() {
    // The "authy-example" vector of docs/transactional-totp.md.
    let args = [
        "--secret",
        RFC_SEED_B32,
        "--tx",
        AUTHY_TX,
        "--at",
        "1700000000",
    ];
    let mut code_args = vec!["txotp", "code"];
    code_args.extend(args);
    assert_eq!(stdout_of(&code_args), "759865\n");

    let verify = |code: &str, tx: &str| {
        countersign()
            .args([
                "txotp",
                "verify",
                "--secret",
                RFC_SEED_B32,
                "--tx",
                tx,
                "--at",
                "1700000000",
                "--code",
                code,
            ])
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(verify("759865", AUTHY_TX), Some(0));
    assert_eq!(verify("759866", AUTHY_TX), Some(1));
    assert_eq!(
        verify("759865", &AUTHY_TX.replace("1000+Euros", "9000+Euros")),
        Some(1)
    );
}

#[test]
fn bad_input_gets_one_line_and_exit_2() {
    assert_bad_input(&["code", "--secret", "not base32!"], "base32");
    assert_bad_input(
        &["code", "--secret", RFC_SEED_B32, "--digits", "12"],
        "digits",
    );
    assert_bad_input(
        &["code", "--secret", RFC_SEED_B32, "--algorithm", "MD5"],
        "algorithm",
    );
    assert_bad_input(&["uri", "parse", "otpauth://totp/a?issuer=x"], "secret");
    assert_bad_input(
        &[
            "uri",
            "migration",
            "decode",
            "otpauth-migration://offline?data=***",
        ],
        "base64",
    );
    assert_bad_input(
        &[
            "txotp",
            "code",
            "--secret",
            RFC_SEED_B32,
            "--tx",
            "txotp://totp?message=m&details[A]=",
        ],
        "The param details can not have empty values.",
    );
    assert_bad_input(
        &[
            "txotp",
            "show",
            "--tx",
            "txotp://totp?message=m&hidden_details[A]=",
        ],
        "The param hidden details can not have empty values.",
    );
    assert_bad_input(
        &[
            "code",
            "--uri",
            "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP",
            "--counter",
            "1",
        ],
        "hotp",
    );
}

/// A PNG of `text` as a QR code (or a blank page), written into `dir`.
fn qr_png(dir: &std::path::Path, name: &str, text: Option<&str>) -> std::path::PathBuf {
    let image = match text {
        Some(text) => qrcode::QrCode::new(text.as_bytes())
            .unwrap()
            .render::<image::Luma<u8>>()
            .module_dimensions(4, 4)
            .build(),
        None => image::GrayImage::from_pixel(300, 300, image::Luma([230])),
    };
    let path = dir.join(name);
    image.save(&path).unwrap();
    path
}

#[test]
fn scan_prints_one_json_line_per_code_and_exits_1_when_none() {
    let dir = tempfile::tempdir().unwrap();
    let payment = qr_png(dir.path(), "payment.png", Some(AUTHY_TX));
    let enrol = qr_png(
        dir.path(),
        "enrol.png",
        Some("otpauth://totp/Bank:alice?secret=JBSWY3DPEHPK3PXP&issuer=Bank"),
    );
    let out = stdout_of(&["scan", payment.to_str().unwrap(), enrol.to_str().unwrap()]);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["text"], AUTHY_TX);
    assert_eq!(lines[0]["kind"], "transaction");
    assert_eq!(
        lines[0]["payload"]["details"][0],
        serde_json::json!(["Amount", "1000 Euros"])
    );
    assert_eq!(lines[0]["corners"].as_array().unwrap().len(), 4);
    assert_eq!(lines[1]["kind"], "account");
    assert_eq!(lines[1]["payload"]["account"]["issuer"], "Bank");
    assert!(lines[1]["payload"]["account"].get("secret").is_none());

    let blank = qr_png(dir.path(), "blank.png", None);
    let out = countersign()
        .args(["scan", blank.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    assert_bad_input(
        &["scan", text.to_str().unwrap()],
        "not a PNG, JPEG, WebP or GIF",
    );
    assert_bad_input(&["scan", "/nonexistent.png"], "cannot read");
}
