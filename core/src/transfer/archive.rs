//! Password-protected zip archives (Raivo, Authenticator Plus): one named entry read out of
//! an archive, with every size the archive states checked before it turns into memory.
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

/// Most entries an archive may list. The apps write two (Raivo: JSON and HTML) or a few.
pub const MAX_ARCHIVE_ENTRIES: usize = 64;

/// Largest entry inflated: the import file limit, as if the entry had been the file.
pub const MAX_ENTRY_BYTES: u64 = MAX_IMPORT_FILE_LEN as u64;

/// The local-file-header magic every zip starts with.
const LOCAL_HEADER: &[u8] = b"PK\x03\x04";
/// The central-directory record magic: one per entry the parser will read.
const CENTRAL_HEADER: &[u8] = b"PK\x01\x02";

/// End-of-central-directory records: classic (16-bit counts) and zip64 (64-bit counts).
const END_RECORD: &[u8] = b"PK\x05\x06";
const ZIP64_END_RECORD: &[u8] = b"PK\x06\x06";

/// WinZip AES's fixed PBKDF2-HMAC-SHA1 count, charged for every encrypted entry opened.
const WINZIP_AES_ITERATIONS: u32 = 1_000;

/// Whether `data` is a zip archive naming an entry called `file_name` (any folder). Entry
/// names are stored in the clear even in encrypted archives, so detection needs no password.
pub(crate) fn names_entry(data: &[u8], file_name: &str) -> bool {
    !file_name.is_empty()
        && data.starts_with(LOCAL_HEADER)
        && data
            .windows(file_name.len())
            .any(|window| window.eq_ignore_ascii_case(file_name.as_bytes()))
}

/// The contents of the first entry whose last path component is `file_name` (ASCII case
/// ignored), decrypted with `password` when the entry is encrypted.
pub(crate) fn read_entry(
    format: ImportFormat,
    data: &[u8],
    file_name: &str,
    password: Option<&str>,
    budget: &mut KdfBudget,
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let invalid = |reason: String| ImportError::invalid(format, reason);
    let listed = data
        .windows(CENTRAL_HEADER.len())
        .filter(|w| *w == CENTRAL_HEADER)
        .count();
    if listed > MAX_ARCHIVE_ENTRIES || most_entries_claimed(data) > MAX_ARCHIVE_ENTRIES as u64 {
        return Err(invalid(format!(
            "the archive lists more than {MAX_ARCHIVE_ENTRIES} entries"
        )));
    }
    let mut archive = ZipArchive::new(Cursor::new(data))
        .map_err(|e| invalid(format!("not a readable zip archive: {e}")))?;
    let index = find(&archive, file_name).ok_or_else(|| invalid(format!("no {file_name}")))?;
    let entry = archive
        .by_index_data(index)
        .map_err(|e| invalid(e.to_string()))?;
    if entry.size() > MAX_ENTRY_BYTES {
        return Err(invalid(format!(
            "{file_name} claims {} bytes uncompressed, more than {MAX_ENTRY_BYTES}",
            entry.size()
        )));
    }
    let encrypted = entry.encrypted();
    let opened = match (encrypted, password) {
        (false, _) => archive.by_index(index),
        (true, None) => return Err(ImportError::PasswordRequired),
        (true, Some(password)) => {
            budget.charge(Kdf::Pbkdf2 {
                iterations: WINZIP_AES_ITERATIONS,
            })?;
            archive.by_index_decrypt(index, password.as_bytes())
        }
    };
    let file = opened.map_err(|e| open_error(format, e))?;
    let mut contents = Zeroizing::new(Vec::new());
    let read = file.take(MAX_ENTRY_BYTES + 1).read_to_end(&mut contents);
    match read {
        Err(_) if encrypted => Err(ImportError::WrongPassword),
        Err(e) => Err(invalid(format!("{file_name} cannot be read: {e}"))),
        Ok(_) if contents.len() as u64 > MAX_ENTRY_BYTES => Err(invalid(format!(
            "{file_name} inflates to more than {MAX_ENTRY_BYTES} bytes"
        ))),
        Ok(_) => Ok(contents),
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

/// The index of the entry called `file_name` in any folder.
fn find(archive: &ZipArchive<Cursor<&[u8]>>, file_name: &str) -> Option<usize> {
    (0..archive.len()).find(|&index| {
        archive.by_index_data(index).is_ok_and(|entry| {
            let raw = entry.name_raw();
            let base = raw
                .rsplit(|&b| b == b'/' || b == b'\\')
                .next()
                .unwrap_or(raw);
            base.eq_ignore_ascii_case(file_name.as_bytes())
        })
    })
}

fn open_error(format: ImportFormat, error: ZipError) -> ImportError {
    match error {
        ZipError::InvalidPassword => ImportError::WrongPassword,
        ZipError::UnsupportedArchive(ZipError::PASSWORD_REQUIRED) => ImportError::PasswordRequired,
        other => ImportError::invalid(format, format!("the entry cannot be opened: {other}")),
    }
}
