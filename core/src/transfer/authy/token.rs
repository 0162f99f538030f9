//! One Authy token as a JSON object, whichever program wrote it. The Android app's storage
//! uses camelCase (`decryptedSecret`, `encryptedSecret`, `secretSeed`, `originalName`,
//! `originalIssuer`, `accountType`); Authy's server API and the tools built on it use
//! snake_case (`encrypted_seed`, `decrypted_seed`, `unique_iv`, `key_derivation_iterations`,
//! `original_name`, `account_type`); desktop console exports hold `secret` and `uri`.
//! Every spelling is read wherever it appears, so a tool that mixes them still imports.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::crypto::{EncryptedSeed, MAX_CIPHERTEXT_BYTES};
use crate::account::{Account, OtpParameters};
use crate::otp::Algorithm;
use crate::secret::Secret;
use crate::vault::EntryMeta;

/// PBKDF2 iterations when the app storage does not say (Authy for Android before per-token
/// settings; Aegis's `AuthyImporter` uses the same).
pub const APP_STORAGE_ITERATIONS: u32 = 1_000;
/// PBKDF2 iterations when a server token does not say (alexzorin/authy's `kdfRounds`).
pub const SERVER_ITERATIONS: u32 = 100_000;

/// Authy-native tokens: TOTP over SHA-1 in 10-second steps, 7 digits unless stated.
pub const NATIVE_PERIOD: u32 = 10;
pub const NATIVE_DIGITS: u32 = 7;

/// Longest salt accepted, in bytes (Authy's are 32 characters).
const MAX_SALT_BYTES: usize = 1024;

/// Where a token's secret is, and in which form (no `Debug`: it holds secrets).
pub enum Seed<'a> {
    /// Base32 text.
    Base32(&'a str),
    /// Encrypted under the backup password.
    Encrypted(EncryptedSeed),
    /// An Authy-native token's hex seed, valid for one registered Authy device.
    Native(&'a str),
    /// An otpauth URI built by the exporting tool.
    Uri(&'a str),
}

/// The first of `keys` holding a string.
pub fn text<'a>(token: &'a Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|key| token.get(key).and_then(Value::as_str))
}

/// The name to report a token by (never its secret).
pub fn display_name(token: &Value) -> String {
    text(token, &["name", "originalName", "original_name"])
        .unwrap_or("")
        .to_owned()
}

/// The token's seed, in the order an app would prefer it: a decrypted form needs no password.
pub fn seed(token: &Value) -> Result<Seed<'_>, String> {
    if !token.is_object() {
        return Err("not a token object".into());
    }
    if let Some(hex) = text(token, &["secretSeed", "secret_seed"]) {
        return Ok(Seed::Native(hex));
    }
    if let Some(base32) = text(token, &["decryptedSecret", "decrypted_seed"]) {
        return Ok(Seed::Base32(base32));
    }
    if let Some(encrypted) = text(token, &["encryptedSecret"]) {
        return encrypted_seed(token, encrypted, APP_STORAGE_ITERATIONS).map(Seed::Encrypted);
    }
    if let Some(encrypted) = text(token, &["encrypted_seed"]) {
        return encrypted_seed(token, encrypted, SERVER_ITERATIONS).map(Seed::Encrypted);
    }
    if let Some(uri) = text(token, &["uri"]) {
        return Ok(Seed::Uri(uri));
    }
    text(token, &["secret"])
        .map(Seed::Base32)
        .ok_or_else(|| "no secret".into())
}

fn encrypted_seed(
    token: &Value,
    ciphertext: &str,
    default_iterations: u32,
) -> Result<EncryptedSeed, String> {
    // Base64 is 4 characters for 3 bytes: check the text before decoding it.
    if ciphertext.len() > MAX_CIPHERTEXT_BYTES / 3 * 4 + 4 {
        return Err("the encrypted secret is longer than any secret".into());
    }
    let ciphertext = STANDARD
        .decode(ciphertext.trim())
        .map_err(|_| "the encrypted secret is not base64")?;
    if ciphertext.is_empty() || ciphertext.len() % 16 != 0 {
        return Err("the encrypted secret is not whole AES blocks".into());
    }
    let salt = text(token, &["salt"]).ok_or("no salt for the encrypted secret")?;
    if salt.len() > MAX_SALT_BYTES {
        return Err("the salt is longer than any app writes".into());
    }
    Ok(EncryptedSeed {
        ciphertext,
        salt: salt.as_bytes().to_vec(),
        iv: iv(token)?,
        iterations: iterations(token, default_iterations)?,
    })
}

/// The token's IV (hex), or zeros when it has none: tokens encrypted before Authy added
/// `unique_iv` used a zero IV, and the server sends `null` for them.
fn iv(token: &Value) -> Result<[u8; 16], String> {
    match text(token, &["unique_iv", "uniqueIv"]).map(str::trim) {
        None | Some("") => Ok([0; 16]),
        Some(hex) => crate::transfer::hex(hex)
            .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok())
            .ok_or_else(|| "the IV is not 16 bytes of hex".into()),
    }
}

/// The PBKDF2 iteration count. Counts beyond `u32` saturate, so the budget refuses them.
fn iterations(token: &Value, default: u32) -> Result<u32, String> {
    let value = ["key_derivation_iterations", "keyDerivationIterations"]
        .iter()
        .find_map(|key| token.get(key).filter(|v| !v.is_null()));
    match value {
        None => Ok(default),
        Some(v) => v
            .as_u64()
            .filter(|n| *n > 0)
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
            .ok_or_else(|| "the key derivation iteration count is not a positive number".into()),
    }
}

/// The secret of base32 text as Authy reads it: the digits 0, 1, 8 and 9, which base32
/// lacks, are dropped (Authy ignores them; the Android extractors that compared codes
/// document the same), spaces, dashes and padding are ignored, anything else is an error.
/// Returns the secret and whether digits were dropped.
pub fn authy_base32(text: &str) -> Result<(Secret, bool), String> {
    let mut kept = zeroize::Zeroizing::new(String::with_capacity(text.len()));
    let mut dropped = false;
    for c in text.chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '2'..='7' => kept.push(c),
            '0' | '1' | '8' | '9' => dropped = true,
            ' ' | '-' | '=' | '\t' | '\r' | '\n' => {}
            _ => return Err("the secret is not base32 text".into()),
        }
    }
    let secret = Secret::from_base32(&kept).map_err(|e| e.to_string())?;
    Ok((secret, dropped))
}

/// The hex seed of a native token.
pub fn native_secret(hex: &str) -> Result<Secret, String> {
    let bytes = crate::transfer::hex(hex.trim()).ok_or("the Authy seed is not hex")?;
    Secret::from_bytes(bytes).map_err(|e| e.to_string())
}

fn digits(token: &Value, default: u32) -> Result<u32, String> {
    match token.get("digits").filter(|d| !d.is_null()) {
        None => Ok(default),
        Some(d) => d
            .as_u64()
            .and_then(|d| u32::try_from(d).ok())
            .ok_or_else(|| "digits is not a number".into()),
    }
}

fn meta(token: &Value) -> EntryMeta {
    EntryMeta {
        tags: Vec::new(),
        notes: String::new(),
        icon: text(token, &["logo"])
            .filter(|l| !l.is_empty())
            .map(str::to_owned),
    }
}

/// An authenticator (standard TOTP) token: SHA-1, 30 s, digits from the data (6 if absent).
pub fn authenticator(token: &Value, secret: Secret) -> Result<(Account, EntryMeta), String> {
    let params =
        OtpParameters::totp(Algorithm::Sha1, digits(token, 6)?, 30).map_err(|e| e.to_string())?;
    let (issuer, label) = issuer_and_label(token);
    Ok((Account::new(issuer, label, secret, params), meta(token)))
}

/// An Authy-native token: SHA-1, 10 s, digits from the data (7 if absent). Authy shows
/// such tokens under the service's name, which becomes the issuer.
pub fn native(token: &Value, secret: Secret) -> Result<(Account, EntryMeta), String> {
    let params = OtpParameters::totp(
        Algorithm::Sha1,
        digits(token, NATIVE_DIGITS)?,
        NATIVE_PERIOD,
    )
    .map_err(|e| e.to_string())?;
    let name = display_name(token);
    let issuer = Some(name.trim().to_owned()).filter(|n| !n.is_empty());
    Ok((Account::new(issuer, "", secret, params), meta(token)))
}

/// Issuer and label of an authenticator token. The issuer is the stored one
/// (`originalIssuer`/`issuer`), else what precedes `:` in the original name, else what
/// precedes ` - ` or `:` in the name (Authy shows "Issuer: account"), else the account
/// type Authy matched (not the generic "authenticator"). The label is the name without
/// that issuer prefix, or the original name's account part when nothing else is left.
fn issuer_and_label(token: &Value) -> (Option<String>, String) {
    let name = text(token, &["name"]).unwrap_or("").trim();
    let original = text(token, &["originalName", "original_name"]).unwrap_or("");
    let non_empty = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let issuer = text(token, &["originalIssuer", "issuer"])
        .and_then(non_empty)
        .or_else(|| original.split_once(':').and_then(|(i, _)| non_empty(i)))
        .or_else(|| name.split_once(" - ").and_then(|(i, _)| non_empty(i)))
        .or_else(|| name.split_once(':').and_then(|(i, _)| non_empty(i)))
        .or_else(|| {
            text(token, &["accountType", "account_type"])
                .filter(|t| !t.eq_ignore_ascii_case("authenticator"))
                .and_then(non_empty)
                .map(|t| capitalised(&t))
        });
    let mut label = issuer
        .as_deref()
        .and_then(|issuer| without_issuer(name, issuer))
        .unwrap_or(name);
    if label.is_empty() {
        label = original.split_once(':').map_or("", |(_, l)| l.trim());
    }
    (issuer, label.to_owned())
}

/// `name` without a leading "`issuer`:" or "`issuer` -" (or `issuer` alone: empty).
fn without_issuer<'a>(name: &'a str, issuer: &str) -> Option<&'a str> {
    let rest = name.strip_prefix(issuer)?.trim_start();
    if rest.is_empty() {
        return Some(rest);
    }
    rest.strip_prefix(':')
        .or_else(|| rest.strip_prefix('-'))
        .map(str::trim)
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(token: Value) -> (Option<String>, String) {
        issuer_and_label(&token)
    }

    #[test]
    fn issuer_and_label_follow_what_the_token_holds() {
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            names(
                json!({"name": "Deno: Mason", "originalIssuer": "Deno", "originalName": "Deno:Mason"})
            ),
            (some("Deno"), "Mason".into())
        );
        assert_eq!(
            names(json!({"name": "alice", "originalName": "GitLab:alice@example.com"})),
            (some("GitLab"), "alice".into())
        );
        assert_eq!(
            names(json!({"name": "Proton - bob"})),
            (some("Proton"), "bob".into())
        );
        assert_eq!(
            names(json!({"name": "Mastodon: @zoe", "issuer": null})),
            (some("Mastodon"), "@zoe".into())
        );
        assert_eq!(
            names(json!({"name": "carol", "accountType": "dropbox"})),
            (some("Dropbox"), "carol".into())
        );
        assert_eq!(
            names(json!({"name": "dave", "accountType": "authenticator"})),
            (None, "dave".into())
        );
        assert_eq!(
            names(json!({"name": "Example", "issuer": "Example", "original_name": "Example:erin"})),
            (some("Example"), "erin".into())
        );
    }

    #[test]
    fn base32_is_read_as_authy_reads_it() {
        let (secret, dropped) = authy_base32("jbsw y3dp-ehpk 3pxp").unwrap();
        assert_eq!(secret.expose(), b"Hello!\xde\xad\xbe\xef");
        assert!(!dropped);
        let (secret, dropped) = authy_base32("JBSW1Y3DP8EHPK3PXP").unwrap();
        assert_eq!(secret.expose(), b"Hello!\xde\xad\xbe\xef");
        assert!(dropped);
        assert!(authy_base32("0189").is_err(), "nothing left");
        assert!(authy_base32("Decryption failed: Invalid padding").is_err());
    }

    #[test]
    fn encrypted_seeds_are_checked_before_any_work() {
        let token = |extra: Value| {
            let mut t = json!({"encrypted_seed": "AAAAAAAAAAAAAAAAAAAAAA==", "salt": "s"});
            if let (Some(t), Some(extra)) = (t.as_object_mut(), extra.as_object()) {
                t.extend(extra.clone());
            }
            t
        };
        let iterations = |t: Value| match seed(&t) {
            Ok(Seed::Encrypted(e)) => Ok(e.iterations),
            Ok(_) => Err("not encrypted".to_owned()),
            Err(e) => Err(e),
        };
        assert_eq!(iterations(token(json!({}))), Ok(SERVER_ITERATIONS));
        assert_eq!(
            iterations(token(json!({"key_derivation_iterations": 1u64 << 40}))),
            Ok(u32::MAX)
        );
        assert!(iterations(token(json!({"key_derivation_iterations": 0}))).is_err());
        assert!(iterations(token(json!({"unique_iv": "00ff"}))).is_err());
        assert!(iterations(token(json!({"encrypted_seed": "AAAA"}))).is_err());
        assert!(iterations(token(json!({"salt": null}))).is_err());
    }
}
