//! The official Authy Python SDK, unchanged, drives a real server over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod common;

#[test]
fn official_python_sdk_flow() {
    let server = common::Server::start(&common::Options {
        callback: true,
        ..Default::default()
    });
    let python = std::env::var("COUNTERSIGN_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/authy_flow.py");
    let output = std::process::Command::new(python)
        .arg(script)
        .arg(&server.base_url)
        .arg(&server.api_key)
        .arg(server.callback_port.to_string())
        .args(server.outbox_command())
        .output()
        .expect("python runs (scripts/test sets up .venv with the SDK)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the SDK flow failed:\n{stdout}");
    assert!(stdout.contains("sdk: ") && stdout.contains(" 0 failed"));
}
