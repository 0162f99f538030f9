//! `countersign device register` and `countersign approvals …` against a real server started
//! in this process on a loopback port (moved here from cli/tests: the CLI and the server).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use assert_cmd::Command;
use serde_json::Value;

/// The bank: a server in this process (or on PostgreSQL, see the support library).
type Bank = countersign_e2e::Server;

fn start_bank() -> Bank {
    Bank::start(&countersign_e2e::Options::default())
}

/// The `countersign` command (this package's build of it: support/lib.rs says why).
const COUNTERSIGN: &str = env!("CARGO_BIN_EXE_countersign-e2e-cli");

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

#[test]
fn register_then_list_show_approve_and_deny_from_the_command_line() {
    let bank = start_bank();
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
    let user = bank.call(
        "/protected/json/users/new",
        &[
            ("user[email]", "h@example.com"),
            ("user[cellphone]", "7700900123"),
            ("user[country_code]", "44"),
        ],
    );
    let authy_id = user["user"]["id"].as_i64().unwrap();
    let registration = bank.call(
        &format!("/protected/json/users/{authy_id}/registrations"),
        &[],
    );
    let uri = registration["registration"]["uri"].as_str().unwrap();
    let registered = json_of(countersign(&vault).args(["--json", "device", "register", uri]));
    assert_eq!(registered["authy_id"], authy_id);
    assert!(
        registered["account_id"].is_string(),
        "the Authy-style TOTP account was added"
    );
    // A one-time code: registering twice with it fails, with a clear error.
    let again = countersign(&vault)
        .args(["device", "register", uri])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("refused"));

    let pay = bank.call(
        &format!("/onetouch/json/users/{authy_id}/approval_requests"),
        &[
            ("message", "Approve payment"),
            ("details[Amount]", "713.00 EUR"),
            ("details[Payee]", "Hermione Granger"),
            ("number_matching", "true"),
        ],
    );
    let login = bank.call(
        &format!("/onetouch/json/users/{authy_id}/approval_requests"),
        &[("message", "Log in from Paris?")],
    );
    let (pay_uuid, login_uuid) = (
        pay["approval_request"]["uuid"].as_str().unwrap(),
        login["approval_request"]["uuid"].as_str().unwrap(),
    );
    let listed = json_of(countersign(&vault).args(["--json", "approvals", "list"]));
    let uuids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["uuid"].as_str().unwrap())
        .collect();
    assert_eq!(uuids, [pay_uuid, login_uuid]);
    let shown = json_of(countersign(&vault).args(["--json", "approvals", "show", pay_uuid]));
    assert_eq!(
        shown["details"][0],
        serde_json::json!(["Amount", "713.00 EUR"])
    );

    // Number matching: approving without --number is refused before anything is sent.
    let out = countersign(&vault)
        .args(["approvals", "approve", pay_uuid])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--number"));
    let number = pay["approval_request"]["number"]
        .as_i64()
        .unwrap()
        .to_string();
    let approved = json_of(countersign(&vault).args([
        "--json",
        "approvals",
        "approve",
        pay_uuid,
        "--number",
        &number,
    ]));
    assert_eq!(approved["status"], "approved");
    let denied = json_of(countersign(&vault).args(["--json", "approvals", "deny", login_uuid]));
    assert_eq!(denied["status"], "denied");
    let listed = json_of(countersign(&vault).args(["--json", "approvals", "list"]));
    assert_eq!(listed, serde_json::json!([]));
}

fn new_vault(dir: &std::path::Path) -> std::path::PathBuf {
    let vault = dir.join("phone.vault");
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
    vault
}

fn new_user(bank: &Bank, phone: &str) -> i64 {
    let user = bank.call(
        "/protected/json/users/new",
        &[
            ("user[email]", "h@example.com"),
            ("user[cellphone]", phone),
            ("user[country_code]", "44"),
        ],
    );
    user["user"]["id"].as_i64().unwrap()
}

/// Registers the vault's device for `user` with `bank`; returns the registration.
fn register(vault: &std::path::Path, bank: &Bank, user: i64) -> Value {
    let registration = bank.call(&format!("/protected/json/users/{user}/registrations"), &[]);
    let uri = registration["registration"]["uri"].as_str().unwrap();
    json_of(countersign(vault).args(["--json", "device", "register", uri]))
}

fn approval_request(bank: &Bank, user: i64, amount: &str) -> String {
    let created = bank.call(
        &format!("/onetouch/json/users/{user}/approval_requests"),
        &[("message", "Approve payment"), ("details[Amount]", amount)],
    );
    created["approval_request"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn listed_uuids(vault: &std::path::Path) -> Vec<String> {
    let listed = json_of(countersign(vault).args(["--json", "approvals", "list"]));
    let mut uuids: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["uuid"].as_str().unwrap().to_owned())
        .collect();
    uuids.sort();
    uuids
}

#[test]
fn two_registrations_with_one_server_are_both_kept_and_both_answer() {
    // Issue 10, finding 8: the second registration replaced the first in the vault; the first
    // user's approvals vanished while the server still listed that device.
    let bank = start_bank();
    let dir = tempfile::tempdir().unwrap();
    let vault = new_vault(dir.path());
    let (personal, business) = (new_user(&bank, "7700900131"), new_user(&bank, "7700900132"));
    let first = register(&vault, &bank, personal);
    let second = register(&vault, &bank, business);
    let devices = json_of(countersign(&vault).args(["--json", "device", "list"]));
    let users: Vec<i64> = devices
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["authy_id"].as_i64().unwrap())
        .collect();
    assert_eq!(users, [personal, business]);

    let rent = approval_request(&bank, personal, "713.00 EUR");
    let payroll = approval_request(&bank, business, "9000.00 EUR");
    let mut expected = vec![rent.clone(), payroll.clone()];
    expected.sort();
    assert_eq!(listed_uuids(&vault), expected);
    for (uuid, verb, status) in [(&rent, "approve", "approved"), (&payroll, "deny", "denied")] {
        let answered = json_of(countersign(&vault).args(["--json", "approvals", verb, uuid]));
        assert_eq!(answered["status"], status);
    }
    // One registration only, by its id.
    assert_ne!(first["registration_id"], second["registration_id"]);
    let only = approval_request(&bank, business, "1.00 EUR");
    approval_request(&bank, personal, "2.00 EUR");
    let listed = json_of(countersign(&vault).args([
        "--json",
        "approvals",
        "--registration",
        second["registration_id"].as_str().unwrap(),
        "list",
    ]));
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["uuid"], only.as_str());
}

#[test]
fn a_server_that_is_down_hides_no_other_servers_approvals() {
    // Issue 10, finding 12 (the command line had the same flaw as the bindings).
    let bank = start_bank();
    let other = start_bank();
    let dir = tempfile::tempdir().unwrap();
    let vault = new_vault(dir.path());
    let alice = new_user(&bank, "7700900141");
    let carol = new_user(&other, "7700900142");
    register(&vault, &bank, alice);
    register(&vault, &other, carol);
    let rent = approval_request(&bank, alice, "713.00 EUR");
    approval_request(&other, carol, "1.00 EUR");
    drop(other);
    let out = countersign(&vault)
        .args(["--json", "approvals", "list"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["uuid"], rent.as_str());
    assert!(String::from_utf8_lossy(&out.stderr).contains("could not be asked"));
    let answered = json_of(countersign(&vault).args(["--json", "approvals", "approve", &rent]));
    assert_eq!(answered["status"], "approved");
}
