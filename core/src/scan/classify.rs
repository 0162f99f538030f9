//! What a scanned text is: the payload kinds an authenticator acts on.

use crate::device::RegistrationLink;
use crate::migration::{self, MigrationBatch};
use crate::otpauth::{self, ParsedAccount};
use crate::txotp::{self, ParsedTransaction};

/// The kind of a scanned payload, also named when the payload is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadKind {
    /// `otpauth://` — one account to enroll.
    Account,
    /// `otpauth-migration://offline` — one QR code of a Google Authenticator export.
    MigrationBatch,
    /// `txotp://totp` — a transaction to confirm with a transactional code.
    Transaction,
    /// `countersign://register` — a bank's device-registration link.
    DeviceRegistration,
    /// Anything else.
    Text,
}

impl PayloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PayloadKind::Account => "account",
            PayloadKind::MigrationBatch => "migration_batch",
            PayloadKind::Transaction => "transaction",
            PayloadKind::DeviceRegistration => "device_registration",
            PayloadKind::Text => "text",
        }
    }
}

/// A scanned payload, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    Account(Box<ParsedAccount>),
    /// The batch carries its index and size so the app can ask for the remaining codes.
    MigrationBatch(MigrationBatch),
    Transaction(ParsedTransaction),
    DeviceRegistration(RegistrationLink),
    Text,
    /// The scheme names a known kind but the content does not parse; `reason` says why
    /// (it never echoes a secret).
    Malformed {
        kind: PayloadKind,
        reason: String,
    },
}

impl Payload {
    pub fn kind(&self) -> PayloadKind {
        match self {
            Payload::Account(_) => PayloadKind::Account,
            Payload::MigrationBatch(_) => PayloadKind::MigrationBatch,
            Payload::Transaction(_) => PayloadKind::Transaction,
            Payload::DeviceRegistration(_) => PayloadKind::DeviceRegistration,
            Payload::Text => PayloadKind::Text,
            Payload::Malformed { kind, .. } => *kind,
        }
    }
}

/// Classifies by scheme (case-insensitive), then parses with that kind's parser.
pub fn classify(text: &str) -> Payload {
    let trimmed = text.trim_start();
    let scheme = trimmed
        .split_once("://")
        .map(|(scheme, _)| scheme.to_ascii_lowercase());
    let malformed = |kind, reason: String| Payload::Malformed { kind, reason };
    match scheme.as_deref() {
        Some("otpauth") => match otpauth::parse(trimmed) {
            Ok(parsed) => Payload::Account(Box::new(parsed)),
            Err(error) => malformed(PayloadKind::Account, error.to_string()),
        },
        Some("otpauth-migration") => match migration::decode(trimmed) {
            Ok(batch) => Payload::MigrationBatch(batch),
            Err(error) => malformed(PayloadKind::MigrationBatch, error.to_string()),
        },
        Some("txotp") => match txotp::parse(trimmed) {
            Ok(parsed) => Payload::Transaction(parsed),
            Err(error) => malformed(PayloadKind::Transaction, error.to_string()),
        },
        Some("countersign") => match RegistrationLink::parse(trimmed) {
            Ok(link) => Payload::DeviceRegistration(link),
            Err(error) => malformed(PayloadKind::DeviceRegistration, error.to_string()),
        },
        _ => Payload::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scheme_goes_to_its_parser() {
        let kind = |text: &str| classify(text).kind();
        assert_eq!(
            kind("otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP&issuer=A"),
            PayloadKind::Account
        );
        assert_eq!(
            kind("OTPAUTH://TOTP/A:b?secret=JBSWY3DPEHPK3PXP"),
            PayloadKind::Account
        );
        assert_eq!(
            kind("txotp://totp?message=Pay&details[Amount]=1.00%20EUR"),
            PayloadKind::Transaction
        );
        assert_eq!(
            kind("countersign://register?v=1&server=aHR0cHM6Ly94&code=AB"),
            PayloadKind::DeviceRegistration
        );
        assert_eq!(kind("https://example.com"), PayloadKind::Text);
        assert_eq!(kind("hello"), PayloadKind::Text);
        match classify("otpauth://totp/A:b?issuer=A") {
            Payload::Malformed { kind, reason } => {
                assert_eq!(kind, PayloadKind::Account);
                assert!(reason.contains("secret"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify("otpauth-migration://offline?data=%%%"),
            Payload::Malformed {
                kind: PayloadKind::MigrationBatch,
                ..
            }
        ));
    }
}
