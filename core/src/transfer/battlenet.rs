//! Battle.net Authenticator secrets from the Android apps' SharedPreferences XML:
//! - the old Battle.net Authenticator (`com.blizzard.bma`, file
//!   `shared_prefs/com.blizzard.bma.AUTH_STORE.xml`): the string
//!   `com.blizzard.bma.AUTH_STORE.HASH`, 57 bytes as hex, XOR-masked; unmasked it is ASCII:
//!   the secret as 40 hex digits, then the 17-character serial (`US-1234-5678-9012`);
//! - the Battle.net app (`com.blizzard.messenger`, file
//!   `shared_prefs/com.blizzard.messenger.authenticator_preferences.xml`): the strings
//!   `…AUTHENTICATOR_DEVICE_SECRET` (the secret's hex digits) and `…AUTHENTICATOR_SERIAL`,
//!   each masked the same way.
//!
//! The mask is a constant of the apps (an obfuscation, not encryption). Codes: TOTP,
//! HMAC-SHA-1, 8 digits, 30 s; issuer "Battle.net", the serial as label. Learned from
//! Aegis's `BattleNetImporter` (the app's keys and the mask) and the public decoders of the
//! old store (stbuehler's gist, SystRevo/Battle.net-Mobile-Authenticator-android-decoder).

use zeroize::Zeroizing;

use super::{Fields, ImportError, ImportFormat, ImportReport, ReportBuilder};
use crate::account::Account;
use crate::secret::Secret;
use crate::vault::EntryMeta;

const FORMAT: ImportFormat = ImportFormat::BattleNet;

/// The apps' XOR mask over the hex-decoded preference value.
const MASK: [u8; 57] = [
    0x39, 0x8e, 0x27, 0xfc, 0x50, 0x27, 0x6a, 0x65, 0x60, 0x65, 0xb0, 0xe5, 0x25, 0xf4, 0xc0, 0x6c,
    0x04, 0xc6, 0x10, 0x75, 0x28, 0x6b, 0x8e, 0x7a, 0xed, 0xa5, 0x9d, 0xa9, 0x81, 0x3b, 0x5d, 0xd6,
    0xc8, 0x0d, 0x2f, 0xb3, 0x80, 0x68, 0x77, 0x3f, 0xa5, 0x9b, 0xa4, 0x7c, 0x17, 0xca, 0x6c, 0x64,
    0x79, 0x01, 0x5c, 0x1d, 0x5b, 0x8b, 0x8f, 0x6b, 0x9a,
];

pub const OLD_STORE_KEY: &str = "com.blizzard.bma.AUTH_STORE.HASH";
pub const SECRET_KEY: &str = "com.blizzard.messenger.AUTHENTICATOR_DEVICE_SECRET";
const SERIAL_KEY: &str = "com.blizzard.messenger.AUTHENTICATOR_SERIAL";

/// Hex digits of the secret in the old store, before the serial.
const OLD_SECRET_HEX_LEN: usize = 40;

pub fn import(data: &[u8]) -> Result<ImportReport, ImportError> {
    let prefs = super::prefs_xml::parse(FORMAT, data)?;
    let value = |key: &str| prefs.string(key);
    let mut report = ReportBuilder::new();
    let found = if let Some(store) = value(OLD_STORE_KEY) {
        Some(unmask(store).and_then(|plain| {
            let secret = plain
                .get(..OLD_SECRET_HEX_LEN)
                .ok_or("the store is too short for a secret")?;
            let serial = plain.get(OLD_SECRET_HEX_LEN..).unwrap_or("");
            account(secret, serial.trim())
        }))
    } else if let Some(secret) = value(SECRET_KEY) {
        let serial = match value(SERIAL_KEY) {
            Some(serial) => unmask(serial),
            None => Ok(Zeroizing::new(String::new())),
        };
        Some(serial.and_then(|serial| account(&unmask(secret)?, serial.trim())))
    } else {
        None
    };
    let result = found.ok_or_else(|| {
        ImportError::invalid(
            FORMAT,
            "no Battle.net authenticator in this preferences file",
        )
    })?;
    report.record(
        0,
        "Battle.net".to_owned(),
        result.map(|account| (account, EntryMeta::default())),
    );
    Ok(report.finish())
}

/// The masked hex `value` as the text the app stored.
fn unmask(value: &str) -> Result<Zeroizing<String>, String> {
    let bytes = Zeroizing::new(super::hex(value.trim()).ok_or("the value is not hex")?);
    if bytes.len() > MASK.len() {
        return Err(format!("the value is longer than {} bytes", MASK.len()));
    }
    let plain: Zeroizing<Vec<u8>> =
        Zeroizing::new(bytes.iter().zip(MASK).map(|(b, m)| b ^ m).collect());
    std::str::from_utf8(&plain)
        .map(|text| Zeroizing::new(text.to_owned()))
        .map_err(|_| "the unmasked value is not text".to_owned())
}

fn account(secret_hex: &str, serial: &str) -> Result<Account, String> {
    let bytes = super::hex(secret_hex).ok_or("the unmasked secret is not hex")?;
    let secret = Secret::from_bytes(bytes).map_err(|e| e.to_string())?;
    Fields {
        issuer: "Battle.net",
        name: serial,
        secret_base32: "",
        kind: "totp",
        algorithm: None,
        digits: Some(8),
        period: None,
        counter: None,
    }
    .account_with(secret)
}
