//! Arbitrary input never panics any parser: it is accepted or gets a typed error. The
//! cargo-fuzz targets in core/fuzz explore the same entry points with coverage guidance.

use countersign_core::migration;
use countersign_core::ocra::Suite;
use countersign_core::{Secret, otpauth, txotp};
use proptest::prelude::*;

fn uri_like(scheme: &'static str) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("secret=".to_owned()),
        Just("JBSWY3DPEHPK3PXP".to_owned()),
        Just("&".to_owned()),
        Just("=".to_owned()),
        Just("%".to_owned()),
        Just("%3A".to_owned()),
        Just(":".to_owned()),
        Just("details[".to_owned()),
        Just("]".to_owned()),
        Just("message=".to_owned()),
        Just("data=".to_owned()),
        Just("CjEKCkhl".to_owned()),
        Just("+".to_owned()),
        Just("digits=".to_owned()),
        Just("counter=".to_owned()),
        Just("period=".to_owned()),
        Just("?".to_owned()),
        Just("/".to_owned()),
        Just("issuer=".to_owned()),
        "\\PC{0,6}",
        "[0-9]{1,25}",
    ];
    proptest::collection::vec(piece, 0..40)
        .prop_map(move |parts| format!("{scheme}{}", parts.concat()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn otpauth_parse_never_panics(text in uri_like("otpauth://totp/")) {
        let _ = otpauth::parse(&text);
    }

    #[test]
    fn hotp_parse_never_panics(text in uri_like("otpauth://hotp/")) {
        let _ = otpauth::parse(&text);
    }

    #[test]
    fn migration_decode_never_panics(text in uri_like("otpauth-migration://offline?")) {
        let _ = migration::decode(&text);
    }

    #[test]
    fn migration_payload_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        use base64::Engine;
        let text = base64::engine::general_purpose::STANDARD.encode(&bytes);
        let _ = migration::decode(&format!("otpauth-migration://offline?data={text}"));
    }

    #[test]
    fn txotp_parse_never_panics(text in uri_like("txotp://totp?")) {
        let _ = txotp::parse(&text);
    }

    #[test]
    fn arbitrary_strings_never_panic(text in "\\PC{0,200}") {
        let _ = otpauth::parse(&text);
        let _ = migration::decode(&text);
        let _ = txotp::parse(&text);
        let _ = Secret::from_base32(&text);
        let _ = Suite::parse(&text);
    }
}
