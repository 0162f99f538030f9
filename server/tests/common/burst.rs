//! Requests released together: every request is written except its last byte on its own
//! connection, then all last bytes are sent at once, so the server receives them within
//! microseconds of each other (a "last-byte synchronised" race).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::time::Duration;

/// One HTTP/1.1 request: method, base URL of a server (`http://host:port`), path with
/// query, headers, and a body (sent as `application/x-www-form-urlencoded` when present).
#[derive(Clone)]
pub struct Raw {
    pub base: String,
    pub method: &'static str,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Raw {
    pub fn get(base: &str, path: &str, api_key: &str) -> Raw {
        Raw {
            base: base.to_owned(),
            method: "GET",
            path: path.to_owned(),
            headers: vec![("X-Authy-API-Key".into(), api_key.into())],
            body: String::new(),
        }
    }

    pub fn post_form(base: &str, path: &str, api_key: &str, form: &[(&str, &str)]) -> Raw {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        Raw {
            base: base.to_owned(),
            method: "POST",
            path: path.to_owned(),
            headers: vec![("X-Authy-API-Key".into(), api_key.into())],
            body,
        }
    }

    fn bytes(&self, host: &str) -> Vec<u8> {
        let mut text = format!(
            "{} {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n",
            self.method, self.path
        );
        for (name, value) in &self.headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        if self.method == "POST" {
            text.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        }
        text.push_str(&format!(
            "Content-Length: {}\r\n\r\n{}",
            self.body.len(),
            self.body
        ));
        text.into_bytes()
    }
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A response: HTTP status and the body parsed as JSON (`Null` if it is not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: serde_json::Value,
}

/// Sends every request on its own connection and releases them together; answers in order.
pub fn release_together(requests: &[Raw]) -> Vec<Answer> {
    let barrier = Arc::new(Barrier::new(requests.len()));
    let threads: Vec<_> = requests
        .iter()
        .cloned()
        .map(|request| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let host = request.base.trim_start_matches("http://").to_owned();
                let bytes = request.bytes(&host);
                let mut stream = TcpStream::connect(&host).expect("connect");
                stream.set_nodelay(true).expect("nodelay");
                stream
                    .set_read_timeout(Some(Duration::from_secs(60)))
                    .expect("timeout");
                let (head, last) = bytes.split_at(bytes.len() - 1);
                stream.write_all(head).expect("write");
                stream.flush().expect("flush");
                barrier.wait();
                stream.write_all(last).expect("write the last byte");
                let mut response = Vec::new();
                let _ = stream.read_to_end(&mut response);
                parse(&response)
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("request thread"))
        .collect()
}

fn parse(response: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(response);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(head, body)| {
            if head
                .to_ascii_lowercase()
                .contains("transfer-encoding: chunked")
            {
                dechunk(body)
            } else {
                body.to_owned()
            }
        })
        .unwrap_or_default();
    Answer {
        status,
        body: serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// How many answers have this status.
pub fn count(answers: &[Answer], status: u16) -> usize {
    answers.iter().filter(|a| a.status == status).count()
}
