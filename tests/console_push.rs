//! Signing in to the console with push approval: the operator's phone is registered with the
//! `countersign` CLI (`operator create --phone` gives the link), the password step sends it a
//! sign-in request, and only the phone's approval (checked by the server, not the page's
//! script) opens a session; a denial opens nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use assert_cmd::Command;
use reqwest::blocking::{Client, Response};
use serde_json::Value;

const COUNTERSIGN: &str = env!("CARGO_BIN_EXE_countersign-e2e-cli");
const EMAIL: &str = "ops@example.com";
const PASSWORD: &str = "correct horse battery staple";

fn countersign(vault: &std::path::Path) -> Command {
    let mut cmd = Command::new(COUNTERSIGN);
    cmd.env("COUNTERSIGN_VAULT", vault)
        .env("COUNTERSIGN_PASSPHRASE", "correct horse battery staple");
    cmd
}

fn json_of(cmd: &mut Command) -> Value {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A browser without a cookie jar of its own: the session cookie is carried by hand.
struct Browser<'a> {
    base: &'a str,
    client: Client,
    cookie: Option<String>,
}

impl Browser<'_> {
    fn send(&mut self, request: reqwest::blocking::RequestBuilder) -> Response {
        let request = match &self.cookie {
            Some(c) => request.header("cookie", format!("__Host-countersign_session={c}")),
            None => request,
        };
        let response = request.send().unwrap();
        let set = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("__Host-countersign_session="))
            .map(|v| v.split(';').next().unwrap_or_default().to_owned());
        if let Some(value) = set {
            self.cookie = Some(value).filter(|v| !v.is_empty());
        }
        response
    }

    fn get(&mut self, path: &str) -> Response {
        let request = self.client.get(format!("{}{path}", self.base));
        self.send(request)
    }

    fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Response {
        let request = self
            .client
            .post(format!("{}{path}", self.base))
            .header("origin", self.base)
            .form(form);
        self.send(request)
    }
}

fn csrf_in(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").unwrap() + 19;
    page[at..].split('"').next().unwrap().to_owned()
}

/// The sign-in request waiting on the phone (by its message).
fn sign_in_request(vault: &std::path::Path) -> String {
    let listed = json_of(countersign(vault).args(["--json", "approvals", "list"]));
    let request = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            c["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Sign in to the Countersign console from 127.0.0.1"))
        })
        .unwrap_or_else(|| panic!("no sign-in request on the phone: {listed}"));
    request["uuid"].as_str().unwrap().to_owned()
}

#[test]
fn the_operators_phone_approves_the_sign_in_and_a_denial_opens_nothing() {
    let bank = countersign_e2e::Server::start(&countersign_e2e::Options::default());
    let uri = bank.admin(|state| async move {
        use countersign_server::service::{console_push, operators};
        let enrolment = console_push::enrol(&state, EMAIL).await.unwrap();
        operators::create(&state, EMAIL, PASSWORD, false, Some(enrolment.user_id))
            .await
            .unwrap();
        enrolment.registration_uri
    });
    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("phone.vault");
    countersign(&vault)
        .args([
            "vault",
            "init",
            "--kdf-memory-kib",
            "19456",
            "--kdf-iterations",
            "2",
        ])
        .assert()
        .success();
    json_of(countersign(&vault).args(["--json", "device", "register", &uri]));

    let client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut browser = Browser {
        base: &bank.base_url,
        client,
        cookie: None,
    };
    let password = browser.post(
        "/console/login",
        &[("email", EMAIL), ("password", PASSWORD)],
    );
    assert_eq!(password.status(), 303);
    let page = browser.get("/console/login/second-factor").text().unwrap();
    assert!(page.contains("Approve on your phone"), "{page}");
    let csrf = csrf_in(&page);
    let status: Value = browser.get("/console/login/push-status").json().unwrap();
    assert_eq!(status["status"], "pending");
    // Saying "I approved it" before the phone did opens nothing.
    assert_eq!(
        browser
            .post("/console/login/push", &[("csrf", &csrf)])
            .status(),
        409
    );

    let uuid = sign_in_request(&vault);
    let approved = json_of(countersign(&vault).args(["--json", "approvals", "approve", &uuid]));
    assert_eq!(approved["status"], "approved");
    let status: Value = browser.get("/console/login/push-status").json().unwrap();
    assert_eq!(status["status"], "approved");
    let signed_in = browser.post("/console/login/push", &[("csrf", &csrf)]);
    assert_eq!(signed_in.status(), 303);
    assert_eq!(signed_in.headers()["location"], "/console/apps");
    let apps = browser.get("/console/apps");
    assert_eq!(apps.status(), 200);
    assert!(apps.text().unwrap().contains("Countersign console"));

    // Another sign-in, denied on the phone.
    let mut other = Browser {
        base: &bank.base_url,
        client: browser.client.clone(),
        cookie: None,
    };
    other.post(
        "/console/login",
        &[("email", EMAIL), ("password", PASSWORD)],
    );
    let page = other.get("/console/login/second-factor").text().unwrap();
    let uuid = sign_in_request(&vault);
    let denied = json_of(countersign(&vault).args(["--json", "approvals", "deny", &uuid]));
    assert_eq!(denied["status"], "denied");
    let refused = other.post("/console/login/push", &[("csrf", &csrf_in(&page))]);
    assert_eq!(refused.status(), 401);
    assert_eq!(other.get("/console/apps").status(), 303);
}
