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

/// Told when a base32 secret held digits Authy ignores.
pub const DROPPED_NOTICE: &str = "the secret held the digits 0, 1, 8 or 9, which base32 \
lacks and Authy ignores; they were left out as Authy does, so the codes match Authy's.";

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
    let preferences = super::prefs_xml::parse(FORMAT, text.as_bytes())?;
    let mut found = false;
    let mut list = Vec::new();
    // A preference name appears once in a map (Android writes a map): one value counts, so
    // a file cannot repeat a list to multiply what is parsed.
    for key in [AUTHENTICATOR_KEY, NATIVE_KEY] {
        if let Some(value) = preferences.string(key) {
            found = true;
            let tokens: Vec<Value> = super::json::parse(FORMAT, value.as_bytes())?;
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
    let mut decrypted = decrypt_all(&seeds, password.unwrap_or(""))?;
    let mut report = ReportBuilder::new();
    for (index, (token, seed)) in tokens.iter().zip(seeds).enumerate() {
        let name = token::display_name(token);
        let plain = decrypted.get_mut(index).and_then(Option::take);
        match seed.and_then(|seed| read(token, seed, plain)) {
            Ok((account, meta, notices)) => {
                let duplicates = report.report.duplicates.len();
                report.push(index, account, meta);
                // A duplicate is not imported, so it needs no notice of its own.
                if report.report.duplicates.len() == duplicates {
                    for notice in notices {
                        report.notice(index, name.clone(), notice);
                    }
                }
            }
            Err(reason) => report.fail(index, name, reason),
        }
    }
    Ok(report.finish())
}

/// Most threads deriving keys at once: each token has its own salt, so its derivation is
/// independent of the others'.
const MAX_DERIVATION_THREADS: usize = 4;

/// Decrypts every encrypted seed, in a list aligned with `seeds`. The first goes alone:
/// if it does not decrypt, the password is wrong and no other derivation runs. Once it
/// has, a token that does not decrypt is damaged, that token's failure alone. The rest run
/// on up to [`MAX_DERIVATION_THREADS`] threads (the budget was charged for all of them).
fn decrypt_all(
    seeds: &[Result<Seed, String>],
    password: &str,
) -> Result<Vec<Option<Decrypted>>, ImportError> {
    let encrypted: Vec<(usize, &crypto::EncryptedSeed)> = seeds
        .iter()
        .enumerate()
        .filter_map(|(index, seed)| match seed {
            Ok(Seed::Encrypted(encrypted)) => Some((index, encrypted)),
            _ => None,
        })
        .collect();
    let mut results: Vec<Option<Decrypted>> = seeds.iter().map(|_| None).collect();
    let Some(((first_index, first), rest)) = encrypted.split_first() else {
        return Ok(results);
    };
    let first = crypto::decrypt(first, password);
    if matches!(first, Decrypted::WrongPassword) {
        return Err(ImportError::WrongPassword);
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = rest
        .len()
        .div_ceil(threads.min(MAX_DERIVATION_THREADS))
        .max(1);
    let done: Vec<(usize, Decrypted)> = std::thread::scope(|scope| {
        let workers: Vec<_> = rest
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(index, seed)| (*index, crypto::decrypt(seed, password)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        // A worker that panicked leaves its tokens undecrypted: reported as failures.
        workers
            .into_iter()
            .filter_map(|worker| worker.join().ok())
            .flatten()
            .collect()
    });
    for (index, decrypted) in std::iter::once((*first_index, first)).chain(done) {
        if let Some(slot) = results.get_mut(index) {
            *slot = Some(decrypted);
        }
    }
    Ok(results)
}

/// An imported account and the notices it needs.
type Read = (Account, EntryMeta, Vec<&'static str>);

/// One token as an account; `decrypted` is its seed's decryption when it is encrypted.
fn read(token: &Value, seed: Seed, decrypted: Option<Decrypted>) -> Result<Read, String> {
    match seed {
        Seed::Native(hex) => token::native_secret(hex)
            .and_then(|secret| token::native(token, secret))
            .map(|(account, meta)| (account, meta, vec![NATIVE_NOTICE])),
        Seed::Base32(text) => base32_account(token, text),
        Seed::Uri(uri) => uri_account(uri),
        Seed::Encrypted(_) => match decrypted {
            Some(Decrypted::Text(text)) => base32_account(token, &text),
            Some(Decrypted::WrongPassword) | None => {
                Err("could not be decrypted with the password that opened the others".into())
            }
        },
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
