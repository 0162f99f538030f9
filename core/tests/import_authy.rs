//! The Authy importer against fixtures written by an independent Python implementation
//! (core/tests/reference/make_authy_fixtures.py, with `cryptography`): every shape Authy's
//! tokens leave it in, plain and encrypted, with broken, truncated and hostile files. What
//! each fixture must yield — secrets as hex, digits, periods, issuers, labels, notices — is
//! in the generator's `expected.json`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use std::time::Instant;

use countersign_app::otp::Algorithm;
use countersign_app::transfer::{
    self, ImportError, ImportFormat, ImportReport, KdfBudget, MAX_JSON_VALUES,
};
use serde_json::Value;

const PASSWORD: &str = "authy-backup-password";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/import/authy/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn import(name: &str, password: Option<&str>) -> Result<ImportReport, ImportError> {
    transfer::import(ImportFormat::Authy, &fixture(name), password)
}

fn expected(name: &str) -> Value {
    let all: Value = serde_json::from_slice(&fixture("expected.json")).unwrap();
    all[name].clone()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks `report` entry by entry against the generator's expectations.
fn assert_matches_expected(name: &str, report: &ImportReport) {
    assert_matches_expected_accounts(name, report);
    let expected = expected(name);
    let failures: Vec<u64> = report.failures.iter().map(|f| f.index as u64).collect();
    assert_eq!(
        Value::from(failures),
        expected["failures"],
        "{name}: failures"
    );
    let duplicates: Vec<u64> = report.duplicates.iter().map(|&i| i as u64).collect();
    assert_eq!(
        Value::from(duplicates),
        expected["duplicates"],
        "{name}: duplicates"
    );
    assert_notices(name, report, expected["accounts"].as_array().unwrap());
}

/// Checks the accounts of `report`, in order, against the generator's.
fn assert_matches_expected_accounts(name: &str, report: &ImportReport) {
    let expected = expected(name);
    let accounts = expected["accounts"].as_array().unwrap();
    assert_eq!(report.accounts.len(), accounts.len(), "{name}: accounts");
    for (imported, want) in report.accounts.iter().zip(accounts) {
        let account = &imported.account;
        let what = format!("{name}, entry {}", want["index"]);
        assert_eq!(
            account.issuer.as_deref(),
            want["issuer"].as_str(),
            "{what}: issuer"
        );
        assert_eq!(
            account.label,
            want["label"].as_str().unwrap(),
            "{what}: label"
        );
        assert_eq!(
            hex(account.secret.expose()),
            want["secret"].as_str().unwrap(),
            "{what}"
        );
        assert_eq!(
            u64::from(account.params.digits()),
            want["digits"],
            "{what}: digits"
        );
        assert_eq!(
            account.params.period().map(u64::from),
            want["period"].as_u64(),
            "{what}: period"
        );
        assert_eq!(
            account.params.algorithm(),
            Algorithm::Sha1,
            "{what}: algorithm"
        );
        assert_eq!(
            account.params.counter(),
            None,
            "{what}: a TOTP has no counter"
        );
        assert_eq!(
            imported.meta.icon.as_deref(),
            want["icon"].as_str(),
            "{what}: icon"
        );
    }
}

/// Native tokens carry the device notice, Authy-dropped digits theirs; nothing else has one.
fn assert_notices(name: &str, report: &ImportReport, accounts: &[Value]) {
    let mut want: Vec<(u64, &str)> = accounts
        .iter()
        .filter_map(|a| Some((a["index"].as_u64()?, a["notice"].as_str()?)))
        .collect();
    want.sort();
    let mut got: Vec<(u64, &str)> = report
        .notices
        .iter()
        .map(|n| {
            let kind = if n
                .notice
                .contains("keep working only while that device stays registered")
            {
                "native"
            } else if n.notice.contains("Authy ignores") {
                "dropped"
            } else {
                "other"
            };
            (n.index as u64, kind)
        })
        .collect();
    got.sort();
    assert_eq!(got, want, "{name}: notices");
}

#[test]
fn plain_app_storage_imports_every_token_with_its_names() {
    for name in ["authenticator-plain.xml", "authenticator-plain.json"] {
        let report = import(name, None).unwrap();
        assert_matches_expected(name, &report);
        assert_eq!(report.failures[0].name, "Broken: frank");
        assert!(
            !report.failures[0].reason.contains("!!!!"),
            "no secret in reasons"
        );
    }
}

#[test]
fn encrypted_app_storage_needs_the_backup_password() {
    let name = "authenticator-encrypted.xml";
    let report = import(name, Some(PASSWORD)).unwrap();
    assert_matches_expected(name, &report);
    assert_eq!(import(name, None), Err(ImportError::PasswordRequired));
    assert_eq!(
        import(name, Some("not the backup password")),
        Err(ImportError::WrongPassword)
    );
}

#[test]
fn native_tokens_are_imported_with_a_notice_each() {
    let name = "native.xml";
    let report = import(name, None).unwrap();
    assert_matches_expected(name, &report);
    assert_eq!(report.notices.len(), 3);
    assert_eq!(report.notices[0].name, "Twilio");
    assert!(report.notices[0].notice.contains("Authy-native"));
}

#[test]
fn a_native_token_gives_authy_s_code() {
    // Authy's TOTP (SHA-1, 10 s): the hex seed's bytes as the key, codes of the data's
    // length. RFC 6238's SHA-1 seed, read as Authy stores seeds (hex), at its test times.
    let seed = hex(b"12345678901234567890");
    let xml = format!(
        "<map><string name=\"com.authy.storage.tokens.authy.key\">\
         [{{&quot;name&quot;:&quot;RFC&quot;,&quot;digits&quot;:8,&quot;secretSeed&quot;:&quot;{seed}&quot;}}]\
         </string></map>"
    );
    let report = transfer::import(ImportFormat::Authy, xml.as_bytes(), None).unwrap();
    let account = &report.accounts[0].account;
    // RFC 4226's values for this key (Appendix D): counter 1 truncates to 1094287082,
    // counter 3 to 1726969429. With 10-second steps, times 10–19 are counter 1 and 30–39
    // counter 3; 8 digits as the data says.
    assert_eq!(account.code_at(10).code.to_string(), "94287082");
    assert_eq!(account.code_at(39).code.to_string(), "26969429");
    assert_eq!(account.code_at(39).seconds_remaining, Some(1));
    assert_eq!(account.issuer.as_deref(), Some("RFC"));
}

#[test]
fn server_tokens_decrypt_with_and_without_a_unique_iv() {
    let name = "server-tokens.json";
    let started = Instant::now();
    let report = import(name, Some(PASSWORD)).unwrap();
    assert_matches_expected(name, &report);
    // The deleted token is not imported; three 100,000-iteration derivations ran.
    assert!(report.accounts.iter().all(|a| a.account.label != "old"));
    eprintln!("server tokens: {:?}", started.elapsed());
    assert_eq!(import(name, None), Err(ImportError::PasswordRequired));
    assert_eq!(import(name, Some("wrong")), Err(ImportError::WrongPassword));
}

#[test]
fn tool_exports_are_read() {
    for name in ["decrypted-tokens.json", "desktop-export.json"] {
        let report = import(name, None).unwrap();
        assert_matches_expected(name, &report);
    }
}

#[test]
fn truncated_files_are_invalid() {
    for name in ["truncated.xml", "truncated.json"] {
        assert!(
            matches!(
                import(name, Some(PASSWORD)),
                Err(ImportError::InvalidFile { .. })
            ),
            "{name}"
        );
    }
}

#[test]
fn hostile_files_are_refused_before_any_derivation() {
    for name in ["hostile-iterations.json", "hostile-many-tokens.json"] {
        let started = Instant::now();
        let result = import(name, Some(PASSWORD));
        assert!(
            matches!(result, Err(ImportError::ExcessiveKdf { .. })),
            "{name}: {result:?}"
        );
        // No derivation ran: refusing takes microseconds, not the seconds asked for.
        assert!(
            started.elapsed().as_millis() < 500,
            "{name}: {:?}",
            started.elapsed()
        );
    }
    // More preference entries than the preferences reader takes (100,000: one or two per
    // account in the apps that keep them there) are refused, not collected.
    let crowded = format!(
        "<map>{}</map>",
        "<int name=\"n\" value=\"1\" />".repeat(100_001)
    );
    assert!(matches!(
        transfer::import(ImportFormat::Authy, crowded.as_bytes(), None),
        Err(ImportError::InvalidFile { .. })
    ));
    // A token list past the JSON bound is refused before it is parsed.
    let huge = format!(
        "{{\"authenticator_tokens\":[{}0]}}",
        "0,".repeat(MAX_JSON_VALUES)
    );
    assert!(matches!(
        transfer::import(ImportFormat::Authy, huge.as_bytes(), None),
        Err(ImportError::InvalidFile { .. })
    ));
    // A slower device's smaller budget refuses what the default admits.
    let small = KdfBudget::per_import().scaled_down(1000);
    assert!(matches!(
        transfer::import_within(
            ImportFormat::Authy,
            &fixture("server-tokens.json"),
            Some(PASSWORD),
            small
        ),
        Err(ImportError::ExcessiveKdf { .. })
    ));
}

#[test]
fn broken_entries_fail_alone_once_the_password_is_proven() {
    // A token that does not decrypt after one that did is that token's failure.
    let mut file: Value = serde_json::from_slice(&fixture("server-tokens.json")).unwrap();
    let tokens = file["authenticator_tokens"].as_array_mut().unwrap();
    let mut damaged = tokens[1].clone();
    damaged["salt"] = Value::from("another salt");
    damaged["name"] = Value::from("Damaged: one");
    tokens.push(damaged);
    let bytes = serde_json::to_vec(&file).unwrap();
    let report = transfer::import(ImportFormat::Authy, &bytes, Some(PASSWORD)).unwrap();
    assert_eq!(report.accounts.len(), 3);
    assert_eq!(report.failures.len(), 1);
    assert_eq!(report.failures[0].index, 3);
    assert_eq!(report.failures[0].name, "Damaged: one");
}

#[test]
fn detection_recognises_every_authy_shape() {
    for name in [
        "authenticator-plain.xml",
        "authenticator-plain.json",
        "authenticator-encrypted.xml",
        "native.xml",
        "server-tokens.json",
        "decrypted-tokens.json",
        "desktop-export.json",
    ] {
        assert_eq!(
            transfer::detect(&fixture(name)),
            Some(ImportFormat::Authy),
            "{name}"
        );
    }
    let (format, report) =
        transfer::import_auto(&fixture("authenticator-encrypted.xml"), Some(PASSWORD)).unwrap();
    assert_eq!(format, ImportFormat::Authy);
    assert_eq!(report.accounts.len(), 3);
    assert_eq!(
        transfer::import_auto(&fixture("server-tokens.json"), None).map(|(f, _)| f),
        Err(ImportError::PasswordRequired)
    );
    assert_eq!(ImportFormat::from_name("authy"), Some(ImportFormat::Authy));
}

#[test]
fn the_fuzz_seed_reaches_decryption_within_the_fuzzer_s_budget() {
    let seed = std::fs::read(format!(
        "{}/fuzz/seeds/transfer/authy-encrypted.xml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let budget = KdfBudget::per_import().scaled_down(256);
    let report =
        transfer::import_within(ImportFormat::Authy, &seed, Some(PASSWORD), budget).unwrap();
    assert_eq!(report.accounts.len(), 3);
}

#[test]
fn every_prefix_of_every_fixture_is_handled() {
    // No panic and no account out of nothing, wherever a file is cut.
    for name in [
        "authenticator-plain.xml",
        "authenticator-plain.json",
        "authenticator-encrypted.xml",
        "native.xml",
        "server-tokens.json",
        "decrypted-tokens.json",
        "desktop-export.json",
    ] {
        let data = fixture(name);
        for end in (0..data.len()).step_by(3) {
            if let Ok(report) = transfer::import(ImportFormat::Authy, &data[..end], None) {
                assert!(
                    report.accounts.len() + report.failures.len() <= end,
                    "{name}"
                );
            }
        }
    }
}

#[test]
fn many_encrypted_tokens_decrypt_in_any_order_of_threads() {
    // The encrypted storage's tokens, eight times over: each copy decrypts (on whichever
    // thread) to the same account, so all but the first three are duplicates.
    let xml = String::from_utf8(fixture("authenticator-encrypted.xml")).unwrap();
    let start = xml.find("key\">").unwrap() + "key\">".len();
    let end = xml.find("</string>").unwrap();
    let list: Vec<Value> = serde_json::from_str(&xml[start..end].replace("&quot;", "\"")).unwrap();
    let decryptable: Vec<Value> = list[..3].to_vec();
    let many: Vec<Value> = (0..8).flat_map(|_| decryptable.clone()).collect();
    let bytes = serde_json::to_vec(&many).unwrap();
    let report = transfer::import(ImportFormat::Authy, &bytes, Some(PASSWORD)).unwrap();
    assert_matches_expected_accounts("authenticator-encrypted.xml", &report);
    assert_eq!(report.duplicates, (3..24).collect::<Vec<_>>());
    assert!(report.failures.is_empty());
}

#[test]
fn a_preferences_file_with_both_lists_reads_each_once() {
    let list = |name: &str, token: &str| {
        format!(
            "<string name=\"com.authy.storage.tokens.{name}.key\">[{}]</string>",
            token.replace('"', "&quot;")
        )
    };
    let ordinary = r#"{"name":"A: a","decryptedSecret":"JBSWY3DPEHPK3PXP","digits":6}"#;
    let repeated = r#"{"name":"B: b","decryptedSecret":"KRSXG5CTMVRXEZLU","digits":6}"#;
    let native = r#"{"name":"N","secretSeed":"00112233445566778899aabbccddeeff","digits":7}"#;
    let xml = format!(
        "<map>{}{}{}</map>",
        list("authy", native),
        list("authenticator", ordinary),
        // Android writes a name once; of a repeat, its loader keeps the last (a map).
        list("authenticator", repeated),
    );
    let report = transfer::import(ImportFormat::Authy, xml.as_bytes(), None).unwrap();
    let issuers: Vec<_> = report
        .accounts
        .iter()
        .map(|a| a.account.issuer.as_deref())
        .collect();
    assert_eq!(
        issuers,
        [Some("B"), Some("N")],
        "authenticator tokens first, the repeated list read once"
    );
    assert_eq!(report.notices.len(), 1);
    assert_eq!(report.notices[0].index, 1);
}
