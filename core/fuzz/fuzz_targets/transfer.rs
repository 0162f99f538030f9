//! Any bytes into every importer (issue 10): no panic, no hang, no allocation out of
//! proportion to the input. Encrypted formats get the password of their committed fixture,
//! so the seeds reach decryption. The key-derivation budget is 1/256 of the default (8 MiB
//! of scrypt traffic, 15,625 PBKDF2 iterations: the small-parameter seeds and 2FAS's fixed
//! 10,000 fit; Authy's per-token derivations get 1/256 of their own allowance, 117,187
//! iterations, of which the seed's three tokens use 4,000) so every run stays in
//! milliseconds; Countersign backups get 1/16, the least that admits Argon2id at OWASP's
//! minimum (19 MiB × 2), the smallest they may use.
//! 10,000 fit) so every run stays in milliseconds; Countersign backups get 1/16, the least
//! that admits Argon2id at OWASP's minimum (19 MiB × 2), the smallest they may use, and so
//! do Proton Authenticator exports (that same setting); Stratum gets 1/32, enough for its
//! legacy PBKDF2 backups.
#![no_main]

use countersign_app::transfer::{self, ImportFormat, KdfBudget};
use libfuzzer_sys::fuzz_target;

fn password(format: ImportFormat) -> &'static str {
    match format {
        ImportFormat::Aegis => "aegis-password",
        ImportFormat::TwoFas => "2fas-password",
        ImportFormat::AndOtp => "andotp-password",
        ImportFormat::Authy => "authy-backup-password",
        ImportFormat::WinAuth => "winauth-password",
        ImportFormat::Raivo => "raivo-password",
        ImportFormat::AuthenticatorPlus => "authplus-password",
        ImportFormat::Ente => "ente-password",
        ImportFormat::FreeOtp => "freeotp-password",
        ImportFormat::TotpAuthenticator => "totpauth-password",
        // docs/backup.md's test vector.
        ImportFormat::Countersign => "correct horse battery staple",
        // make_stratum_proton_fixtures.py's passwords.
        ImportFormat::Stratum => "stratum-fixture-password",
        ImportFormat::ProtonAuthenticator => "proton-fixture-password",
        _ => "fuzz",
    }
}

fuzz_target!(|data: &[u8]| {
    // Recognition looks at every format's shape: it must not panic either.
    let _ = transfer::detect(data);
    for &format in ImportFormat::ALL {
        let divisor = match format {
            // Argon2id at OWASP's minimum (Countersign, Proton Authenticator's 19 MiB × 2).
            ImportFormat::Countersign | ImportFormat::ProtonAuthenticator => 16,
            // Stratum's legacy PBKDF2 (64,000 iterations) fits; its Argon2id (64 MiB × 3)
            // does not, and is refused before deriving: runs stay in milliseconds.
            ImportFormat::Stratum => 32,
            _ => 256,
        };
        let budget = KdfBudget::per_import().scaled_down(divisor);
        let Ok(report) = transfer::import_within(format, data, Some(password(format)), budget)
        else {
            continue;
        };
        // Every account, failure and duplicate stands for at least one byte of input — of
        // the inflated entry for zip archives, which the reader bounds instead.
        let reported = report.accounts.len() + report.failures.len() + report.duplicates.len();
        let source = match format {
            ImportFormat::Raivo | ImportFormat::AuthenticatorPlus => {
                transfer::MAX_ENTRY_BYTES as usize
            }
            _ => data.len(),
        };
        assert!(reported <= source + 1, "{format:?}: {reported} from {} bytes", data.len());
    }
});
