//! Recognising an export file (`--format auto`): each format contributes a cheap test of the
//! file's shape — a magic number, a JSON key, an XML preference name, an SQLite table — and
//! the first format whose test passes reads the file. The tests look at structure only, so
//! detection never needs the password; an encrypted file is recognised by its envelope.
//!
//! Order matters only where one shape contains another (an Ente plain export *is* an
//! otpauth list); the more specific test comes first.

use std::cell::OnceCell;

use serde_json::Value;

use super::{ImportError, ImportFormat, ImportReport, KdfBudget, MAX_IMPORT_FILE_LEN};

/// The file being recognised, with views that several tests share (parsed once).
pub(crate) struct Probe<'a> {
    pub bytes: &'a [u8],
    json: OnceCell<Option<Value>>,
}

impl<'a> Probe<'a> {
    fn new(bytes: &'a [u8]) -> Probe<'a> {
        Probe {
            bytes,
            json: OnceCell::new(),
        }
    }

    /// The file as UTF-8 text (a leading byte-order mark removed), if it is text.
    pub fn text(&self) -> Option<&'a str> {
        let bytes = self
            .bytes
            .strip_prefix(b"\xEF\xBB\xBF")
            .unwrap_or(self.bytes);
        std::str::from_utf8(bytes).ok()
    }

    /// The file as a JSON document, if it is one (parsed within the importers' bound).
    pub fn json(&self) -> Option<&Value> {
        self.json
            .get_or_init(|| {
                let text = self.text()?.trim_start();
                if !(text.starts_with('{') || text.starts_with('[')) {
                    return None;
                }
                super::json::parse::<Value>(ImportFormat::OtpauthList, text.as_bytes()).ok()
            })
            .as_ref()
    }

    /// The JSON object's value at `key`, if the file is a JSON object holding it.
    pub fn json_key(&self, key: &str) -> Option<&Value> {
        self.json()?.as_object()?.get(key)
    }

    /// The non-empty lines of a text file, trimmed.
    pub fn lines(&self) -> impl Iterator<Item = &'a str> {
        self.text()
            .into_iter()
            .flat_map(str::lines)
            .map(str::trim)
            .filter(|line| !line.is_empty())
    }
}

/// One format's test. The first matching row wins.
struct Detector {
    format: ImportFormat,
    matches: fn(&Probe) -> bool,
}

/// Most specific first (see the module comment).
const DETECTORS: &[Detector] = &[
    Detector {
        format: ImportFormat::Countersign,
        matches: |p| p.bytes.starts_with(super::backup::MAGIC),
    },
    Detector {
        format: ImportFormat::Stratum,
        matches: |p| {
            p.bytes.starts_with(super::stratum::HEADER)
                || p.bytes.starts_with(super::stratum::LEGACY_HEADER)
                || super::stratum_db::looks_like_database(p.bytes)
                || p.json_key("Authenticators").is_some_and(Value::is_array)
        },
    },
    Detector {
        format: ImportFormat::ProtonPass,
        matches: |p| {
            super::proton_pass::looks_like_zip_export(p.bytes)
                || p.text()
                    .is_some_and(|t| t.trim_start().starts_with("-----BEGIN PGP MESSAGE-----"))
                || (p.json_key("vaults").is_some_and(Value::is_object)
                    && (p.json_key("userId").is_some() || p.json_key("encrypted").is_some()))
        },
    },
    Detector {
        format: ImportFormat::ProtonAuthenticator,
        matches: |p| {
            let is_entry = |e: &Value| e.get("content").and_then(|c| c.get("entry_type")).is_some();
            let plain = p
                .json_key("entries")
                .and_then(Value::as_array)
                .is_some_and(|entries| entries.first().is_none_or(is_entry));
            let protected = p.json_key("salt").is_some_and(Value::is_string)
                && p.json_key("content").is_some_and(Value::is_string);
            p.json_key("version").is_some() && (plain || protected)
        },
    },
    Detector {
        format: ImportFormat::Aegis,
        matches: |p| p.json_key("db").is_some() && p.json_key("header").is_some(),
    },
    Detector {
        format: ImportFormat::TwoFas,
        matches: |p| p.json_key("schemaVersion").is_some() && p.json_key("services").is_some(),
    },
    Detector {
        format: ImportFormat::BitwardenJson,
        matches: |p| p.json_key("items").is_some_and(Value::is_array),
    },
    Detector {
        format: ImportFormat::FreeOtpPlus,
        matches: |p| p.json_key("tokens").is_some_and(Value::is_array),
    },
    Detector {
        format: ImportFormat::AndOtp,
        matches: |p| {
            p.json().and_then(Value::as_array).is_some_and(|entries| {
                entries
                    .first()
                    .is_some_and(|e| e.get("secret").is_some() && e.get("type").is_some())
            })
        },
    },
    Detector {
        format: ImportFormat::BitwardenCsv,
        matches: |p| {
            p.lines()
                .next()
                .is_some_and(|header| header.split(',').any(|c| c == "login_totp"))
        },
    },
    Detector {
        format: ImportFormat::GoogleAuthenticator,
        matches: |p| {
            p.lines()
                .next()
                .is_some_and(|l| l.starts_with("otpauth-migration://"))
        },
    },
    Detector {
        format: ImportFormat::OtpauthList,
        matches: |p| {
            p.lines()
                .next()
                .is_some_and(|l| l.starts_with("otpauth://"))
        },
    },
];

/// The format of `data`, or `None` when no format's test passes.
pub fn detect(data: &[u8]) -> Option<ImportFormat> {
    if data.len() > MAX_IMPORT_FILE_LEN {
        return None;
    }
    let probe = Probe::new(data);
    DETECTORS
        .iter()
        .find(|detector| (detector.matches)(&probe))
        .map(|detector| detector.format)
}

/// Recognises `data` and imports it: the format found and what was read.
/// [`ImportError::PasswordRequired`] means the format was recognised as encrypted; call
/// again with the password.
pub fn import_auto(
    data: &[u8],
    password: Option<&str>,
) -> Result<(ImportFormat, ImportReport), ImportError> {
    if data.len() > MAX_IMPORT_FILE_LEN {
        return Err(ImportError::TooLarge);
    }
    let format = detect(data).ok_or(ImportError::UnknownFormat)?;
    let report = super::import_within(format, data, password, KdfBudget::per_import())?;
    Ok((format, report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_shapes_of_existing_formats() {
        let cases: &[(&[u8], Option<ImportFormat>)] = &[
            (b"CSBACKUP\x01", Some(ImportFormat::Countersign)),
            (
                br#"{"version":1,"header":{},"db":{}}"#,
                Some(ImportFormat::Aegis),
            ),
            (
                br#"{"services":[],"schemaVersion":4}"#,
                Some(ImportFormat::TwoFas),
            ),
            (
                br#"{"encrypted":false,"items":[]}"#,
                Some(ImportFormat::BitwardenJson),
            ),
            (br#"{"tokens":[]}"#, Some(ImportFormat::FreeOtpPlus)),
            (
                br#"[{"secret":"A","type":"TOTP"}]"#,
                Some(ImportFormat::AndOtp),
            ),
            (
                b"folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp\n",
                Some(ImportFormat::BitwardenCsv),
            ),
            (
                b"\notpauth-migration://offline?data=AA\n",
                Some(ImportFormat::GoogleAuthenticator),
            ),
            (
                b"\xEF\xBB\xBFotpauth://totp/a?secret=AA",
                Some(ImportFormat::OtpauthList),
            ),
            (b"AUTHENTICATORPRO\x00\x01", Some(ImportFormat::Stratum)),
            (b"AuthenticatorPro\x00\x01", Some(ImportFormat::Stratum)),
            (
                b"SQLite format 3\x00....CREATE TABLE \"authenticator\"(type integer)",
                Some(ImportFormat::Stratum),
            ),
            (
                br#"{"Authenticators":[],"Categories":[]}"#,
                Some(ImportFormat::Stratum),
            ),
            (
                br#"{"version":1,"entries":[{"id":"a","content":{"uri":"steam://A","entry_type":"Steam"}}]}"#,
                Some(ImportFormat::ProtonAuthenticator),
            ),
            (
                br#"{"version":1,"salt":"AAAA","content":"AAAA"}"#,
                Some(ImportFormat::ProtonAuthenticator),
            ),
            (
                br#"{"version":"1.21.2","userId":"u","encrypted":false,"vaults":{}}"#,
                Some(ImportFormat::ProtonPass),
            ),
            (
                b"-----BEGIN PGP MESSAGE-----\n\nwy4ECQMI\n",
                Some(ImportFormat::ProtonPass),
            ),
            (b"SQLite format 3\x00....CREATE TABLE accounts(x)", None),
            (b"hello", None),
            (b"\xff\xfe", None),
            (b"", None),
        ];
        for (data, expected) in cases {
            assert_eq!(detect(data), *expected, "{}", String::from_utf8_lossy(data));
        }
    }
}
