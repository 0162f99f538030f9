//! The console's acceptance (issue 15) in a real headless Chromium: an operator whose phone was
//! registered through the `countersign` command logs in with password and push approval,
//! creates an app, rotates its key, changes its callback URL, suspends and resumes the app
//! (its key refused with 60061 in between), finds a user, revokes a device and opens an
//! approved request whose evidence the page verifies; a wrong password, a session cookie
//! replayed after logout and a cross-site form post are refused.
//!
//! Here rather than in server/tests: the phones are the `countersign` command, which only this
//! package may build (support/lib.rs). The browser side is `console_flow.py` (Selenium);
//! `browser.rs` runs it and answers what it asks while a page waits. What the pages claim is
//! checked independently here: the keys over the Authy API, the revocation on the phone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

mod browser;
mod phone;

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use phone::Phone;

type Bank = countersign_e2e::Server;

/// A customer of the bank's app with a phone registered through the command line.
struct Customer {
    id: i64,
    phone: Phone,
}

fn customer(bank: &Bank, dir: &std::path::Path, name: &str, cellphone: &str) -> Customer {
    let user = bank.call(
        "/protected/json/users/new",
        &[
            ("user[email]", &format!("{name}@example.com")),
            ("user[cellphone]", cellphone),
            ("user[country_code]", "44"),
        ],
    );
    let id = user["user"]["id"].as_i64().unwrap();
    let registration = bank.call(&format!("/protected/json/users/{id}/registrations"), &[]);
    let phone = Phone::new(dir, name);
    phone.register(registration["registration"]["uri"].as_str().unwrap());
    Customer { id, phone }
}

fn approval_request(bank: &Bank, user: i64, message: &str, amount: &str) -> String {
    let created = bank.call(
        &format!("/onetouch/json/users/{user}/approval_requests"),
        &[("message", message), ("details[Amount]", amount)],
    );
    created["approval_request"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The status of an Authy API call made with `key` (app details: any valid key may read them).
fn status_with_key(bank: &Bank, key: &str) -> u16 {
    reqwest::blocking::Client::new()
        .get(format!("{}/protected/json/app/details", bank.base_url))
        .header("X-Authy-API-Key", key)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

/// Seconds the rotated key's predecessor keeps working: long enough for the rest of the
/// browser flow, short enough to wait out.
const GRACE_SECONDS: u64 = 30;

/// What the browser asked the test to check about the rotated keys, and when.
struct Rotation {
    old_key: String,
    new_key: String,
    in_grace_until: Instant,
}

/// The test's side of the flow: plays the operator's phone and checks the keys over HTTP.
struct TestSide<'a> {
    bank: &'a Bank,
    operator_phone: &'a Phone,
    rotation: Option<Rotation>,
}

impl TestSide<'_> {
    fn answer(&mut self, question: &Value) -> Value {
        match question["do"].as_str().unwrap() {
            "approve_login" => self.approve_login(question),
            "keys_in_grace" => self.keys_in_grace(question),
            "key_status" => key_status(self.bank, question),
            other => panic!("the browser asked for {other}"),
        }
    }

    /// The login page waits for the phone: the sign-in request pending on the operator's
    /// phone is approved, with the number the page shows when it uses number matching.
    fn approve_login(&mut self, question: &Value) -> Value {
        let pending = self.operator_phone.pending();
        let sign_in = pending
            .iter()
            .find(|r| {
                r["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("Sign in to the Countersign console"))
            })
            .unwrap_or_else(|| panic!("no sign-in request on the phone: {pending:?}"));
        let uuid = sign_in["uuid"].as_str().unwrap();
        let number = question["number"].as_str();
        let approved = self.operator_phone.approve(uuid, number);
        assert_eq!(approved["status"], "approved");
        json!({"ok": true})
    }

    /// Right after the rotation both keys work; the old one stops when the grace period ends.
    fn keys_in_grace(&mut self, question: &Value) -> Value {
        let old_key = question["old_key"].as_str().unwrap().to_owned();
        let new_key = question["new_key"].as_str().unwrap().to_owned();
        assert_ne!(old_key, new_key);
        let in_grace_until = Instant::now() + Duration::from_secs(GRACE_SECONDS - 5);
        assert_eq!(
            status_with_key(self.bank, &old_key),
            200,
            "old key in grace"
        );
        assert_eq!(status_with_key(self.bank, &new_key), 200, "new key");
        self.rotation = Some(Rotation {
            old_key,
            new_key,
            in_grace_until,
        });
        json!({"ok": true})
    }
}

/// The key answers the status the browser expects after a suspension (403, Authy's 60061)
/// or a resumption (200): at once, since the console runs on this same instance.
fn key_status(bank: &Bank, question: &Value) -> Value {
    let key = question["key"].as_str().unwrap();
    let expected = question["status"].as_u64().unwrap();
    let response = reqwest::blocking::Client::new()
        .get(format!("{}/protected/json/app/details", bank.base_url))
        .header("X-Authy-API-Key", key)
        .send()
        .unwrap();
    assert_eq!(u64::from(response.status().as_u16()), expected);
    let body: Value = response.json().unwrap();
    if expected == 403 {
        assert_eq!(body["error_code"], "60061", "{body}");
    }
    json!({"ok": true})
}

/// After the grace period the old key gets 401 (within the few seconds recently seen keys
/// are cached), the new one keeps working.
fn old_key_expires(bank: &Bank, rotation: &Rotation) {
    if Instant::now() < rotation.in_grace_until {
        assert_eq!(status_with_key(bank, &rotation.old_key), 200, "in grace");
    }
    std::thread::sleep(
        rotation
            .in_grace_until
            .saturating_duration_since(Instant::now()),
    );
    let give_up = Instant::now() + Duration::from_secs(30);
    while status_with_key(bank, &rotation.old_key) != 401 {
        assert!(
            Instant::now() < give_up,
            "the old key outlived its grace period"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(status_with_key(bank, &rotation.new_key), 200);
}

/// The console's first operator with push sign-in, created as `countersign-server operator
/// create --phone` does; the phone registered through the command line with the link it prints.
struct ConsoleOperator {
    email: &'static str,
    password: &'static str,
    phone: Phone,
}

fn first_operator(bank: &Bank, dir: &std::path::Path) -> ConsoleOperator {
    let (email, password) = ("minerva@bank.example", "transfiguration-7-owls");
    let uri = bank.admin(|state| async move {
        use countersign_server::service::{console_push, operators};
        let enrolment = console_push::enrol(&state, email).await.unwrap();
        operators::create(&state, email, password, false, Some(enrolment.user_id))
            .await
            .unwrap();
        enrolment.registration_uri
    });
    let phone = Phone::new(dir, "minerva");
    phone.register(&uri);
    ConsoleOperator {
        email,
        password,
        phone,
    }
}

#[test]
fn an_operator_runs_the_console_in_a_real_browser() {
    browser::require_chromium();
    let bank = Bank::start(&countersign_e2e::Options::default());
    let dir = tempfile::tempdir().unwrap();
    let operator = first_operator(&bank, dir.path());
    let hermione = customer(&bank, dir.path(), "hermione", "7700900201");
    let ron = customer(&bank, dir.path(), "ron", "7700900202");
    let approved = approval_request(&bank, hermione.id, "Approve payment", "713.00 EUR");
    assert_eq!(
        hermione.phone.approve(&approved, None)["status"],
        "approved"
    );
    let setup = json!({
        "base_url": bank.base_url,
        "chromium": browser::CHROMIUM,
        "chromedriver": browser::CHROMEDRIVER,
        "screenshots": browser::screenshot_dir(),
        "email": operator.email,
        "password": operator.password,
        "grace_seconds": GRACE_SECONDS,
        "user": {"id": ron.id, "email": "ron@example.com"},
        "approved": approved,
    });
    let mut side = TestSide {
        bank: &bank,
        operator_phone: &operator.phone,
        rotation: None,
    };
    browser::run(&setup, |question| side.answer(question));
    let rotation = side.rotation.expect("the browser rotated a key");
    old_key_expires(&bank, &rotation);
    device_is_revoked(&bank, &ron);
}

/// The revoked phone no longer receives its user's requests (it did before: the customer
/// setup registered it and nothing else revoked it).
fn device_is_revoked(bank: &Bank, ron: &Customer) {
    let uuid = approval_request(bank, ron.id, "Log in from Hogsmeade?", "0.00 EUR");
    let seen = match ron.phone.try_json(&["approvals", "list"]) {
        Ok(list) => list.as_array().unwrap().iter().any(|r| r["uuid"] == uuid),
        Err(_) => false,
    };
    assert!(!seen, "a revoked device still receives requests");
}
