//! FreeOTP's token JSON, as FreeOTP 1.x keeps it and FreeOTP+ exports it.
//!
//! - FreeOTP 1.x (`org.fedorahosted.freeotp`) stores one Gson-serialised `Token` per
//!   account in `shared_prefs/tokens.xml`, keyed by `issuer:label`, next to `tokenOrder`
//!   (a JSON list of those keys) — see [`super::prefs_xml`].
//! - FreeOTP+ (`org.liberty.android.freeotpplus`) keeps the same `tokens.xml` and exports
//!   `{"tokenOrder": […], "tokens": [Token, …]}`.
//!
//! A `Token` (FreeOTP `app/…/Token.java`, FreeOTP+ `Token.kt`): `secret` as a list of
//! signed bytes, `algo`, `digits`, `period`, `counter` (the next HOTP counter), `type`
//! (`TOTP`/`HOTP`), `issuerExt` (from the label), `issuerInt` (the `issuer` parameter),
//! `issuerAlt`/`labelAlt` (the user's renames, which the app shows instead), `image`.
//! FreeOTP shows Steam codes for a TOTP token whose issuer is `Steam` (so does Aegis's
//! importer); that becomes a Steam account here.

use serde_json::Value;

use super::kdf::KdfBudget;
use super::{Fields, freeotp_backup, java_serial, prefs_xml};
use super::{ImportError, ImportFormat, ImportReport, ReportBuilder};
use crate::account::Account;
use crate::secret::Secret;
use crate::vault::EntryMeta;

/// The preference next to the tokens that only orders them.
const TOKEN_ORDER: &str = "tokenOrder";

/// FreeOTP+'s JSON export, or (the same app's, or FreeOTP 1.x's) `tokens.xml`.
pub fn import_plus(data: &[u8]) -> Result<ImportReport, ImportError> {
    if is_prefs_xml(data) {
        return import_tokens_xml(ImportFormat::FreeOtpPlus, data);
    }
    const FORMAT: ImportFormat = ImportFormat::FreeOtpPlus;
    let file: Value = super::json::parse(FORMAT, data)?;
    let tokens = file
        .get("tokens")
        .and_then(Value::as_array)
        .ok_or_else(|| ImportError::invalid(FORMAT, "no tokens"))?;
    let mut report = ReportBuilder::new();
    for (index, token) in tokens.iter().enumerate() {
        let name = text(token, "label").unwrap_or("").to_owned();
        let result = signed_bytes(token.get("secret"))
            .and_then(|secret| token_entry(token, secret, Naming::V1));
        report.record(index, name, result);
    }
    Ok(report.finish())
}

/// FreeOTP: a FreeOTP 2 backup (serialization stream, or `tokenBackup.xml`), or FreeOTP
/// 1.x's `tokens.xml`.
pub fn import_freeotp(
    data: &[u8],
    password: Option<&str>,
    budget: &mut KdfBudget,
) -> Result<ImportReport, ImportError> {
    if java_serial::is_stream(data) {
        return freeotp_backup::import_stream(data, password, budget);
    }
    let prefs = prefs_xml::parse(ImportFormat::FreeOtp, data)?;
    if freeotp_backup::is_backup_prefs(&prefs) {
        return freeotp_backup::import_prefs(&prefs, password, budget);
    }
    import_token_prefs(ImportFormat::FreeOtp, &prefs)
}

/// FreeOTP 1.x's (or FreeOTP+'s) `tokens.xml`.
pub fn import_tokens_xml(format: ImportFormat, data: &[u8]) -> Result<ImportReport, ImportError> {
    import_token_prefs(format, &prefs_xml::parse(format, data)?)
}

fn import_token_prefs(
    format: ImportFormat,
    prefs: &prefs_xml::Prefs,
) -> Result<ImportReport, ImportError> {
    let mut report = ReportBuilder::new();
    let tokens = prefs.strings().filter(|(name, _)| *name != TOKEN_ORDER);
    for (index, (key, json)) in tokens.enumerate() {
        let result = super::json::parse::<Value>(format, json.as_bytes())
            .map_err(|_| "the token is not JSON".to_owned())
            .and_then(|token| {
                let secret = signed_bytes(token.get("secret"))?;
                token_entry(&token, secret, Naming::V1)
            });
        report.record(index, key.to_owned(), result);
    }
    Ok(report.finish())
}

/// Whether `data` is a SharedPreferences file rather than JSON.
pub fn is_prefs_xml(data: &[u8]) -> bool {
    std::str::from_utf8(data).is_ok_and(prefs_xml::looks_like_prefs)
}

/// Which fields name the account: FreeOTP 1.x shows the renames (`issuerAlt`,
/// `labelAlt`) over the originals; FreeOTP 2 moved renames into `issuerExt`/`label`
/// (`Token.compat`), and a left-over `issuerAlt` is stale there.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Naming {
    V1,
    V2,
}

fn text<'a>(token: &'a Value, key: &str) -> Option<&'a str> {
    token.get(key).and_then(Value::as_str)
}

fn non_empty<'a>(token: &'a Value, key: &str) -> Option<&'a str> {
    text(token, key).filter(|t| !t.is_empty())
}

/// A Gson/JSON list of signed (or unsigned) bytes; `None` if it is not one.
pub(crate) fn byte_list(list: Option<&Value>) -> Option<Vec<u8>> {
    list?
        .as_array()?
        .iter()
        .map(|b| {
            b.as_i64()
                .filter(|v| (-128..=255).contains(v))
                .map(|v| v as u8)
        })
        .collect()
}

/// A secret stored as a list of bytes.
pub(crate) fn signed_bytes(list: Option<&Value>) -> Result<Secret, String> {
    let bytes = byte_list(list).ok_or_else(|| match list {
        None => "no secret".to_owned(),
        Some(_) => "the secret is not a list of bytes".to_owned(),
    })?;
    Secret::from_bytes(bytes).map_err(|e| e.to_string())
}

/// The account a token describes, with `secret` (stored in the token, or apart in
/// FreeOTP 2).
pub(crate) fn token_entry(
    token: &Value,
    secret: Secret,
    naming: Naming,
) -> Result<(Account, EntryMeta), String> {
    let (issuer, label) = match naming {
        Naming::V1 => (
            non_empty(token, "issuerAlt")
                .or(non_empty(token, "issuerExt"))
                .or(non_empty(token, "issuerInt")),
            non_empty(token, "labelAlt").or(text(token, "label")),
        ),
        Naming::V2 => (
            non_empty(token, "issuerExt").or(non_empty(token, "issuerInt")),
            text(token, "label"),
        ),
    };
    let issuer = issuer.unwrap_or("");
    let kind = text(token, "type").ok_or("no type")?;
    let steam = kind.eq_ignore_ascii_case("totp") && issuer == "Steam";
    let number = |key: &str| token.get(key).and_then(Value::as_u64);
    let digits = number("digits")
        .map(|d| u32::try_from(d).map_err(|_| "digits out of range".to_owned()))
        .transpose()?;
    let period = number("period")
        .map(|p| u32::try_from(p).map_err(|_| "period out of range".to_owned()))
        .transpose()?;
    let account = Fields {
        issuer,
        name: label.unwrap_or(""),
        secret_base32: "",
        kind: if steam { "steam" } else { kind },
        algorithm: text(token, "algo"),
        digits,
        period,
        counter: number("counter"),
    }
    .account_with(secret)?;
    let icon = non_empty(token, "imageAlt")
        .or(non_empty(token, "image"))
        .map(str::to_owned);
    let meta = EntryMeta {
        tags: Vec::new(),
        notes: String::new(),
        icon,
    };
    Ok((account, meta))
}
