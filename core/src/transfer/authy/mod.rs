//! Authy, the app whose closing brings most users here. Authy has no export; its tokens
//! leave it in these shapes, all read by this one format (docs/formats/authy.md):
//!
//! - the Android app's storage (rooted phone): SharedPreferences XML
//!   `com.authy.storage.tokens.authenticator.xml` and `com.authy.storage.tokens.authy.xml`,
//!   whose `…authenticator.key` / `…authy.key` string holds a JSON array of tokens — or
//!   that array saved as a JSON file;
//! - Authy's server response `{"authenticator_tokens": […]}` (captured from the iOS app or
//!   asked for under the GDPR), and the `{"decrypted_authenticator_tokens": […]}` file the
//!   public decrypt scripts write from it;
//! - the desktop app's console export `[{"name", "secret", "uri"}]`.
//!
//! Authenticator tokens are standard TOTP, either plain (base32) or encrypted one by one
//! under the user's backup password (`crypto`); Authy-native tokens are a per-device hex
//! seed with 10-second codes, imported with a notice (they stop working when that Authy
//! device is removed). Learned from Aegis's `AuthyImporter.java` and its test files, the
//! decrypt scripts around AlexTech01/Authy-iOS-MiTM, florian-berger/AuthyDecryptor,
//! alexzorin/authy, and the published descriptions of Authy's TOTP (SHA-1, 7 digits, 10 s).

mod crypto;
mod prefs;
mod token;

use serde_json::Value;

use super::kdf::{Kdf, KdfBudget};
use super::{ImportError, ImportFormat, ImportReport, ReportBuilder};
use crate::account::Account;
use crate::vault::EntryMeta;
use crypto::Decrypted;
use token::Seed;

const FORMAT: ImportFormat = ImportFormat::Authy;

/// The preference holding authenticator (standard TOTP) tokens.
pub const AUTHENTICATOR_KEY: &str = "com.authy.storage.tokens.authenticator.key";
/// The preference holding Authy-native tokens.
pub const NATIVE_KEY: &str = "com.authy.storage.tokens.authy.key";

/// What the user must know about each Authy-native token.
pub const NATIVE_NOTICE: &str = "an Authy-native token: its seed belongs to one Authy \
device, so these codes keep working only while that device stays registered to your Authy \
account. Switch this service to an ordinary authenticator before removing the device or \
closing the Authy account.";

/// Told when a base32 secret held characters Authy ignores.
pub const DROPPED_NOTICE: &str = "the secret held characters outside base32, which Authy \
ignores; they were left out as Authy does, so the codes match Authy's.";

/// The token list of a file, in file order.
fn tokens(data: &[u8]) -> Result<Vec<Value>, ImportError> {
    let text = std::str::from_utf8(data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data))
        .map_err(|_| ImportError::invalid(FORMAT, "not UTF-8 text"))?
        .trim_start();
    if text.starts_with('<') {
        return preference_tokens(text);
    }
    let file: Value = super::json::parse(FORMAT, text.as_bytes())?;
    let list = match file {
        Value::Array(list) => list,
        Value::Object(mut object) => ["authenticator_tokens", "decrypted_authenticator_tokens"]
            .iter()
            .find_map(|key| match object.remove(*key) {
                Some(Value::Array(list)) => Some(list),
                _ => None,
            })
            .ok_or_else(|| ImportError::invalid(FORMAT, "no Authy token list"))?,
        _ => return Err(ImportError::invalid(FORMAT, "not a token list")),
    };
    Ok(list)
}

/// The tokens of an Android preferences file: both token lists, authenticator first.
fn preference_tokens(text: &str) -> Result<Vec<Value>, ImportError> {
    let preferences = prefs::strings(text).map_err(|e| ImportError::invalid(FORMAT, e))?;
    let mut found = false;
    let mut list = Vec::new();
    for key in [AUTHENTICATOR_KEY, NATIVE_KEY] {
        for preference in preferences.iter().filter(|p| p.name == key) {
            found = true;
            let tokens: Vec<Value> = super::json::parse(FORMAT, preference.value.as_bytes())?;
            list.extend(tokens);
        }
    }
    if !found {
        return Err(ImportError::invalid(
            FORMAT,
            "no Authy token list in this preferences file",
        ));
    }
    Ok(list)
}

/// Checks that the password is there if needed and charges every per-token derivation to
/// the budget, before the first one runs.
fn charge_derivations(
    seeds: &[Result<Seed, String>],
    password: Option<&str>,
    budget: &mut KdfBudget,
) -> Result<(), ImportError> {
    let mut largest = 0u32;
    let mut total = 0u64;
    for seed in seeds {
        if let Ok(Seed::Encrypted(encrypted)) = seed {
            largest = largest.max(encrypted.iterations);
            total = total.saturating_add(u64::from(encrypted.iterations));
        }
    }
    if total == 0 {
        return Ok(());
    }
    password.ok_or(ImportError::PasswordRequired)?;
    budget.charge(Kdf::Pbkdf2PerEntry { largest, total })
}

pub fn import(
    data: &[u8],
    password: Option<&str>,
    budget: &mut KdfBudget,
) -> Result<ImportReport, ImportError> {
    let tokens = tokens(data)?;
    let seeds: Vec<Result<Seed, String>> = tokens.iter().map(token::seed).collect();
    charge_derivations(&seeds, password, budget)?;
    let mut reader = Reader {
        report: ReportBuilder::new(),
        password: password.unwrap_or(""),
        password_proven: false,
    };
    for (index, (token, seed)) in tokens.iter().zip(seeds).enumerate() {
        let name = token::display_name(token);
        match seed {
            Ok(seed) => reader.read(index, name, token, seed)?,
            Err(reason) => reader.report.fail(index, name, reason),
        }
    }
    Ok(reader.report.finish())
}

/// Turns tokens into accounts, with the notices they need.
struct Reader<'p> {
    report: ReportBuilder,
    password: &'p str,
    /// Whether a token has decrypted: from then on a token that does not is damaged, not
    /// a sign of a wrong password.
    password_proven: bool,
}

/// An imported account and the notices it needs.
type Read = (Account, EntryMeta, Vec<&'static str>);

impl Reader<'_> {
    fn read(
        &mut self,
        index: usize,
        name: String,
        token: &Value,
        seed: Seed,
    ) -> Result<(), ImportError> {
        let result = match seed {
            Seed::Native(hex) => token::native_secret(hex)
                .and_then(|secret| token::native(token, secret))
                .map(|(account, meta)| (account, meta, vec![NATIVE_NOTICE])),
            Seed::Base32(text) => base32_account(token, text),
            Seed::Uri(uri) => uri_account(uri),
            Seed::Encrypted(encrypted) => match crypto::decrypt(&encrypted, self.password) {
                Decrypted::Text(text) => {
                    self.password_proven = true;
                    base32_account(token, &text)
                }
                Decrypted::WrongPassword if !self.password_proven => {
                    return Err(ImportError::WrongPassword);
                }
                Decrypted::WrongPassword => {
                    Err("could not be decrypted with the password that opened the others".into())
                }
            },
        };
        match result {
            Ok((account, meta, notices)) => {
                let duplicates = self.report.report.duplicates.len();
                self.report.push(index, account, meta);
                // A duplicate is not imported, so it needs no notice of its own.
                if self.report.report.duplicates.len() == duplicates {
                    for notice in notices {
                        self.report.notice(index, name.clone(), notice);
                    }
                }
            }
            Err(reason) => self.report.fail(index, name, reason),
        }
        Ok(())
    }
}

fn base32_account(token: &Value, text: &str) -> Result<Read, String> {
    let (secret, dropped) = token::authy_base32(text)?;
    let (account, meta) = token::authenticator(token, secret)?;
    let notices = if dropped {
        vec![DROPPED_NOTICE]
    } else {
        vec![]
    };
    Ok((account, meta, notices))
}

/// A desktop console export's URI. Those scripts wrote native tokens with a 10-second
/// period (and ordinary ones with 30), so the period tells them apart; a native token's
/// name, the service, becomes its issuer as for native tokens read from the app.
fn uri_account(uri: &str) -> Result<Read, String> {
    let mut account = crate::otpauth::parse(uri)
        .map_err(|e| e.to_string())?
        .account;
    if account.params.period() != Some(token::NATIVE_PERIOD) {
        return Ok((account, EntryMeta::default(), vec![]));
    }
    if account.issuer.is_none() {
        account.issuer = Some(std::mem::take(&mut account.label));
    }
    Ok((account, EntryMeta::default(), vec![NATIVE_NOTICE]))
}
