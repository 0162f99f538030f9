//! WinAuth's text export (File → Export, "plain text"): one `otpauth://` URI per line as
//! WinAuth's `WinAuthAuthenticator.ToUrl` writes them — `otpauth://TYPE/ISSUER:LABEL?
//! secret=…&digits=N[&issuer=…][&counter=…][&serial=…][&deviceid=…&data=…][&icon=…]`:
//! - the label is form-encoded (.NET `HttpUtility.UrlEncode`: a space is `+`), so `+` in
//!   the label is read as a space, as WinAuth meant it;
//! - Steam authenticators are `totp` with `issuer=Steam` and `digits=5`: Steam codes;
//! - Battle.net authenticators are 8-digit TOTP with their `serial`; the serial is kept in
//!   the notes (Blizzard asks for it to remove the authenticator);
//! - `icon` (the skin name) becomes the icon reference; `deviceid` and `data` (the Steam
//!   session) are not imported.
//!
//! Saved with a `.zip` name, the export is a zip (SharpZipLib's `ZipOutputStream`) of one
//! `<name>.txt` entry, deflated, and encrypted with the zip format's traditional password
//! scheme when the user gave a password: read by [`super::archive`] (WinZip AES is read too, though WinAuth does not write it). The PGP-encrypted
//! export is not read (it needs the user's private key): export plain text or zip instead.
//! Learned from winauth/winauth (`WinAuthAuthenticator.ToUrl`, `WinAuthHelper.
//! ExportAuthenticators`).

use zeroize::Zeroizing;

use super::archive::{self, Entry};
use super::kdf::KdfBudget;
use super::{ImportError, ImportFormat, ImportReport, ReportBuilder};
use crate::otpauth;
use crate::vault::EntryMeta;

const FORMAT: ImportFormat = ImportFormat::WinAuth;

/// Whether `data` is a zip whose first file is a `.txt`, as WinAuth names its export.
pub fn is_zipped_export(data: &[u8]) -> bool {
    archive::first_name(data).is_some_and(|n| n.ends_with(".txt"))
}

/// The parameters only WinAuth writes (detection).
pub const MARKERS: &[&str] = &["&icon=", "&deviceid=", "&serial="];

pub fn import(
    data: &[u8],
    password: Option<&str>,
    budget: &mut KdfBudget,
) -> Result<ImportReport, ImportError> {
    if archive::is_zip(data) {
        let limits = archive::WINAUTH_EXPORT;
        let text = archive::read_entry(FORMAT, data, Entry::First, limits, password, budget)?;
        return import_text(&text);
    }
    import_text(data)
}

fn import_text(data: &[u8]) -> Result<ImportReport, ImportError> {
    let text = std::str::from_utf8(data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data))
        .map_err(|_| ImportError::invalid(FORMAT, "not UTF-8 text"))?;
    let mut report = ReportBuilder::new();
    let lines = text
        .lines()
        .map(str::trim)
        .enumerate()
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'));
    for (index, line) in lines {
        // A copy of the line holds the secret: zeroized when dropped.
        let line_with_spaces = Zeroizing::new(label_spaces(line));
        let result = otpauth::parse(&line_with_spaces)
            .map(|parsed| (parsed.account, meta(line)))
            .map_err(|e| e.to_string());
        report.record(index, format!("line {}", index + 1), result);
    }
    Ok(report.finish())
}

/// `line` with `+` in its label (before `?`) written as `%20`.
fn label_spaces(line: &str) -> String {
    match line.split_once('?') {
        Some((path, query)) => format!("{}?{query}", path.replace('+', "%20")),
        None => line.replace('+', "%20"),
    }
}

fn meta(line: &str) -> EntryMeta {
    let query = line.split_once('?').map_or("", |(_, query)| query);
    let mut meta = EntryMeta::default();
    // Only the two kept parameters are decoded (never the secret or the Steam session).
    for (name, raw) in query.split('&').filter_map(|pair| pair.split_once('=')) {
        if name != "icon" && name != "serial" {
            continue;
        }
        let decoded = form_decode(raw);
        let value = super::bounded_tag(decoded.trim());
        match name {
            "icon" if !value.is_empty() && !value.starts_with("base64:") => meta.icon = Some(value),
            "serial" if !value.is_empty() => meta.notes = format!("Battle.net serial: {value}"),
            _ => {}
        }
    }
    meta
}

/// A form-encoded query value (`+` is a space).
fn form_decode(value: &str) -> String {
    let spaced = value.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}
