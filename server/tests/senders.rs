//! SMS and voice delivery through the webhook and Twilio providers, against local fakes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod common;

use common::receiver::fake;
use serde_json::Value;

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
            .any(|(k, v)| k == "Twiml" && v.starts_with("<Response><Say language=\"en-US\">"))
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
    assert_eq!(body["error_code"], "60015");
    assert_eq!(body["message"], "SMS token was not sent. Try again later.");
}
