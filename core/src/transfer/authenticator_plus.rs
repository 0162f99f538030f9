//! Authenticator Plus (Mufri) backups: a password-protected zip whose `Accounts.txt` holds
//! one otpauth URI per line. Learned from Aegis's `AuthenticatorPlusImporter.java`, which
//! opens the archive with the user's password (zip4j: ZipCrypto or WinZip AES), takes the
//! entry named `Accounts.txt` in any folder and reads it as Google Authenticator URIs. Each
//! line is read as an otpauth URI; a line that is not one is reported as a failure with its
//! line number. Other entries (the app's database, icons) are not read.

use super::kdf::KdfBudget;
use super::{ImportError, ImportFormat, ImportReport, archive, text};

const FORMAT: ImportFormat = ImportFormat::AuthenticatorPlus;
/// The entry holding the accounts.
pub(crate) const ACCOUNTS_ENTRY: &str = "Accounts.txt";

pub fn import(
    data: &[u8],
    password: Option<&str>,
    budget: &mut KdfBudget,
) -> Result<ImportReport, ImportError> {
    let accounts = archive::read_entry(
        FORMAT,
        data,
        archive::Entry::Named(ACCOUNTS_ENTRY),
        archive::APP_ARCHIVE,
        password,
        budget,
    )?;
    text::import_otpauth(&accounts, FORMAT)
}
