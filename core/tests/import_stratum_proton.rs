//! Stratum (Authenticator Pro), Proton Authenticator and Proton Pass: imports of fixtures
//! written by an independent Python implementation
//! (tests/reference/make_stratum_proton_fixtures.py), hostile files, and the Stratum and
//! Proton Authenticator exports read back by that Python reader and by our importers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use std::process::Command;

use countersign_app::otp::Algorithm;
use countersign_app::transfer::{
    self, ExportFormat, ImportError, ImportFormat, ImportReport, KdfBudget,
};
use countersign_app::vault::{Entry, EntryMeta, KdfParams, Vault};
use countersign_app::{Account, OtpParameters, Pin, Secret};

const STRATUM_PASSWORD: &str = "stratum-fixture-password";
const PROTON_PASSWORD: &str = "proton-fixture-password";

// The fixtures' secrets, as the Python generator defines them.
const GITHUB: &str = "3132333435363738393031323334353637383930";
const EXAMPLE: &str = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
const STEAM: &str = "0102030405060708090a0b0c0d0e0f1011121314";
const BANK: &str = "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf\
                    101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f";
const BASE64_STEAM: &str = "fbff00112233445566778899aabbccddeeff0011";
const MOTP: &str = "0123456789abcdef";
const YANDEX: &str = "000102030405060708090a0b0c0d0e0f";
/// When the Python reader gives Yandex.Key and mOTP codes (its `CODE_TIME`).
const CODE_TIME: u64 = 1_800_000_007;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/import/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn account(issuer: Option<&str>, label: &str, secret: &str, params: OtpParameters) -> Account {
    Account::new(
        issuer.map(str::to_owned),
        label,
        Secret::from_bytes(hex(secret)).unwrap(),
        params,
    )
}

/// A Yandex.Key or mOTP account with its PIN.
fn with_pin(issuer: &str, label: &str, secret: &str, params: OtpParameters, pin: &str) -> Account {
    account(Some(issuer), label, secret, params).with_pin(Pin::new(pin).unwrap())
}

fn totp(algorithm: Algorithm, digits: u32, period: u32) -> OtpParameters {
    OtpParameters::totp(algorithm, digits, period).unwrap()
}

fn import(format: ImportFormat, name: &str, password: Option<&str>) -> ImportReport {
    transfer::import(format, &fixture(name), password).unwrap()
}

fn failure_reasons(report: &ImportReport) -> Vec<(usize, String)> {
    report
        .failures
        .iter()
        .map(|f| (f.index, f.reason.clone()))
        .collect()
}

// ------------------------------------------------------------------------- Stratum

/// What every Stratum fixture holds: 6 accounts, 2 entries refused, per entry.
fn assert_stratum_contents(report: &ImportReport) {
    let accounts: Vec<&Account> = report.accounts.iter().map(|i| &i.account).collect();
    assert_eq!(
        accounts,
        [
            &account(
                Some("GitHub"),
                "alice@example.com",
                GITHUB,
                OtpParameters::default_totp()
            ),
            &account(
                Some("Example"),
                "bob",
                EXAMPLE,
                OtpParameters::hotp(Algorithm::Sha256, 8, 42).unwrap()
            ),
            &account(Some("Steam"), "carol", STEAM, OtpParameters::steam()),
            &account(Some("Bank"), "", BANK, totp(Algorithm::Sha512, 10, 60)),
            &with_pin("Motp", "dave", MOTP, OtpParameters::motp(), "1234"),
            &with_pin("Yandex", "erin", YANDEX, OtpParameters::yandex(), "5678"),
        ]
    );
    let meta: Vec<&EntryMeta> = report.accounts.iter().map(|i| &i.meta).collect();
    assert_eq!(meta[0].tags, ["Work"]);
    assert_eq!(meta[0].icon.as_deref(), Some("github"));
    assert!(meta[1].tags.is_empty() && meta[2].tags.is_empty());
    assert_eq!(meta[3].tags, ["Work", "Personal"]);
    assert_eq!(meta[3].icon, None, "a custom icon image is not a reference");
    let failures = failure_reasons(report);
    assert_eq!(failures.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [6, 7]);
    assert!(failures[0].1.contains("base32"), "{}", failures[0].1);
    assert!(failures[1].1.contains("algorithm 7"), "{}", failures[1].1);
    assert_eq!(report.failures[0].name, "Broken (frank)");
    assert!(report.notices.is_empty(), "{:?}", report.notices);
}

/// Codes of the independent reference (tests/reference/otp_kinds_reference.py, as a
/// filter): one `(kind, key hex, pin)` per request, all at [`CODE_TIME`].
fn reference_codes(requests: &[(&str, &str, &str)]) -> Vec<String> {
    use std::io::Write;
    let python = std::env::var("COUNTERSIGN_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/otp_kinds_reference.py"
    );
    let mut child = Command::new(&python)
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {python}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    for (kind, key, pin) in requests {
        let request = serde_json::json!({"kind": kind, "key": key, "pin": pin, "time": CODE_TIME});
        writeln!(stdin, "{request}").unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn stratum_yandex_and_motp_make_the_reference_codes() {
    let expected = reference_codes(&[("motp", MOTP, "1234"), ("yandex", YANDEX, "5678")]);
    for (name, password) in [
        ("stratum-plain.json", None),
        ("stratum-encrypted.authpro", Some(STRATUM_PASSWORD)),
        ("stratum.db3", None),
    ] {
        let report = import(ImportFormat::Stratum, &format!("stratum/{name}"), password);
        let codes: Vec<String> = report.accounts[4..6]
            .iter()
            .map(|i| i.account.code_at(CODE_TIME).code.as_str().to_owned())
            .collect();
        assert_eq!(codes, expected, "{name}");
    }
}

#[test]
fn stratum_pin_kinds_need_their_pin_and_a_usable_secret() {
    let entry = |kind: u8, secret: &str, pin: &str| {
        format!(r#"{{"Type":{kind},"Issuer":"I","Username":"u","Secret":"{secret}","Pin":{pin}}}"#)
    };
    let file = format!(
        r#"{{"Authenticators":[{},{},{},{},{},{}]}}"#,
        entry(3, "0123456789ABCDEF", "\"1234\""),
        entry(3, "not hex at all!!", "\"1234\""),
        entry(3, MOTP, "null"),
        // 10 bytes: too short for Yandex.Key (Stratum refuses it too).
        entry(5, "AAAQEAYEAUDAOCAJ", "\"5678\""),
        entry(5, "AAAQEAYEAUDAOCAJBIFQYDIOB4", "\"\""),
        // 20 bytes: Stratum keys with the first 16, and so does the import.
        entry(5, "AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQT", "\"5678\""),
    );
    let report = transfer::import(ImportFormat::Stratum, file.as_bytes(), None).unwrap();
    let accounts: Vec<&Account> = report.accounts.iter().map(|i| &i.account).collect();
    assert_eq!(
        accounts,
        [
            &with_pin("I", "u", MOTP, OtpParameters::motp(), "1234"),
            &with_pin("I", "u", YANDEX, OtpParameters::yandex(), "5678"),
        ]
    );
    // Upper-case hex: imported, with a notice that Stratum hashed it as written.
    assert_eq!(report.notices.len(), 1);
    assert_eq!(report.notices[0].index, 0);
    assert!(report.notices[0].notice.contains("upper-case"));
    let failures = failure_reasons(&report);
    assert_eq!(
        failures.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert!(
        failures[0].1.contains("not hexadecimal"),
        "{}",
        failures[0].1
    );
    assert!(failures[1].1.contains("PIN"), "{}", failures[1].1);
    assert!(failures[2].1.contains("16 bytes"), "{}", failures[2].1);
    assert!(failures[3].1.contains("PIN"), "{}", failures[3].1);
}

#[test]
fn stratum_plain_backup_reads_every_field() {
    let report = import(ImportFormat::Stratum, "stratum/stratum-plain.json", None);
    assert_stratum_contents(&report);
    assert_eq!(report.duplicates, [8]);
}

#[test]
fn stratum_encrypted_backups_read_with_the_password() {
    for name in ["stratum-encrypted.authpro", "stratum-legacy.authpro"] {
        let name = format!("stratum/{name}");
        let report = import(ImportFormat::Stratum, &name, Some(STRATUM_PASSWORD));
        assert_stratum_contents(&report);
        assert_eq!(report.duplicates, [8], "{name}");
        let data = fixture(&name);
        assert_eq!(
            transfer::import(ImportFormat::Stratum, &data, Some("not the password")),
            Err(ImportError::WrongPassword),
            "{name}"
        );
        assert_eq!(
            transfer::import(ImportFormat::Stratum, &data, None),
            Err(ImportError::PasswordRequired),
            "{name}"
        );
    }
}

#[test]
fn stratum_database_reads_the_authenticator_table() {
    let report = import(ImportFormat::Stratum, "stratum/stratum.db3", None);
    assert_stratum_contents(&report);
    assert!(report.duplicates.is_empty(), "the database keys by secret");
}

#[test]
fn stratum_truncated_files_are_typed_errors() {
    let cases = [
        ("stratum-plain.json", None, 200),
        ("stratum-encrypted.authpro", Some(STRATUM_PASSWORD), 40),
        ("stratum-legacy.authpro", Some(STRATUM_PASSWORD), 60),
        ("stratum-legacy.authpro", Some(STRATUM_PASSWORD), 1000),
        ("stratum.db3", None, 3000),
    ];
    for (name, password, keep) in cases {
        let data = fixture(&format!("stratum/{name}"));
        let result = transfer::import(ImportFormat::Stratum, &data[..keep], password);
        assert!(
            matches!(result, Err(ImportError::InvalidFile { .. })),
            "{name} cut to {keep}: {result:?}"
        );
    }
    // Cut inside the authenticated ciphertext: the tag no longer matches.
    let data = fixture("stratum/stratum-encrypted.authpro");
    let result = transfer::import(
        ImportFormat::Stratum,
        &data[..data.len() - 1],
        Some(STRATUM_PASSWORD),
    );
    assert_eq!(result, Err(ImportError::WrongPassword));
}

#[test]
fn stratum_key_derivation_is_charged_before_it_runs() {
    // The app's Argon2id (64 MiB × 3) is 19 % of one derivation's allowance: a budget of
    // a hundredth refuses it without deriving.
    let data = fixture("stratum/stratum-encrypted.authpro");
    let small = KdfBudget::per_import().scaled_down(100);
    let result =
        transfer::import_within(ImportFormat::Stratum, &data, Some(STRATUM_PASSWORD), small);
    assert!(
        matches!(result, Err(ImportError::ExcessiveKdf { .. })),
        "{result:?}"
    );
}

/// A database written by `sql` (rusqlite, the same engine the importer uses, so only the
/// schema and rows are under test here; the fixture database comes from Python).
fn database(sql: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.db3");
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection.execute_batch(sql).unwrap();
    drop(connection);
    std::fs::read(&path).unwrap()
}

#[test]
fn stratum_hostile_databases_are_refused_before_work() {
    // A view could run any query (here: an endless recursive one) when read.
    let view = database(
        "CREATE VIEW authenticator AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) \
         SELECT 2 AS type, 'A' AS secret FROM n;",
    );
    let result = transfer::import(ImportFormat::Stratum, &view, None);
    assert!(
        matches!(result, Err(ImportError::InvalidFile { .. })),
        "{result:?}"
    );

    let too_many = database(
        "CREATE TABLE authenticator(type INTEGER, secret TEXT);
         WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n LIMIT 100001)
         INSERT INTO authenticator SELECT 2, 'GEZDGNBV' FROM n;",
    );
    let result = transfer::import(ImportFormat::Stratum, &too_many, None);
    match result {
        Err(ImportError::InvalidFile { reason, .. }) => {
            assert!(reason.contains("rows"), "{reason}")
        }
        other => panic!("{other:?}"),
    }

    let no_table = database("CREATE TABLE accounts(x);");
    let result = transfer::import(ImportFormat::Stratum, &no_table, None);
    assert!(
        matches!(result, Err(ImportError::InvalidFile { .. })),
        "{result:?}"
    );

    // Older databases without some columns still read; wrongly typed cells fail alone.
    let sparse = database(
        "CREATE TABLE authenticator(type INTEGER, issuer TEXT, secret TEXT);
         INSERT INTO authenticator VALUES (2, 'Old', 'GEZDGNBVGY3TQOJQ'), (x'02', 'Bad', 'GEZDGNBV');",
    );
    let report = transfer::import(ImportFormat::Stratum, &sparse, None).unwrap();
    assert_eq!(report.accounts.len(), 1);
    assert_eq!(report.accounts[0].account.issuer.as_deref(), Some("Old"));
    assert_eq!(
        failure_reasons(&report),
        [(1, "type is not a number".to_owned())]
    );
}

#[test]
fn stratum_hostile_json_is_refused() {
    let many = format!("{{\"Authenticators\":[{}0]}}", "0,".repeat(1_000_001));
    assert!(matches!(
        transfer::import(ImportFormat::Stratum, many.as_bytes(), None),
        Err(ImportError::InvalidFile { .. })
    ));
    let huge_numbers = br#"{"Authenticators":[{"Type":2,"Issuer":"A","Secret":"GEZDGNBV","Digits":99999999999,"Period":-1}]}"#;
    let report = transfer::import(ImportFormat::Stratum, huge_numbers, None).unwrap();
    assert_eq!(report.failures.len(), 1);
    assert!(report.accounts.is_empty());
}

// ------------------------------------------------------------- Proton Authenticator

fn assert_proton_authenticator_contents(report: &ImportReport) {
    let accounts: Vec<&Account> = report.accounts.iter().map(|i| &i.account).collect();
    assert_eq!(
        accounts,
        [
            &account(
                Some("GitHub"),
                "alice@example.com",
                GITHUB,
                OtpParameters::default_totp()
            ),
            &account(
                Some("My Bank"),
                "My Account",
                EXAMPLE,
                totp(Algorithm::Sha256, 8, 15)
            ),
            &account(Some("Steam"), "carol", STEAM, OtpParameters::steam()),
            &account(
                Some("Steam"),
                "steam-base64",
                BASE64_STEAM,
                OtpParameters::steam()
            ),
            &account(None, "Bank login", BANK, totp(Algorithm::Sha512, 6, 30)),
        ]
    );
    assert_eq!(report.accounts[0].meta.notes, "recovery codes in the safe");
    let failures = failure_reasons(report);
    assert_eq!(failures.len(), 2);
    assert_eq!(failures[0], (5, "unsupported entry type Hotp".to_owned()));
    assert_eq!(failures[1].0, 6);
}

#[test]
fn proton_authenticator_plain_export_reads_every_field() {
    let report = import(
        ImportFormat::ProtonAuthenticator,
        "proton/proton-authenticator.json",
        None,
    );
    assert_proton_authenticator_contents(&report);
}

#[test]
fn proton_authenticator_protected_export() {
    let name = "proton/proton-authenticator-protected.json";
    let report = import(
        ImportFormat::ProtonAuthenticator,
        name,
        Some(PROTON_PASSWORD),
    );
    assert_proton_authenticator_contents(&report);
    let data = fixture(name);
    let format = ImportFormat::ProtonAuthenticator;
    assert_eq!(
        transfer::import(format, &data, Some("wrong")),
        Err(ImportError::WrongPassword)
    );
    assert_eq!(
        transfer::import(format, &data, None),
        Err(ImportError::PasswordRequired)
    );
    let truncated = transfer::import(format, &data[..data.len() / 2], Some(PROTON_PASSWORD));
    assert!(matches!(truncated, Err(ImportError::InvalidFile { .. })));
    let short = br#"{"version":1,"salt":"AAAAAAAAAAAAAAAAAAAAAA==","content":"AAAA"}"#;
    assert!(matches!(
        transfer::import(format, short, Some("x")),
        Err(ImportError::InvalidFile { .. })
    ));
    let small = KdfBudget::per_import().scaled_down(1000);
    assert!(matches!(
        transfer::import_within(format, &data, Some(PROTON_PASSWORD), small),
        Err(ImportError::ExcessiveKdf { .. })
    ));
    let future = br#"{"version":2,"entries":[]}"#;
    assert!(matches!(
        transfer::import(format, future, None),
        Err(ImportError::Unsupported(_))
    ));
}

// --------------------------------------------------------------------- Proton Pass

fn assert_proton_pass_contents(report: &ImportReport) {
    let accounts: Vec<&Account> = report.accounts.iter().map(|i| &i.account).collect();
    assert_eq!(
        accounts,
        [
            &account(
                Some("GitHub"),
                "alice",
                GITHUB,
                OtpParameters::default_totp()
            ),
            &account(Some("Forum"), "bob", EXAMPLE, OtpParameters::default_totp()),
            &account(Some("Bank"), "dave", BANK, totp(Algorithm::Sha256, 8, 60)),
        ]
    );
    assert_eq!(report.accounts[0].meta.tags, ["Personal"]);
    assert_eq!(report.accounts[0].meta.notes, "work account");
    assert_eq!(report.accounts[2].meta.tags, ["Work"]);
    assert_eq!(report.not_otp, 2);
    let failures = failure_reasons(report);
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].0, 4);
    assert_eq!(report.failures[0].name, "Bank");
}

#[test]
fn proton_pass_zip_and_json_read_the_same() {
    for name in ["proton-pass.zip", "proton-pass-data.json"] {
        let report = import(ImportFormat::ProtonPass, &format!("proton/{name}"), None);
        assert_proton_pass_contents(&report);
    }
}

#[test]
fn proton_pass_encrypted_exports_are_refused_with_the_way_out() {
    let pgp = fixture("proton/proton-pass-encrypted.pgp");
    let flagged = br#"{"version":"1","userId":"u","encrypted":true,"vaults":{}}"#;
    let zipped_pgp = stored_zip(&[("Proton Pass/data.pgp", b"-----BEGIN PGP MESSAGE-----")]);
    for data in [pgp.as_slice(), flagged, &zipped_pgp] {
        match transfer::import(ImportFormat::ProtonPass, data, None) {
            Err(ImportError::Unsupported(message)) => {
                assert!(message.contains("without encryption"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }
}

/// A zip of stored (uncompressed) files, written by hand so the test controls every field.
fn stored_zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for (name, data) in files {
        let offset = out.len() as u32;
        let (crc, size, name_len) = (crc32(data), data.len() as u32, name.len() as u16);
        let common = |v: &mut Vec<u8>| {
            v.extend_from_slice(&20u16.to_le_bytes()); // version needed
            v.extend_from_slice(&[0; 6]); // flags, method (stored), time
            v.extend_from_slice(&[0x21, 0]); // date: 1980-01-01
            v.extend_from_slice(&crc.to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&name_len.to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // extra length
        };
        out.extend_from_slice(b"PK\x03\x04");
        common(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(b"PK\x01\x02");
        central.extend_from_slice(&20u16.to_le_bytes()); // version made by
        common(&mut central);
        central.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let (start, size, count) = (out.len() as u32, central.len() as u32, files.len() as u16);
    out.extend_from_slice(&central);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&start.to_le_bytes());
    out.extend_from_slice(&[0; 2]);
    out
}

#[test]
fn proton_pass_hostile_zips_are_refused_before_inflating() {
    let names: Vec<String> = (0..=transfer::MAX_ZIP_ENTRIES)
        .map(|i| format!("{i}"))
        .collect();
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
    let result = transfer::import(ImportFormat::ProtonPass, &stored_zip(&files), None);
    match result {
        Err(ImportError::InvalidFile { reason, .. }) => {
            assert!(reason.contains("entries"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // 17 MiB of zeros deflated to a few KB: refused on its declared size.
    let bomb = fixture("proton/proton-pass-bomb.zip");
    assert!(bomb.len() < 64 * 1024);
    assert_eq!(
        transfer::import(ImportFormat::ProtonPass, &bomb, None),
        Err(ImportError::TooLarge)
    );
    // The same bomb declaring a small size: inflating stops at the bound, an error either way.
    let liar = fixture("proton/proton-pass-bomb-liar.zip");
    assert!(transfer::import(ImportFormat::ProtonPass, &liar, None).is_err());
    let missing = stored_zip(&[("other.json", b"{}")]);
    assert!(matches!(
        transfer::import(ImportFormat::ProtonPass, &missing, None),
        Err(ImportError::InvalidFile { .. })
    ));
    let data = fixture("proton/proton-pass.zip");
    assert!(matches!(
        transfer::import(ImportFormat::ProtonPass, &data[..data.len() - 30], None),
        Err(ImportError::InvalidFile { .. })
    ));
}

#[test]
fn detection_recognises_every_fixture() {
    let cases = [
        ("stratum/stratum-plain.json", ImportFormat::Stratum),
        ("stratum/stratum-encrypted.authpro", ImportFormat::Stratum),
        ("stratum/stratum-legacy.authpro", ImportFormat::Stratum),
        ("stratum/stratum.db3", ImportFormat::Stratum),
        (
            "proton/proton-authenticator.json",
            ImportFormat::ProtonAuthenticator,
        ),
        (
            "proton/proton-authenticator-protected.json",
            ImportFormat::ProtonAuthenticator,
        ),
        ("proton/proton-pass.zip", ImportFormat::ProtonPass),
        ("proton/proton-pass-data.json", ImportFormat::ProtonPass),
    ];
    assert!(matches!(
        transfer::import_auto(&fixture("proton/proton-pass-encrypted.pgp"), None),
        Err(ImportError::Unsupported(message)) if message.contains("Proton Pass")
    ));
    for (name, format) in cases {
        assert_eq!(transfer::detect(&fixture(name)), Some(format), "{name}");
    }
    assert_eq!(
        transfer::import_auto(&fixture("stratum/stratum-encrypted.authpro"), None),
        Err(ImportError::PasswordRequired)
    );
}

// ------------------------------------------------------------------------- exports

fn entries_of(accounts: Vec<(Account, EntryMeta)>) -> (tempfile::TempDir, Vec<Entry>) {
    let dir = tempfile::tempdir().unwrap();
    let mut vault = Vault::create(&dir.path().join("v.db"), "pass", KdfParams::MINIMUM).unwrap();
    for (account, meta) in accounts {
        vault.add(account, meta).unwrap();
    }
    let entries = vault.entries().unwrap().to_vec();
    (dir, entries)
}

fn meta(tags: &[&str], notes: &str) -> EntryMeta {
    EntryMeta {
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        notes: notes.to_owned(),
        icon: None,
    }
}

/// The Python reader's view of an export: one JSON object per account.
fn python_reads(format: &str, bytes: &[u8], password: Option<&str>) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export");
    std::fs::write(&path, bytes).unwrap();
    let python = std::env::var("COUNTERSIGN_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/make_stratum_proton_fixtures.py"
    );
    let mut command = Command::new(&python);
    command.args([script, "read", format, path.to_str().unwrap()]);
    command.args(password);
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot start {python}: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn export_accounts() -> Vec<(Account, EntryMeta)> {
    vec![
        (
            account(
                Some("GitHub"),
                "alice@example.com",
                GITHUB,
                OtpParameters::default_totp(),
            ),
            meta(&["Work"], ""),
        ),
        (
            account(
                Some("Example"),
                "bob",
                EXAMPLE,
                OtpParameters::hotp(Algorithm::Sha256, 8, 42).unwrap(),
            ),
            meta(&[], "a note"),
        ),
        (
            account(Some("Steam"), "carol", STEAM, OtpParameters::steam()),
            meta(&[], ""),
        ),
        (
            account(None, "no issuer", BANK, totp(Algorithm::Sha512, 10, 60)),
            meta(&["Work", "Personal"], ""),
        ),
        (
            account(
                Some("Wide"),
                "nine",
                BASE64_STEAM,
                OtpParameters::hotp(Algorithm::Sha1, 9, 3).unwrap(),
            ),
            meta(&[], ""),
        ),
    ]
}

fn notices(export: &transfer::Export) -> Vec<(usize, bool)> {
    export
        .notices
        .iter()
        .map(|n| (n.index, n.skipped))
        .collect()
}

#[test]
fn stratum_export_reads_back_in_python_and_here() {
    let (_dir, entries) = entries_of(export_accounts());
    for password in [None, Some("export password")] {
        let export = transfer::export(ExportFormat::Stratum, &entries, password).unwrap();
        // HOTP with 9 digits is skipped; the note and the missing issuer are stated.
        assert_eq!(notices(&export), [(1, false), (3, false), (4, true)]);
        assert_eq!(export.exported, 4);
        let python = python_reads("stratum", &export.bytes, password);
        let secrets: Vec<&str> = python
            .iter()
            .map(|a| a["secret"].as_str().unwrap())
            .collect();
        assert_eq!(secrets, [GITHUB, EXAMPLE, STEAM, BANK]);
        assert_eq!(python[1]["kind"], "hotp");
        assert_eq!(python[1]["counter"], 42);
        assert_eq!(python[1]["digits"], 8);
        assert_eq!(python[1]["algorithm"], "SHA256");
        assert_eq!(python[2]["kind"], "steam");
        assert_eq!(python[3]["issuer"], "no issuer");
        assert_eq!(python[3]["digits"], 10);
        assert_eq!(python[3]["period"], 60);
        assert_eq!(python[3]["tags"], serde_json::json!(["Work", "Personal"]));

        let back = transfer::import(ImportFormat::Stratum, &export.bytes, password).unwrap();
        let originals: Vec<Account> = entries[..4].iter().map(|e| e.account.clone()).collect();
        let mut expected = originals.clone();
        expected[3].issuer = Some("no issuer".into());
        expected[3].label = String::new();
        let got: Vec<Account> = back.accounts.iter().map(|i| i.account.clone()).collect();
        assert_eq!(got, expected);
        assert_eq!(back.accounts[0].meta.tags, ["Work"]);
        assert_eq!(back.accounts[3].meta.tags, ["Work", "Personal"]);
    }
}

#[test]
fn stratum_export_carries_yandex_and_motp_with_their_pins() {
    let motp = with_pin("Motp", "dave", MOTP, OtpParameters::motp(), "1234");
    let yandex = with_pin("Yandex", "erin", YANDEX, OtpParameters::yandex(), "5678");
    let (_dir, entries) = entries_of(vec![(motp, meta(&["Work"], "")), (yandex, meta(&[], ""))]);
    for password in [None, Some("export password")] {
        let export = transfer::export(ExportFormat::Stratum, &entries, password).unwrap();
        assert!(export.notices.is_empty(), "{:?}", export.notices);
        assert_eq!(export.exported, 2);
        let python = python_reads("stratum", &export.bytes, password);
        assert_eq!(python.len(), 2);
        for (read, entry) in python.iter().zip(&entries) {
            let account = &entry.account;
            assert_eq!(read["code"], account.code_at(CODE_TIME).code.as_str());
            assert_eq!(read["label"], account.label.as_str());
        }
        let summary = |read: &serde_json::Value| {
            let text = |key: &str| read[key].as_str().unwrap().to_owned();
            let number = |key: &str| read[key].as_u64().unwrap();
            (
                text("kind"),
                text("pin"),
                text("secret"),
                number("digits"),
                number("period"),
            )
        };
        assert_eq!(
            summary(&python[0]),
            ("motp".into(), "1234".into(), MOTP.into(), 6, 10)
        );
        assert_eq!(python[0]["tags"], serde_json::json!(["Work"]));
        assert_eq!(
            summary(&python[1]),
            ("yandex".into(), "5678".into(), YANDEX.into(), 8, 30)
        );

        let back = transfer::import(ImportFormat::Stratum, &export.bytes, password).unwrap();
        let got: Vec<&Account> = back.accounts.iter().map(|i| &i.account).collect();
        assert_eq!(got, [&entries[0].account, &entries[1].account]);
        assert_eq!(back.accounts[0].meta.tags, ["Work"]);
        assert!(back.notices.is_empty());
    }
}

#[test]
fn stratum_export_skips_a_second_account_with_the_same_secret() {
    let github = account(Some("A"), "a", GITHUB, OtpParameters::default_totp());
    let mut again = github.clone();
    again.label = "b".into();
    let (_dir, entries) = entries_of(vec![(github, meta(&[], "")), (again, meta(&[], ""))]);
    let export = transfer::export(ExportFormat::Stratum, &entries, None).unwrap();
    assert_eq!(notices(&export), [(1, true)]);
    assert_eq!(export.exported, 1);
}

#[test]
fn proton_authenticator_export_reads_back_in_python_and_here() {
    let (_dir, entries) = entries_of(export_accounts());
    for password in [None, Some("export password")] {
        let export =
            transfer::export(ExportFormat::ProtonAuthenticator, &entries, password).unwrap();
        // HOTP (1, 4) and 10 digits (3) are skipped; the tags of 0 are stated.
        assert_eq!(
            notices(&export),
            [(0, false), (1, true), (3, true), (4, true)]
        );
        assert_eq!(export.exported, 2);
        let python = python_reads("proton-authenticator", &export.bytes, password);
        assert_eq!(python.len(), 2);
        assert_eq!(python[0]["secret"], GITHUB);
        assert_eq!(python[0]["issuer"], "GitHub");
        assert_eq!(python[0]["label"], "alice@example.com");
        assert_eq!(python[0]["digits"], 6);
        assert_eq!(python[0]["period"], 30);
        assert_eq!(python[1]["kind"], "steam");
        assert_eq!(python[1]["secret"], STEAM);
        assert_eq!(python[1]["label"], "carol");

        let back =
            transfer::import(ImportFormat::ProtonAuthenticator, &export.bytes, password).unwrap();
        let got: Vec<&Account> = back.accounts.iter().map(|i| &i.account).collect();
        assert_eq!(got, [&entries[0].account, &entries[2].account]);
    }
}

#[test]
fn proton_authenticator_export_keeps_notes_and_odd_names() {
    let odd = account(
        Some("Ünï & Co"),
        "name with spaces/and?query",
        GITHUB,
        totp(Algorithm::Sha256, 7, 45),
    );
    let (_dir, entries) = entries_of(vec![(odd, meta(&[], "a note"))]);
    let export = transfer::export(ExportFormat::ProtonAuthenticator, &entries, None).unwrap();
    assert!(export.notices.is_empty());
    let python = python_reads("proton-authenticator", &export.bytes, None);
    assert_eq!(python[0]["issuer"], "Ünï & Co");
    assert_eq!(python[0]["label"], "name with spaces/and?query");
    assert_eq!(python[0]["note"], "a note");
    let back = transfer::import(ImportFormat::ProtonAuthenticator, &export.bytes, None).unwrap();
    assert_eq!(back.accounts[0].account, entries[0].account);
    assert_eq!(back.accounts[0].meta.notes, "a note");
}

#[test]
fn stratum_database_last_written_in_wal_mode_reads() {
    let wal = database(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE authenticator(type INTEGER, issuer TEXT, username TEXT, secret TEXT);
         INSERT INTO authenticator VALUES (2, 'Wal', 'w', 'GEZDGNBVGY3TQOJQ');",
    );
    assert_eq!(wal[18..20], [2, 2], "the header says WAL");
    let report = transfer::import(ImportFormat::Stratum, &wal, None).unwrap();
    assert_eq!(report.accounts.len(), 1);
    assert_eq!(report.accounts[0].account.issuer.as_deref(), Some("Wal"));
}

#[test]
fn exports_state_names_and_tags_they_change() {
    let long_tag = "a tag that is longer than thirty-two characters";
    let colon = account(
        Some("Issuer"),
        "user:name",
        GITHUB,
        OtpParameters::default_totp(),
    );
    let (_dir, entries) = entries_of(vec![(colon, meta(&[long_tag], ""))]);
    let stratum = transfer::export(ExportFormat::Stratum, &entries, None).unwrap();
    assert_eq!(notices(&stratum), [(0, false)]);
    assert!(
        stratum.notices[0].reason.contains("32"),
        "{:?}",
        stratum.notices
    );
    let back = transfer::import(ImportFormat::Stratum, &stratum.bytes, None).unwrap();
    assert_eq!(back.accounts[0].meta.tags, [&long_tag[..32]]);

    let proton = transfer::export(ExportFormat::ProtonAuthenticator, &entries, None).unwrap();
    assert_eq!(notices(&proton), [(0, false), (0, false)]);
    let python = python_reads("proton-authenticator", &proton.bytes, None);
    assert_eq!(python[0]["label"], "name", "what Proton itself keeps");
}
