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
//! WinAuth's password-protected export (a zip encrypted by the zip format's own password
//! scheme) and its PGP-encrypted export are not read: export plain text from WinAuth.
//! Learned from winauth/winauth (`WinAuthAuthenticator.ToUrl`, the export form).

use super::{ImportError, ImportFormat, ImportReport, ReportBuilder};
use crate::otpauth;
use crate::vault::EntryMeta;

const FORMAT: ImportFormat = ImportFormat::WinAuth;

/// The parameters only WinAuth writes (detection).
pub const MARKERS: &[&str] = &["&icon=", "&deviceid=", "&serial="];

pub fn import(data: &[u8]) -> Result<ImportReport, ImportError> {
    if data.starts_with(b"PK\x03\x04") {
        return Err(ImportError::Unsupported(
            "WinAuth's password-protected (zip) export is not read: export as plain text \
             from WinAuth"
                .to_owned(),
        ));
    }
    let text =
        std::str::from_utf8(data).map_err(|_| ImportError::invalid(FORMAT, "not UTF-8 text"))?;
    let mut report = ReportBuilder::new();
    let lines = text
        .lines()
        .map(str::trim)
        .enumerate()
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'));
    for (index, line) in lines {
        let result = otpauth::parse(&label_spaces(line))
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
    for (name, value) in query.split('&').filter_map(|pair| pair.split_once('=')) {
        let value = form_decode(value);
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match name {
            "icon" if !value.starts_with("base64:") => {
                meta.icon = Some(super::bounded_tag(value));
            }
            "serial" => meta.notes = format!("Battle.net serial: {}", super::bounded_tag(value)),
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
