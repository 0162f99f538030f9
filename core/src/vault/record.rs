//! The plaintext of one account record: the account and all its metadata, serialised as
//! JSON before sealing. Nothing here is ever stored unencrypted.
//!
//! Yandex.Key and mOTP accounts add a `pin` beside the secret (and `"type": "yandex"` /
//! `"motp"` in `kind`); other records are written exactly as before, and records written
//! before those kinds existed read unchanged (`pin` is optional).

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::account::{Account, OtpKind, OtpParameters};
use crate::otp::Algorithm;
use crate::pin::Pin;
use crate::secret::Secret;

/// What an app stores with an account besides the OTP parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryMeta {
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub notes: String,
    /// A reference to an icon (a name or an URL), not the image.
    #[serde(default)]
    pub icon: Option<String>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct RecordV1 {
    issuer: Option<String>,
    label: String,
    secret: Zeroizing<String>,
    algorithm: Algorithm,
    digits: u8,
    kind: OtpKind,
    /// The PIN of a Yandex.Key or mOTP account, secret like `secret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pin: Option<Zeroizing<String>>,
    #[serde(flatten)]
    meta: EntryMeta,
}

impl RecordV1 {
    pub fn new(account: &Account, meta: &EntryMeta) -> RecordV1 {
        RecordV1 {
            issuer: account.issuer.clone(),
            label: account.label.clone(),
            secret: Zeroizing::new(account.secret.to_base32()),
            algorithm: account.params.algorithm(),
            digits: account.params.digits(),
            kind: account.params.kind(),
            pin: account
                .pin
                .as_ref()
                .map(|pin| Zeroizing::new(pin.expose().to_owned())),
            meta: meta.clone(),
        }
    }

    pub fn encode(account: &Account, meta: &EntryMeta) -> Zeroizing<Vec<u8>> {
        // Serialising plain strings and numbers cannot fail.
        Zeroizing::new(serde_json::to_vec(&RecordV1::new(account, meta)).unwrap_or_default())
    }

    pub fn decode(bytes: &[u8]) -> Option<(Account, EntryMeta)> {
        serde_json::from_slice::<RecordV1>(bytes)
            .ok()?
            .into_parts()
            .ok()
    }

    /// The account and metadata, or why they are invalid.
    pub fn into_parts(self) -> Result<(Account, EntryMeta), String> {
        let record = self;
        let params = match record.kind {
            OtpKind::Totp { period } => {
                OtpParameters::totp(record.algorithm, record.digits.into(), period)
            }
            OtpKind::Hotp { counter } => {
                OtpParameters::hotp(record.algorithm, record.digits.into(), counter)
            }
            OtpKind::Steam => Ok(OtpParameters::steam()),
            OtpKind::Yandex => Ok(OtpParameters::yandex()),
            OtpKind::Motp => Ok(OtpParameters::motp()),
        }
        .map_err(|e| e.to_string())?;
        let secret = Secret::from_base32(&record.secret).map_err(|e| e.to_string())?;
        let account = Account::new(record.issuer, record.label, secret, params);
        let account = match (params.kind().uses_pin(), record.pin.as_deref()) {
            (true, Some(pin)) => account.with_pin(Pin::new(pin).map_err(|e| e.to_string())?),
            (true, None) => return Err(format!("a {} record needs its PIN", params.kind().name())),
            // A PIN stored with a kind that does not use it is left out.
            (false, _) => account,
        };
        Ok((account, record.meta))
    }
}
