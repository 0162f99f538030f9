//! Raivo and Authenticator Plus archives, Ente's encrypted export, and the Ente, 2FAS,
//! Bitwarden JSON and printable-sheet exports (docs/formats/archives-ente-exports.md).
//! Import fixtures are written by `reference/make_archive_fixtures.py` (pyzipper, a ZipCrypto
//! written from APPNOTE, PyNaCl); exports are read back by `reference/check_archive_exports.py`
//! (PyNaCl, cryptography) and by our own importers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use std::process::Command;
use std::time::{Duration, Instant};

use countersign_app::account::{Account, OtpKind, OtpParameters};
use countersign_app::otp::Algorithm;
use countersign_app::otpauth;
use countersign_app::secret::Secret;
use countersign_app::transfer::{
    self, ExportFormat, ImportError, ImportFormat, ImportReport, KdfBudget,
};
use countersign_app::vault::{Entry, EntryId, EntryMeta};

fn fixture(path: &str) -> Vec<u8> {
    let full = format!(
        "{}/tests/fixtures/import/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn b32(text: &str) -> Vec<u8> {
    Secret::from_base32(text).unwrap().expose().to_vec()
}

/// One expected account: issuer, label, secret (base32), kind, algorithm, digits.
struct Want {
    issuer: Option<&'static str>,
    label: &'static str,
    secret: &'static str,
    kind: OtpKind,
    algorithm: Algorithm,
    digits: u8,
}

fn assert_account(account: &Account, want: &Want) {
    assert_eq!(account.issuer.as_deref(), want.issuer, "{}", want.label);
    assert_eq!(account.label, want.label);
    assert_eq!(account.secret.expose(), b32(want.secret), "{}", want.label);
    assert_eq!(account.params.kind(), want.kind, "{}", want.label);
    assert_eq!(account.params.algorithm(), want.algorithm, "{}", want.label);
    assert_eq!(account.params.digits(), want.digits, "{}", want.label);
}

fn failure_indices(report: &ImportReport) -> Vec<usize> {
    report.failures.iter().map(|f| f.index).collect()
}

// --- Raivo -------------------------------------------------------------------------------

const RAIVO: &str = "raivo/raivo-otp-export.zip";

#[test]
fn raivo_archive_with_the_right_password_imports_every_token() {
    let report =
        transfer::import(ImportFormat::Raivo, &fixture(RAIVO), Some("raivo-password")).unwrap();
    let accounts: Vec<&Account> = report.accounts.iter().map(|i| &i.account).collect();
    assert_eq!(accounts.len(), 3);
    assert_account(
        accounts[0],
        &Want {
            issuer: Some("GitHub"),
            label: "alice@example.com",
            secret: "JBSWY3DPEHPK3PXP",
            kind: OtpKind::Totp { period: 30 },
            algorithm: Algorithm::Sha1,
            digits: 6,
        },
    );
    assert_account(
        accounts[1],
        &Want {
            issuer: Some("Fastmail"),
            label: "bob",
            secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            kind: OtpKind::Totp { period: 60 },
            algorithm: Algorithm::Sha256,
            digits: 8,
        },
    );
    assert_account(
        accounts[2],
        &Want {
            issuer: Some("Bank"),
            label: "carol",
            secret: "MFRGGZDFMZTWQ2LK",
            kind: OtpKind::Hotp { counter: 42 },
            algorithm: Algorithm::Sha512,
            digits: 7,
        },
    );
    // The broken secret and the unknown kind, by position; their names, never secrets.
    assert_eq!(failure_indices(&report), vec![3, 4]);
    assert_eq!(report.failures[0].name, "Broken: dave");
    assert!(report.failures[1].reason.contains("mobile"));
}

#[test]
fn raivo_password_errors_are_typed() {
    let data = fixture(RAIVO);
    assert_eq!(
        transfer::import(ImportFormat::Raivo, &data, Some("wrong")),
        Err(ImportError::WrongPassword)
    );
    assert_eq!(
        transfer::import(ImportFormat::Raivo, &data, None),
        Err(ImportError::PasswordRequired)
    );
    // Auto-detection recognises the archive and asks for the password.
    assert_eq!(transfer::detect(&data), Some(ImportFormat::Raivo));
    assert!(matches!(
        transfer::import_auto(&data, None),
        Err(ImportError::PasswordRequired)
    ));
    let (format, report) = transfer::import_auto(&data, Some("raivo-password")).unwrap();
    assert_eq!((format, report.accounts.len()), (ImportFormat::Raivo, 3));
}

#[test]
fn truncated_archives_are_invalid_files() {
    let truncated = fixture("raivo/raivo-truncated.zip");
    assert!(matches!(
        transfer::import(ImportFormat::Raivo, &truncated, Some("raivo-password")),
        Err(ImportError::InvalidFile { .. })
    ));
    let whole = fixture(RAIVO);
    for cut in [0, 4, 30, whole.len() - 22, whole.len() - 1] {
        let result = transfer::import(ImportFormat::Raivo, &whole[..cut], Some("raivo-password"));
        assert!(result.is_err(), "cut at {cut}");
    }
}

// --- Authenticator Plus ------------------------------------------------------------------

const AUTHPLUS: &str = "authenticator-plus/authenticator-plus.zip";

#[test]
fn authenticator_plus_zipcrypto_archive_imports_accounts_txt() {
    let report = transfer::import(
        ImportFormat::AuthenticatorPlus,
        &fixture(AUTHPLUS),
        Some("authplus-password"),
    )
    .unwrap();
    let accounts: Vec<&Account> = report.accounts.iter().map(|i| &i.account).collect();
    assert_eq!(accounts.len(), 3);
    assert_account(
        accounts[0],
        &Want {
            issuer: Some("Dropbox"),
            label: "frank@example.com",
            secret: "KRSXG5CTMVRXEZLU",
            kind: OtpKind::Totp { period: 30 },
            algorithm: Algorithm::Sha1,
            digits: 6,
        },
    );
    assert_account(
        accounts[1],
        &Want {
            issuer: Some("Work"),
            label: "grace",
            secret: "ONSWG4TFOQ======",
            kind: OtpKind::Hotp { counter: 5 },
            algorithm: Algorithm::Sha256,
            digits: 8,
        },
    );
    assert_account(
        accounts[2],
        &Want {
            issuer: None,
            label: "heidi",
            secret: "MZXW6YTBOI======",
            kind: OtpKind::Totp { period: 45 },
            algorithm: Algorithm::Sha1,
            digits: 6,
        },
    );
    assert_eq!(failure_indices(&report), vec![3]);
    assert_eq!(report.failures[0].name, "line 4");
}

#[test]
fn authenticator_plus_password_errors_are_typed() {
    let data = fixture(AUTHPLUS);
    assert_eq!(
        transfer::detect(&data),
        Some(ImportFormat::AuthenticatorPlus)
    );
    for wrong in ["wrong", "authplus-passwor", "x"] {
        assert_eq!(
            transfer::import(ImportFormat::AuthenticatorPlus, &data, Some(wrong)),
            Err(ImportError::WrongPassword),
            "{wrong}"
        );
    }
    assert_eq!(
        transfer::import(ImportFormat::AuthenticatorPlus, &data, None),
        Err(ImportError::PasswordRequired)
    );
}

/// An import of a hostile archive: a typed error, fast.
fn refused_quickly(path: &str, expected_words: &str) {
    let started = Instant::now();
    let result = transfer::import(ImportFormat::AuthenticatorPlus, &fixture(path), None);
    let elapsed = started.elapsed();
    match result {
        Err(ImportError::InvalidFile { reason, .. }) => {
            assert!(reason.contains(expected_words), "{path}: {reason}")
        }
        other => panic!("{path}: {other:?}"),
    }
    assert!(elapsed < Duration::from_secs(2), "{path}: {elapsed:?}");
}

#[test]
fn zip_bombs_and_crowded_archives_are_refused_before_work() {
    // 101 entries: refused by counting central-directory records, before parsing them.
    refused_quickly(
        "authenticator-plus/too-many-entries.zip",
        "more than 64 entries",
    );
    // One entry in an archive whose end record claims 65,000: refused on the claim.
    refused_quickly(
        "authenticator-plus/claims-65000-entries.zip",
        "more than 64 entries",
    );
    // 151 bytes claiming 4 GiB: refused on the declared size, nothing inflated.
    refused_quickly(
        "authenticator-plus/claims-4-gib.zip",
        "claims 4294967294 bytes",
    );
    // 64 KiB declaring 100 bytes that inflate to 64 MiB: stopped while reading.
    let started = Instant::now();
    let result = transfer::import(
        ImportFormat::AuthenticatorPlus,
        &fixture("authenticator-plus/inflates-64-mib.zip"),
        None,
    );
    match result {
        Err(ImportError::InvalidFile { reason, .. }) => {
            assert!(reason.contains("declared uncompressed size"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(2));
}

// --- Ente encrypted import ---------------------------------------------------------------

const ENTE: &str = "ente/ente-encrypted.json";

#[test]
fn ente_encrypted_export_imports_with_the_right_password() {
    let report =
        transfer::import(ImportFormat::Ente, &fixture(ENTE), Some("ente-password")).unwrap();
    let accounts: Vec<&Account> = report.accounts.iter().map(|i| &i.account).collect();
    assert_eq!(accounts.len(), 4);
    // Ente's codeDisplay: tags and note.
    assert_eq!(report.accounts[0].meta.tags, vec!["Mail".to_string()]);
    assert_eq!(report.accounts[0].meta.notes, "backup codes");
    assert_account(
        accounts[0],
        &Want {
            issuer: Some("Proton"),
            label: "ivan@example.com",
            secret: "JBSWY3DPEHPK3PXP",
            kind: OtpKind::Totp { period: 30 },
            algorithm: Algorithm::Sha1,
            digits: 6,
        },
    );
    assert_account(
        accounts[1],
        &Want {
            issuer: Some("Vpn"),
            label: "judy",
            secret: "GEZDGNBVGY3TQOJQ",
            kind: OtpKind::Hotp { counter: 3 },
            algorithm: Algorithm::Sha512,
            digits: 8,
        },
    );
    assert_eq!(accounts[2].params, OtpParameters::steam());
    assert_eq!(accounts[2].secret.expose(), b32("MFRGGZDFMZTWQ2LK"));
    assert_eq!(failure_indices(&report), vec![3]);
    // An unreadable codeDisplay loses only the metadata, said in a notice.
    assert_eq!(accounts[3].label, "oscar");
    assert_eq!(report.accounts[3].meta, EntryMeta::default());
    assert_eq!(report.notices.len(), 1);
    assert_eq!(
        (report.notices[0].index, report.notices[0].name.as_str()),
        (4, "line 5")
    );
}

#[test]
fn ente_errors_are_typed() {
    let data = fixture(ENTE);
    assert_eq!(transfer::detect(&data), Some(ImportFormat::Ente));
    assert_eq!(
        transfer::import(ImportFormat::Ente, &data, Some("wrong")),
        Err(ImportError::WrongPassword)
    );
    assert_eq!(
        transfer::import(ImportFormat::Ente, &data, None),
        Err(ImportError::PasswordRequired)
    );
    // Truncated JSON.
    assert!(matches!(
        transfer::import(
            ImportFormat::Ente,
            &data[..data.len() / 2],
            Some("ente-password")
        ),
        Err(ImportError::InvalidFile { .. })
    ));
    // One ciphertext character changed: the MAC refuses it.
    let mut envelope: serde_json::Value = serde_json::from_slice(&data).unwrap();
    let sealed = envelope["encryptedData"].as_str().unwrap().to_owned();
    let altered = format!(
        "{}{}",
        if sealed.starts_with('A') { "B" } else { "A" },
        &sealed[1..]
    );
    envelope["encryptedData"] = altered.into();
    assert_eq!(
        transfer::import(
            ImportFormat::Ente,
            &serde_json::to_vec(&envelope).unwrap(),
            Some("ente-password")
        ),
        Err(ImportError::WrongPassword)
    );
}

#[test]
fn ente_hostile_kdf_settings_are_refused_before_deriving() {
    let started = Instant::now();
    let result = transfer::import(
        ImportFormat::Ente,
        &fixture("ente/ente-hostile-kdf.json"),
        Some("ente-password"),
    );
    assert!(
        matches!(result, Err(ImportError::ExcessiveKdf { .. })),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_millis(500));
    // Ente's own default (1 GiB × 4) is admitted by the default budget but not by a
    // sixteenth of it, and a fifth pass is refused outright.
    let mut envelope: serde_json::Value = serde_json::from_slice(&fixture(ENTE)).unwrap();
    envelope["kdfParams"]["memLimit"] = (1u64 << 30).into();
    envelope["kdfParams"]["opsLimit"] = 5.into();
    let data = serde_json::to_vec(&envelope).unwrap();
    assert!(matches!(
        transfer::import(ImportFormat::Ente, &data, Some("ente-password")),
        Err(ImportError::ExcessiveKdf { .. })
    ));
    envelope["kdfParams"]["opsLimit"] = 4.into();
    let data = serde_json::to_vec(&envelope).unwrap();
    let small = KdfBudget::per_import().scaled_down(16);
    assert!(matches!(
        transfer::import_within(ImportFormat::Ente, &data, Some("ente-password"), small),
        Err(ImportError::ExcessiveKdf { .. })
    ));
}

// --- Exports -----------------------------------------------------------------------------

fn entry(n: u8, account: Account, tags: &[&str], notes: &str) -> Entry {
    Entry {
        id: EntryId::parse(&format!("{n:032x}")).unwrap(),
        account,
        meta: EntryMeta {
            tags: tags.iter().map(|t| t.to_string()).collect(),
            notes: notes.into(),
            icon: None,
        },
        sort_order: i64::from(n),
        created_at: 0,
        updated_at: 0,
    }
}

fn account(issuer: Option<&str>, label: &str, secret: &str, params: OtpParameters) -> Account {
    Account::new(
        issuer.map(str::to_owned),
        label,
        Secret::from_base32(secret).unwrap(),
        params,
    )
}

/// TOTP with tags and notes, TOTP SHA-256/8/60, HOTP SHA-512/7, Steam, no issuer, markup.
fn sample() -> Vec<Entry> {
    vec![
        entry(
            1,
            account(
                Some("GitHub"),
                "alice@example.com",
                "JBSWY3DPEHPK3PXP",
                OtpParameters::totp(Algorithm::Sha1, 6, 30).unwrap(),
            ),
            &["work", "dev"],
            "recovery codes in the safe",
        ),
        entry(
            2,
            account(
                Some("Fastmail"),
                "bob",
                "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
                OtpParameters::totp(Algorithm::Sha256, 8, 60).unwrap(),
            ),
            &["work"],
            "",
        ),
        entry(
            3,
            account(
                Some("Bank"),
                "carol",
                "MFRGGZDFMZTWQ2LK",
                OtpParameters::hotp(Algorithm::Sha512, 7, 9).unwrap(),
            ),
            &[],
            "",
        ),
        entry(
            4,
            account(
                Some("Steam"),
                "dave",
                "KRSXG5CTMVRXEZLU",
                OtpParameters::steam(),
            ),
            &[],
            "",
        ),
        entry(
            5,
            account(
                None,
                "erin",
                "ONSWG4TFOQ======",
                OtpParameters::totp(Algorithm::Sha1, 6, 30).unwrap(),
            ),
            &[],
            "",
        ),
        entry(
            6,
            account(
                Some("<b>Evil & Co</b>"),
                "\"quoted\" <script>",
                "MZXW6YTBOI======",
                OtpParameters::totp(Algorithm::Sha1, 6, 30).unwrap(),
            ),
            &[],
            "",
        ),
    ]
    .into_iter()
    .map(|mut e| {
        if e.sort_order == 6 {
            e.meta.icon = Some("evil.png".into());
        }
        e
    })
    .collect()
}

fn accounts_of(report: &ImportReport) -> Vec<Account> {
    report.accounts.iter().map(|i| i.account.clone()).collect()
}

fn python_reads(kind: &str, bytes: &[u8], password: Option<&str>) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export");
    std::fs::write(&path, bytes).unwrap();
    let python = std::env::var("COUNTERSIGN_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/reference/check_archive_exports.py"
    );
    let mut command = Command::new(&python);
    command.arg(script).arg(kind).arg(&path);
    if let Some(password) = password {
        command.arg(password);
    }
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{kind}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The URIs as Ente's lines hold them, with the tags and note of their `codeDisplay`
/// (decoded by the Python reader's own rules).
fn ente_uris(entries: &[Entry]) -> Vec<serde_json::Value> {
    entries
        .iter()
        .map(|e| {
            serde_json::json!({
                "uri": otpauth::to_uri(&e.account),
                "tags": e.meta.tags,
                "note": e.meta.notes,
            })
        })
        .collect()
}

fn uris(entries: &[Entry]) -> Vec<String> {
    entries
        .iter()
        .map(|e| otpauth::to_uri(&e.account))
        .collect()
}

#[test]
fn ente_plain_export_round_trips_and_names_what_it_drops() {
    let entries = sample();
    let export = transfer::export(ExportFormat::Ente, &entries, None).unwrap();
    assert_eq!(export.exported, entries.len());
    // Tags and notes travel in codeDisplay; only icons are dropped, named per entry.
    let noticed: Vec<(usize, bool)> = export
        .notices
        .iter()
        .map(|n| (n.index, n.skipped))
        .collect();
    assert_eq!(noticed, vec![(5, false)]);
    let read = python_reads("ente", &export.bytes, None);
    assert_eq!(read, serde_json::json!(ente_uris(&entries)));
    // Lines with codeDisplay are recognised as Ente's, so their tags and notes are read.
    assert_eq!(transfer::detect(&export.bytes), Some(ImportFormat::Ente));
    let back = transfer::import(ImportFormat::Ente, &export.bytes, None).unwrap();
    let originals: Vec<Account> = entries.iter().map(|e| e.account.clone()).collect();
    assert_eq!(accounts_of(&back), originals);
    let metas: Vec<EntryMeta> = back.accounts.iter().map(|i| i.meta.clone()).collect();
    let expected: Vec<EntryMeta> = entries
        .iter()
        .map(|e| EntryMeta {
            icon: None,
            ..e.meta.clone()
        })
        .collect();
    assert_eq!(metas, expected);
}

#[test]
fn ente_encrypted_export_is_read_by_libsodium_and_by_our_importer() {
    let entries = sample();
    // Small Argon2id settings keep the test fast; the default's cost is checked in kdf.rs.
    let export =
        transfer::export_ente_with(&entries, Some("ente pw"), 16 * 1024 * 1024, 2).unwrap();
    let envelope: serde_json::Value = serde_json::from_slice(&export.bytes).unwrap();
    assert_eq!(envelope["version"], 1);
    assert_eq!(envelope["kdfParams"]["memLimit"], 16 * 1024 * 1024);
    assert_eq!(
        python_reads("ente", &export.bytes, Some("ente pw")),
        serde_json::json!(ente_uris(&entries))
    );
    assert_eq!(transfer::detect(&export.bytes), Some(ImportFormat::Ente));
    let back = transfer::import(ImportFormat::Ente, &export.bytes, Some("ente pw")).unwrap();
    let originals: Vec<Account> = entries.iter().map(|e| e.account.clone()).collect();
    assert_eq!(accounts_of(&back), originals);
    assert_eq!(
        transfer::import(ImportFormat::Ente, &export.bytes, Some("other")),
        Err(ImportError::WrongPassword)
    );
}

#[test]
fn ente_encrypted_export_at_its_default_settings_is_read_back() {
    // libsodium's MODERATE memory, 4 passes: what `vault export --format ente --encrypt`
    // writes. Read by PyNaCl and by our importer within the default budget.
    let entries = sample();
    let export = transfer::export(ExportFormat::Ente, &entries, Some("ente pw")).unwrap();
    let envelope: serde_json::Value = serde_json::from_slice(&export.bytes).unwrap();
    assert_eq!(envelope["kdfParams"]["memLimit"], 256 * 1024 * 1024);
    assert_eq!(envelope["kdfParams"]["opsLimit"], 4);
    assert_eq!(
        python_reads("ente", &export.bytes, Some("ente pw")),
        serde_json::json!(ente_uris(&entries))
    );
    let back = transfer::import(ImportFormat::Ente, &export.bytes, Some("ente pw")).unwrap();
    assert_eq!(back.accounts.len(), entries.len());
}

#[test]
fn twofas_export_plain_and_encrypted_is_read_by_python_and_by_our_importer() {
    let entries = sample();
    for password in [None, Some("2fas pw")] {
        let export = transfer::export(ExportFormat::TwoFas, &entries, password).unwrap();
        assert_eq!(export.exported, entries.len());
        // Entry 0 has two tags and notes: only the first tag is kept.
        let noticed: Vec<usize> = export.notices.iter().map(|n| n.index).collect();
        assert_eq!(noticed, vec![0]);
        let read = python_reads("2fas", &export.bytes, password);
        let read = read.as_array().unwrap();
        assert_eq!(read.len(), entries.len());
        for (service, entry) in read.iter().zip(&entries) {
            assert_eq!(service["secret"], entry.account.secret.to_base32());
            assert_eq!(service["account"], entry.account.label);
            assert_eq!(service["digits"], entry.account.params.digits());
        }
        assert_eq!(read[2]["tokenType"], "HOTP");
        assert_eq!(read[2]["counter"], 9);
        assert_eq!(read[3]["tokenType"], "STEAM");
        assert_eq!(read[1]["algorithm"], "SHA256");
        assert_eq!(read[1]["period"], 60);
        assert_eq!(read[0]["group"], "work");

        assert_eq!(transfer::detect(&export.bytes), Some(ImportFormat::TwoFas));
        let back = transfer::import(ImportFormat::TwoFas, &export.bytes, password).unwrap();
        let originals: Vec<Account> = entries.iter().map(|e| e.account.clone()).collect();
        assert_eq!(accounts_of(&back), originals);
        assert_eq!(back.accounts[0].meta.tags, vec!["work".to_string()]);
        assert_eq!(back.accounts[1].meta.tags, vec!["work".to_string()]);
    }
}

#[test]
fn bitwarden_json_export_skips_hotp_with_a_notice_and_round_trips_the_rest() {
    let mut entries = sample();
    entries[4].meta.tags = vec!["favorite".into()];
    let export = transfer::export(ExportFormat::BitwardenJson, &entries, None).unwrap();
    assert_eq!(export.exported, entries.len() - 1);
    let noticed: Vec<(usize, bool)> = export
        .notices
        .iter()
        .map(|n| (n.index, n.skipped))
        .collect();
    // 0: two tags for one folder; 2: HOTP skipped; 4: no issuer, the name stands in.
    assert_eq!(noticed, vec![(0, false), (2, true), (4, false)]);
    assert!(transfer::export(ExportFormat::BitwardenJson, &entries, Some("pw")).is_err());

    let read = python_reads("bitwarden", &export.bytes, None);
    let read = read.as_array().unwrap();
    assert_eq!(read.len(), 5);
    assert_eq!(read[0]["totp"], otpauth::to_uri(&entries[0].account));
    assert_eq!(read[0]["folder"], "work");
    assert_eq!(read[0]["notes"], "recovery codes in the safe");
    assert_eq!(read[2]["totp"], "steam://KRSXG5CTMVRXEZLU");
    assert_eq!(read[3]["favorite"], true);
    assert_eq!(read[3]["name"], "erin");

    let back = transfer::import(ImportFormat::BitwardenJson, &export.bytes, None).unwrap();
    let expected: Vec<Account> = entries
        .iter()
        .filter(|e| !matches!(e.account.params.kind(), OtpKind::Hotp { .. }))
        .map(|e| e.account.clone())
        .collect();
    let mut got = accounts_of(&back);
    // Bitwarden's item name stands in for a missing issuer (the label, here).
    assert_eq!(got[3].issuer.as_deref(), Some("erin"));
    got[3].issuer = None;
    assert_eq!(got, expected);
    assert_eq!(back.accounts[0].meta.notes, "recovery codes in the safe");
    assert_eq!(back.accounts[3].meta.tags, vec!["favorite".to_string()]);
}

/// Every QR code of a printable sheet, decoded from its SVG paths with rqrr.
fn decode_sheet_qr_codes(html: &str) -> Vec<String> {
    const SCALE: usize = 4;
    let mut decoded = Vec::new();
    for svg in html.split("<svg ").skip(1) {
        let size: usize = svg
            .split("viewBox=\"0 0 ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .unwrap()
            .parse()
            .unwrap();
        let path = svg
            .split(" d=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let mut dark = vec![false; size * size];
        for run in path.split('M').filter(|r| !r.is_empty()) {
            // "X Yh{n}v1h-{n}z"
            let (x, rest) = run.split_once(' ').unwrap();
            let (y, rest) = rest.split_once('h').unwrap();
            let n = rest.split('v').next().unwrap();
            let (x, y, n): (usize, usize, usize) =
                (x.parse().unwrap(), y.parse().unwrap(), n.parse().unwrap());
            for dx in 0..n {
                dark[y * size + x + dx] = true;
            }
        }
        let side = size * SCALE;
        let mut image = rqrr::PreparedImage::prepare_from_bitmap(side, side, |x, y| {
            dark[(y / SCALE) * size + x / SCALE]
        });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1);
        decoded.push(grids[0].decode().unwrap().1);
    }
    decoded
}

#[test]
fn printable_sheet_holds_one_scannable_qr_code_per_account() {
    let entries = sample();
    let export = transfer::export(ExportFormat::PrintableSheet, &entries, None).unwrap();
    assert_eq!(export.exported, entries.len());
    assert!(export.notices.is_empty());
    let html = std::str::from_utf8(&export.bytes).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("@media print") && html.contains("break-inside:avoid"));
    // Self-contained: nothing fetched, nothing run.
    for outside in ["<script", "src=", "href=", "@import", "url("] {
        assert!(!html.contains(outside), "{outside}");
    }
    assert_eq!(decode_sheet_qr_codes(html), uris(&entries));
    // Markup in names is shown, never interpreted.
    assert!(html.contains("&lt;b&gt;Evil &amp; Co&lt;/b&gt;"));
    assert!(html.contains("&quot;quoted&quot; &lt;script&gt;"));
    assert!(!html.contains("<b>Evil"));
    // The URI text under each code, and the tags and notes.
    for uri in uris(&entries) {
        assert!(html.contains(&uri.replace('&', "&amp;")), "{uri}");
    }
    assert!(html.contains("Tags: work, dev") && html.contains("Notes: recovery codes"));
    assert!(transfer::export(ExportFormat::PrintableSheet, &entries, Some("pw")).is_err());
}

#[test]
fn export_names_resolve() {
    for (name, format) in [
        ("ente", ExportFormat::Ente),
        ("2fas", ExportFormat::TwoFas),
        ("bitwarden-json", ExportFormat::BitwardenJson),
        ("printable-html", ExportFormat::PrintableSheet),
    ] {
        assert_eq!(ExportFormat::from_name(name), Some(format));
        assert_eq!(format.name(), name);
    }
    assert!(ExportFormat::Ente.can_encrypt() && ExportFormat::TwoFas.can_encrypt());
    assert!(!ExportFormat::BitwardenJson.can_encrypt());
    assert_eq!(ImportFormat::from_name("raivo"), Some(ImportFormat::Raivo));
    assert_eq!(
        ImportFormat::from_name("authenticator-plus"),
        Some(ImportFormat::AuthenticatorPlus)
    );
}
