//! Writing Stratum backups (the layout [`super::stratum`] reads): plain JSON, or with a
//! password the app's current scheme — `"AUTHENTICATORPRO"` ‖ salt ‖ IV ‖ AES-256-GCM under
//! Argon2id (64 MiB, 3 passes, 4 lanes). Stratum restores both.
//!
//! What Stratum cannot hold is named per entry: it has no notes; it requires an issuer (the
//! account name stands in); its HOTP accounts have at most 8 digits; accounts are keyed by
//! their secret, so a second account with the same secret cannot be restored; category
//! names are at most 32 characters. Yandex.Key and mOTP accounts are written with their
//! PIN (`Pin`): Yandex.Key's 16-byte key in base32, mOTP's secret as lower-case hex text,
//! which is what Stratum hashes (`MobileOtp`).

use std::collections::HashSet;

use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use zeroize::Zeroizing;

use super::export::ExportNotice;
use super::stratum::{ARGON2, HEADER, IV_LEN, SALT_LEN, kind};
use crate::account::{Account, OtpKind};
use crate::otp::Algorithm;
use crate::vault::Entry;

/// `Authenticator.cs`: HOTP has at most 8 digits (TOTP up to 10, as the vault).
const MAX_HOTP_DIGITS: u8 = 8;
/// `Category.NameMaxLength`.
const MAX_CATEGORY_CHARS: usize = 32;

/// The backup's bytes and what it could not hold. `None` only if encryption failed.
pub fn export(
    entries: &[Entry],
    password: Option<&str>,
) -> Option<(Zeroizing<Vec<u8>>, Vec<ExportNotice>)> {
    let mut notices = Vec::new();
    // Borrowed from the entries: no copy of a secret outlives the export.
    let mut secrets: HashSet<&[u8]> = HashSet::new();
    let mut categories: Vec<(String, String)> = Vec::new();
    let mut links = Vec::new();
    let mut authenticators = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let mut notice = |skipped: bool, reason: &str| {
            notices.push(ExportNotice {
                index,
                name: entry.account.display_name(),
                skipped,
                reason: reason.to_owned(),
            });
        };
        let Some(authenticator) = authenticator(entry, &mut notice) else {
            continue;
        };
        if !secrets.insert(entry.account.secret.expose()) {
            notice(
                true,
                "Stratum keys accounts by their secret and another exported account has the same one",
            );
            continue;
        }
        let secret = secret_text(&entry.account);
        for tag in &entry.meta.tags {
            let id = category_id(tag, &mut categories, &mut notice);
            links.push(
                json!({"CategoryId": id, "AuthenticatorSecret": secret.as_str(), "Ranking": 0}),
            );
        }
        authenticators.push(authenticator);
    }
    let backup = json!({
        "Authenticators": authenticators,
        "Categories": categories.iter().enumerate().map(|(ranking, (id, name))| {
            json!({"Id": id, "Name": name, "Ranking": ranking})
        }).collect::<Vec<_>>(),
        "AuthenticatorCategories": links,
        "CustomIcons": [],
    });
    let plain = Zeroizing::new(serde_json::to_vec(&backup).ok()?);
    // The tree holds every secret too; it goes now that the text is written.
    drop(backup);
    let bytes = match password {
        None => plain,
        Some(password) => Zeroizing::new(encrypt(&plain, password)?),
    };
    Some((bytes, notices))
}

/// One entry as a Stratum `Authenticator`, or `None` (with a notice) if Stratum cannot
/// hold it.
fn authenticator(entry: &Entry, notice: &mut impl FnMut(bool, &str)) -> Option<Value> {
    let account = &entry.account;
    let params = account.params;
    let (kind, period, counter) = match params.kind() {
        OtpKind::Yandex => (kind::YANDEX, 30, 0),
        OtpKind::Motp => (kind::MOTP, 10, 0),
        OtpKind::Totp { period } => (kind::TOTP, period, 0),
        OtpKind::Hotp { counter } => {
            if params.digits() > MAX_HOTP_DIGITS {
                notice(true, "Stratum's HOTP accounts have at most 8 digits");
                return None;
            }
            (kind::HOTP, 30, counter)
        }
        OtpKind::Steam => (kind::STEAM, 30, 0),
    };
    // Yandex.Key and mOTP ignore the field; Stratum's default (SHA-1) is written for them.
    let algorithm = match (params.kind(), params.algorithm()) {
        (OtpKind::Yandex | OtpKind::Motp, _) | (_, Algorithm::Sha1) => 0,
        (_, Algorithm::Sha256) => 1,
        (_, Algorithm::Sha512) => 2,
    };
    let issuer = account.issuer.clone().filter(|i| !i.trim().is_empty());
    let (issuer, username) = match issuer {
        Some(issuer) => (
            issuer,
            Some(account.label.clone()).filter(|l| !l.is_empty()),
        ),
        None => {
            notice(
                false,
                "Stratum requires an issuer: the account name is written as the issuer",
            );
            (account.label.clone(), None)
        }
    };
    if !entry.meta.notes.is_empty() {
        notice(false, "Stratum has no notes: the note is not exported");
    }
    Some(json!({
        "Type": kind,
        "Icon": entry.meta.icon,
        "Issuer": issuer,
        "Username": username,
        "Secret": secret_text(account).as_str(),
        "Pin": account.pin.as_ref().map(|pin| pin.expose()),
        "Algorithm": algorithm,
        "Digits": params.digits(),
        "Period": period,
        "Counter": counter,
        "CopyCount": 0,
        "Ranking": 0,
    }))
}

/// The secret as Stratum stores it for the account's type: lower-case hex for mOTP (the
/// text its codes hash), base32 for the others.
fn secret_text(account: &Account) -> Zeroizing<String> {
    Zeroizing::new(match account.params.kind() {
        OtpKind::Motp => data_encoding::HEXLOWER.encode(account.secret.expose()),
        _ => account.secret.to_base32(),
    })
}

/// The id of the category named `tag` (Stratum's own: the first 8 hex digits of the
/// name's SHA-1), added to `categories` on first use.
fn category_id(
    tag: &str,
    categories: &mut Vec<(String, String)>,
    notice: &mut impl FnMut(bool, &str),
) -> String {
    let trimmed = tag.trim();
    let name: String = trimmed.chars().take(MAX_CATEGORY_CHARS).collect();
    if name.len() < trimmed.len() {
        notice(
            false,
            "Stratum category names have at most 32 characters: a tag is cut",
        );
    }
    let digest = Sha1::digest(name.as_bytes());
    let id = data_encoding::HEXLOWER.encode(&digest[..4]);
    if !categories.iter().any(|(known, _)| *known == id) {
        categories.push((id.clone(), name));
    }
    id
}

// The shared sealing writes the salt and IV sizes the importer reads.
const _: () = assert!(SALT_LEN == 16 && IV_LEN == 12);

/// The current scheme with a fresh salt and IV.
fn encrypt(plain: &[u8], password: &str) -> Option<Vec<u8>> {
    let sealed = super::export::seal_argon2id_aes_gcm(&ARGON2, password, plain, b"")?;
    let mut out = Vec::with_capacity(HEADER.len() + SALT_LEN + IV_LEN + sealed.ciphertext.len());
    out.extend_from_slice(HEADER);
    out.extend_from_slice(&sealed.salt);
    out.extend_from_slice(&sealed.nonce);
    out.extend_from_slice(&sealed.ciphertext);
    Some(out)
}
