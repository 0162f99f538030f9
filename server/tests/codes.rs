//! SMS, voice and custom-action codes (issue 12, points 3, 4 and 5): separate secrets and
//! replay markers per purpose, re-sends that never hand out a spent code, Authy's
//! reused-token and lock-out answers (checked with the official Python library too),
//! delivery-failure error codes, concurrent verifications on one or two instances, and the
//! 35 message languages with the docs' locale fallbacks. SQLite here; PostgreSQL with
//! `scripts/with-postgres`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

use common::burst::{Raw, release_together};
use serde_json::Value;

/// The 35 languages of the Authy docs (one-time-passwords, "Supported languages").
const DOCS_LANGUAGES: &[&str] = &[
    "af", "ar", "ca", "zh", "zh-CN", "zh-HK", "hr", "cs", "da", "nl", "en", "fi", "fr", "de", "el",
    "he", "hi", "hu", "id", "it", "ja", "ko", "ms", "nb", "pl", "pt-BR", "pt", "ro", "ru", "es",
    "sv", "tl", "th", "tr", "vi",
];

struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

fn get(base: &str, key: &str, path: &str) -> Answer {
    let response = reqwest::blocking::Client::new()
        .get(format!("{base}{path}"))
        .header("X-Authy-API-Key", key)
        .send()
        .unwrap();
    Answer {
        status: response.status().as_u16(),
        retry_after: response
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_owned()),
        body: response.json().unwrap_or(Value::Null),
    }
}

fn api(server: &common::Server, path: &str) -> Answer {
    get(&server.base_url, &server.api_key, path)
}

fn new_user(server: &common::Server, country: &str, phone: &str) -> i64 {
    let user: Value = reqwest::blocking::Client::new()
        .post(format!("{}/protected/json/users/new", server.base_url))
        .header("X-Authy-API-Key", &server.api_key)
        .form(&[
            ("user[email]", "ron@example.com"),
            ("user[cellphone]", phone),
            ("user[country_code]", country),
        ])
        .send()
        .unwrap()
        .json()
        .unwrap();
    user["user"]["id"].as_i64().unwrap()
}

/// Every text the `log` sender delivered to `recipient`, oldest first.
fn messages(server: &common::Server, recipient: &str) -> Vec<String> {
    let command = server.outbox_command();
    let out = std::process::Command::new(&command[0])
        .args(&command[1..])
        .output()
        .unwrap();
    let list: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    list.iter()
        .filter(|m| m["recipient"] == recipient)
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

/// The code in a message: its longest run of digits.
fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .max_by_key(|w| w.len())
        .unwrap()
        .to_owned()
}

/// Sends an SMS (with extra query parameters) and returns the code it carried.
fn sms(server: &common::Server, user: i64, recipient: &str, query: &str) -> String {
    let sent = api(
        server,
        &format!("/protected/json/sms/{user}?force=true{query}"),
    );
    assert_eq!(sent.status, 200, "{}", sent.body);
    code_in(messages(server, recipient).last().unwrap())
}

fn verify(server: &common::Server, user: i64, code: &str, query: &str) -> Answer {
    api(
        server,
        &format!("/protected/json/verify/{code}/{user}?force=true{query}"),
    )
}

fn assert_refused(answer: &Answer, status: u16, code: &str, message: &str) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert_eq!(answer.body["success"], false, "{}", answer.body);
    assert_eq!(answer.body["error_code"], code, "{}", answer.body);
    assert_eq!(answer.body["message"], message, "{}", answer.body);
    assert_eq!(answer.body["errors"]["message"], message, "{}", answer.body);
}

fn assert_valid(answer: &Answer) {
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["token"], "is valid", "{}", answer.body);
}

const INVALID: &str = "Token is invalid";
const REUSED: &str = "Token is invalid. Token was used recently.";

#[test]
fn a_custom_action_code_and_a_plain_code_are_separate_secrets_and_markers() {
    let server = common::Server::start(&common::Options::default());
    let user = new_user(&server, "44", "7700900501");
    let to = "+447700900501";
    let action = sms(&server, user, to, "&action=login&action_message=Log%20in");
    let plain = sms(&server, user, to, "");
    assert_ne!(action, plain, "two secrets, two codes");
    // Each refused where the other belongs, as a wrong code (not a reused one)…
    assert_refused(
        &verify(&server, user, &plain, "&action=login"),
        401,
        "60020",
        INVALID,
    );
    assert_refused(&verify(&server, user, &action, ""), 401, "60020", INVALID);
    assert_refused(
        &verify(&server, user, &action, "&action=transfer"),
        401,
        "60020",
        INVALID,
    );
    // …and neither refusal spent anything: both verify, each in its own place, once.
    assert_valid(&verify(&server, user, &action, "&action=login"));
    assert_valid(&verify(&server, user, &plain, ""));
    assert_refused(&verify(&server, user, &plain, ""), 401, "60019", REUSED);
    assert_refused(
        &verify(&server, user, &action, "&action=login"),
        401,
        "60019",
        REUSED,
    );
    // Spending the plain code did not spend a fresh action code either.
    let next_action = sms(&server, user, to, "&action=login");
    assert_valid(&verify(&server, user, &next_action, "&action=login"));
}

#[test]
fn a_re_request_re_sends_an_unused_code_and_never_a_spent_one() {
    let server = common::Server::start(&common::Options::default());
    let user = new_user(&server, "44", "7700900502");
    let to = "+447700900502";
    let first = sms(&server, user, to, "");
    assert_eq!(
        sms(&server, user, to, ""),
        first,
        "unused: the same code again"
    );
    // A voice call right after reads that same code, digit by digit.
    let call = api(&server, &format!("/protected/json/call/{user}?force=true"));
    assert_eq!(call.status, 200, "{}", call.body);
    let spoken: Vec<String> = first.chars().map(String::from).collect();
    assert!(
        messages(&server, to)
            .last()
            .unwrap()
            .ends_with(&spoken.join(", "))
    );
    assert_valid(&verify(&server, user, &first, ""));
    // Within the same 30 s: a fresh code, and the spent one stays spent.
    let second = sms(&server, user, to, "");
    assert_ne!(second, first);
    assert_refused(&verify(&server, user, &first, ""), 401, "60019", REUSED);
    assert_valid(&verify(&server, user, &second, ""));
    // Custom actions follow the same rule.
    let login = sms(&server, user, to, "&action=login");
    assert_eq!(sms(&server, user, to, "&action=login"), login);
    assert_valid(&verify(&server, user, &login, "&action=login"));
    assert_ne!(sms(&server, user, to, "&action=login"), login);
}

#[test]
fn a_correct_code_after_wrong_ones_below_the_threshold_verifies() {
    let server = common::Server::start(&common::Options {
        env: vec![("COUNTERSIGN_MAX_FAILURES".into(), "3".into())],
        ..Default::default()
    });
    let user = new_user(&server, "44", "7700900503");
    let to = "+447700900503";
    for _ in 0..2 {
        let code = sms(&server, user, to, "");
        let wrong = if code.starts_with('1') { "2" } else { "1" }.repeat(code.len());
        assert_refused(&verify(&server, user, &wrong, ""), 401, "60020", INVALID);
        assert_refused(&verify(&server, user, &wrong, ""), 401, "60020", INVALID);
        // The right code verifies, and clears the count for the next round.
        assert_valid(&verify(&server, user, &code, ""));
    }
}

/// A token that is not 6 to 12 digits is an invalid token (401 / 60020, as the docs answer
/// an invalid token) and is not counted: garbage cannot lock a user out.
#[test]
fn a_malformed_token_is_invalid_and_not_counted() {
    let server = common::Server::start(&common::Options {
        env: vec![("COUNTERSIGN_MAX_FAILURES".into(), "2".into())],
        ..Default::default()
    });
    let user = new_user(&server, "44", "7700900506");
    let code = sms(&server, user, "+447700900506", "");
    for token in ["12ab567", "12345", "1234567890123", "%2012345%20x"] {
        for _ in 0..2 {
            let answer = verify(&server, user, token, "");
            assert_refused(&answer, 401, "60020", INVALID);
            assert_eq!(answer.body["token"], "is invalid");
        }
    }
    assert_valid(&verify(&server, user, &code, ""));
}

#[test]
fn the_lock_out_answer_is_429_60003_with_retry_after() {
    let server = common::Server::start(&common::Options {
        env: vec![
            ("COUNTERSIGN_MAX_FAILURES".into(), "2".into()),
            ("COUNTERSIGN_LOCKOUT_SECONDS".into(), "120".into()),
        ],
        ..Default::default()
    });
    let user = new_user(&server, "44", "7700900504");
    let code = sms(&server, user, "+447700900504", "");
    let wrong = if code.starts_with('1') { "2" } else { "1" }.repeat(code.len());
    let mut answers: Vec<Answer> = (0..3).map(|_| verify(&server, user, &wrong, "")).collect();
    answers.push(verify(&server, user, &code, ""));
    let locked = answers.last().unwrap();
    assert_refused(
        locked,
        429,
        "60003",
        "Too many failed attempts. Try again later.",
    );
    let seconds = locked.body["retry_after"].as_i64().unwrap();
    assert!((1..=120).contains(&seconds), "{}", locked.body);
    assert_eq!(
        locked.retry_after.as_deref(),
        Some(seconds.to_string().as_str())
    );
    assert!(
        answers[..3].iter().any(|a| a.status == 429),
        "the lock started"
    );
}

/// How the official Python library (authy 2.2.6) reads the reused-token and lock-out answers:
/// `ok()` is false and `errors()` carries the message.
#[test]
fn the_official_python_library_reads_the_reused_and_locked_answers() {
    let server = common::Server::start(&common::Options {
        env: vec![("COUNTERSIGN_MAX_FAILURES".into(), "2".into())],
        ..Default::default()
    });
    let user = new_user(&server, "44", "7700900505");
    let code = sms(&server, user, "+447700900505", "");
    let wrong = if code.starts_with('1') { "2" } else { "1" }.repeat(code.len());
    let script = r#"
import sys
from authy.api import AuthyApiClient
base, key, user, code, wrong = sys.argv[1:6]
client = AuthyApiClient(key, api_uri=base)
first = client.tokens.verify(user, code)
again = client.tokens.verify(user, code)
for _ in range(3):
    locked = client.tokens.verify(user, wrong)
print(first.ok(), again.ok(), again.errors()["message"], locked.ok(), locked.errors()["message"])
"#;
    let python = std::env::var("COUNTERSIGN_PYTHON").unwrap_or_else(|_| "python3".into());
    let output = std::process::Command::new(python)
        .args(["-c", script, &server.base_url, &server.api_key])
        .args([user.to_string(), code, wrong])
        .output()
        .expect("python runs (scripts/test sets up .venv with the SDK)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout.trim(),
        format!("True False {REUSED} False Too many failed attempts. Try again later.")
    );
}

/// Several copies of one plain and one custom-action code per user, released together over
/// two instances on one database: each code is accepted exactly once; the other copies get
/// the reused-token answer, and the two codes never spend each other.
#[test]
fn concurrent_verifications_of_one_code_on_two_instances_succeed_once() {
    let server = common::Server::start(&common::Options::default());
    let second = server.another_instance();
    const COPIES: usize = 4;
    let mut requests = Vec::new();
    for i in 0..8 {
        let phone = format!("77009006{i:02}");
        let user = new_user(&server, "44", &phone);
        let to = format!("+44{phone}");
        let action = sms(&server, user, &to, "&action=pay");
        let plain = sms(&server, user, &to, "");
        for (code, query) in [(&plain, ""), (&action, "&action=pay")] {
            for copy in 0..COPIES {
                let base = [&server.base_url, &second.base_url][copy % 2];
                let path = format!("/protected/json/verify/{code}/{user}?force=true{query}");
                requests.push(Raw::get(base, &path, &server.api_key));
            }
        }
    }
    let answers = release_together(&requests);
    for group in answers.chunks(COPIES) {
        let accepted = group.iter().filter(|a| a.status == 200).count();
        assert_eq!(accepted, 1, "{group:?}");
        for refused in group.iter().filter(|a| a.status != 200) {
            assert_eq!(refused.status, 401, "{refused:?}");
            assert_eq!(refused.body["error_code"], "60019", "{refused:?}");
        }
    }
}

/// A fake Twilio answering every request with `status` and a JSON body carrying `code`.
fn fake_twilio(status: u16, code: i64) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end().to_ascii_lowercase();
                if line.is_empty() {
                    break;
                }
                if let Some(value) = line.strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
            }
            reader.read_exact(&mut vec![0; length]).unwrap();
            let body = format!(r#"{{"code": {code}, "message": "refused", "status": {status}}}"#);
            let reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    port
}

fn twilio_server(port: u16) -> common::Server {
    let env = [
        ("COUNTERSIGN_SENDER", "twilio".to_owned()),
        (
            "COUNTERSIGN_TWILIO_BASE_URL",
            format!("http://127.0.0.1:{port}"),
        ),
        ("COUNTERSIGN_TWILIO_ACCOUNT_SID", "AC0123".to_owned()),
        ("COUNTERSIGN_TWILIO_AUTH_TOKEN", "secret-token".to_owned()),
        ("COUNTERSIGN_TWILIO_FROM", "+15005550006".to_owned()),
    ];
    common::Server::start(&common::Options {
        env: env.iter().map(|(k, v)| ((*k).into(), v.clone())).collect(),
        ..Default::default()
    })
}

#[test]
fn a_voice_call_speaks_in_the_voice_of_its_language() {
    let (port, seen) = common::receiver::fake(201);
    let server = twilio_server(port);
    let user = new_user(&server, "81", "9012345678");
    let call = api(&server, &format!("/protected/json/call/{user}?force=true"));
    assert_eq!(call.status, 200, "{}", call.body);
    let call = api(
        &server,
        &format!("/protected/json/call/{user}?force=true&locale=pt-BR"),
    );
    assert_eq!(call.status, 200, "{}", call.body);
    let seen = seen.lock().unwrap().clone();
    let twiml = |i: usize| -> String {
        form_urlencoded::parse(seen[i].body.as_bytes())
            .find(|(k, _)| k == "Twiml")
            .unwrap()
            .1
            .into_owned()
    };
    assert!(
        twiml(0).starts_with("<Response><Say language=\"ja-JP\">"),
        "{}",
        twiml(0)
    );
    assert!(twiml(0).contains("Gringotts"), "{}", twiml(0));
    assert!(
        twiml(1).starts_with("<Response><Say language=\"pt-BR\">"),
        "{}",
        twiml(1)
    );
}

#[test]
fn delivery_failures_get_authys_error_codes() {
    let cases = [
        // (Twilio status, Twilio code, channel, HTTP status, Authy code, Authy message)
        (
            400,
            21614,
            "sms",
            400,
            "60082",
            "Cannot send SMS to landline.",
        ),
        (
            400,
            21612,
            "sms",
            400,
            "60083",
            "The phone number cannot be reached.",
        ),
        (
            400,
            21217,
            "call",
            400,
            "60083",
            "The phone number cannot be reached.",
        ),
        (
            500,
            20500,
            "sms",
            503,
            "60015",
            "SMS token was not sent. Try again later.",
        ),
        (
            401,
            20003,
            "call",
            503,
            "60014",
            "Call was not started. Try again later.",
        ),
    ];
    for (status, twilio_code, channel, http, code, message) in cases {
        let server = twilio_server(fake_twilio(status, twilio_code));
        let user = new_user(&server, "44", "7700900507");
        let answer = api(
            &server,
            &format!("/protected/json/{channel}/{user}?force=true"),
        );
        assert_refused(&answer, http, code, message);
    }
}

/// Sends an SMS in `locale` (or by country alone) and returns its text with the code
/// replaced by `<code>`.
fn text_in(server: &common::Server, user: i64, to: &str, locale: Option<&str>) -> String {
    let query = locale.map_or(String::new(), |l| format!("&locale={l}"));
    let code = sms(server, user, to, &query);
    let text = messages(server, to).last().unwrap().clone();
    assert!(text.contains(&code), "{text}");
    text.replace(&code, "<code>")
}

#[test]
fn every_documented_language_renders_with_the_code_and_the_app_name() {
    let server = common::Server::start(&common::Options::default());
    let user = new_user(&server, "44", "7700900508");
    let to = "+447700900508";
    let mut texts = Vec::new();
    for locale in DOCS_LANGUAGES {
        let text = text_in(&server, user, to, Some(locale));
        assert!(
            text.contains("Gringotts") && text.contains("<code>"),
            "{locale}: {text}"
        );
        texts.push(text);
        let call = api(
            &server,
            &format!("/protected/json/call/{user}?force=true&locale={locale}"),
        );
        assert_eq!(call.status, 200, "{}", call.body);
        let spoken = messages(&server, to).last().unwrap().clone();
        assert!(
            spoken.contains("Gringotts") && spoken.contains(", "),
            "{locale}: {spoken}"
        );
        let action = api(
            &server,
            &format!(
                "/protected/json/sms/{user}?force=true&action=pay&action_message=Pay%20%E2%82%AC5&locale={locale}"
            ),
        );
        assert_eq!(action.status, 200, "{}", action.body);
        let action_text = messages(&server, to).last().unwrap().clone();
        assert!(action_text.starts_with("Pay €5\n") && action_text.contains("Gringotts"));
    }
    for (i, text) in texts.iter().enumerate() {
        assert!(!texts[..i].contains(text), "{text} appears twice");
    }
    assert!(
        texts[10].starts_with("Your Gringotts verification code is"),
        "English"
    );
}

#[test]
fn locales_fall_back_by_region_country_then_english() {
    let server = common::Server::start(&common::Options::default());
    let explicit = |locale: &str| {
        let user = new_user(&server, "44", "7700900509");
        text_in(&server, user, "+447700900509", Some(locale))
    };
    let (pt_br, pt, zh_hk, es, ja, en) = (
        explicit("pt-BR"),
        explicit("pt"),
        explicit("zh-HK"),
        explicit("es"),
        explicit("ja"),
        explicit("en"),
    );
    assert_ne!(pt_br, pt);
    let cases: &[(&str, &str, Option<&str>, &String)] = &[
        ("55", "11987654321", None, &pt_br),       // the country decides
        ("55", "11987654322", Some("pt"), &pt_br), // a bare language takes the country's region
        ("351", "912345678", Some("pt"), &pt),
        ("1", "2015550101", Some("pt-PT"), &pt), // an unsupported region: the language
        ("852", "51234567", Some("zh"), &zh_hk),
        ("52", "5512345678", Some("es-MX"), &es),
        ("81", "9012345678", None, &ja),
        ("33", "612345678", Some("en"), &en), // an explicit locale beats the country
        ("44", "7700900510", Some("tlh"), &en), // unknown language, English country
        ("1", "2015550102", None, &en),
    ];
    for (country, phone, locale, expected) in cases {
        let user = new_user(&server, country, phone);
        let text = text_in(&server, user, &format!("+{country}{phone}"), *locale);
        assert_eq!(&text, *expected, "+{country} with {locale:?}");
    }
}
