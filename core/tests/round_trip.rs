//! Every export format and back: a vault holding every kind of account and every awkward
//! label is exported through each `ExportFormat::ALL` (plain and, where the format can be,
//! encrypted), read back with `import_auto` and with the format named, and compared.
//!
//! The rule checked for each format, whatever it is: an account the target can hold comes
//! back exactly; an account missing from the re-import is named by a skipped
//! `ExportNotice`; an account that comes back changed is named by a notice. Formats added
//! later are covered by the same loop; one-way formats (`readable_back() == false`) are only
//! checked for consistent notices.
//!
//! Accounts are compared (issuer, label, secret, kind, algorithm, digits, period, counter);
//! tags and notes are not, as most targets have no place for them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use countersign_app::otp::Algorithm;
use countersign_app::transfer::{
    self, Export, ExportFormat, ImportError, ImportFormat, ImportReport,
};
use countersign_app::vault::{Entry, EntryMeta, KdfParams, Vault};
use countersign_app::{Account, OtpParameters, Secret};

const PASSWORD: &str = "round trip pass";

/// A distinct secret of `len` bytes per account (accounts are paired by secret).
fn secret(seed: u8, len: usize) -> Secret {
    let bytes = (0..len)
        .map(|i| {
            seed.wrapping_mul(31)
                .wrapping_add((i as u8).wrapping_mul(7))
        })
        .collect();
    Secret::from_bytes(bytes).unwrap()
}

fn totp(algorithm: Algorithm, digits: u32, period: u32) -> OtpParameters {
    OtpParameters::totp(algorithm, digits, period).unwrap()
}

fn hotp(algorithm: Algorithm, digits: u32, counter: u64) -> OtpParameters {
    OtpParameters::hotp(algorithm, digits, counter).unwrap()
}

/// Every kind, algorithm, digit count and period a vault may hold, and labels that test
/// each format's escaping.
fn accounts() -> Vec<Account> {
    use Algorithm::{Sha1, Sha256, Sha512};
    let issuer = |name: &str| Some(name.to_owned());
    let long_label = "a-very-long-account-name.".repeat(10) + "@example.com";
    vec![
        Account::new(
            issuer("GitHub"),
            "alice@example.com",
            secret(1, 20),
            totp(Sha1, 6, 30),
        ),
        Account::new(issuer("Bank"), "bob", secret(2, 32), totp(Sha256, 8, 60)),
        Account::new(issuer("Vpn"), "carol", secret(3, 64), totp(Sha512, 8, 30)),
        Account::new(
            issuer("Authy-style"),
            "dave",
            secret(4, 20),
            totp(Sha1, 7, 10),
        ),
        Account::new(issuer("Seven"), "erin", secret(5, 32), totp(Sha256, 7, 30)),
        Account::new(issuer("Sixty"), "frank", secret(6, 64), totp(Sha512, 6, 60)),
        Account::new(issuer("Ten"), "grace", secret(7, 20), totp(Sha1, 6, 10)),
        Account::new(issuer("Counter"), "heidi", secret(8, 20), hotp(Sha1, 6, 0)),
        Account::new(
            issuer("Counter"),
            "ivan",
            secret(9, 32),
            hotp(Sha256, 8, 1_234_567),
        ),
        Account::new(
            issuer("Counter"),
            "judy",
            secret(10, 20),
            hotp(Sha512, 7, 42),
        ),
        Account::new(
            issuer("Steam"),
            "mallory",
            secret(11, 20),
            OtpParameters::steam(),
        ),
        Account::new(
            issuer("Long"),
            long_label,
            secret(12, 20),
            totp(Sha1, 6, 30),
        ),
        Account::new(
            issuer("Zoë & Ñandú 東京"),
            "ünïcødé 🔐 user",
            secret(13, 20),
            totp(Sha1, 6, 30),
        ),
        Account::new(
            issuer("ACME: Corp"),
            "olivia",
            secret(14, 20),
            totp(Sha1, 6, 30),
        ),
        Account::new(
            issuer("Query?&=#%/"),
            "peggy+tag@example.com",
            secret(15, 20),
            totp(Sha1, 6, 30),
        ),
        Account::new(None, "no-issuer", secret(16, 10), totp(Sha1, 6, 30)),
        Account::new(
            None,
            "sybil with spaces",
            secret(17, 16),
            totp(Sha256, 6, 30),
        ),
    ]
}

fn vault_with_every_kind(dir: &std::path::Path) -> Vault {
    let mut vault =
        Vault::create(&dir.join("source.vault"), "vault pass", KdfParams::MINIMUM).unwrap();
    for (i, account) in accounts().into_iter().enumerate() {
        let meta = EntryMeta {
            tags: vec![format!("tag{}", i % 3)],
            notes: format!("note {i}"),
            icon: None,
        };
        vault.add(account, meta).unwrap();
    }
    vault
}

/// The passwords each format is exported with: none, a password, or both.
fn passwords(format: ExportFormat) -> Vec<Option<&'static str>> {
    match (format.needs_password(), format.can_encrypt()) {
        (true, _) => vec![Some(PASSWORD)],
        (false, true) => vec![None, Some(PASSWORD)],
        (false, false) => vec![None],
    }
}

/// Every notice names an entry of the vault by its position and display name.
fn check_notices_name_entries(what: &str, entries: &[Entry], export: &Export) {
    for notice in &export.notices {
        let entry = entries
            .get(notice.index)
            .unwrap_or_else(|| panic!("{what}: notice for index {} out of range", notice.index));
        assert_eq!(
            notice.name,
            entry.account.display_name(),
            "{what}: {notice:?}"
        );
        assert!(!notice.reason.is_empty(), "{what}: {notice:?}");
    }
    let skipped = export.notices.iter().filter(|n| n.skipped).count();
    assert_eq!(export.exported, entries.len() - skipped, "{what}");
}

/// The re-import against the vault: exact where there is no notice, missing only where a
/// notice says skipped, present where a notice says changed, nothing else.
fn compare(what: &str, entries: &[Entry], export: &Export, report: &ImportReport) {
    assert!(report.failures.is_empty(), "{what}: {:?}", report.failures);
    assert!(
        report.duplicates.is_empty(),
        "{what}: {:?}",
        report.duplicates
    );
    assert_eq!(
        report.accounts.len(),
        export.exported,
        "{what}: accounts read back"
    );
    for (index, entry) in entries.iter().enumerate() {
        let original = &entry.account;
        let name = original.display_name();
        let notice = export.notices.iter().find(|n| n.index == index);
        let back = report
            .accounts
            .iter()
            .find(|i| i.account.secret.expose() == original.secret.expose());
        match (notice, back) {
            (Some(n), None) if n.skipped => {}
            (Some(n), Some(back)) if n.skipped => {
                panic!(
                    "{what}: {name} said skipped but came back as {:?}",
                    back.account
                )
            }
            (_, None) => panic!("{what}: {name} was lost without a skipped notice"),
            (Some(_), Some(_)) => {} // changed, and said so
            (None, Some(back)) => assert_eq!(
                &back.account, original,
                "{what}: {name} changed without a notice"
            ),
        }
    }
}

/// The format named explicitly, when an importer of the export's name exists.
fn explicit_import(format: ExportFormat) -> Option<ImportFormat> {
    ImportFormat::from_name(format.name())
}

fn round_trip(entries: &[Entry], format: ExportFormat, password: Option<&str>) {
    let what = format!("{} (password: {})", format.name(), password.is_some());
    let export = transfer::export(format, entries, password).unwrap();
    assert!(!export.bytes.is_empty(), "{what}: empty export");
    check_notices_name_entries(&what, entries, &export);
    if !format.readable_back() {
        return;
    }
    let (found, report) = transfer::import_auto(&export.bytes, password)
        .unwrap_or_else(|e| panic!("{what}: auto import: {e}"));
    compare(
        &format!("{what}, read as {}", found.name()),
        entries,
        &export,
        &report,
    );
    if password.is_some() {
        assert_eq!(
            transfer::import_auto(&export.bytes, None).map(|(f, _)| f),
            Err(ImportError::PasswordRequired),
            "{what}: an encrypted export must ask for its password"
        );
        assert_eq!(
            transfer::import_auto(&export.bytes, Some("not the password")).map(|(f, _)| f),
            Err(ImportError::WrongPassword),
            "{what}"
        );
    }
    if let Some(explicit) = explicit_import(format) {
        let named = transfer::import(explicit, &export.bytes, password)
            .unwrap_or_else(|e| panic!("{what}: import as {}: {e}", explicit.name()));
        assert_eq!(named.accounts, report.accounts, "{what}: named vs auto");
    }
}

#[test]
fn every_export_format_reads_back_all_it_can_hold_and_names_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault_with_every_kind(dir.path());
    let entries = vault.entries().unwrap();
    assert_eq!(entries.len(), accounts().len());
    for &format in ExportFormat::ALL {
        for password in passwords(format) {
            round_trip(entries, format, password);
        }
    }
}

/// The formats that must hold every account exactly (the lossless ones): a sanity check
/// that the comparison above is not vacuous.
#[test]
fn lossless_formats_give_no_notice_and_everything_back() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault_with_every_kind(dir.path());
    let entries = vault.entries().unwrap();
    for format in [ExportFormat::Countersign, ExportFormat::Aegis] {
        let export = transfer::export(format, entries, Some(PASSWORD)).unwrap();
        assert!(export.notices.is_empty(), "{:?}", export.notices);
        let (_, report) = transfer::import_auto(&export.bytes, Some(PASSWORD)).unwrap();
        let back: Vec<&Account> = report.accounts.iter().map(|i| &i.account).collect();
        let original: Vec<&Account> = entries.iter().map(|e| &e.account).collect();
        assert_eq!(back, original, "{}", format.name());
    }
}

/// Google Authenticator cannot hold Steam, 7 digits or periods other than 30 s: the
/// generic rule above must see those as skipped, and they must be exactly those.
#[test]
fn google_authenticator_names_exactly_what_it_cannot_hold() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault_with_every_kind(dir.path());
    let entries = vault.entries().unwrap();
    let export = transfer::export(ExportFormat::GoogleAuthenticator, entries, None).unwrap();
    let mut skipped: Vec<&str> = export
        .notices
        .iter()
        .filter(|n| n.skipped)
        .map(|n| n.name.as_str())
        .collect();
    skipped.sort_unstable();
    let mut expected: Vec<String> = entries
        .iter()
        .map(|e| &e.account)
        .filter(|a| {
            a.params.period().is_some_and(|p| p != 30)
                || ![6, 8].contains(&a.params.digits())
                || a.params.kind() == countersign_app::OtpKind::Steam
        })
        .map(Account::display_name)
        .collect();
    expected.sort_unstable();
    assert_eq!(skipped, expected);
}

/// The checker itself: an export that drops accounts without saying so must fail it.
#[test]
#[should_panic(expected = "lost without a skipped notice")]
fn a_loss_without_a_notice_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let vault = vault_with_every_kind(dir.path());
    let entries = vault.entries().unwrap();
    let mut export = transfer::export(ExportFormat::GoogleAuthenticator, entries, None).unwrap();
    assert!(export.notices.iter().any(|n| n.skipped));
    export.notices.clear();
    let (_, report) = transfer::import_auto(&export.bytes, None).unwrap();
    compare("silent loss", entries, &export, &report);
}
