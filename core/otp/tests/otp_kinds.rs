//! Published vectors of the two kinds with a PIN: Yandex.Key and mOTP.
//!
//! Yandex.Key: the five vectors of Aegis's `app/src/test/java/com/beemdevelopment/aegis/
//! crypto/otp/YAOTPTest.java` (four of them first published by KeeYaOtp,
//! github.com/norblik/KeeYaOtp, and repeated in Authenticator Pro's `YandexOtpTest.cs`).
//! mOTP: the six vectors of Aegis's `…/crypto/otp/MOTPTest.java`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use countersign_otp::otp::{YandexSecretError, motp_code, yandex_code, yandex_secret};
use countersign_otp::otpauth::{self, UriError};
use countersign_otp::{Account, OtpKind, OtpParameters, Pin, Secret};

/// (PIN, 26-byte secret in base32, unix time, code) from YAOTPTest.java.
const YANDEX_VECTORS: [(&str, &str, u64, &str); 5] = [
    (
        "5239",
        "6SB2IKNM6OBZPAVBVTOHDKS4FAAAAAAADFUTQMBTRY",
        1641559648,
        "umozdicq",
    ),
    (
        "7586",
        "LA2V6KMCGYMWWVEW64RNP3JA3IAAAAAAHTSG4HRZPI",
        1581064020,
        "oactmacq",
    ),
    (
        "7586",
        "LA2V6KMCGYMWWVEW64RNP3JA3IAAAAAAHTSG4HRZPI",
        1581090810,
        "wemdwrix",
    ),
    (
        "5210481216086702",
        "JBGSAU4G7IEZG6OY4UAXX62JU4AAAAAAHTSG4HXU3M",
        1581091469,
        "dfrpywob",
    ),
    (
        "5210481216086702",
        "JBGSAU4G7IEZG6OY4UAXX62JU4AAAAAAHTSG4HXU3M",
        1581093059,
        "vunyprpd",
    ),
];

/// (unix time, code, PIN, secret in hex) from MOTPTest.java.
const MOTP_VECTORS: [(u64, &str, &str, &str); 6] = [
    (165892298, "e7d8b6", "1234", "e3152afee62599c8"),
    (123456789, "4ebfb2", "1234", "e3152afee62599c8"),
    (1659540020, "ced7b1", "9999", "bbb1912bb5c515be"),
    (1659540022, "ced7b1", "9999", "bbb1912bb5c515be"),
    (1659539870, "1a14f8", "9999", "bbb1912bb5c515be"),
    // The time step rounds down.
    (1659539878, "1a14f8", "9999", "bbb1912bb5c515be"),
];

fn yandex_account(secret_base32: &str, pin: &str) -> Account {
    let full = Secret::from_base32(secret_base32).unwrap();
    let secret = yandex_secret(full.expose()).unwrap();
    Account::new(
        Some("Yandex".into()),
        "alice",
        secret,
        OtpParameters::yandex(),
    )
    .with_pin(Pin::new(pin).unwrap())
}

fn motp_account(secret_hex: &str, pin: &str) -> Account {
    let secret = data_encoding::HEXLOWER
        .decode(secret_hex.as_bytes())
        .unwrap();
    Account::new(
        None,
        "bob",
        Secret::from_bytes(secret).unwrap(),
        OtpParameters::motp(),
    )
    .with_pin(Pin::new(pin).unwrap())
}

#[test]
fn yandex_published_vectors() {
    for (pin, secret, time, expected) in YANDEX_VECTORS {
        let account = yandex_account(secret, pin);
        assert_eq!(
            account.code_at(time).code.as_str(),
            expected,
            "{secret} at {time}"
        );
        let key = &account.secret;
        assert_eq!(yandex_code(key.expose(), pin, time / 30).as_str(), expected);
    }
}

#[test]
fn yandex_codes_change_with_the_pin_and_last_30_seconds() {
    let (pin, secret, time, expected) = YANDEX_VECTORS[1];
    let account = yandex_account(secret, pin);
    let timed = account.code_at(time);
    assert_eq!(timed.step, time / 30);
    assert_eq!(timed.seconds_remaining, Some(30 - (time % 30) as u32));
    let other_pin = yandex_account(secret, "7587");
    assert_ne!(other_pin.code_at(time).code.as_str(), expected);
}

#[test]
fn yandex_codes_verify_in_any_case() {
    let (pin, secret, time, expected) = YANDEX_VECTORS[2];
    let account = yandex_account(secret, pin);
    let window = countersign_otp::otp::Window::symmetric(1);
    assert!(account.verify_totp(expected, time, window, None).is_some());
    let shouted = expected.to_ascii_uppercase();
    assert!(account.verify_totp(&shouted, time, window, None).is_some());
    assert!(
        account
            .verify_totp("aaaaaaaa", time, window, None)
            .is_none()
    );
}

#[test]
fn yandex_secret_needs_16_or_26_bytes_and_a_valid_checksum() {
    assert_eq!(
        yandex_secret(&[1u8; 10]).unwrap_err(),
        YandexSecretError::Length(10)
    );
    let mut full = Secret::from_base32(YANDEX_VECTORS[1].1)
        .unwrap()
        .expose()
        .to_vec();
    full[3] ^= 0x80;
    assert_eq!(
        yandex_secret(&full).unwrap_err(),
        YandexSecretError::Checksum
    );
}

#[test]
fn motp_published_vectors() {
    for (time, expected, pin, secret) in MOTP_VECTORS {
        let account = motp_account(secret, pin);
        assert_eq!(
            account.code_at(time).code.as_str(),
            expected,
            "{secret} at {time}"
        );
        let key = data_encoding::HEXLOWER.decode(secret.as_bytes()).unwrap();
        assert_eq!(motp_code(&key, pin, time / 10).as_str(), expected);
    }
}

#[test]
fn motp_parameters_are_fixed() {
    let account = motp_account(MOTP_VECTORS[0].3, "1234");
    assert_eq!(account.params.kind(), OtpKind::Motp);
    assert_eq!(account.params.period(), Some(10));
    assert_eq!(account.params.digits(), 6);
    assert_eq!(account.params.algorithm_name(), "MD5");
    assert_eq!(account.code_at(123456789).seconds_remaining, Some(1));
    let yandex = OtpParameters::yandex();
    assert_eq!(
        (yandex.period(), yandex.digits(), yandex.algorithm_name()),
        (Some(30), 8, "SHA256")
    );
}

#[test]
fn without_its_pin_an_account_makes_no_code() {
    let (time, _, _, secret) = MOTP_VECTORS[0];
    let mut account = motp_account(secret, "1234");
    account.pin = None;
    assert!(account.code_at(time).code.is_empty());
    let window = countersign_otp::otp::Window::symmetric(1);
    assert!(account.verify_totp("", time, window, None).is_none());
}

#[test]
fn pins_stay_out_of_debug_output() {
    let account = motp_account(MOTP_VECTORS[2].3, "9999");
    let shown = format!("{account:?}");
    assert!(!shown.contains("9999"), "{shown}");
}

#[test]
fn aegis_yaotp_uri_reads_and_round_trips() {
    // Aegis's form: secret in base32, the PIN as base32 of its UTF-8 ("7586" → "G42TQNQ").
    let (pin, secret, time, expected) = YANDEX_VECTORS[1];
    let uri = format!("otpauth://yaotp/alice?secret={secret}&pin=G42TQNQ&issuer=Yandex");
    let account = otpauth::parse(&uri).unwrap().account;
    assert_eq!(account.params.kind(), OtpKind::Yandex);
    assert_eq!(account.pin.as_ref().unwrap().expose(), pin);
    assert_eq!(account.secret.expose().len(), 16);
    assert_eq!(account.code_at(time).code.as_str(), expected);
    let again = otpauth::parse(&otpauth::to_uri(&account)).unwrap().account;
    assert_eq!(again, account);
    assert!(otpauth::to_uri(&account).contains("pin=G42TQNQ"));
}

#[test]
fn motp_uri_reads_and_round_trips() {
    let (time, expected, pin, secret) = MOTP_VECTORS[0];
    let uri = format!(
        "motp://Example:bob?secret={}&pin={pin}",
        secret.to_uppercase()
    );
    let account = otpauth::parse(&uri).unwrap().account;
    assert_eq!(account.params.kind(), OtpKind::Motp);
    assert_eq!(account.issuer.as_deref(), Some("Example"));
    assert_eq!(account.label, "bob");
    assert_eq!(account.code_at(time).code.as_str(), expected);
    let written = otpauth::to_uri(&account);
    assert!(
        written.starts_with(&format!("motp://Example:bob?secret={secret}")),
        "{written}"
    );
    assert_eq!(otpauth::parse(&written).unwrap().account, account);
}

#[test]
fn uris_without_a_pin_or_with_a_bad_secret_are_refused() {
    let secret = YANDEX_VECTORS[1].1;
    assert!(matches!(
        otpauth::parse(&format!("otpauth://yaotp/a?secret={secret}")),
        Err(UriError::MissingPin { .. })
    ));
    assert!(matches!(
        otpauth::parse("motp://a?secret=e3152afee62599c8"),
        Err(UriError::MissingPin { .. })
    ));
    assert!(matches!(
        otpauth::parse("motp://a?secret=xyz&pin=1234"),
        Err(UriError::InvalidHexSecret)
    ));
    assert!(matches!(
        otpauth::parse("otpauth://yaotp/a?secret=JBSWY3DPEHPK3PXP&pin=G42TQNQ"),
        Err(UriError::InvalidYandexSecret(YandexSecretError::Length(10)))
    ));
    assert!(matches!(
        otpauth::parse(&format!("otpauth://yaotp/a?secret={secret}&pin=1234")),
        Err(UriError::InvalidPinEncoding)
    ));
}

#[test]
fn otpauth_motp_form_takes_a_base32_secret() {
    let (time, expected, pin, secret) = MOTP_VECTORS[1];
    let bytes = data_encoding::HEXLOWER.decode(secret.as_bytes()).unwrap();
    let base32 = data_encoding::BASE32_NOPAD.encode(&bytes);
    let uri = format!("otpauth://motp/bob?secret={base32}&pin={pin}");
    let account = otpauth::parse(&uri).unwrap().account;
    assert_eq!(account.code_at(time).code.as_str(), expected);
}
