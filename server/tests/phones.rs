//! `phones/info` against libphonenumber's own answers: numbers from several countries
//! (mobile, landline, toll-free, invalid, too short, too long) checked by the server (Rust
//! `phonenumber`) and by Python `phonenumbers` (a second implementation of Google's
//! metadata, `sdk/phone_reference.py`); the answer's fields and types as the official
//! libraries read them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

/// (country code, number) pairs the Authy API accepts as syntax (digits, 4 to 15 of them).
const NUMBERS: &[(u16, &str)] = &[
    (44, "7400123456"),      // GB mobile
    (44, "2079460000"),      // GB landline (London)
    (44, "8001111"),         // GB freephone
    (44, "7000000000"),      // GB, not allocated
    (44, "12345"),           // GB, too short
    (1, "2015550123"),       // US: fixed line or mobile
    (1, "8005550199"),       // US toll-free
    (1, "1234567890"),       // US, no such area code
    (49, "15123456789"),     // DE mobile
    (49, "30123456"),        // DE landline (Berlin)
    (33, "612345678"),       // FR mobile
    (33, "123456789"),       // FR landline
    (39, "0212345678"),      // IT landline, leading zero kept
    (39, "3123456789"),      // IT mobile
    (91, "9123456789"),      // IN mobile
    (55, "11961234567"),     // BR mobile
    (61, "412345678"),       // AU mobile
    (81, "9012345678"),      // JP mobile
    (34, "912345678"),       // ES landline
    (7, "9123456789"),       // RU mobile
    (999, "1234567"),        // no such country calling code
    (86, "123456789012345"), // CN, 15 digits: too long
];

/// What libphonenumber (Python) says about each of [`NUMBERS`].
fn reference() -> Vec<Value> {
    let python = std::env::var("COUNTERSIGN_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/phone_reference.py");
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = json!(
        NUMBERS
            .iter()
            .map(|(cc, n)| json!([cc, n]))
            .collect::<Vec<_>>()
    );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{python} {script} (needs `phonenumbers`, core/tests/reference/requirements.txt): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn info(server: &common::Server, format: &str, country: &str, phone: &str) -> (u16, String) {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("country_code", country)
        .append_pair("phone_number", phone)
        .finish();
    let url = format!("{}/protected/{format}/phones/info?{query}", server.base_url);
    let answer = server
        .client()
        .get(url)
        .header("X-Authy-API-Key", &server.api_key)
        .send()
        .unwrap();
    (answer.status().as_u16(), answer.text().unwrap())
}

fn info_json(server: &common::Server, country: &str, phone: &str) -> (u16, Value) {
    let (status, body) = info(server, "json", country, phone);
    (status, serde_json::from_str(&body).unwrap())
}

/// Authy's `type` for libphonenumber's type: the four names the Authy libraries document.
fn authy_type(libphonenumber: &str) -> &'static str {
    match libphonenumber {
        "mobile" => "cellphone",
        "fixed_line" => "landline",
        "voip" => "voip",
        _ => "unknown",
    }
}

fn assert_invalid(status: u16, body: &Value, what: &str) {
    assert_eq!(status, 400, "{what}: {body}");
    assert_eq!(body["error_code"], "60033", "{what}: {body}");
    assert_eq!(body["message"], "Phone number is invalid", "{what}: {body}");
    assert_eq!(body["success"], false, "{what}: {body}");
}

#[test]
fn numbers_from_several_countries_match_libphonenumber() {
    let server = common::Server::start(&Default::default());
    let expected = reference();
    for ((country, phone), want) in NUMBERS.iter().zip(&expected) {
        let what = format!("+{country} {phone}");
        let (status, body) = info_json(&server, &country.to_string(), phone);
        if want["parsed"] == false {
            assert_invalid(status, &body, &what);
            continue;
        }
        assert_eq!(status, 200, "{what}: {body}");
        assert_eq!(body["valid"], want["valid"], "{what}: {body} vs {want}");
        assert_eq!(body["line_type"], want["type"], "{what}: {body} vs {want}");
        let line_type = want["type"].as_str().unwrap();
        assert_eq!(body["type"], authy_type(line_type), "{what}: {body}");
        assert_eq!(body["country"], want["region"], "{what}: {body} vs {want}");
        assert_eq!(body["e164"], want["e164"], "{what}: {body} vs {want}");
        assert_eq!(body["phone_number"], want["national"], "{what}: {body}");
        assert_eq!(body["country_code"], *country, "{what}: {body}");
    }
    // The list covers what it claims to: some valid numbers of each Authy type, and some
    // that libphonenumber reads but finds invalid.
    let kinds: Vec<&str> = expected.iter().filter_map(|w| w["type"].as_str()).collect();
    for kind in ["mobile", "fixed_line", "fixed_line_or_mobile", "toll_free"] {
        assert!(kinds.contains(&kind), "no {kind} number in the list");
    }
    assert!(expected.iter().any(|w| w["valid"] == false));
}

#[test]
fn the_answer_has_the_fields_and_types_the_libraries_read() {
    let server = common::Server::start(&Default::default());
    let (status, body) = info_json(&server, "44", "7400 123-456");
    assert_eq!(status, 200, "{body}");
    // authy-client matches the message; Java and authy-client read these types.
    let message = body["message"].as_str().unwrap();
    let stamp = message
        .strip_prefix("Phone number information as of ")
        .and_then(|rest| rest.strip_suffix(" UTC"))
        .unwrap_or_else(|| panic!("message: {message}"));
    let shape: String = stamp
        .chars()
        .map(|c| if c.is_ascii_digit() { 'd' } else { c })
        .collect();
    assert_eq!(shape, "dddd-dd-dd dd:dd:dd", "{message}");
    let today = Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .unwrap();
    assert!(stamp.starts_with(String::from_utf8_lossy(&today.stdout).trim()));
    assert_eq!(body["type"], "cellphone");
    assert!(body["provider"].is_string(), "{body}");
    assert!(body["ported"].is_boolean(), "{body}");
    assert_eq!(body["success"], true);
    // XML carries the same answer.
    let (status, xml) = info(&server, "xml", "44", "7400123456");
    assert_eq!(status, 200, "{xml}");
    assert!(xml.contains("cellphone"), "{xml}");
}

#[test]
fn bad_input_gets_authys_invalid_number_error() {
    let server = common::Server::start(&Default::default());
    let long = "9".repeat(5000);
    let cases = [
        ("44", "123"),           // too short for the API
        ("44", "74001234AB"),    // letters
        ("44", "1-800-FLOWERS"), // a vanity number: digits only here
        ("44", ""),
        ("44", long.as_str()),
        ("abc", "7400123456"),
        ("0", "7400123456"),
        ("1000", "7400123456"),
        ("", "7400123456"),
    ];
    for (country, phone) in cases {
        let (status, body) = info_json(&server, country, &phone[..phone.len().min(40)]);
        assert_invalid(status, &body, &format!("{country} {phone:.40}"));
    }
    // Past the API's parameter bound, the generic answer for an oversized parameter.
    let (status, body) = info_json(&server, "44", &long);
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error_code"], "60004", "{body}");
    // Missing parameters.
    let answer = server
        .client()
        .get(format!("{}/protected/json/phones/info", server.base_url))
        .header("X-Authy-API-Key", &server.api_key)
        .send()
        .unwrap();
    let status = answer.status().as_u16();
    assert_invalid(status, &answer.json().unwrap(), "no parameters");
}
