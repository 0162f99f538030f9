//! The first file of a zip archive, for exports that are a zip of one text file (WinAuth's
//! password-protected export). Only what such an export uses is read: the end-of-central-
//! directory record, the first central-directory entry and its local header, stored or
//! deflated data, and the zip format's traditional password encryption ("ZipCrypto",
//! PKWARE APPNOTE.TXT §6.1: three 32-bit keys updated with CRC-32 and a linear step, a
//! 12-byte encryption header whose last byte checks the password). WinZip AES entries are
//! refused. ZipCrypto is weak — it is the format's, not a choice made here.
//!
//! Bounds before work: every offset and length is checked against the file; the entry's
//! stated size and the inflated output are both limited to [`MAX_ENTRY_LEN`]; the output's
//! CRC-32 must match the directory's (a wrong password that passes the one-byte check is
//! caught there). Decrypted and inflated bytes are zeroized when dropped.

use std::io::Read;

use zeroize::Zeroizing;

use super::{ImportError, ImportFormat};

/// Largest entry read (inflated): a text export of thousands of accounts is far smaller.
pub const MAX_ENTRY_LEN: usize = 4 * 1024 * 1024;

const LOCAL_HEADER: &[u8; 4] = b"PK\x03\x04";
const CENTRAL_HEADER: &[u8; 4] = b"PK\x01\x02";
const END_OF_DIRECTORY: &[u8; 4] = b"PK\x05\x06";
const END_LEN: usize = 22;
const ENCRYPTION_HEADER_LEN: usize = 12;

const FLAG_ENCRYPTED: u16 = 1;
const FLAG_DATA_DESCRIPTOR: u16 = 1 << 3;
const METHOD_STORED: u16 = 0;
const METHOD_DEFLATED: u16 = 8;
const METHOD_AES: u16 = 99;

/// Whether `data` starts like a zip archive.
pub fn is_zip(data: &[u8]) -> bool {
    data.starts_with(LOCAL_HEADER)
}

/// The name of the first file as its local header states it (for detection).
pub fn first_name(data: &[u8]) -> Option<&str> {
    let name_len = usize::from(u16_at(data, 26)?);
    std::str::from_utf8(bytes_at(data, 30, name_len)?).ok()
}

/// `len` bytes at `at`, if the file holds them (offsets come from the file: no overflow).
fn bytes_at(data: &[u8], at: usize, len: usize) -> Option<&[u8]> {
    data.get(at..at.checked_add(len)?)
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes_at(data, at, 2)?.try_into().ok()?))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes_at(data, at, 4)?.try_into().ok()?))
}

/// What the central directory says about the first entry.
struct Entry {
    flags: u16,
    method: u16,
    time: u16,
    crc: u32,
    compressed: usize,
    size: usize,
    local_offset: usize,
}

/// The first entry's bytes, decrypted with `password` when the entry is encrypted.
pub fn first_entry(
    format: ImportFormat,
    data: &[u8],
    password: Option<&str>,
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let invalid = |reason: &str| ImportError::invalid(format, reason);
    let entry = first_directory_entry(data).ok_or_else(|| invalid("a damaged zip archive"))?;
    if entry.method == METHOD_AES {
        return Err(ImportError::Unsupported(
            "this zip is encrypted with WinZip AES, which is not read".to_owned(),
        ));
    }
    if entry.size > MAX_ENTRY_LEN {
        return Err(invalid("the zipped file is larger than 4 MiB"));
    }
    let stored = entry_data(data, &entry).ok_or_else(|| invalid("a damaged zip archive"))?;
    let encrypted = entry.flags & FLAG_ENCRYPTED != 0;
    let compressed = if encrypted {
        let password = password.ok_or(ImportError::PasswordRequired)?;
        decrypt(&entry, stored, password.as_bytes())?
    } else {
        Zeroizing::new(stored.to_vec())
    };
    let plain = match entry.method {
        METHOD_STORED => compressed,
        METHOD_DEFLATED => inflate(&compressed).ok_or_else(|| damaged(format, encrypted))?,
        _ => return Err(invalid("an unknown zip compression method")),
    };
    if plain.len() > MAX_ENTRY_LEN {
        return Err(invalid("the zipped file is larger than 4 MiB"));
    }
    if crc32(&plain) != entry.crc {
        return Err(damaged(format, encrypted));
    }
    Ok(plain)
}

/// A wrong password and a damaged entry look the same once decrypted.
fn damaged(format: ImportFormat, encrypted: bool) -> ImportError {
    if encrypted {
        ImportError::WrongPassword
    } else {
        ImportError::invalid(format, "the zipped file is damaged")
    }
}

fn first_directory_entry(data: &[u8]) -> Option<Entry> {
    // The end record is the last 22 bytes plus a comment of at most 65,535 bytes.
    let earliest = data.len().saturating_sub(END_LEN + usize::from(u16::MAX));
    let end = (earliest..=data.len().checked_sub(END_LEN)?)
        .rev()
        .find(|&at| bytes_at(data, at, 4) == Some(END_OF_DIRECTORY))?;
    let directory = usize::try_from(u32_at(data, end + 16)?).ok()?;
    if bytes_at(data, directory, 4)? != CENTRAL_HEADER {
        return None;
    }
    let at = directory;
    Some(Entry {
        flags: u16_at(data, at + 8)?,
        method: u16_at(data, at + 10)?,
        time: u16_at(data, at + 12)?,
        crc: u32_at(data, at + 16)?,
        compressed: usize::try_from(u32_at(data, at + 20)?).ok()?,
        size: usize::try_from(u32_at(data, at + 24)?).ok()?,
        local_offset: usize::try_from(u32_at(data, at + 42)?).ok()?,
    })
}

/// The entry's stored bytes, after its local header.
fn entry_data<'a>(data: &'a [u8], entry: &Entry) -> Option<&'a [u8]> {
    let at = entry.local_offset;
    if bytes_at(data, at, 4)? != LOCAL_HEADER {
        return None;
    }
    // The header was found, so `at` is within the (at most 16 MiB) file.
    let name_len = usize::from(u16_at(data, at + 26)?);
    let extra_len = usize::from(u16_at(data, at + 28)?);
    let start = at.checked_add(30 + name_len + extra_len)?;
    bytes_at(data, start, entry.compressed)
}

/// ZipCrypto: the entry's bytes after the 12-byte header, or `WrongPassword` when the
/// header's check byte disagrees.
fn decrypt(
    entry: &Entry,
    stored: &[u8],
    password: &[u8],
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    let mut keys = Keys::new(password);
    let mut header = [0u8; ENCRYPTION_HEADER_LEN];
    let (head, body) = stored
        .split_at_checked(ENCRYPTION_HEADER_LEN)
        .ok_or(ImportError::WrongPassword)?;
    for (out, &byte) in header.iter_mut().zip(head) {
        *out = keys.decrypt(byte);
    }
    // Streamed entries (data descriptor) check against the time, others against the CRC.
    let check = if entry.flags & FLAG_DATA_DESCRIPTOR != 0 {
        (entry.time >> 8) as u8
    } else {
        (entry.crc >> 24) as u8
    };
    if header[ENCRYPTION_HEADER_LEN - 1] != check {
        return Err(ImportError::WrongPassword);
    }
    Ok(Zeroizing::new(
        body.iter().map(|&byte| keys.decrypt(byte)).collect(),
    ))
}

/// Raw deflate, stopping one byte past the bound so an oversized stream is seen as such.
fn inflate(compressed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let mut out = Zeroizing::new(Vec::new());
    flate2::read::DeflateDecoder::new(compressed)
        .take(MAX_ENTRY_LEN as u64 + 1)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

/// The three keys of the traditional zip encryption.
struct Keys([u32; 3]);

impl Keys {
    fn new(password: &[u8]) -> Keys {
        let mut keys = Keys([0x1234_5678, 0x2345_6789, 0x3456_7890]);
        for &byte in password {
            keys.update(byte);
        }
        keys
    }

    fn update(&mut self, plain: u8) {
        let [k0, k1, k2] = &mut self.0;
        *k0 = crc32_byte(*k0, plain);
        *k1 = k1
            .wrapping_add(*k0 & 0xff)
            .wrapping_mul(134_775_813)
            .wrapping_add(1);
        *k2 = crc32_byte(*k2, (*k1 >> 24) as u8);
    }

    fn decrypt(&mut self, cipher: u8) -> u8 {
        let temp = (self.0[2] | 2) & 0xffff;
        let plain = cipher ^ ((temp.wrapping_mul(temp ^ 1) >> 8) as u8);
        self.update(plain);
        plain
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// CRC-32 (IEEE, reflected 0xEDB88320), one table built at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            bit += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

fn crc32_byte(crc: u32, byte: u8) -> u32 {
    CRC_TABLE[((crc ^ u32::from(byte)) & 0xff) as usize] ^ (crc >> 8)
}

fn crc32(data: &[u8]) -> u32 {
    !data.iter().fold(!0u32, |crc, &byte| crc32_byte(crc, byte))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The CRC-32 check value of "123456789" (e.g. the CRC RevEng catalogue).
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn damaged_archives_are_invalid_not_panics() {
        let format = ImportFormat::WinAuth;
        for data in [
            &b"PK\x03\x04"[..],
            b"PK\x03\x04 and no directory at all, but long enough for one......",
            b"PK\x05\x06\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
        ] {
            assert!(matches!(
                first_entry(format, data, None),
                Err(ImportError::InvalidFile { .. })
            ));
        }
    }
}
