//! Writing Proton Authenticator exports (the layout [`super::proton_authenticator`] reads):
//! plain `{"version": 1, "entries": [...]}`, or with a password the app's own protected form
//! (Argon2id 19 MiB × 2 × 1, AES-256-GCM with the export's associated data).
//!
//! TOTP entries carry an otpauth URI written as Proton writes it (label in the path, then
//! `secret`, `issuer`, `algorithm`, `digits`, `period`); Steam entries `steam://SECRET`.
//! What Proton Authenticator cannot hold is named per entry: HOTP accounts (it has only
//! TOTP and Steam), more than 9 digits (its code generator's limit), tags; a `:` in an
//! account name, which its URI reader takes as the issuer separator.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::export::ExportNotice;
use super::proton_authenticator::{ARGON2, EXPORT_AAD, NONCE_LEN, SALT_LEN};
use crate::account::{Account, OtpKind};
use crate::vault::Entry;

/// Proton's code generator computes `10^digits` in 32 bits: 9 digits at most.
const MAX_DIGITS: u8 = 9;

/// Everything but unreserved characters is escaped, in the path and the query alike.
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn escape(text: &str) -> String {
    utf8_percent_encode(text, ESCAPED).to_string()
}

/// The export's bytes and what it could not hold. `None` only if encryption failed.
pub fn export(
    entries: &[Entry],
    password: Option<&str>,
) -> Option<(Zeroizing<Vec<u8>>, Vec<ExportNotice>)> {
    let mut notices = Vec::new();
    let mut exported = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let mut notice = |skipped: bool, reason: &str| {
            notices.push(ExportNotice {
                index,
                name: entry.account.display_name(),
                skipped,
                reason: reason.to_owned(),
            });
        };
        if let Some(content) = content(entry, &mut notice) {
            if !entry.meta.tags.is_empty() {
                notice(
                    false,
                    "Proton Authenticator has no tags: they are not exported",
                );
            }
            let note = Some(entry.meta.notes.as_str()).filter(|n| !n.is_empty());
            exported.push(
                json!({"id": super::export::random_uuid(), "content": content, "note": note}),
            );
        }
    }
    let file = json!({"version": 1, "entries": exported});
    let plain = Zeroizing::new(serde_json::to_vec(&file).ok()?);
    drop(file);
    let bytes = match password {
        None => plain,
        Some(password) => Zeroizing::new(encrypt(&plain, password)?),
    };
    Some((bytes, notices))
}

/// The entry's `content`, or `None` (with a notice) when Proton cannot hold it.
fn content(entry: &Entry, notice: &mut impl FnMut(bool, &str)) -> Option<Value> {
    let account = &entry.account;
    let params = account.params;
    match params.kind() {
        OtpKind::Hotp { .. } => {
            notice(
                true,
                "Proton Authenticator has no counter-based (HOTP) accounts",
            );
            None
        }
        OtpKind::Yandex | OtpKind::Motp => {
            notice(
                true,
                "Proton Authenticator computes only TOTP and Steam codes: the account is not exported",
            );
            None
        }
        OtpKind::Steam => {
            let name = Some(account.label.as_str())
                .filter(|l| !l.is_empty())
                .or(account.issuer.as_deref())
                .unwrap_or("Steam");
            Some(json!({
                "uri": format!("steam://{}", account.secret.to_base32()),
                "entry_type": "Steam",
                "name": name,
            }))
        }
        OtpKind::Totp { period } => {
            if params.digits() > MAX_DIGITS {
                notice(true, "Proton Authenticator shows at most 9 digits");
                return None;
            }
            if account.label.contains(':') {
                notice(
                    false,
                    "Proton Authenticator reads a ':' in the account name as the issuer separator: only the part after the last ':' stays",
                );
            }
            let uri = totp_uri(account, period);
            let name = Some(account.label.as_str())
                .filter(|l| !l.is_empty())
                .or(account.issuer.as_deref())
                .unwrap_or("");
            Some(json!({"uri": uri, "entry_type": "Totp", "name": name}))
        }
    }
}

/// The otpauth URI as Proton writes it: the account name alone in the path, the issuer
/// and every parameter in the query.
fn totp_uri(account: &Account, period: u32) -> String {
    let params = account.params;
    let mut uri = format!(
        "otpauth://totp/{}?secret={}",
        escape(&account.label),
        account.secret.to_base32()
    );
    if let Some(issuer) = account.issuer.as_deref().filter(|i| !i.is_empty()) {
        uri.push_str(&format!("&issuer={}", escape(issuer)));
    }
    uri.push_str(&format!(
        "&algorithm={}&digits={}&period={period}",
        params.algorithm().name(),
        params.digits()
    ));
    uri
}

// The shared sealing writes the salt and nonce sizes the importer reads.
const _: () = assert!(SALT_LEN == 16 && NONCE_LEN == 12);

/// `{"version": 1, "salt", "content"}` with a fresh salt and nonce.
fn encrypt(plain: &[u8], password: &str) -> Option<Vec<u8>> {
    let sealed = super::export::seal_argon2id_aes_gcm(&ARGON2, password, plain, EXPORT_AAD)?;
    let content = [sealed.nonce.as_slice(), &sealed.ciphertext].concat();
    let file = json!({
        "version": 1,
        "salt": STANDARD.encode(sealed.salt),
        "content": STANDARD.encode(content),
    });
    serde_json::to_vec(&file).ok()
}
