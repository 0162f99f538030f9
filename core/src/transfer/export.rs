//! One entry point for every export format, so the CLI, the bindings and the round-trip
//! tests cannot disagree about what a format is called or what it could not hold.
//!
//! An export never drops an account silently: every entry the target cannot hold (or can
//! hold only changed) gets an [`ExportNotice`] naming it and saying why.

use serde::Serialize;
use zeroize::Zeroizing;

use crate::migration;
use crate::vault::{Entry, KdfParams};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
// Not `#[non_exhaustive]`: the bindings mirror it with `#[uniffi::remote(Enum)]`, whose
// generated match must name every variant (a new one breaks that build until it is added).
pub enum ExportFormat {
    /// Countersign's own encrypted backup (a password is required).
    Countersign,
    /// Aegis vault JSON; encrypted when a password is given.
    Aegis,
    /// `otpauth-migration://` URIs, one per line (Google Authenticator's import QR codes).
    GoogleAuthenticator,
    /// otpauth URIs, one per line.
    OtpauthList,
    /// Ente Auth: otpauth lines, or its encrypted JSON envelope when a password is given.
    Ente,
    /// 2FAS schema-4 backup; encrypted when a password is given.
    TwoFas,
    /// Bitwarden's unencrypted JSON export (login items with `totp`).
    BitwardenJson,
    /// A self-contained HTML page with one QR code per account, for paper backups.
    PrintableSheet,
    /// andOTP JSON; the `.json.aes` layout when a password is given.
    AndOtp,
    /// Stratum (Authenticator Pro) backup JSON; encrypted when a password is given.
    Stratum,
    /// Proton Authenticator export JSON; password-protected when a password is given.
    ProtonAuthenticator,
}

impl ExportFormat {
    /// Every format, in the order `--help` lists them.
    pub const ALL: &'static [ExportFormat] = &[
        ExportFormat::Countersign,
        ExportFormat::Aegis,
        ExportFormat::GoogleAuthenticator,
        ExportFormat::OtpauthList,
        ExportFormat::Ente,
        ExportFormat::TwoFas,
        ExportFormat::BitwardenJson,
        ExportFormat::PrintableSheet,
        ExportFormat::AndOtp,
        ExportFormat::Stratum,
        ExportFormat::ProtonAuthenticator,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Countersign => "countersign",
            ExportFormat::Aegis => "aegis",
            ExportFormat::GoogleAuthenticator => "google-authenticator",
            ExportFormat::OtpauthList => "otpauth",
            ExportFormat::Ente => "ente",
            ExportFormat::TwoFas => "2fas",
            ExportFormat::BitwardenJson => "bitwarden-json",
            ExportFormat::PrintableSheet => "printable-html",
            ExportFormat::AndOtp => "andotp",
            ExportFormat::Stratum => "stratum",
            ExportFormat::ProtonAuthenticator => "proton-authenticator",
        }
    }

    /// The format called `name` (case-insensitive). `backup` and `migration`, the names
    /// earlier releases used, still work.
    pub fn from_name(name: &str) -> Option<ExportFormat> {
        let name = match name.to_ascii_lowercase().as_str() {
            "backup" => "countersign",
            "migration" => "google-authenticator",
            _ => name,
        };
        ExportFormat::ALL
            .iter()
            .copied()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }

    /// Whether the format can be written encrypted (then a password is asked for).
    pub fn can_encrypt(self) -> bool {
        matches!(
            self,
            ExportFormat::Countersign
                | ExportFormat::Aegis
                | ExportFormat::Ente
                | ExportFormat::TwoFas
                | ExportFormat::AndOtp
                | ExportFormat::Stratum
                | ExportFormat::ProtonAuthenticator
        )
    }

    /// Whether the format is always encrypted (a password is required).
    pub fn needs_password(self) -> bool {
        matches!(self, ExportFormat::Countersign)
    }

    /// Whether Countersign's own import reads this format back. Every format is, except
    /// one-way ones (a printable sheet for paper backups): list those in `ONE_WAY`. The
    /// round-trip test (`core/tests/round_trip.rs`) re-imports every readable format and
    /// checks that nothing the target can hold is lost.
    pub fn readable_back(self) -> bool {
        const ONE_WAY: &[ExportFormat] = &[ExportFormat::PrintableSheet];
        !ONE_WAY.contains(&self)
    }
}

/// An entry the target format could not hold, or held only changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportNotice {
    /// Position in the exported list, from 0.
    pub index: usize,
    pub name: String,
    /// Whether the entry is missing from the export (else it is there, changed as said).
    pub skipped: bool,
    pub reason: String,
}

/// A finished export: the file's bytes (they may hold every secret, hence zeroized) and
/// what the format could not hold.
#[derive(Debug)]
pub struct Export {
    pub bytes: Zeroizing<Vec<u8>>,
    /// Entries written to the file.
    pub exported: usize,
    pub notices: Vec<ExportNotice>,
}

impl Export {
    /// An export of `entries` where `notices` lists every entry left out or changed.
    pub(crate) fn new(
        bytes: Zeroizing<Vec<u8>>,
        entries: usize,
        notices: Vec<ExportNotice>,
    ) -> Export {
        let skipped = notices.iter().filter(|n| n.skipped).count();
        Export {
            bytes,
            exported: entries - skipped,
            notices,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    #[error("this export format is always encrypted: a password is needed")]
    PasswordRequired,
    #[error("the export password must not be empty")]
    EmptyPassword,
    #[error("{0} exports cannot be encrypted")]
    CannotEncrypt(&'static str),
    #[error("these key-derivation settings are not valid Argon2id settings")]
    BadKdfSettings,
    #[error("the export could not be encrypted")]
    EncryptionFailed,
}

/// Writes `entries` in `format`, encrypted under `password` when one is given.
pub fn export(
    format: ExportFormat,
    entries: &[Entry],
    password: Option<&str>,
) -> Result<Export, ExportError> {
    if password.is_some_and(str::is_empty) {
        return Err(ExportError::EmptyPassword);
    }
    if password.is_some() && !format.can_encrypt() {
        return Err(ExportError::CannotEncrypt(format.name()));
    }
    if password.is_none() && format.needs_password() {
        return Err(ExportError::PasswordRequired);
    }
    let whole = |bytes: Vec<u8>| Export::new(Zeroizing::new(bytes), entries.len(), Vec::new());
    Ok(match format {
        ExportFormat::Countersign => {
            let password = password.ok_or(ExportError::PasswordRequired)?;
            let bytes = super::export_backup(entries, password, KdfParams::DEFAULT)
                .ok_or(ExportError::EmptyPassword)?;
            whole(bytes)
        }
        ExportFormat::Aegis => whole(super::export_aegis(entries, password).as_bytes().to_vec()),
        ExportFormat::OtpauthList => whole(super::export_otpauth_list(entries).as_bytes().to_vec()),
        ExportFormat::GoogleAuthenticator => google_authenticator(entries),
        ExportFormat::Ente => super::ente::export(entries, password)?,
        ExportFormat::TwoFas => super::twofas_export::export(entries, password),
        ExportFormat::BitwardenJson => super::bitwarden_export::export(entries),
        ExportFormat::PrintableSheet => super::sheet::export(entries),
        ExportFormat::AndOtp => {
            let (bytes, notices) = super::andotp_export::export(entries, password);
            Export::new(bytes, entries.len(), notices)
        }
        ExportFormat::Stratum => with_notices(
            super::stratum_export::export(entries, password),
            entries.len(),
        )?,
        ExportFormat::ProtonAuthenticator => with_notices(
            super::proton_authenticator_export::export(entries, password),
            entries.len(),
        )?,
    })
}

/// An export that states its own notices; `None` means its encryption failed.
fn with_notices(
    written: Option<(Zeroizing<Vec<u8>>, Vec<ExportNotice>)>,
    entries: usize,
) -> Result<Export, ExportError> {
    let (bytes, notices) = written.ok_or(ExportError::EncryptionFailed)?;
    Ok(Export::new(bytes, entries, notices))
}

/// Google Authenticator export URIs, one per line; accounts it cannot hold are named.
fn google_authenticator(entries: &[Entry]) -> Export {
    let accounts: Vec<_> = entries.iter().map(|e| e.account.clone()).collect();
    let encoded = migration::encode(
        &accounts,
        migration::DEFAULT_MAX_URI_LEN,
        migration::random_batch_id(),
    );
    let notices = encoded
        .skipped
        .iter()
        .map(|skipped| ExportNotice {
            index: skipped.index,
            name: entries
                .get(skipped.index)
                .map(|e| e.account.display_name())
                .unwrap_or_default(),
            skipped: true,
            reason: skipped.error.to_string(),
        })
        .collect();
    Export::new(
        Zeroizing::new(encoded.uris.join("\n").into_bytes()),
        entries.len(),
        notices,
    )
}

/// The display name of the account's kind when it is one that needs a PIN (Yandex.Key,
/// mOTP): most apps compute neither, so their exports skip such accounts with a notice.
pub(super) fn pin_kind(account: &crate::account::Account) -> Option<&'static str> {
    use crate::account::OtpKind;
    match account.params.kind() {
        OtpKind::Yandex => Some("Yandex.Key"),
        OtpKind::Motp => Some("mOTP"),
        OtpKind::Totp { .. } | OtpKind::Hotp { .. } | OtpKind::Steam => None,
    }
}

/// A random version 4 UUID in its text form, as the apps whose exports carry item ids
/// (Bitwarden, Proton Authenticator) write them.
pub(super) fn random_uuid() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes[..]);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = data_encoding::HEXLOWER.encode(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// `entries` with their positions, less the Yandex.Key and mOTP accounts, which `app` cannot
/// hold: each of those gets a skipped notice.
pub(super) fn without_pin_kinds<'a>(
    entries: &'a [Entry],
    app: &'a str,
    notices: &'a mut Vec<ExportNotice>,
) -> impl Iterator<Item = (usize, &'a Entry)> + 'a {
    entries.iter().enumerate().filter(move |(index, entry)| {
        let Some(kind) = pin_kind(&entry.account) else {
            return true;
        };
        notices.push(ExportNotice {
            index: *index,
            name: entry.account.display_name(),
            skipped: true,
            reason: format!("{app} has no {kind} codes: the account is not exported"),
        });
        false
    })
}

/// A password-sealed export body: a fresh 16-byte salt and 12-byte nonce, the key from
/// Argon2id with `params`, AES-256-GCM over `plain` with `aad`. Each format lays the three
/// parts out its own way (Stratum, Proton Authenticator).
pub(super) struct Sealed {
    pub salt: [u8; 16],
    pub nonce: [u8; 12],
    /// Ciphertext followed by the 16-byte tag.
    pub ciphertext: Vec<u8>,
}

pub(super) fn seal_argon2id_aes_gcm(
    params: &KdfParams,
    password: &str,
    plain: &[u8],
    aad: &[u8],
) -> Option<Sealed> {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    let mut salt = [0u8; 16];
    rand::fill(&mut salt[..]);
    let mut nonce = [0u8; 12];
    rand::fill(&mut nonce[..]);
    let key = params.derive(password.as_bytes(), &salt)?;
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(key.as_bytes()).ok()?;
    let ciphertext = cipher
        .encrypt(&aes_gcm::Nonce::from(nonce), Payload { msg: plain, aad })
        .ok()?;
    Some(Sealed {
        salt,
        nonce,
        ciphertext,
    })
}
