//! `otpauth://` parsing rules, typed errors and the emit → parse round trip.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use countersign_otp::otp::Algorithm;
use countersign_otp::otpauth::{self, UriError, Warning};
use countersign_otp::secret::SecretError;
use countersign_otp::{Account, OtpKind, OtpParameters, Secret};
use proptest::prelude::*;

fn parse(uri: &str) -> otpauth::ParsedAccount {
    otpauth::parse(uri).unwrap_or_else(|e| panic!("{uri}: {e}"))
}

#[test]
fn google_example_with_defaults() {
    let parsed =
        parse("otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example");
    let a = &parsed.account;
    assert_eq!(a.issuer.as_deref(), Some("Example"));
    assert_eq!(a.label, "alice@google.com");
    assert_eq!(a.params, OtpParameters::default_totp());
    assert_eq!(a.secret.expose(), b"Hello!\xde\xad\xbe\xef");
    // 80 bits: accepted, with a warning.
    assert_eq!(parsed.warnings, vec![Warning::WeakSecret { bits: 80 }]);
}

#[test]
fn lenient_base32_and_percent_encoded_labels() {
    let a = parse("OTPAUTH://TOTP/ACME%20Co%3Ajohn.doe%40email.com?secret=jbsw%20y3dp%20ehpk%203pxp%3D%3D%3D%3D&issuer=ACME%20Co&algorithm=sha256&digits=8&period=60").account;
    assert_eq!(a.issuer.as_deref(), Some("ACME Co"));
    assert_eq!(a.label, "john.doe@email.com");
    assert_eq!(a.secret.to_base32(), "JBSWY3DPEHPK3PXP");
    assert_eq!(
        a.params,
        OtpParameters::totp(Algorithm::Sha256, 8, 60).unwrap()
    );
    // A space after the colon, and the issuer only in the label.
    let a = parse("otpauth://totp/Example:%20alice?secret=JBSWY3DPEHPK3PXP").account;
    assert_eq!(
        (a.issuer.as_deref(), a.label.as_str()),
        (Some("Example"), "alice")
    );
    // No issuer at all.
    let a = parse("otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP").account;
    assert_eq!((a.issuer, a.label.as_str()), (None, "alice"));
}

#[test]
fn issuer_parameter_wins_over_a_disagreeing_label() {
    let parsed = parse(
        "otpauth://totp/Old%20Name:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=New%20Name",
    );
    assert_eq!(parsed.account.issuer.as_deref(), Some("New Name"));
    assert_eq!(parsed.account.label, "alice");
    assert_eq!(
        parsed.warnings,
        vec![Warning::IssuerMismatch {
            label_issuer: "Old Name".into(),
            parameter_issuer: "New Name".into()
        }]
    );
    // Agreement up to case is not a mismatch.
    let parsed = parse(
        "otpauth://totp/example:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Example",
    );
    assert!(parsed.warnings.is_empty());
}

#[test]
fn hotp_needs_a_counter() {
    let a = parse("otpauth://hotp/Bank:bob?secret=JBSWY3DPEHPK3PXP&counter=42&digits=7").account;
    assert_eq!(
        a.params,
        OtpParameters::hotp(Algorithm::Sha1, 7, 42).unwrap()
    );
    assert_eq!(
        otpauth::parse("otpauth://hotp/Bank:bob?secret=JBSWY3DPEHPK3PXP"),
        Err(UriError::MissingCounter)
    );
    assert!(matches!(
        otpauth::parse("otpauth://hotp/Bank:bob?secret=JBSWY3DPEHPK3PXP&counter=-1"),
        Err(UriError::InvalidCounter { .. })
    ));
}

#[test]
fn steam_by_type_issuer_or_encoder() {
    for uri in [
        "otpauth://steam/Steam:gaben?secret=JBSWY3DPEHPK3PXP",
        "otpauth://totp/Steam:gaben?secret=JBSWY3DPEHPK3PXP&issuer=Steam",
        "otpauth://totp/gaben?secret=JBSWY3DPEHPK3PXP&issuer=steam&digits=5",
        "otpauth://totp/Valve:gaben?secret=JBSWY3DPEHPK3PXP&encoder=steam",
    ] {
        assert_eq!(parse(uri).account.params.kind(), OtpKind::Steam, "{uri}");
    }
    // Issuer "Steam" with an explicit 6 digits stays ordinary TOTP.
    let a = parse("otpauth://totp/Steam:gaben?secret=JBSWY3DPEHPK3PXP&digits=6").account;
    assert_eq!(a.params.kind(), OtpKind::Totp { period: 30 });
}

#[test]
fn every_malformed_uri_has_its_own_error() {
    type Expectation = fn(&UriError) -> bool;
    let cases: Vec<(&str, Expectation)> = vec![
        ("alice?secret=JBSWY3DPEHPK3PXP", |e| *e == UriError::NotAUri),
        ("https://totp/a?secret=JBSWY3DPEHPK3PXP", |e| {
            matches!(e, UriError::WrongScheme { .. })
        }),
        ("otpauth://yubikey/a?secret=JBSWY3DPEHPK3PXP", |e| {
            matches!(e, UriError::UnsupportedType { .. })
        }),
        ("otpauth://motp/a?secret=JBSWY3DPEHPK3PXP", |e| {
            matches!(e, UriError::MissingPin { .. })
        }),
        ("otpauth://totp/a?issuer=X", |e| {
            *e == UriError::MissingSecret
        }),
        ("otpauth://totp/a?secret=", |e| {
            *e == UriError::InvalidSecret(SecretError::Empty)
        }),
        ("otpauth://totp/a?secret=JBSWY3DP1HPK3PXP", |e| {
            *e == UriError::InvalidSecret(SecretError::InvalidCharacter { position: 8 })
        }),
        ("otpauth://totp/a?secret=JBSWY3", |e| {
            matches!(
                e,
                UriError::InvalidSecret(SecretError::InvalidLength { .. })
            )
        }),
        (
            "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&algorithm=MD5",
            |e| matches!(e, UriError::UnsupportedAlgorithm { .. }),
        ),
        ("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=six", |e| {
            matches!(e, UriError::InvalidDigits { .. })
        }),
        ("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=5", |e| {
            matches!(e, UriError::InvalidParameters(_))
        }),
        ("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=11", |e| {
            matches!(e, UriError::InvalidParameters(_))
        }),
        ("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=0", |e| {
            matches!(e, UriError::InvalidPeriod { .. })
        }),
        ("otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=-30", |e| {
            matches!(e, UriError::InvalidPeriod { .. })
        }),
        ("otpauth://totp/a%FF?secret=JBSWY3DPEHPK3PXP", |e| {
            *e == UriError::InvalidLabelEncoding
        }),
        (
            "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&secret=JBSWY3DPEHPK3PXP",
            |e| matches!(e, UriError::DuplicateParameter { .. }),
        ),
    ];
    for (uri, expected) in cases {
        let error = otpauth::parse(uri).expect_err(uri);
        assert!(expected(&error), "{uri}: got {error:?}");
    }
    let long = format!(
        "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&issuer={}",
        "x".repeat(otpauth::MAX_URI_LEN)
    );
    assert_eq!(otpauth::parse(&long), Err(UriError::TooLong));
    let long_label = format!("otpauth://totp/{}?secret=JBSWY3DPEHPK3PXP", "x".repeat(600));
    assert_eq!(
        otpauth::parse(&long_label),
        Err(UriError::FieldTooLong {
            field: "account name"
        })
    );
    let long_issuer = format!(
        "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&issuer={}",
        "x".repeat(600)
    );
    assert_eq!(
        otpauth::parse(&long_issuer),
        Err(UriError::FieldTooLong { field: "issuer" })
    );
}

/// Found by the otpauth fuzz target: a label of 4,000 NUL bytes parsed, but its emitted
/// URI (each byte now `%00`) was refused as too long.
#[test]
fn the_largest_accepted_account_can_be_written_back() {
    let nul_label = "\0".repeat(otpauth::MAX_FIELD_BYTES);
    let issuer = "\u{1F600}".repeat(otpauth::MAX_FIELD_BYTES / 4);
    let secret = "A".repeat(1632); // 1020 bytes, near the 1024-byte cap
    let uri = format!("otpauth://totp/{issuer}:{nul_label}?secret={secret}&issuer={issuer}");
    let parsed = parse(&uri);
    assert_eq!(
        parse(&otpauth::to_uri(&parsed.account)).account,
        parsed.account
    );
}

#[test]
fn errors_never_contain_the_secret() {
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    for uri in [
        format!("otpauth://totp/a?secret={secret}&algorithm=MD5"),
        format!("otpauth://totp/a?secret={secret}&digits=99"),
        format!("otpauth://hotp/a?secret={secret}"),
        format!("otpauth://totp/a?secret={secret}1"),
    ] {
        let error = otpauth::parse(&uri).unwrap_err();
        assert!(!error.to_string().contains(secret) && !format!("{error:?}").contains(secret));
    }
    let account = parse(&format!("otpauth://totp/a?secret={secret}")).account;
    assert!(!format!("{account:?}").contains(secret));
}

#[test]
fn ignored_parameters_are_reported() {
    let parsed = parse(
        "otpauth://totp/a?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&image=https%3A%2F%2Fx%2Fy.png",
    );
    assert_eq!(
        parsed.warnings,
        vec![Warning::IgnoredParameter {
            name: "image".into()
        }]
    );
}

fn arb_text() -> impl Strategy<Value = String> {
    // Any Unicode, including ':', '%', '&', '=', '?', '#', '+' and spaces inside; trimmed,
    // since surrounding spaces are not significant in a label.
    "\\PC{1,40}"
        .prop_map(|s| s.trim().to_owned())
        .prop_filter("non-empty", |s| !s.is_empty())
}

fn arb_account() -> impl Strategy<Value = Account> {
    let params = prop_oneof![
        (0usize..3, 6u32..=10, 1u32..=600).prop_map(|(a, d, p)| OtpParameters::totp(
            Algorithm::ALL[a],
            d,
            p
        )
        .unwrap()),
        (0usize..3, 6u32..=10, any::<u64>()).prop_map(|(a, d, c)| OtpParameters::hotp(
            Algorithm::ALL[a],
            d,
            c
        )
        .unwrap()),
        Just(OtpParameters::steam()),
    ];
    (
        proptest::option::of(arb_text()),
        arb_text(),
        proptest::collection::vec(any::<u8>(), 1..64),
        params,
    )
        .prop_map(|(issuer, label, secret, params)| {
            Account::new(issuer, label, Secret::from_bytes(secret).unwrap(), params)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn emit_then_parse_returns_the_same_account(account in arb_account()) {
        let uri = otpauth::to_uri(&account);
        let parsed = otpauth::parse(&uri).map_err(|e| TestCaseError::fail(format!("{uri}: {e}")))?;
        prop_assert_eq!(parsed.account, account);
    }
}
