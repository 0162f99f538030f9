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

    /// Whether the file is an Android SharedPreferences XML file holding a `<string>`
    /// called `name` (a cheap text search: the file is parsed only by the importer).
    pub fn prefs_with(&self, name: &str) -> bool {
        self.text().is_some_and(|text| {
            super::prefs_xml::looks_like_prefs(text) && text.contains(&format!("name=\"{name}\""))
        })
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
        format: ImportFormat::Authy,
        matches: is_authy,
    },
    Detector {
        format: ImportFormat::MicrosoftAuthenticator,
        matches: |p| super::sqlite_file::mentions(p.bytes, b"oath_secret_key"),
    },
    Detector {
        format: ImportFormat::GoogleAuthenticatorDb,
        matches: |p| {
            // Column names as the schema's SQL text spells them (quoting varies).
            ["accounts", "email", "secret"]
                .iter()
                .all(|name| super::sqlite_file::mentions(p.bytes, name.as_bytes()))
        },
    },
    Detector {
        format: ImportFormat::BattleNet,
        matches: |p| {
            p.text().is_some_and(|t| {
                t.contains("<map")
                    && (t.contains(super::battlenet::OLD_STORE_KEY)
                        || t.contains(super::battlenet::SECRET_KEY))
            })
        },
    },
    Detector {
        format: ImportFormat::Raivo,
        matches: |p| super::archive::names_entry(p.bytes, super::raivo::JSON_ENTRY),
    },
    Detector {
        format: ImportFormat::AuthenticatorPlus,
        matches: |p| {
            super::archive::names_entry(p.bytes, super::authenticator_plus::ACCOUNTS_ENTRY)
        },
    },
    Detector {
        format: ImportFormat::FreeOtp,
        matches: |p| super::java_serial::is_stream(p.bytes) || p.prefs_with("masterKey"),
    },
    Detector {
        format: ImportFormat::TotpAuthenticator,
        matches: |p| p.prefs_with(super::totp_authenticator::PREF_KEY),
    },
    Detector {
        // FreeOTP 1.x's tokens.xml; FreeOTP+ keeps the same file.
        format: ImportFormat::FreeOtp,
        matches: |p| {
            p.prefs_with("tokenOrder")
                || p.text().is_some_and(|t| {
                    super::prefs_xml::looks_like_prefs(t) && t.contains("&quot;secret&quot;:[")
                })
        },
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
        format: ImportFormat::Ente,
        // The encrypted envelope, or otpauth lines carrying Ente's `codeDisplay` (tags and
        // notes that a plain otpauth list would not import).
        matches: |p| {
            p.json().is_some_and(super::ente::is_encrypted_export)
                || (p
                    .lines()
                    .next()
                    .is_some_and(|l| l.starts_with("otpauth://"))
                    && p.lines().any(|l| l.contains("codeDisplay=")))
        },
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
        format: ImportFormat::LastPass,
        matches: |p| {
            p.json_key("accounts")
                .and_then(Value::as_array)
                .is_some_and(|accounts| {
                    p.json_key("deviceId").is_some()
                        || accounts
                            .first()
                            .is_some_and(|a| a.get("issuerName").is_some())
                })
        },
    },
    Detector {
        format: ImportFormat::Steam,
        matches: |p| {
            p.json_key("shared_secret").is_some()
                || p.json_key("accounts")
                    .and_then(Value::as_object)
                    .and_then(|accounts| accounts.values().next())
                    .is_some_and(|a| a.get("shared_secret").is_some())
        },
    },
    Detector {
        format: ImportFormat::Duo,
        matches: |p| {
            p.json()
                .and_then(Value::as_array)
                .and_then(|entries| entries.first())
                .is_some_and(|e| e.get("otpGenerator").is_some())
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
        format: ImportFormat::WinAuth,
        matches: |p| {
            let mut lines = p.lines().peekable();
            let text_export = lines.peek().is_some_and(|l| l.starts_with("otpauth://"))
                && lines.any(|l| super::winauth::MARKERS.iter().any(|m| l.contains(m)));
            text_export || super::winauth::is_zipped_export(p.bytes)
        },
    },
    Detector {
        format: ImportFormat::OtpauthList,
        matches: |p| {
            p.lines()
                .next()
                .is_some_and(|l| l.starts_with("otpauth://") || l.starts_with("motp://"))
        },
    },
    Detector {
        // andOTP's .json.aes: a plausible PBKDF2 iteration count, then salt, IV, GCM data.
        // (The older generation has no header and is not recognised.)
        format: ImportFormat::AndOtp,
        matches: |p| {
            let iterations = p.bytes.first_chunk::<4>().map(|b| u32::from_be_bytes(*b));
            p.bytes.len() >= 4 + 12 + 12 + 16
                && iterations.is_some_and(|i| (1..=super::MAX_PBKDF2_ITERATIONS).contains(&i))
        },
    },
    Detector {
        // TOTP Authenticator's backup: base64 text of whole AES blocks. Last: the least
        // specific shape.
        format: ImportFormat::TotpAuthenticator,
        matches: |p| super::totp_authenticator::looks_like_backup(p.bytes),
    },
];

/// Authy's shapes: an Android preferences file naming Authy's token list, the server's
/// (or a decrypt script's) token list object, or a token array whose first token has one
/// of Authy's secret fields (app storage) or the desktop console export's `uri` + `secret`.
fn is_authy(p: &Probe) -> bool {
    const TOKEN_FIELDS: &[&str] = &["decryptedSecret", "encryptedSecret", "secretSeed"];
    if let Some(text) = p.text() {
        let text = text.trim_start();
        if text.starts_with("<?xml") || text.starts_with("<map") {
            return text.contains(super::authy::AUTHENTICATOR_KEY)
                || text.contains(super::authy::NATIVE_KEY);
        }
    }
    let lists = ["authenticator_tokens", "decrypted_authenticator_tokens"];
    if lists
        .iter()
        .any(|k| p.json_key(k).is_some_and(Value::is_array))
    {
        return true;
    }
    p.json()
        .and_then(Value::as_array)
        .and_then(|tokens| tokens.first())
        .is_some_and(|first| {
            TOKEN_FIELDS.iter().any(|k| first.get(k).is_some())
                || (first.get("uri").is_some()
                    && first.get("secret").is_some()
                    && first.get("type").is_none())
        })
}

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

/// What an OpenPGP-encrypted file gets from automatic recognition.
const OPENPGP_REFUSAL: &str = "this file is OpenPGP-encrypted (an andOTP .json.gpg backup or a \
     Proton Pass encrypted export): Countersign does not read OpenPGP; decrypt it first \
     (`gpg --decrypt FILE > plain`) or export again without encryption, then import that";

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
    if super::andotp::is_pgp_armored(data) {
        // andOTP's `.json.gpg` and Proton Pass's encrypted export look alike: say what
        // serves both rather than guess the app.
        return Err(ImportError::Unsupported(OPENPGP_REFUSAL.into()));
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
                b"<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n<string \
                  name=\"com.authy.storage.tokens.authenticator.key\">[]</string>\n</map>",
                Some(ImportFormat::Authy),
            ),
            (
                b"<map><string name=\"com.authy.storage.tokens.authy.key\">[]</string></map>",
                Some(ImportFormat::Authy),
            ),
            (b"<map><string name=\"other\">[]</string></map>", None),
            (
                br#"{"authenticator_tokens":[],"message":"success"}"#,
                Some(ImportFormat::Authy),
            ),
            (
                br#"{"decrypted_authenticator_tokens":[]}"#,
                Some(ImportFormat::Authy),
            ),
            (
                br#"[{"secretSeed":"00","digits":7}]"#,
                Some(ImportFormat::Authy),
            ),
            (
                br#"[{"name":"a","secret":"AA","uri":"otpauth://totp/a?secret=AA"}]"#,
                Some(ImportFormat::Authy),
            ),
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
            (
                b"SQLite format 3\0 CREATE TABLE accounts (_id, email, secret, original_name) padding to a header's length",
                Some(ImportFormat::GoogleAuthenticatorDb),
            ),
            (
                b"SQLite format 3\0 CREATE TABLE `accounts` (name, username, oath_secret_key) padding to a header's length",
                Some(ImportFormat::MicrosoftAuthenticator),
            ),
            (
                br#"<map><string name="com.blizzard.bma.AUTH_STORE.HASH">00</string></map>"#,
                Some(ImportFormat::BattleNet),
            ),
            (
                br#"{"version":3,"deviceId":"d","accounts":[]}"#,
                Some(ImportFormat::LastPass),
            ),
            (
                br#"{"shared_secret":"AAAA","account_name":"a"}"#,
                Some(ImportFormat::Steam),
            ),
            (
                br#"{"accounts":{"7656":{"shared_secret":"AAAA"}}}"#,
                Some(ImportFormat::Steam),
            ),
            (
                br#"[{"name":"a","otpGenerator":{"otpSecret":"AA"}}]"#,
                Some(ImportFormat::Duo),
            ),
            (
                b"otpauth://totp/a?secret=AA&digits=6\notpauth://totp/Steam:b?secret=AA&digits=5&issuer=Steam&deviceid=x",
                Some(ImportFormat::WinAuth),
            ),
            (b"SQLite format 3\0", None),
            (
                b"PK\x03\x04\x14\0\x01\0raivo-otp-export.json",
                Some(ImportFormat::Raivo),
            ),
            (
                b"PK\x03\x04\x14\0\x01\0backup/Accounts.txt",
                Some(ImportFormat::AuthenticatorPlus),
            ),
            (b"PK\x03\x04\x14\0\x01\0notes.txt", None),
            (
                br#"{"version":1,"kdfParams":{},"encryptedData":"","encryptionNonce":""}"#,
                Some(ImportFormat::Ente),
            ),
            (
                b"otpauth://totp/a?secret=AA\notpauth://totp/b?secret=AA&codeDisplay=%7B%7D\n",
                Some(ImportFormat::Ente),
            ),
            (b"\xAC\xED\x00\x05sr", Some(ImportFormat::FreeOtp)),
            (
                b"<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n<string name=\"masterKey\">{}</string></map>",
                Some(ImportFormat::FreeOtp),
            ),
            (
                b"<map><string name=\"tokenOrder\">[]</string></map>",
                Some(ImportFormat::FreeOtp),
            ),
            (
                b"<map><string name=\"STATIC_TOTP_CODES_LIST\">[]</string></map>",
                Some(ImportFormat::TotpAuthenticator),
            ),
            (b"\n-----BEGIN PGP MESSAGE-----\n\nhQEMA\n", None),
            (
                &[0, 2, 0x49, 0xF0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9,
                  10, 11, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                Some(ImportFormat::AndOtp),
            ),
            (
                b"q6Zx0Jm2Jx3F1Qy0PAGnQw==\n",
                Some(ImportFormat::TotpAuthenticator),
            ),
            (b"<map><string name=\"other\">x</string></map>", None),
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
