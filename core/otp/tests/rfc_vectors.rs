//! Published test vectors: RFC 4226 appendix D, RFC 6238 appendix B, RFC 6287 appendix C.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use countersign_otp::ocra::{Inputs, Suite};
use countersign_otp::otp::{Algorithm, hotp_code};
use countersign_otp::{Account, OtpParameters, Secret, otpauth};

const SEED_20: &[u8] = b"12345678901234567890";
const SEED_32: &[u8] = b"12345678901234567890123456789012";
const SEED_64: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

#[test]
fn rfc4226_appendix_d() {
    let expected = [
        "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
        "520489",
    ];
    for (counter, code) in expected.iter().enumerate() {
        assert_eq!(
            hotp_code(Algorithm::Sha1, SEED_20, counter as u64, 6).as_str(),
            *code,
            "counter {counter}"
        );
    }
    // The same through an enrolled account read from a URI.
    let secret = Secret::from_bytes(SEED_20.to_vec()).unwrap();
    let uri = format!(
        "otpauth://hotp/Example:alice?secret={}&counter=7",
        secret.to_base32()
    );
    let account = otpauth::parse(&uri).unwrap().account;
    assert_eq!(account.code_at(0).code.as_str(), "162583");
}

#[test]
fn rfc6238_appendix_b_all_hashes() {
    // (unix time, SHA-1, SHA-256, SHA-512), 8 digits, 30-second steps.
    let table = [
        (59u64, "94287082", "46119246", "90693936"),
        (1111111109, "07081804", "68084774", "25091201"),
        (1111111111, "14050471", "67062674", "99943326"),
        (1234567890, "89005924", "91819424", "93441116"),
        (2000000000, "69279037", "90698825", "38618901"),
        (20000000000, "65353130", "77737706", "47863826"),
    ];
    let accounts = [
        (Algorithm::Sha1, SEED_20),
        (Algorithm::Sha256, SEED_32),
        (Algorithm::Sha512, SEED_64),
    ]
    .map(|(algorithm, seed)| {
        Account::new(
            None,
            "rfc6238",
            Secret::from_bytes(seed.to_vec()).unwrap(),
            OtpParameters::totp(algorithm, 8, 30).unwrap(),
        )
    });
    for (time, sha1, sha256, sha512) in table {
        for (account, expected) in accounts.iter().zip([sha1, sha256, sha512]) {
            let code = account.code_at(time);
            assert_eq!(
                code.code.as_str(),
                expected,
                "{:?} at {time}",
                account.params.algorithm()
            );
            assert_eq!(code.step, time / 30);
            // And verification finds exactly that step.
            let found = account
                .verify_totp(expected, time, Default::default(), None)
                .expect("the RFC code verifies");
            assert_eq!((found.step, found.offset), (time / 30, 0));
        }
    }
}

fn hex(text: &str) -> Vec<u8> {
    data_encoding::HEXLOWER_PERMISSIVE
        .decode(text.as_bytes())
        .unwrap()
}

/// PIN "1234" hashed with SHA-1, as RFC 6287 appendix C uses it.
const PIN_SHA1: &str = "7110eda4d09e062aa5e4a390b0a572ac0d2c0220";
/// 2008-03-25 12:06:30 UTC in minutes: the time of the RFC's T1M vectors.
const T_MINUTES: u64 = 0x132d0b6;

struct Vector {
    suite: &'static str,
    key: &'static [u8],
    counter: Option<u64>,
    challenge: &'static str,
    pin: bool,
    time: bool,
    expected: &'static str,
}

fn check(v: &Vector) {
    let suite = Suite::parse(v.suite).unwrap();
    let pin = hex(PIN_SHA1);
    let inputs = Inputs {
        counter: v.counter,
        challenge: v.challenge,
        pin_hash: v.pin.then_some(pin.as_slice()),
        session: None,
        time_steps: v.time.then_some(T_MINUTES),
    };
    let code = suite.compute(v.key, &inputs).unwrap();
    assert_eq!(
        code.as_str(),
        v.expected,
        "{} challenge {}",
        v.suite,
        v.challenge
    );
}

fn v(
    suite: &'static str,
    key: &'static [u8],
    counter: Option<u64>,
    challenge: &'static str,
    expected: &'static str,
) -> Vector {
    Vector {
        suite,
        key,
        counter,
        challenge,
        pin: suite.contains("PSHA1"),
        time: suite.contains("-T"),
        expected,
    }
}

#[test]
fn rfc6287_appendix_c_one_way() {
    let q = [
        "00000000", "11111111", "22222222", "33333333", "44444444", "55555555", "66666666",
        "77777777", "88888888", "99999999",
    ];
    let sha1_qn08 = [
        "237653", "243178", "653583", "740991", "608993", "388898", "816933", "224598", "750600",
        "294470",
    ];
    for (challenge, expected) in q.iter().zip(sha1_qn08) {
        check(&v(
            "OCRA-1:HOTP-SHA1-6:QN08",
            SEED_20,
            None,
            challenge,
            expected,
        ));
    }
    let c_qn08_psha1 = [
        "65347737", "86775851", "78192410", "71565254", "10104329", "65983500", "70069104",
        "91771096", "75011558", "08522129",
    ];
    for (counter, expected) in c_qn08_psha1.iter().enumerate() {
        check(&v(
            "OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1",
            SEED_32,
            Some(counter as u64),
            "12345678",
            expected,
        ));
    }
    let qn08_psha1 = ["83238735", "01501458", "17957585", "86776967", "86807031"];
    for (challenge, expected) in q.iter().zip(qn08_psha1) {
        check(&v(
            "OCRA-1:HOTP-SHA256-8:QN08-PSHA1",
            SEED_32,
            None,
            challenge,
            expected,
        ));
    }
    let c_qn08 = [
        "07016083", "63947962", "70123924", "25341727", "33203315", "34205738", "44343969",
        "51946085", "20403879", "31409299",
    ];
    for (counter, (challenge, expected)) in q.iter().zip(c_qn08).enumerate() {
        check(&v(
            "OCRA-1:HOTP-SHA512-8:C-QN08",
            SEED_64,
            Some(counter as u64),
            challenge,
            expected,
        ));
    }
    // Time-based.
    let qn08_t1m = ["95209754", "55907591", "22048402", "24218844", "36209546"];
    for (challenge, expected) in q.iter().zip(qn08_t1m) {
        check(&v(
            "OCRA-1:HOTP-SHA512-8:QN08-T1M",
            SEED_64,
            None,
            challenge,
            expected,
        ));
    }
}

#[test]
fn rfc6287_appendix_c_mutual_and_signature() {
    let cases: &[(&str, &[u8], &str, &str)] = &[
        (
            "OCRA-1:HOTP-SHA256-8:QA08",
            SEED_32,
            "CLI22220SRV11110",
            "28247970",
        ),
        (
            "OCRA-1:HOTP-SHA256-8:QA08",
            SEED_32,
            "CLI22221SRV11111",
            "01984843",
        ),
        (
            "OCRA-1:HOTP-SHA256-8:QA08",
            SEED_32,
            "CLI22222SRV11112",
            "65387857",
        ),
        (
            "OCRA-1:HOTP-SHA256-8:QA08",
            SEED_32,
            "CLI22223SRV11113",
            "03351211",
        ),
        (
            "OCRA-1:HOTP-SHA256-8:QA08",
            SEED_32,
            "CLI22224SRV11114",
            "83412541",
        ),
        (
            "OCRA-1:HOTP-SHA256-8:QA08",
            SEED_32,
            "SRV11110CLI22220",
            "15510767",
        ),
        (
            "OCRA-1:HOTP-SHA256-8:QA08",
            SEED_32,
            "SRV11111CLI22221",
            "90175646",
        ),
        (
            "OCRA-1:HOTP-SHA256-8:QA08",
            SEED_32,
            "SRV11112CLI22222",
            "33777207",
        ),
        (
            "OCRA-1:HOTP-SHA256-8:QA08",
            SEED_32,
            "SRV11113CLI22223",
            "95285278",
        ),
        (
            "OCRA-1:HOTP-SHA256-8:QA08",
            SEED_32,
            "SRV11114CLI22224",
            "28934924",
        ),
        (
            "OCRA-1:HOTP-SHA512-8:QA08",
            SEED_64,
            "CLI22220SRV11110",
            "79496648",
        ),
        (
            "OCRA-1:HOTP-SHA512-8:QA08",
            SEED_64,
            "CLI22221SRV11111",
            "76831980",
        ),
        (
            "OCRA-1:HOTP-SHA512-8:QA08",
            SEED_64,
            "CLI22222SRV11112",
            "12250499",
        ),
        (
            "OCRA-1:HOTP-SHA512-8:QA08",
            SEED_64,
            "CLI22223SRV11113",
            "90856481",
        ),
        (
            "OCRA-1:HOTP-SHA512-8:QA08",
            SEED_64,
            "CLI22224SRV11114",
            "12761449",
        ),
        (
            "OCRA-1:HOTP-SHA512-8:QA08-PSHA1",
            SEED_64,
            "SRV11110CLI22220",
            "18806276",
        ),
        (
            "OCRA-1:HOTP-SHA512-8:QA08-PSHA1",
            SEED_64,
            "SRV11111CLI22221",
            "70020315",
        ),
        (
            "OCRA-1:HOTP-SHA512-8:QA08-PSHA1",
            SEED_64,
            "SRV11112CLI22222",
            "01600026",
        ),
        (
            "OCRA-1:HOTP-SHA512-8:QA08-PSHA1",
            SEED_64,
            "SRV11113CLI22223",
            "18951020",
        ),
        (
            "OCRA-1:HOTP-SHA512-8:QA08-PSHA1",
            SEED_64,
            "SRV11114CLI22224",
            "32528969",
        ),
        // Plain signature.
        ("OCRA-1:HOTP-SHA256-8:QA08", SEED_32, "SIG10000", "53095496"),
        ("OCRA-1:HOTP-SHA256-8:QA08", SEED_32, "SIG11000", "04110475"),
        ("OCRA-1:HOTP-SHA256-8:QA08", SEED_32, "SIG12000", "31331128"),
        ("OCRA-1:HOTP-SHA256-8:QA08", SEED_32, "SIG13000", "76028668"),
        ("OCRA-1:HOTP-SHA256-8:QA08", SEED_32, "SIG14000", "46554205"),
        (
            "OCRA-1:HOTP-SHA512-8:QA10-T1M",
            SEED_64,
            "SIG1000000",
            "77537423",
        ),
        (
            "OCRA-1:HOTP-SHA512-8:QA10-T1M",
            SEED_64,
            "SIG1100000",
            "31970405",
        ),
        (
            "OCRA-1:HOTP-SHA512-8:QA10-T1M",
            SEED_64,
            "SIG1200000",
            "10235557",
        ),
        (
            "OCRA-1:HOTP-SHA512-8:QA10-T1M",
            SEED_64,
            "SIG1300000",
            "95213541",
        ),
        (
            "OCRA-1:HOTP-SHA512-8:QA10-T1M",
            SEED_64,
            "SIG1400000",
            "65360607",
        ),
    ];
    for (suite, key, challenge, expected) in cases {
        check(&v(suite, key, None, challenge, expected));
    }
}

#[test]
fn hex_challenges_ignore_case_and_reject_non_hex() {
    let suite = Suite::parse("OCRA-1:HOTP-SHA256-8:QH64").unwrap();
    let code = |challenge: &str| {
        suite.compute(
            SEED_32,
            &Inputs {
                challenge,
                ..Default::default()
            },
        )
    };
    let upper = code("5349473130303030ABCDEF").unwrap();
    assert_eq!(upper, code("5349473130303030abcdef").unwrap());
    assert_ne!(upper, code("5349473130303030ABCDEE").unwrap());
    assert!(code("53494731303030XY").is_err());
    assert!(code("").is_err());
}
