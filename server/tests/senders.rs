//! SMS and voice delivery through the webhook and Twilio providers, against local fakes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::Value;

#[derive(Clone, Debug)]
struct Captured {
    path: String,
    headers: Vec<(String, String)>,
    body: String,
}

/// A one-thread HTTP server answering every request with `status`, recording what it got.
fn fake(status: u16) -> (u16, Arc<Mutex<Vec<Captured>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
            let mut headers = Vec::new();
            let mut length = 0;
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                let header = header.trim_end().to_owned();
                if header.is_empty() {
                    break;
                }
                let (name, value) = header.split_once(':').unwrap();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap();
                }
                headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            log.lock().unwrap().push(Captured {
                path,
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
            let reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    (port, seen)
}

fn new_user(server: &common::Server) -> i64 {
    let body: Value = reqwest::blocking::Client::new()
        .post(format!("{}/protected/json/users/new", server.base_url))
        .header("X-Authy-API-Key", &server.api_key)
        .form(&[
            ("user[email]", "a@example.com"),
            ("user[cellphone]", "555-010-0099"),
            ("user[country_code]", "44"),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    body["user"]["id"].as_i64().unwrap()
}

fn get(server: &common::Server, path: &str) -> reqwest::blocking::Response {
    reqwest::blocking::Client::new()
        .get(format!("{}{path}", server.base_url))
        .header("X-Authy-API-Key", &server.api_key)
        .send()
        .unwrap()
}

#[test]
fn webhook_sender_posts_json() {
    let (port, seen) = fake(200);
    let server = common::Server::start(&common::Options {
        env: vec![
            ("COUNTERSIGN_SENDER".into(), "webhook".into()),
            (
                "COUNTERSIGN_WEBHOOK_URL".into(),
                format!("http://127.0.0.1:{port}/hook"),
            ),
        ],
        ..Default::default()
    });
    let user = new_user(&server);
    assert_eq!(
        get(&server, &format!("/protected/json/sms/{user}?force=true"))
            .status()
            .as_u16(),
        200
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let message: Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(seen[0].path, "/hook");
    assert_eq!(message["channel"], "sms");
    assert_eq!(message["to"], "+445550100099");
    assert!(
        message["body"]
            .as_str()
            .unwrap()
            .contains("Gringotts verification code is: ")
    );
}

#[test]
fn twilio_sender_uses_messages_and_calls() {
    let (port, seen) = fake(201);
    let server = common::Server::start(&common::Options {
        env: vec![
            ("COUNTERSIGN_SENDER".into(), "twilio".into()),
            (
                "COUNTERSIGN_TWILIO_BASE_URL".into(),
                format!("http://127.0.0.1:{port}"),
            ),
            ("COUNTERSIGN_TWILIO_ACCOUNT_SID".into(), "AC0123".into()),
            (
                "COUNTERSIGN_TWILIO_AUTH_TOKEN".into(),
                "secret-token".into(),
            ),
            ("COUNTERSIGN_TWILIO_FROM".into(), "+15005550006".into()),
        ],
        ..Default::default()
    });
    let user = new_user(&server);
    assert_eq!(
        get(&server, &format!("/protected/json/sms/{user}?force=true"))
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        get(&server, &format!("/protected/json/call/{user}?force=true"))
            .status()
            .as_u16(),
        200
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].path, "/2010-04-01/Accounts/AC0123/Messages.json");
    assert_eq!(seen[1].path, "/2010-04-01/Accounts/AC0123/Calls.json");
    let auth = seen[0]
        .headers
        .iter()
        .find(|(k, _)| k == "authorization")
        .unwrap()
        .1
        .clone();
    // Basic base64("AC0123:secret-token")
    assert_eq!(auth, "Basic QUMwMTIzOnNlY3JldC10b2tlbg==");
    let form: Vec<(String, String)> = form_urlencoded::parse(seen[0].body.as_bytes())
        .into_owned()
        .collect();
    assert!(form.contains(&("To".into(), "+445550100099".into())));
    assert!(form.contains(&("From".into(), "+15005550006".into())));
    assert!(
        form.iter()
            .any(|(k, v)| k == "Body" && v.starts_with("Your Gringotts verification code is: "))
    );
    let call: Vec<(String, String)> = form_urlencoded::parse(seen[1].body.as_bytes())
        .into_owned()
        .collect();
    assert!(
        call.iter()
            .any(|(k, v)| k == "Twiml" && v.starts_with("<Response><Say>"))
    );
}

#[test]
fn a_failing_provider_is_a_clear_error() {
    let (port, _) = fake(500);
    let server = common::Server::start(&common::Options {
        env: vec![
            ("COUNTERSIGN_SENDER".into(), "webhook".into()),
            (
                "COUNTERSIGN_WEBHOOK_URL".into(),
                format!("http://127.0.0.1:{port}/hook"),
            ),
        ],
        ..Default::default()
    });
    let user = new_user(&server);
    let r = get(&server, &format!("/protected/json/sms/{user}?force=true"));
    assert_eq!(r.status().as_u16(), 503);
    let body: Value = r.json().unwrap();
    assert_eq!(body["error_code"], "60008");
}
