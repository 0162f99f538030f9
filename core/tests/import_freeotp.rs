//! FreeOTP (1.x tokens.xml, FreeOTP 2 backups), FreeOTP+ internal XML, andOTP (every
//! generation) and TOTP Authenticator imports, and the andOTP export. Fixtures are written
//! independently of the importers: by real Java (`tests/reference/FreeOtpBackup.java`) and
//! Python (`tests/reference/make_freeotp_fixtures.py`); the export is read back by Python
//! (`tests/reference/read_andotp.py`). Spec: docs/formats/freeotp-andotp-totpauth.md.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use std::process::Command;
use std::time::{Duration, Instant};

use countersign_app::otp::Algorithm;
use countersign_app::transfer::{self, ExportFormat, ImportError, ImportFormat, ImportReport};
use countersign_app::vault::{EntryMeta, KdfParams, Vault};
use countersign_app::{Account, OtpParameters, Secret};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/import/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn import(format: ImportFormat, file: &str, password: Option<&str>) -> ImportReport {
    transfer::import(format, &fixture(file), password).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn accounts(report: &ImportReport) -> Vec<Account> {
    report.accounts.iter().map(|i| i.account.clone()).collect()
}

fn account(issuer: Option<&str>, label: &str, secret: &[u8], params: OtpParameters) -> Account {
    Account::new(
        issuer.map(str::to_owned),
        label,
        Secret::from_bytes(secret.to_vec()).unwrap(),
        params,
    )
}

/// "Hello!" DE AD BE EF, twice: JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP.
const GITHUB: &[u8] = b"Hello!\xde\xad\xbe\xefHello!\xde\xad\xbe\xef";
const BANK: &[u8] = b"12345678901234567890";
const VPN: &[u8] = b"abcdefghijklmnopqrst";

fn github() -> Account {
    account(
        Some("GitHub"),
        "alice@example.com",
        GITHUB,
        OtpParameters::default_totp(),
    )
}
fn bank() -> Account {
    let params = OtpParameters::totp(Algorithm::Sha256, 8, 60).unwrap();
    account(Some("Bank"), "bob", BANK, params)
}
fn vpn() -> Account {
    let params = OtpParameters::hotp(Algorithm::Sha512, 6, 42).unwrap();
    account(Some("VPN"), "carol", VPN, params)
}
/// The fixtures' Steam secret: 10 bytes from 0x55 (Python `range`).
fn steam_secret() -> Vec<u8> {
    (0x55..0x55 + 10).collect()
}

fn failures(report: &ImportReport) -> Vec<(usize, String, String)> {
    report
        .failures
        .iter()
        .map(|f| (f.index, f.name.clone(), f.reason.clone()))
        .collect()
}

/// Runs `f`, asserting it returns within a second (no key derivation ran).
fn quickly<T>(f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    out
}

mod freeotp_v1 {
    use super::*;

    #[test]
    fn tokens_xml_with_renames_steam_and_broken_tokens() {
        for format in [ImportFormat::FreeOtp, ImportFormat::FreeOtpPlus] {
            let report = import(format, "freeotp/freeotp-v1-tokens.xml", None);
            let renamed = account(
                Some("New & <Improved>"),
                "dave \"the\" user",
                GITHUB,
                OtpParameters::default_totp(),
            );
            let steam = account(
                Some("Steam"),
                "gaben",
                &steam_secret(),
                OtpParameters::steam(),
            );
            assert_eq!(
                accounts(&report),
                vec![github(), bank(), vpn(), renamed, steam],
                "{format:?}"
            );
            let failed = failures(&report);
            assert_eq!(failed.len(), 2, "{failed:?}");
            assert_eq!((failed[0].0, failed[0].1.as_str()), (5, "Broken:md5"));
            assert!(failed[0].2.contains("MD5"), "{failed:?}");
            assert_eq!((failed[1].0, failed[1].1.as_str()), (6, "Broken:json"));
            assert_eq!(
                report.accounts[0].meta.icon.as_deref(),
                Some("content://icons/github.png")
            );
        }
    }

    #[test]
    fn recognised_and_truncation_refused() {
        let data = fixture("freeotp/freeotp-v1-tokens.xml");
        assert_eq!(transfer::detect(&data), Some(ImportFormat::FreeOtp));
        // More preferences than any app writes: refused while reading.
        let many = format!(
            "<map>{}</map>",
            "<string name=\"t\">{}</string>".repeat(100_001)
        );
        assert!(matches!(
            transfer::import(ImportFormat::FreeOtp, many.as_bytes(), None),
            Err(ImportError::InvalidFile { .. })
        ));
        for cut in [10, data.len() / 2, data.len() - 3] {
            assert!(
                matches!(
                    transfer::import(ImportFormat::FreeOtp, &data[..cut], None),
                    Err(ImportError::InvalidFile { .. })
                ),
                "cut at {cut}"
            );
        }
    }
}

mod freeotp_v2 {
    use super::*;

    const PASSWORD: &str = "freeotp-password";

    fn expected() -> Vec<Account> {
        let carol = account(
            Some("VPN"),
            "carol ☕ 🔑",
            b"12345678901234567890123456789012",
            OtpParameters::hotp(Algorithm::Sha256, 8, 42).unwrap(),
        );
        // Java's `pattern(0x55, 10)`: 0x55 + 7·i, as bytes.
        let steam_secret: Vec<u8> = (0..10u32).map(|i| (0x55 + i * 7) as u8).collect();
        let steam = account(
            Some("Steam"),
            "gaben",
            &steam_secret,
            OtpParameters::steam(),
        );
        vec![github(), carol, steam]
    }

    fn sorted(mut accounts: Vec<Account>) -> Vec<Account> {
        accounts.sort_by(|a, b| a.label.cmp(&b.label));
        accounts
    }

    #[test]
    fn the_java_serialization_stream_and_the_preferences_file() {
        let stream = import(
            ImportFormat::FreeOtp,
            "freeotp/freeotp-v2-backup.xml",
            Some(PASSWORD),
        );
        assert_eq!(sorted(accounts(&stream)), sorted(expected()));
        let mut failed: Vec<(String, String)> = failures(&stream)
            .into_iter()
            .map(|(_, name, reason)| (name, reason))
            .collect();
        failed.sort();
        assert_eq!(failed.len(), 2, "{failed:?}");
        assert_eq!(failed[0].0, "4fb19e72-91ce-4db2-903e-5d6e7f8091a2");
        assert!(failed[0].1.contains("token"), "{failed:?}");
        assert_eq!(failed[1].0, "sealed elsewhere");
        assert!(failed[1].1.contains("master key"), "{failed:?}");

        let prefs = import(
            ImportFormat::FreeOtp,
            "freeotp/freeotp-v2-tokenBackup.xml",
            Some(PASSWORD),
        );
        assert_eq!(accounts(&prefs), accounts(&stream), "same map, same order");
        assert_eq!(prefs.failures, stream.failures);
    }

    #[test]
    fn the_fuzz_seed_reaches_decryption_within_the_fuzzers_budget() {
        let seed = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fuzz/seeds/transfer/freeotp-v2-small.ser"
        ))
        .unwrap();
        let budget = transfer::KdfBudget::per_import().scaled_down(256);
        let report =
            transfer::import_within(ImportFormat::FreeOtp, &seed, Some(PASSWORD), budget).unwrap();
        assert_eq!(sorted(accounts(&report)), sorted(expected()));
    }

    #[test]
    fn passwords() {
        for file in [
            "freeotp/freeotp-v2-backup.xml",
            "freeotp/freeotp-v2-tokenBackup.xml",
        ] {
            let data = fixture(file);
            assert_eq!(
                transfer::detect(&data),
                Some(ImportFormat::FreeOtp),
                "{file}"
            );
            assert_eq!(
                transfer::import(ImportFormat::FreeOtp, &data, None),
                Err(ImportError::PasswordRequired)
            );
            assert_eq!(
                transfer::import(ImportFormat::FreeOtp, &data, Some("not it")),
                Err(ImportError::WrongPassword)
            );
        }
    }

    #[test]
    fn hostile_iterations_lengths_and_truncation() {
        let hostile = fixture("freeotp/freeotp-v2-hostile-iterations.xml");
        let result = quickly(|| transfer::import(ImportFormat::FreeOtp, &hostile, Some(PASSWORD)));
        assert!(
            matches!(result, Err(ImportError::ExcessiveKdf { .. })),
            "{result:?}"
        );

        let data = fixture("freeotp/freeotp-v2-backup.xml");
        // Every cut is refused while parsing, before the key derivation.
        quickly(|| {
            for cut in 0..data.len() {
                let result = transfer::import(ImportFormat::FreeOtp, &data[..cut], Some(PASSWORD));
                assert!(
                    matches!(result, Err(ImportError::InvalidFile { .. })),
                    "cut at {cut}: {result:?}"
                );
            }
        });
        // After the map's size: a long string claiming 2^62 bytes.
        let entries = data.windows(2).position(|w| w == [0x77, 0x08]).unwrap() + 10;
        let mut huge = data[..entries].to_vec();
        huge.extend_from_slice(&[0x7C, 0x40, 0, 0, 0, 0, 0, 0, 0, b'x']);
        assert!(matches!(
            quickly(|| transfer::import(ImportFormat::FreeOtp, &huge, Some(PASSWORD))),
            Err(ImportError::InvalidFile { .. })
        ));
        // A map claiming 2^31 entries.
        let mut many = data.clone();
        many[entries - 4..entries].copy_from_slice(&0x8000_0000u32.to_be_bytes());
        assert!(matches!(
            transfer::import(ImportFormat::FreeOtp, &many, Some(PASSWORD)),
            Err(ImportError::InvalidFile { .. })
        ));
    }
}

mod andotp {
    use super::*;

    fn andotp_accounts() -> Vec<Account> {
        // The shared fixture tests/fixtures/import/andotp.json (see tests/transfer.rs).
        let steam = Account::new(
            Some("Steam".into()),
            "dave",
            Secret::from_base32("ONSWG4TFOQYTEMZUGU3DOOBZGAYTEMZU").unwrap(),
            OtpParameters::steam(),
        );
        vec![github(), bank(), vpn(), steam]
    }

    #[test]
    fn the_older_sha256_generation() {
        let report = import(
            ImportFormat::AndOtp,
            "andotp/andotp-sha256.json.aes",
            Some("andotp-password"),
        );
        assert_eq!(accounts(&report), andotp_accounts());
        let failed: Vec<usize> = report.failures.iter().map(|f| f.index).collect();
        assert_eq!(failed, vec![4, 5], "MOTP, no secret");

        let data = fixture("andotp/andotp-sha256.json.aes");
        assert_eq!(
            transfer::import(ImportFormat::AndOtp, &data, None),
            Err(ImportError::PasswordRequired)
        );
        // No header: the IV read as an iteration count is out of bounds, which says so.
        match quickly(|| transfer::import(ImportFormat::AndOtp, &data, Some("nope"))) {
            Err(ImportError::ExcessiveKdf { reason }) => {
                assert!(reason.contains("older andOTP"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_current_generation_still_reads_and_is_recognised() {
        let data = fixture("andotp.json.aes");
        assert_eq!(transfer::detect(&data), Some(ImportFormat::AndOtp));
        let report =
            transfer::import(ImportFormat::AndOtp, &data, Some("andotp-password")).unwrap();
        assert_eq!(accounts(&report), andotp_accounts());
        let cut = &data[..data.len() - 1];
        assert_eq!(
            transfer::import(ImportFormat::AndOtp, cut, Some("andotp-password")),
            Err(ImportError::WrongPassword),
            "a truncated file fails its tag"
        );
    }

    #[test]
    fn the_oldest_plain_lists_without_issuer_or_type() {
        let report = import(ImportFormat::AndOtp, "andotp/andotp-legacy.json", None);
        let bob = account(
            None,
            "bob",
            BANK,
            OtpParameters::totp(Algorithm::Sha256, 8, 60).unwrap(),
        );
        assert_eq!(accounts(&report), vec![github(), bob]);
    }

    #[test]
    fn openpgp_backups_are_refused_with_directions() {
        let data = fixture("andotp/andotp.json.gpg");
        // Recognition cannot tell andOTP's OpenPGP file from Proton Pass's; it says what
        // serves both.
        assert_eq!(transfer::detect(&data), None);
        match transfer::import_auto(&data, None) {
            Err(ImportError::Unsupported(message)) => {
                assert!(message.contains("gpg --decrypt"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        match transfer::import(ImportFormat::AndOtp, &data, Some("pw")) {
            Err(ImportError::Unsupported(message)) => {
                assert!(message.contains("gpg --decrypt"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }
}

mod totp_authenticator {
    use super::*;

    const FORMAT: ImportFormat = ImportFormat::TotpAuthenticator;

    fn expected() -> Vec<Account> {
        let totp = OtpParameters::default_totp();
        vec![
            account(Some("GitHub"), "alice@example.com", GITHUB, totp),
            account(Some("Bank"), "bob", BANK, totp),
            account(Some("VPN"), "carol", VPN, totp),
        ]
    }

    fn check(report: &ImportReport) {
        assert_eq!(accounts(report), expected());
        let failed = failures(report);
        assert_eq!(failed.len(), 2, "{failed:?}");
        assert_eq!((failed[0].0, failed[0].1.as_str()), (3, "broken"));
        assert!(failed[0].2.contains("base 10"), "{failed:?}");
        assert_eq!((failed[1].0, failed[1].1.as_str()), (4, "not hex"));
    }

    #[test]
    fn backup_with_a_password() {
        let file = "totp-authenticator/totp-authenticator-password.bin";
        check(&import(FORMAT, file, Some("totpauth-password")));
        let data = fixture(file);
        assert_eq!(transfer::detect(&data), Some(FORMAT));
        assert_eq!(
            transfer::import(FORMAT, &data, None),
            Err(ImportError::PasswordRequired)
        );
        assert_eq!(
            transfer::import(FORMAT, &data, Some("nope")),
            Err(ImportError::WrongPassword)
        );
    }

    #[test]
    fn backup_with_the_built_in_password_and_string_entries() {
        let file = "totp-authenticator/totp-authenticator-default.bin";
        check(&import(FORMAT, file, None));
        check(&import(
            FORMAT,
            file,
            Some("a password the user did not set"),
        ));
    }

    #[test]
    fn the_apps_preferences_file() {
        let file = "totp-authenticator/TOTP_Authenticator_Preferences.xml";
        check(&import(FORMAT, file, None));
        assert_eq!(transfer::detect(&fixture(file)), Some(FORMAT));
    }

    #[test]
    fn a_list_of_millions_of_values_is_refused_before_parsing() {
        let list = format!("[{}0]", "0,".repeat(1_500_000));
        let prefs = format!("<map><string name=\"STATIC_TOTP_CODES_LIST\">{list}</string></map>");
        let result = transfer::import(FORMAT, prefs.as_bytes(), None);
        assert!(
            matches!(result, Err(ImportError::InvalidFile { ref reason, .. }) if reason.contains("JSON values")),
            "{result:?}"
        );
    }

    #[test]
    fn truncated_and_damaged_backups() {
        let data = fixture("totp-authenticator/totp-authenticator-password.bin");
        let text: Vec<u8> = data.iter().copied().filter(|b| *b != b'\n').collect();
        // Not whole AES blocks, not base64.
        assert!(matches!(
            transfer::import(FORMAT, &text[..text.len() - 8], Some("totpauth-password")),
            Err(ImportError::InvalidFile { .. })
        ));
        assert!(matches!(
            transfer::import(FORMAT, b"%%%%", None),
            Err(ImportError::InvalidFile { .. })
        ));
        // Whole blocks cut off: the padding or the JSON no longer holds.
        assert_eq!(
            transfer::import(FORMAT, &text[..64], Some("totpauth-password")),
            Err(ImportError::WrongPassword)
        );
    }
}

mod andotp_export {
    use super::*;

    fn vault(dir: &std::path::Path) -> Vault {
        let mut vault = Vault::create(&dir.join("v.db"), "pass", KdfParams::MINIMUM).unwrap();
        let meta = |tags: &[&str], notes: &str, icon: Option<&str>| EntryMeta {
            tags: tags.iter().map(|t| t.to_string()).collect(),
            notes: notes.into(),
            icon: icon.map(str::to_owned),
        };
        vault
            .add(github(), meta(&["Work"], "work laptop", Some("Github")))
            .unwrap();
        vault.add(bank(), meta(&[], "", None)).unwrap();
        vault.add(vpn(), meta(&["Infra"], "", None)).unwrap();
        let steam = account(
            Some("Steam"),
            "dave",
            &steam_secret(),
            OtpParameters::steam(),
        );
        vault
            .add(steam, meta(&[], "", Some("https://example.com/steam.png")))
            .unwrap();
        let ten = account(
            None,
            "ten digits",
            BANK,
            OtpParameters::totp(Algorithm::Sha1, 10, 30).unwrap(),
        );
        vault.add(ten, meta(&[], "", None)).unwrap();
        vault
    }

    fn read_with_python(path: &std::path::Path, password: Option<&str>) -> serde_json::Value {
        let python = std::env::var("COUNTERSIGN_PYTHON").unwrap_or_else(|_| "python3".into());
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/reference/read_andotp.py"
        );
        let out = Command::new(&python)
            .arg(script)
            .arg(path)
            .args(password)
            .output()
            .unwrap_or_else(|e| panic!("cannot start {python}: {e}; run scripts/test"));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn expected_by_python() -> serde_json::Value {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        serde_json::json!([
            {"issuer": "GitHub", "label": "alice@example.com", "secret": hex(GITHUB), "type": "TOTP",
             "algorithm": "SHA1", "digits": 6, "period": 30, "tags": ["Work"], "thumbnail": "Github"},
            {"issuer": "Bank", "label": "bob", "secret": hex(BANK), "type": "TOTP",
             "algorithm": "SHA256", "digits": 8, "period": 60, "tags": [], "thumbnail": "Default"},
            {"issuer": "VPN", "label": "carol", "secret": hex(VPN), "type": "HOTP",
             "algorithm": "SHA512", "digits": 6, "counter": 42, "tags": ["Infra"], "thumbnail": "Default"},
            {"issuer": "Steam", "label": "dave", "secret": hex(&steam_secret()), "type": "STEAM",
             "algorithm": "SHA1", "digits": 5, "period": 30, "tags": [], "thumbnail": "Default"},
            {"issuer": "", "label": "ten digits", "secret": hex(BANK), "type": "TOTP",
             "algorithm": "SHA1", "digits": 10, "period": 30, "tags": [], "thumbnail": "Default"},
        ])
    }

    #[test]
    fn plain_and_encrypted_read_back_by_python_and_by_the_importer() {
        let dir = tempfile::tempdir().unwrap();
        let vault = vault(dir.path());
        let entries = vault.entries().unwrap();
        let originals: Vec<Account> = entries.iter().map(|e| e.account.clone()).collect();
        for password in [None, Some("export pw")] {
            let export = transfer::export(ExportFormat::AndOtp, entries, password).unwrap();
            assert_eq!(export.exported, entries.len());
            let notices: Vec<(usize, bool)> = export
                .notices
                .iter()
                .map(|n| (n.index, n.skipped))
                .collect();
            assert_eq!(notices, vec![(0, false), (3, false)], "notes, a URL icon");
            assert!(export.notices[0].reason.contains("notes"));
            assert!(export.notices[1].reason.contains("icon"));

            let path = dir.path().join("andotp-export");
            std::fs::write(&path, &export.bytes[..]).unwrap();
            assert_eq!(read_with_python(&path, password), expected_by_python());

            let report = transfer::import(ImportFormat::AndOtp, &export.bytes, password).unwrap();
            assert_eq!(accounts(&report), originals);
            assert_eq!(report.accounts[0].meta.tags, vec!["Work".to_string()]);
            assert_eq!(report.accounts[0].meta.icon.as_deref(), Some("Github"));
            assert!(report.failures.is_empty());
            assert_eq!(
                transfer::detect(&export.bytes),
                Some(ImportFormat::AndOtp),
                "{password:?}"
            );
        }
    }

    #[test]
    fn the_format_is_listed_and_can_encrypt() {
        assert_eq!(
            ExportFormat::from_name("andotp"),
            Some(ExportFormat::AndOtp)
        );
        assert!(ExportFormat::AndOtp.can_encrypt());
        assert!(!ExportFormat::AndOtp.needs_password());
    }
}
