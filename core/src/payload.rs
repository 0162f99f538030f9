//! Payload classification: what a scanned or pasted text is, decided in one place.
//!
//! The scanner, the bindings' `add_from_uri` and the CLI's `vault add` all ask "is this an
//! `otpauth://` account or a Google Authenticator export part?"; they ask [`kind_of`], so a
//! text is never an account to one caller and an export to another. The rule: the scheme
//! (the text before the first `://`, leading whitespace ignored, any case) names the kind.

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

/// The kind a text's scheme names, without parsing the rest: the scheme is the text before
/// the first `://` (leading whitespace ignored), compared in any case.
pub fn kind_of(text: &str) -> PayloadKind {
    let Some((scheme, _)) = text.trim_start().split_once("://") else {
        return PayloadKind::Text;
    };
    [
        ("otpauth", PayloadKind::Account),
        ("otpauth-migration", PayloadKind::MigrationBatch),
        ("txotp", PayloadKind::Transaction),
        ("countersign", PayloadKind::DeviceRegistration),
    ]
    .into_iter()
    .find(|(known, _)| scheme.eq_ignore_ascii_case(known))
    .map_or(PayloadKind::Text, |(_, kind)| kind)
}

/// Classifies by [`kind_of`], then parses with that kind's parser.
pub fn classify(text: &str) -> Payload {
    let trimmed = text.trim_start();
    let malformed = |kind, reason: String| Payload::Malformed { kind, reason };
    match kind_of(trimmed) {
        PayloadKind::Account => match otpauth::parse(trimmed) {
            Ok(parsed) => Payload::Account(Box::new(parsed)),
            Err(error) => malformed(PayloadKind::Account, error.to_string()),
        },
        PayloadKind::MigrationBatch => match migration::decode(trimmed) {
            Ok(batch) => Payload::MigrationBatch(batch),
            Err(error) => malformed(PayloadKind::MigrationBatch, error.to_string()),
        },
        PayloadKind::Transaction => match txotp::parse(trimmed) {
            Ok(parsed) => Payload::Transaction(parsed),
            Err(error) => malformed(PayloadKind::Transaction, error.to_string()),
        },
        PayloadKind::DeviceRegistration => match RegistrationLink::parse(trimmed) {
            Ok(link) => Payload::DeviceRegistration(link),
            Err(error) => malformed(PayloadKind::DeviceRegistration, error.to_string()),
        },
        PayloadKind::Text => Payload::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_of_reads_the_scheme_only() {
        assert_eq!(kind_of("otpauth://totp/x"), PayloadKind::Account);
        assert_eq!(
            kind_of("  OTPAUTH-MIGRATION://offline?data=%%%"),
            PayloadKind::MigrationBatch
        );
        assert_eq!(kind_of("\tTxOtP://totp"), PayloadKind::Transaction);
        assert_eq!(kind_of("countersign://x"), PayloadKind::DeviceRegistration);
        // The scheme ends at the first "://": a prefix of a known one is not that kind.
        assert_eq!(kind_of("otpauth-migrationx://offline"), PayloadKind::Text);
        assert_eq!(kind_of("xotpauth://totp/x"), PayloadKind::Text);
        assert_eq!(kind_of("otpauth-migration:offline"), PayloadKind::Text);
        assert_eq!(kind_of("https://otpauth://"), PayloadKind::Text);
        assert_eq!(kind_of(""), PayloadKind::Text);
    }

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
