//! HTTPS and reverse proxies: the API over TLS 1.3 and 1.2 (ALPN h2 and http/1.1) with a
//! certificate from a test CA; plain HTTP refused on the TLS port and on non-loopback
//! addresses; the forwarded client address believed only from a trusted proxy; clear
//! start-up errors for bad PEM files.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, ClientBuilder};
use reqwest::tls::Version;
use serde_json::Value;

fn tls_server() -> common::Server {
    common::Server::start(&common::Options {
        tls: true,
        ..Default::default()
    })
}

fn trusting(server: &common::Server, builder: ClientBuilder) -> Client {
    let pem = std::fs::read(server.ca_cert.as_ref().unwrap()).unwrap();
    builder
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap()
}

fn app_details(server: &common::Server, client: &Client) -> reqwest::blocking::Response {
    client
        .get(format!("{}/protected/json/app/details", server.base_url))
        .header("X-Authy-API-Key", &server.api_key)
        .send()
        .unwrap()
}

#[test]
fn the_api_answers_over_tls_1_3_and_1_2() {
    let server = tls_server();
    assert!(server.base_url.starts_with("https://127.0.0.1:"));
    let versions = [
        (
            "TLS 1.3",
            Client::builder().min_tls_version(Version::TLS_1_3),
        ),
        (
            "TLS 1.2",
            Client::builder().max_tls_version(Version::TLS_1_2),
        ),
    ];
    for (name, builder) in versions {
        let answer = app_details(&server, &trusting(&server, builder));
        assert_eq!(answer.status(), 200, "{name}");
        let body: Value = answer.json().unwrap();
        assert_eq!(body["success"], true, "{name}: {body}");
        assert_eq!(body["app"]["name"], "Gringotts", "{name}: {body}");
    }
    // The helpers' own client (which creates users) works over TLS too.
    assert!(server.new_user("7700900123") > 0);
}

#[test]
fn alpn_offers_h2_and_http_1_1() {
    let server = tls_server();
    let h2 = app_details(&server, &trusting(&server, Client::builder()));
    assert_eq!(h2.version(), reqwest::Version::HTTP_2);
    assert_eq!(h2.status(), 200);
    let h1 = app_details(&server, &trusting(&server, Client::builder().http1_only()));
    assert_eq!(h1.version(), reqwest::Version::HTTP_11);
    assert_eq!(h1.status(), 200);
}

#[test]
fn plain_http_and_untrusted_clients_get_nothing_from_the_tls_port() {
    let server = tls_server();
    let plain = server.base_url.replace("https://", "http://");
    let answer = Client::new()
        .get(format!("{plain}/protected/json/app/details"))
        .header("X-Authy-API-Key", &server.api_key)
        .timeout(Duration::from_secs(10))
        .send();
    assert!(answer.is_err(), "plain HTTP was answered: {answer:?}");
    // A client that does not trust the test CA refuses the certificate.
    assert!(app_details_result(&server, &Client::new()).is_err());
}

fn app_details_result(
    server: &common::Server,
    client: &Client,
) -> reqwest::Result<reqwest::blocking::Response> {
    client
        .get(format!("{}/protected/json/app/details", server.base_url))
        .header("X-Authy-API-Key", &server.api_key)
        .send()
}

#[test]
fn shutdown_is_graceful_over_tls() {
    let mut server = tls_server();
    let client = trusting(&server, Client::builder());
    assert_eq!(app_details(&server, &client).status(), 200);
    let took = server.terminate();
    assert!(took < Duration::from_secs(30), "shutdown took {took:?}");
    assert!(server.log().contains("shutting down"));
    server.start_again();
    let client = trusting(&server, Client::builder());
    assert_eq!(app_details(&server, &client).status(), 200);
}

/// Runs the binary with a fresh SQLite database in `dir`; returns its output, failing if it
/// is still running after 20 s (it was expected to refuse to start).
fn run_expecting_exit(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(common::BIN);
    command
        .args(args)
        .env(
            "COUNTERSIGN_DATABASE_URL",
            format!("sqlite:{}", dir.join("refused.db").display()),
        )
        .env("COUNTERSIGN_MASTER_KEY_FILE", dir.join("master.key"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server started with {args:?} {env:?}; it should have refused");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn refused_with(output: &Output, words: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for word in words {
        assert!(stderr.contains(word), "{word:?} not in: {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_non_loopback_listen_without_tls_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for address in ["0.0.0.0", "[::]"] {
        let listen = format!("{address}:{}", common::free_port());
        let output = run_expecting_exit(dir.path(), &["--listen", &listen], &[]);
        refused_with(
            &output,
            &[
                "refusing to serve plain HTTP",
                "--tls-cert",
                "--behind-proxy",
            ],
        );
    }
    // Refused before the database is created.
    assert!(!dir.path().join("refused.db").exists());
}

#[test]
fn behind_a_proxy_plain_http_on_any_address_is_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let mut child = Command::new(common::BIN)
        .args(["--listen", &format!("0.0.0.0:{port}"), "--behind-proxy"])
        .env(
            "COUNTERSIGN_DATABASE_URL",
            format!("sqlite:{}", dir.path().join("p.db").display()),
        )
        .env("COUNTERSIGN_MASTER_KEY_FILE", dir.path().join("master.key"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let answer = loop {
        match Client::new()
            .get(format!(
                "http://127.0.0.1:{port}/protected/json/app/details"
            ))
            .send()
        {
            Ok(answer) => break answer,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => {
                let _ = child.kill();
                panic!("the server did not answer: {e}");
            }
        }
    };
    // Served: the Authy answer for a missing API key.
    assert_eq!(answer.status(), 401);
    let body: Value = answer.json().unwrap();
    assert_eq!(body["error_code"], "60001", "{body}");
    let _ = child.kill();
    let _ = child.wait();
}

/// Starts a server with `env`, sends one request with `header: value`, and returns the
/// client address the server logged for it.
fn logged_client(env: &[(&str, &str)], header: &str, value: &str) -> String {
    let server = common::Server::start(&common::Options {
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    });
    let answer = Client::new()
        .get(format!(
            "{}/protected/json/app/details?marker=forwarded",
            server.base_url
        ))
        .header("X-Authy-API-Key", &server.api_key)
        .header(header, value)
        .send()
        .unwrap();
    assert_eq!(answer.status(), 200);
    let log = without_colours(&server.log());
    let line = log
        .lines()
        .find(|l| l.contains("/protected/json/app/details") && l.contains("peer="))
        .unwrap_or_else(|| panic!("no request line in the log:\n{log}"));
    let client = line.split(" client=").nth(1).unwrap();
    client.split_whitespace().next().unwrap().to_owned()
}

/// The log without its ANSI colour sequences (`ESC [ … m`).
fn without_colours(log: &str) -> String {
    let mut plain = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            plain.push(c);
        }
    }
    plain
}

#[test]
fn the_forwarded_address_is_believed_only_from_a_trusted_proxy() {
    let xff = "X-Forwarded-For";
    // The test connects from 127.0.0.1: trusted, it is a proxy; the client wrote 6.6.6.6.
    let trusted = [("COUNTERSIGN_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")];
    assert_eq!(
        logged_client(&trusted, xff, "6.6.6.6, 203.0.113.7, 10.2.3.4"),
        "203.0.113.7"
    );
    // Not a trusted proxy: the header is the client's own claim.
    let elsewhere = [("COUNTERSIGN_TRUSTED_PROXIES", "10.0.0.0/8")];
    assert_eq!(logged_client(&elsewhere, xff, "203.0.113.7"), "127.0.0.1");
    assert_eq!(logged_client(&[], xff, "203.0.113.7"), "127.0.0.1");
    // --behind-proxy alone trusts a proxy on this host.
    let local = [("COUNTERSIGN_BEHIND_PROXY", "true")];
    assert_eq!(logged_client(&local, xff, "198.51.100.2"), "198.51.100.2");
    // RFC 7239, when the proxies are said to write it; then X-Forwarded-For is ignored.
    let rfc = [
        ("COUNTERSIGN_TRUSTED_PROXIES", "127.0.0.1"),
        ("COUNTERSIGN_FORWARDED_HEADER", "forwarded"),
    ];
    let forwarded = r#"for=6.6.6.6, for="[2001:db8::7]:4711";proto=https"#;
    assert_eq!(logged_client(&rfc, "Forwarded", forwarded), "2001:db8::7");
    assert_eq!(logged_client(&rfc, xff, "203.0.113.7"), "127.0.0.1");
}

#[test]
fn bad_tls_files_stop_the_start_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let certs = common::test_certificates(dir.path());
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "this is not PEM\n").unwrap();
    let broken = dir.path().join("broken.pem");
    std::fs::write(
        &broken,
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let missing = dir.path().join("missing.pem");
    let path = |p: &Path| p.display().to_string();
    let listen = format!("127.0.0.1:{}", common::free_port());
    let cases: [(String, String, &[&str]); 6] = [
        (
            path(&garbage),
            path(&certs.key),
            &["holds no PEM certificate", "garbage.pem"],
        ),
        (
            path(&broken),
            path(&certs.key),
            &["is not valid PEM", "broken.pem"],
        ),
        (
            path(&missing),
            path(&certs.key),
            &["cannot read the TLS certificate", "missing.pem"],
        ),
        (
            path(&certs.cert),
            path(&garbage),
            &["holds no PEM private key", "garbage.pem"],
        ),
        // A certificate is not a key.
        (
            path(&certs.cert),
            path(&certs.cert),
            &["holds no PEM private key"],
        ),
        // The CA's key does not go with the server's certificate.
        (
            path(&certs.cert),
            path(&dir.path().join("tls/ca.key")),
            &["cannot serve the certificate", "ca.key"],
        ),
    ];
    for (cert, key, words) in cases {
        let args = ["--listen", &listen, "--tls-cert", &cert, "--tls-key", &key];
        refused_with(&run_expecting_exit(dir.path(), &args, &[]), words);
    }
    let only_cert = ["--listen", &listen, "--tls-cert", &path(&certs.cert)];
    refused_with(
        &run_expecting_exit(dir.path(), &only_cert, &[]),
        &["needs both a certificate and a key"],
    );
}
