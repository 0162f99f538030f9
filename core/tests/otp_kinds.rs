//! Yandex.Key and mOTP accounts end to end: imported from an Aegis vault made by Python
//! (`tests/reference/make_otp_kinds_fixtures.py`, codes from the independent reference),
//! kept by the vault, exported to Aegis (read back by Python and by our importer), to an
//! otpauth list, and named in a Google Authenticator export that cannot hold them. Also: a
//! vault written before these kinds existed still opens.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use std::path::Path;

use countersign_app::transfer::{self, ExportFormat, ImportFormat, ImportReport};
use countersign_app::vault::{EntryMeta, KdfParams, Vault};
use countersign_app::{Account, OtpKind};
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
const PASS: &str = "correct horse battery staple";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(FIXTURES).join(name)).unwrap()
}

fn expected() -> Value {
    serde_json::from_slice(&fixture("import/otp-kinds/aegis-pin-kinds.expected.json")).unwrap()
}

fn imported() -> ImportReport {
    let data = fixture("import/otp-kinds/aegis-pin-kinds.json");
    transfer::import(ImportFormat::Aegis, &data, None).unwrap()
}

fn find<'a>(accounts: &'a [Account], label: &str) -> &'a Account {
    accounts
        .iter()
        .find(|a| a.label == label)
        .unwrap_or_else(|| panic!("{label} missing"))
}

/// Every account of the report, in file order.
fn accounts_of(report: &ImportReport) -> Vec<Account> {
    report.accounts.iter().map(|i| i.account.clone()).collect()
}

#[test]
fn aegis_fixture_imports_yandex_and_motp_with_their_codes() {
    let report = imported();
    let expected = expected();
    let time = expected["time"].as_u64().unwrap();
    let accounts = accounts_of(&report);
    for want in expected["accounts"].as_array().unwrap() {
        let label = want["label"].as_str().unwrap();
        let account = find(&accounts, label);
        let issuer = want["issuer"].as_str().unwrap();
        assert_eq!(
            account.issuer.as_deref(),
            Some(issuer).filter(|i| !i.is_empty())
        );
        let secret = data_encoding::HEXLOWER
            .decode(want["secret_hex"].as_str().unwrap().as_bytes())
            .unwrap();
        assert_eq!(account.secret.expose(), secret.as_slice(), "{label}");
        assert_eq!(
            account.pin.as_ref().unwrap().expose(),
            want["pin"],
            "{label}"
        );
        let params = account.params;
        let (kind, digits, period, algorithm) = match want["type"].as_str().unwrap() {
            "yandex" => (OtpKind::Yandex, 8, 30, "SHA256"),
            _ => (OtpKind::Motp, 6, 10, "MD5"),
        };
        assert_eq!(params.kind(), kind, "{label}");
        assert_eq!(params.digits(), digits);
        assert_eq!(params.period(), Some(period));
        assert_eq!(params.counter(), None);
        assert_eq!(params.algorithm_name(), algorithm);
        assert_eq!(account.code_at(time).code.as_str(), want["code"], "{label}");
    }
    let plain = find(&accounts, "frank");
    assert_eq!(plain.params.kind(), OtpKind::Totp { period: 30 });
    assert!(plain.pin.is_none());
    assert_eq!(
        accounts.len(),
        expected["accounts"].as_array().unwrap().len() + 1
    );
}

#[test]
fn broken_pin_entries_are_failures_with_their_index() {
    let report = imported();
    let failed: Vec<usize> = report.failures.iter().map(|f| f.index).collect();
    let want: Vec<usize> = expected()["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(failed, want);
    let reasons: Vec<&str> = report.failures.iter().map(|f| f.reason.as_str()).collect();
    assert!(reasons[0].contains("no PIN"), "{reasons:?}");
    assert!(reasons[1].contains("no PIN"), "{reasons:?}");
    assert!(reasons[2].contains("checksum"), "{reasons:?}");
    assert!(reasons[3].contains("16 or 26 bytes"), "{reasons:?}");
    // Neither PINs nor secrets appear in what is reported.
    let shown = format!("{:?}", report.failures);
    for want in expected()["accounts"].as_array().unwrap() {
        assert!(!shown.contains(want["secret_hex"].as_str().unwrap()));
    }
}

/// A vault holding the fixture's accounts, in a temporary directory.
fn vault_with_fixture(dir: &Path) -> Vault {
    let mut vault = Vault::create(&dir.join("v.db"), PASS, KdfParams::MINIMUM).unwrap();
    let accounts = imported()
        .accounts
        .into_iter()
        .map(|i| (i.account, i.meta))
        .collect();
    vault.add_many(accounts, false).unwrap();
    vault
}

#[test]
fn the_vault_keeps_kind_and_pin_across_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let before: Vec<Account> = {
        let vault = vault_with_fixture(dir.path());
        vault
            .entries()
            .unwrap()
            .iter()
            .map(|e| e.account.clone())
            .collect()
    };
    let mut vault = Vault::open(&dir.path().join("v.db")).unwrap();
    vault.unlock_with_passphrase(PASS).unwrap();
    let after: Vec<Account> = vault
        .entries()
        .unwrap()
        .iter()
        .map(|e| e.account.clone())
        .collect();
    assert_eq!(after, before);
    assert_eq!(after.iter().filter(|a| a.pin.is_some()).count(), 5);
}

#[test]
fn a_vault_written_before_these_kinds_still_opens() {
    // Written by the previous release's CLI (`vault init`, then `vault add` of the three URIs
    // below), passphrase "previous code".
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.vault");
    std::fs::write(&path, fixture("vault/pre-otp-kinds.vault")).unwrap();
    let mut vault = Vault::open(&path).unwrap();
    vault.unlock_with_passphrase("previous code").unwrap();
    let accounts: Vec<Account> = vault
        .entries()
        .unwrap()
        .iter()
        .map(|e| e.account.clone())
        .collect();
    let uris = [
        "otpauth://totp/ACME:alice?secret=JBSWY3DPEHPK3PXP&issuer=ACME&algorithm=SHA256&digits=8&period=60",
        "otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=7",
        "otpauth://steam/Steam:carol?secret=JBSWY3DPEHPK3PXPJBSWY3DP",
    ];
    let want: Vec<Account> = uris
        .iter()
        .map(|u| countersign_app::otpauth::parse(u).unwrap().account)
        .collect();
    assert_eq!(accounts, want);
    // And it takes the new kinds beside the old records.
    let yandex = find(&accounts_of(&imported()), "alice@yandex.ru").clone();
    vault.add(yandex.clone(), EntryMeta::default()).unwrap();
    let mut again = Vault::open(&path).unwrap();
    again.unlock_with_passphrase("previous code").unwrap();
    assert_eq!(again.entries().unwrap()[3].account, yandex);
}

#[test]
fn aegis_export_round_trips_them_and_python_reads_the_codes() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault_with_fixture(dir.path());
    let entries = vault.entries().unwrap();
    let originals: Vec<Account> = entries.iter().map(|e| e.account.clone()).collect();
    for password in [None, Some("export password")] {
        let export = transfer::export(ExportFormat::Aegis, entries, password).unwrap();
        assert!(export.notices.is_empty());
        let back = transfer::import(ImportFormat::Aegis, &export.bytes, password).unwrap();
        assert!(back.failures.is_empty(), "{:?}", back.failures);
        assert_eq!(accounts_of(&back), originals);
    }
    let export = transfer::export(ExportFormat::Aegis, entries, None).unwrap();
    let file = dir.path().join("aegis.json");
    std::fs::write(&file, &*export.bytes).unwrap();
    let time = 1_800_000_007u64;
    let read = python(&["aegis-codes", file.to_str().unwrap(), &time.to_string()]);
    let read: Vec<Value> = serde_json::from_str(&read).unwrap();
    assert_eq!(read.len(), 5);
    for entry in read {
        let account = find(&originals, entry["label"].as_str().unwrap());
        assert_eq!(
            account.code_at(time).code.as_str(),
            entry["code"],
            "{entry}"
        );
    }
}

fn python(args: &[&str]) -> String {
    let python = std::env::var("COUNTERSIGN_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/otp_kinds_reference.py"
    );
    let output = std::process::Command::new(&python)
        .arg(script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot start {python}: {e}"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn otpauth_list_round_trips_them() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault_with_fixture(dir.path());
    let entries = vault.entries().unwrap();
    let export = transfer::export(ExportFormat::OtpauthList, entries, None).unwrap();
    let text = std::str::from_utf8(&export.bytes).unwrap();
    assert_eq!(text.lines().filter(|l| l.starts_with("motp://")).count(), 2);
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("otpauth://yaotp/"))
            .count(),
        3
    );
    let back = transfer::import(ImportFormat::OtpauthList, &export.bytes, None).unwrap();
    let originals: Vec<Account> = entries.iter().map(|e| e.account.clone()).collect();
    assert_eq!(accounts_of(&back), originals);
}

#[test]
fn google_authenticator_export_names_what_it_cannot_hold() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault_with_fixture(dir.path());
    let entries = vault.entries().unwrap();
    let export = transfer::export(ExportFormat::GoogleAuthenticator, entries, None).unwrap();
    assert_eq!(export.exported, 1, "only the TOTP account fits");
    let skipped: Vec<(usize, &str)> = export
        .notices
        .iter()
        .map(|n| (n.index, n.reason.as_str()))
        .collect();
    assert_eq!(skipped.len(), 5);
    for (index, reason) in skipped {
        let kind = entries[index].account.params.kind();
        let name = if kind == OtpKind::Yandex {
            "Yandex.Key"
        } else {
            "mOTP"
        };
        assert_eq!(reason, format!("Google Authenticator has no {name} codes"));
    }
    assert!(export.notices.iter().all(|n| n.skipped));
}

#[test]
fn a_list_that_starts_with_an_motp_uri_is_recognised() {
    let list = b"motp://Example:dave?secret=e3152afee62599c8&pin=1234\n";
    assert_eq!(transfer::detect(list), Some(ImportFormat::OtpauthList));
    let report = transfer::import_auto(list, None).unwrap();
    let accounts = accounts_of(&report.1);
    assert_eq!(accounts[0].code_at(165892298).code.as_str(), "e7d8b6");
}

#[test]
fn countersign_backup_round_trips_them() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault_with_fixture(dir.path());
    let entries = vault.entries().unwrap();
    let password = "backup password";
    let export = transfer::export(ExportFormat::Countersign, entries, Some(password)).unwrap();
    assert!(export.notices.is_empty());
    let back = transfer::import(ImportFormat::Countersign, &export.bytes, Some(password)).unwrap();
    let originals: Vec<Account> = entries.iter().map(|e| e.account.clone()).collect();
    assert_eq!(accounts_of(&back), originals);
}

#[test]
fn another_pin_makes_another_account_not_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let mut vault = Vault::create(&dir.path().join("v.db"), PASS, KdfParams::MINIMUM).unwrap();
    let dave = find(&accounts_of(&imported()), "dave").clone();
    let other_pin = dave
        .clone()
        .with_pin(countersign_app::Pin::new("4321").unwrap());
    let same = dave.clone();
    let meta = EntryMeta::default;
    let report = vault
        .add_many(
            vec![(dave, meta()), (other_pin, meta()), (same, meta())],
            false,
        )
        .unwrap();
    assert_eq!(report.added.len(), 2);
    assert_eq!(report.duplicates, vec![2]);
}
