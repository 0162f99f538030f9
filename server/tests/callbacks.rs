//! OneTouch callbacks are retried with back-off until the app's endpoint accepts them.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

#[test]
fn a_failing_callback_endpoint_gets_retried_until_it_accepts() {
    let server = common::Server::start(&common::Options {
        callback: true,
        ..Default::default()
    });
    let listener = TcpListener::bind(("127.0.0.1", server.callback_port)).unwrap();
    let seen: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                if header.trim().is_empty() {
                    break;
                }
                if let Some(v) = header.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let mut seen = log.lock().unwrap();
            seen.push((Instant::now(), String::from_utf8(body).unwrap()));
            // The first two deliveries fail.
            let status = if seen.len() < 3 {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            let _ = stream.write_all(
                format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .as_bytes(),
            );
        }
    });
    let http = reqwest::blocking::Client::new();
    let user: Value = http
        .post(format!("{}/protected/json/users/new", server.base_url))
        .header("X-Authy-API-Key", &server.api_key)
        .form(&[
            ("user[email]", "c@example.com"),
            ("user[cellphone]", "555-010-0077"),
            ("user[country_code]", "1"),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    let request: Value = http
        .post(format!(
            "{}/onetouch/json/users/{}/approval_requests",
            server.base_url, user["user"]["id"]
        ))
        .header("X-Authy-API-Key", &server.api_key)
        .form(&[("message", "Log in"), ("seconds_to_expire", "1")])
        .send()
        .unwrap()
        .json()
        .unwrap();
    let uuid = request["approval_request"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.lock().unwrap().len() < 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen.len(),
        3,
        "two failures, then one success, then nothing more"
    );
    assert!(
        seen.iter().all(|(_, body)| body == &seen[0].1),
        "the same callback each time"
    );
    // Back-off of 1 s, then 2 s, counted in whole seconds of the server clock: the second wait
    // is always more than a second, the first is some positive time.
    let gaps: Vec<f64> = seen
        .windows(2)
        .map(|w| (w[1].0 - w[0].0).as_secs_f64())
        .collect();
    assert!(gaps[0] > 0.0 && gaps[1] >= 1.0, "{gaps:?}");
    let status: Value = http
        .get(format!(
            "{}/onetouch/json/approval_requests/{uuid}",
            server.base_url
        ))
        .header("X-Authy-API-Key", &server.api_key)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(status["approval_request"]["status"], "expired");
    assert_eq!(status["approval_request"]["notified"], true);
}
