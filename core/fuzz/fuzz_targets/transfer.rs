//! Any bytes into every importer (issue 10): no panic, no hang, no allocation out of
//! proportion to the input. Encrypted formats get the password of their committed fixture,
//! so the seeds reach decryption; the key-derivation budget is a sixteenth of the default,
//! so even a file asking for the most an import may spend finishes in well under a second.
#![no_main]

use countersign_core::transfer::{self, ImportFormat, KdfBudget};
use libfuzzer_sys::fuzz_target;

fn password(format: ImportFormat) -> &'static str {
    match format {
        ImportFormat::Aegis => "aegis-password",
        ImportFormat::TwoFas => "2fas-password",
        ImportFormat::AndOtp => "andotp-password",
        // docs/backup.md's test vector.
        ImportFormat::Countersign => "correct horse battery staple",
        _ => "fuzz",
    }
}

fuzz_target!(|data: &[u8]| {
    for format in ImportFormat::ALL {
        let budget = KdfBudget::per_import().scaled_down(16);
        let Ok(report) = transfer::import_within(format, data, Some(password(format)), budget)
        else {
            continue;
        };
        // Every account, failure and duplicate stands for at least one byte of input.
        let reported = report.accounts.len() + report.failures.len() + report.duplicates.len();
        assert!(reported <= data.len() + 1, "{format:?}: {reported} from {} bytes", data.len());
    }
});
