//! The one zip reader of the importers (Raivo, Authenticator Plus, WinAuth, Proton Pass):
//! one entry read out of an archive, with every size the archive states checked before it
//! turns into memory. Each format states its own bounds as a [`ZipLimits`].
//!
//! A zip is an untrusted index of untrusted streams: the central directory may list any
//! number of entries, and an entry may declare any size or inflate far past what it
//! declares (a "zip bomb"). So, before the archive is opened, the central-directory records
//! are counted (each starts with `PK\x01\x02`, so the count bounds what the parser can
//! build) and so is every entry count an end-of-central-directory record claims (the
//! parser reserves room for the claim before reading a record); the chosen entry's
//! declared size is checked before it is inflated; and the inflated stream is read through
//! `take` so a lying entry stops at the limit.
//!
//! Passwords: ZipCrypto (PKWARE's traditional encryption, APPNOTE 6.1) and WinZip AES
//! (AE-1/AE-2: PBKDF2-HMAC-SHA1, 1,000 iterations, AES-CTR and an HMAC), both through the
//! `zip` crate. ZipCrypto checks a password with one byte only, so a wrong password that
//! passes that check is caught by the CRC or the inflater: every failure to read an
//! encrypted entry is reported as [`ImportError::WrongPassword`] ("wrong password, or the
//! file is damaged").

use std::io::{Cursor, Read};

use zeroize::Zeroizing;
use zip::ZipArchive;
use zip::result::ZipError;

use super::kdf::{Kdf, KdfBudget};
use super::{ImportError, ImportFormat, MAX_IMPORT_FILE_LEN};

/// Most entries an app's archive may list. The apps write two (Raivo: JSON and HTML) or a few.
pub const MAX_ARCHIVE_ENTRIES: usize = 64;

/// Largest entry inflated: the import file limit, as if the entry had been the file.
pub const MAX_ENTRY_BYTES: u64 = MAX_IMPORT_FILE_LEN as u64;

/// Most entries a Proton Pass export may list: its JSON plus one file per attachment.
pub const MAX_PROTON_PASS_ENTRIES: usize = 10_000;

/// Largest text WinAuth's zipped export may inflate to: thousands of accounts are far less.
pub const MAX_WINAUTH_ENTRY_BYTES: u64 = 4 * 1024 * 1024;

/// How a format bounds the archives it reads.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ZipLimits {
    /// Most entries the archive may list (counted before it is parsed).
    pub entries: usize,
    /// Largest entry, declared or inflated.
    pub entry_bytes: u64,
    /// Whether an entry over `entry_bytes` is [`ImportError::TooLarge`] (the entry stands for
    /// the whole import, as Proton Pass's JSON does) rather than an invalid file.
    pub oversize_is_too_large: bool,
}

/// Raivo and Authenticator Plus: a few entries, each up to the import file limit.
pub(crate) const APP_ARCHIVE: ZipLimits = ZipLimits {
    entries: MAX_ARCHIVE_ENTRIES,
    entry_bytes: MAX_ENTRY_BYTES,
    oversize_is_too_large: false,
};

/// WinAuth's zipped export: one text entry of at most 4 MiB.
pub(crate) const WINAUTH_EXPORT: ZipLimits = ZipLimits {
    entries: MAX_ARCHIVE_ENTRIES,
    entry_bytes: MAX_WINAUTH_ENTRY_BYTES,
    oversize_is_too_large: false,
};

/// Proton Pass's export: many attachments, a JSON up to the import file limit.
pub(crate) const PROTON_PASS_EXPORT: ZipLimits = ZipLimits {
    entries: MAX_PROTON_PASS_ENTRIES,
    entry_bytes: MAX_ENTRY_BYTES,
    oversize_is_too_large: true,
};

/// The local-file-header magic every zip starts with.
const LOCAL_HEADER: &[u8] = b"PK\x03\x04";
/// The central-directory record magic: one per entry the parser will read.
const CENTRAL_HEADER: &[u8] = b"PK\x01\x02";

/// End-of-central-directory records: classic (16-bit counts) and zip64 (64-bit counts).
const END_RECORD: &[u8] = b"PK\x05\x06";
const ZIP64_END_RECORD: &[u8] = b"PK\x06\x06";

/// WinZip AES's fixed PBKDF2-HMAC-SHA1 count, charged for every encrypted entry opened.
const WINZIP_AES_ITERATIONS: u32 = 1_000;

/// Which entry to read.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Entry<'n> {
    /// The first entry whose last path component is this name (ASCII case ignored).
    Named(&'n str),
    /// The entry at exactly this path.
    Path(&'n str),
    /// The archive's first entry.
    First,
}

/// Whether `data` starts like a zip archive.
pub(crate) fn is_zip(data: &[u8]) -> bool {
    data.starts_with(LOCAL_HEADER)
}

/// Whether `data` is a zip archive naming an entry called `file_name` (any folder). Entry
/// names are stored in the clear even in encrypted archives, so detection needs no password.
pub(crate) fn names_entry(data: &[u8], file_name: &str) -> bool {
    !file_name.is_empty()
        && is_zip(data)
        && data
            .windows(file_name.len())
            .any(|window| window.eq_ignore_ascii_case(file_name.as_bytes()))
}

/// The first entry's name as its local header states it (cheap, for detection).
pub(crate) fn first_name(data: &[u8]) -> Option<&str> {
    if !is_zip(data) {
        return None;
    }
    let field = data.get(26..28)?;
    let name_len = usize::from(u16::from_le_bytes([field[0], field[1]]));
    std::str::from_utf8(data.get(30..30 + name_len)?).ok()
}

/// The contents of `which` entry, decrypted with `password` when it is encrypted.
pub(crate) fn read_entry(
    format: ImportFormat,
    data: &[u8],
    which: Entry<'_>,
    limits: ZipLimits,
    password: Option<&str>,
    budget: &mut KdfBudget,
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    Archive::open(format, data, limits)?.read(which, password, budget)
}

/// An archive whose entry count was checked before it was parsed.
pub(crate) struct Archive<'a> {
    format: ImportFormat,
    limits: ZipLimits,
    zip: ZipArchive<Cursor<&'a [u8]>>,
}

impl<'a> Archive<'a> {
    /// Opens `data` once its entry counts (listed and claimed) are within `limits`.
    pub(crate) fn open(
        format: ImportFormat,
        data: &'a [u8],
        limits: ZipLimits,
    ) -> Result<Self, ImportError> {
        let listed = data
            .windows(CENTRAL_HEADER.len())
            .filter(|w| *w == CENTRAL_HEADER)
            .count();
        if listed > limits.entries || most_entries_claimed(data) > limits.entries as u64 {
            return Err(ImportError::invalid(
                format,
                format!("the archive lists more than {} entries", limits.entries),
            ));
        }
        let zip = ZipArchive::new(Cursor::new(data)).map_err(|e| {
            ImportError::invalid(format, format!("not a readable zip archive: {e}"))
        })?;
        Ok(Archive {
            format,
            limits,
            zip,
        })
    }

    /// The entries' names, as far as they are readable.
    pub(crate) fn names(&self) -> impl Iterator<Item = std::borrow::Cow<'_, str>> {
        self.zip.file_names().filter_map(Result::ok)
    }

    /// The contents of `which` entry, decrypted with `password` when it is encrypted.
    pub(crate) fn read(
        &mut self,
        which: Entry<'_>,
        password: Option<&str>,
        budget: &mut KdfBudget,
    ) -> Result<Zeroizing<Vec<u8>>, ImportError> {
        let (format, limit) = (self.format, self.limits.entry_bytes);
        let index = self.find(which).ok_or_else(|| {
            ImportError::invalid(format, format!("no {} in the archive", entry_label(which)))
        })?;
        let entry = self
            .zip
            .by_index_data(index)
            .map_err(|e| ImportError::invalid(format, e.to_string()))?;
        let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
        if entry.size() > limit {
            return Err(self.oversized(format!(
                "{name} claims {} bytes uncompressed, larger than {}",
                entry.size(),
                size_text(limit)
            )));
        }
        let encrypted = entry.encrypted();
        let opened = match (encrypted, password) {
            (false, _) => self.zip.by_index(index),
            (true, None) => return Err(ImportError::PasswordRequired),
            (true, Some(password)) => {
                budget.charge(Kdf::Pbkdf2 {
                    iterations: WINZIP_AES_ITERATIONS,
                })?;
                self.zip.by_index_decrypt(index, password.as_bytes())
            }
        };
        let file = opened.map_err(|e| open_error(format, e))?;
        let mut contents = Zeroizing::new(Vec::new());
        let read = file.take(limit + 1).read_to_end(&mut contents);
        match read {
            Err(_) if encrypted => Err(ImportError::WrongPassword),
            Err(e) => Err(ImportError::invalid(
                format,
                format!("{name} cannot be read (damaged): {e}"),
            )),
            Ok(_) if contents.len() as u64 > limit => Err(self.oversized(format!(
                "{name} inflates to larger than {}",
                size_text(limit)
            ))),
            Ok(_) => Ok(contents),
        }
    }

    /// The index of the entry `which` names.
    fn find(&self, which: Entry<'_>) -> Option<usize> {
        if let Entry::First = which {
            return (!self.zip.is_empty()).then_some(0);
        }
        (0..self.zip.len()).find(|&index| {
            self.zip
                .by_index_data(index)
                .is_ok_and(|entry| name_matches(entry.name_raw(), which))
        })
    }

    fn oversized(&self, reason: String) -> ImportError {
        if self.limits.oversize_is_too_large {
            ImportError::TooLarge
        } else {
            ImportError::invalid(self.format, reason)
        }
    }
}

/// Whether an entry's stored name is the one `which` asks for.
fn name_matches(raw: &[u8], which: Entry<'_>) -> bool {
    match which {
        Entry::First => true,
        Entry::Path(path) => raw == path.as_bytes(),
        Entry::Named(file_name) => {
            let base = raw
                .rsplit(|&b| b == b'/' || b == b'\\')
                .next()
                .unwrap_or(raw);
            !file_name.is_empty() && base.eq_ignore_ascii_case(file_name.as_bytes())
        }
    }
}

fn entry_label(which: Entry<'_>) -> &str {
    match which {
        Entry::Named(name) | Entry::Path(name) => name,
        Entry::First => "entry",
    }
}

/// A limit in words: "4 MiB" when it is whole mebibytes, else its bytes.
fn size_text(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// The largest entry count any end-of-central-directory record in `data` claims (every
/// candidate, since a parser may try more than one). A classic record's 0xFFFF defers to
/// its zip64 record, which is counted itself.
fn most_entries_claimed(data: &[u8]) -> u64 {
    let mut most = 0u64;
    for (at, window) in data.windows(4).enumerate() {
        let field = |offset: usize, len: usize| -> u64 {
            let bytes = data.get(at + offset..at + offset + len).unwrap_or(&[]);
            bytes
                .iter()
                .rev()
                .fold(0u64, |n, &b| (n << 8) | u64::from(b))
        };
        let claims = if window == END_RECORD {
            [field(8, 2), field(10, 2)].map(|count| if count == 0xFFFF { 0 } else { count })
        } else if window == ZIP64_END_RECORD {
            [field(24, 8), field(32, 8)]
        } else {
            continue;
        };
        most = most.max(claims[0]).max(claims[1]);
    }
    most
}

fn open_error(format: ImportFormat, error: ZipError) -> ImportError {
    match error {
        ZipError::InvalidPassword => ImportError::WrongPassword,
        ZipError::UnsupportedArchive(ZipError::PASSWORD_REQUIRED) => ImportError::PasswordRequired,
        other => ImportError::invalid(format, format!("the entry cannot be opened: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_archives_are_invalid_not_panics() {
        let format = ImportFormat::WinAuth;
        for data in [
            &b"PK\x03\x04"[..],
            b"PK\x03\x04 and no directory at all, but long enough for one......",
            b"PK\x05\x06\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
        ] {
            let mut budget = KdfBudget::per_import();
            let result = read_entry(
                format,
                data,
                Entry::First,
                WINAUTH_EXPORT,
                None,
                &mut budget,
            );
            assert!(matches!(result, Err(ImportError::InvalidFile { .. })));
        }
    }

    #[test]
    fn limits_read_in_words() {
        assert_eq!(size_text(MAX_WINAUTH_ENTRY_BYTES), "4 MiB");
        assert_eq!(size_text(1000), "1000 bytes");
    }

    #[test]
    fn entries_are_found_by_base_name_or_exact_path() {
        assert!(name_matches(
            b"folder\\Accounts.txt",
            Entry::Named("accounts.TXT")
        ));
        assert!(!name_matches(b"Accounts.txt", Entry::Named("")));
        assert!(name_matches(
            b"Proton Pass/data.json",
            Entry::Path("Proton Pass/data.json")
        ));
        assert!(!name_matches(
            b"x/Proton Pass/data.json",
            Entry::Path("Proton Pass/data.json")
        ));
    }
}
