//! The `countersign-demo` binary as a newcomer runs it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use assert_cmd::Command;

fn stdout_of_demo() -> String {
    let out = Command::cargo_bin("countersign-demo")
        .unwrap()
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "countersign-demo: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn demo_runs_and_tells_the_whole_story() {
    let out = stdout_of_demo();
    for needle in [
        "otpauth://totp/Gringotts%20Bank",
        "The server verifies it",
        "refused",
        "Steam Guard code",
        "Google Authenticator export",
        "valid",
        "invalid — the amount is bound into the code",
        "Scanned the registration QR: a countersign://register link",
        "Approve payment\n    Amount: 713.00 EUR\n    Payee: Hermione Granger",
        "approves; the answer is signed over exactly what was shown: approved.",
        "the JWS (ES256) verifies with the device's registered key; decision \"approve\"",
        "The server verifies it against the same payment: \"Token is valid.\"",
        "Server stopped.",
    ] {
        assert!(out.contains(needle), "demo output lacks {needle:?}:\n{out}");
    }
    assert!(!out.contains("bug)"), "{out}");
}
