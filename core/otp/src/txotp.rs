//! `txotp://totp?message=…&details[KEY]=VALUE&hidden_details[KEY]=VALUE` transaction
//! strings (Authy's transactional TOTP) and their canonical form (docs/transactional-totp.md).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

/// Authy recommends staying under this length: longer strings make dense, slow QR codes.
pub const RECOMMENDED_MAX_LEN: usize = 300;
/// Authy advises never to exceed this length.
pub const ADVISED_MAX_LEN: usize = 600;
/// Hard limit: longer strings are refused. A QR code of version 40 at error correction
/// level M holds 2331 bytes; 2048 leaves room and bounds the work of a verification.
pub const MAX_LEN: usize = 2048;

/// RFC 3986 unreserved characters stay; everything else is percent-encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Details,
    HiddenDetails,
}

impl Section {
    fn param(self) -> &'static str {
        match self {
            Section::Details => "details",
            Section::HiddenDetails => "hidden_details",
        }
    }
}

/// Errors; the empty-value messages are Authy's own wording, which clients show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TxotpError {
    #[error("not a txotp://totp transaction string")]
    NotTxotp,
    #[error("The param message is required.")]
    MissingMessage,
    #[error("The param message appears more than once.")]
    DuplicateMessage,
    #[error("The param details can not have empty values.")]
    EmptyDetailValue,
    #[error("The param hidden details can not have empty values.")]
    EmptyHiddenDetailValue,
    #[error("The param {} can not have empty keys.", .0.param())]
    EmptyKey(Section),
    #[error("The param {} has the key \"{key}\" more than once.", .section.param())]
    DuplicateKey { section: Section, key: String },
    #[error("unknown parameter \"{name}\" (expected message, details[…] or hidden_details[…])")]
    UnknownParameter { name: String },
    #[error("the transaction string is {len} characters long; the limit is {MAX_LEN}")]
    TooLong { len: usize },
}

/// A transaction: what the user approves. `details` keep the order they were given in,
/// which is the order they are displayed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transaction {
    pub message: String,
    pub details: Vec<(String, String)>,
    pub hidden_details: Vec<(String, String)>,
}

/// A parsed transaction string and whether it exceeds the recommended length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedTransaction {
    pub transaction: Transaction,
    /// Length of the string in characters.
    pub len: usize,
}

impl ParsedTransaction {
    /// True past Authy's recommended 300 characters: the QR code is slow to scan.
    pub fn is_long(&self) -> bool {
        self.len > RECOMMENDED_MAX_LEN
    }
}

fn excerpt(text: &str) -> String {
    text.chars().take(32).collect()
}

fn section_key(name: &str) -> Option<(Section, &str)> {
    let inner = |prefix: &str| {
        name.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(']'))
    };
    if let Some(key) = inner("details[") {
        return Some((Section::Details, key));
    }
    inner("hidden_details[").map(|key| (Section::HiddenDetails, key))
}

/// Parses a `txotp://totp?…` string. Parameters are form-URL-encoded (`+` is a space).
pub fn parse(text: &str) -> Result<ParsedTransaction, TxotpError> {
    let text = text.trim();
    let len = text.chars().count();
    if len > MAX_LEN {
        return Err(TxotpError::TooLong { len });
    }
    let (scheme, rest) = text.split_once("://").ok_or(TxotpError::NotTxotp)?;
    let (host, query) = rest.split_once('?').unwrap_or((rest, ""));
    if !scheme.eq_ignore_ascii_case("txotp")
        || !host.trim_end_matches('/').eq_ignore_ascii_case("totp")
    {
        return Err(TxotpError::NotTxotp);
    }
    let mut fields = TransactionFields::default();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        fields.add(&name, &value)?;
    }
    Ok(ParsedTransaction {
        transaction: fields.finish()?,
        len,
    })
}

/// Accumulates and checks fields; shared by the URI parser and by callers (a server) that
/// receive the same fields as separate request parameters.
#[derive(Debug, Default)]
pub struct TransactionFields {
    message: Option<String>,
    details: Vec<(String, String)>,
    hidden_details: Vec<(String, String)>,
}

impl TransactionFields {
    /// Adds one decoded parameter: `message`, `details[KEY]` or `hidden_details[KEY]`.
    pub fn add(&mut self, name: &str, value: &str) -> Result<(), TxotpError> {
        if name == "message" {
            if self.message.is_some() {
                return Err(TxotpError::DuplicateMessage);
            }
            self.message = Some(value.to_owned());
            return Ok(());
        }
        let (section, key) = section_key(name).ok_or_else(|| TxotpError::UnknownParameter {
            name: excerpt(name),
        })?;
        self.add_detail(section, key, value)
    }

    pub fn add_detail(
        &mut self,
        section: Section,
        key: &str,
        value: &str,
    ) -> Result<(), TxotpError> {
        if value.is_empty() {
            return Err(match section {
                Section::Details => TxotpError::EmptyDetailValue,
                Section::HiddenDetails => TxotpError::EmptyHiddenDetailValue,
            });
        }
        if key.is_empty() {
            return Err(TxotpError::EmptyKey(section));
        }
        let list = match section {
            Section::Details => &mut self.details,
            Section::HiddenDetails => &mut self.hidden_details,
        };
        // Keys equal after normalisation would collide in the canonical string.
        let normalized: String = key.nfc().collect();
        if list.iter().any(|(k, _)| k.nfc().eq(normalized.chars())) {
            return Err(TxotpError::DuplicateKey {
                section,
                key: excerpt(key),
            });
        }
        list.push((key.to_owned(), value.to_owned()));
        Ok(())
    }

    pub fn finish(self) -> Result<Transaction, TxotpError> {
        let message = self
            .message
            .filter(|m| !m.is_empty())
            .ok_or(TxotpError::MissingMessage)?;
        Ok(Transaction {
            message,
            details: self.details,
            hidden_details: self.hidden_details,
        })
    }
}

/// `enc(s)`: NFC, UTF-8, percent-encoded except `A–Z a–z 0–9 - . _ ~`, uppercase hex. The device
/// protocol builds its canonical strings with the same encoding.
pub fn enc(text: &str) -> String {
    let normalized: String = text.nfc().collect();
    utf8_percent_encode(&normalized, UNRESERVED).to_string()
}

fn push_section(out: &mut String, name: &str, entries: &[(String, String)]) {
    let mut encoded: Vec<(String, String)> =
        entries.iter().map(|(k, v)| (enc(k), enc(v))).collect();
    encoded.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    for (key, value) in encoded {
        out.push('&');
        out.push_str(name);
        out.push('[');
        out.push_str(&key);
        out.push_str("]=");
        out.push_str(&value);
    }
}

impl Transaction {
    /// The canonical string C of docs/transactional-totp.md: independent of parameter order.
    pub fn canonical_string(&self) -> String {
        let mut out = format!("message={}", enc(&self.message));
        push_section(&mut out, "details", &self.details);
        push_section(&mut out, "hidden_details", &self.hidden_details);
        out
    }

    /// Writes the transaction as a `txotp://totp?…` string, details in display order.
    /// Fails when the string would exceed [`MAX_LEN`], since no scanner would accept it.
    pub fn to_uri(&self) -> Result<String, TxotpError> {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("message", &self.message);
        for (key, value) in &self.details {
            query.append_pair(&format!("details[{key}]"), value);
        }
        for (key, value) in &self.hidden_details {
            query.append_pair(&format!("hidden_details[{key}]"), value);
        }
        // Brackets are left readable, as in Authy's examples; form decoding accepts both.
        let query = query.finish().replace("%5B", "[").replace("%5D", "]");
        let uri = format!("txotp://totp?{query}");
        let len = uri.chars().count();
        if len > MAX_LEN {
            return Err(TxotpError::TooLong { len });
        }
        Ok(uri)
    }
}
