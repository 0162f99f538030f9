//! `txotp://` parsing, the canonical string and transactional codes, checked against the
//! vectors of docs/transactional-totp.md.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use countersign_otp::otp::{Algorithm, Window};
use countersign_otp::transactional::{self, TransactionalError};
use countersign_otp::txotp::{self, Section, Transaction, TxotpError};
use countersign_otp::{Account, OtpParameters, Secret};
use proptest::prelude::*;

const SPEC: &str = include_str!("../../../docs/transactional-totp.md");

struct DocVector {
    name: String,
    fields: std::collections::HashMap<String, String>,
}

impl DocVector {
    fn get(&self, field: &str) -> &str {
        self.fields
            .get(field)
            .unwrap_or_else(|| panic!("{}: no {field}", self.name))
    }
}

fn doc_vectors() -> Vec<DocVector> {
    let start = SPEC.find("```vectors\n").expect("vectors block") + "```vectors\n".len();
    let end = start + SPEC[start..].find("```").expect("end of block");
    SPEC[start..end]
        .split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let fields: std::collections::HashMap<String, String> = block
                .lines()
                .map(|l| {
                    let (k, v) = l.split_once(": ").unwrap();
                    (k.to_owned(), v.to_owned())
                })
                .collect();
            DocVector {
                name: fields["vector"].clone(),
                fields,
            }
        })
        .collect()
}

fn hex(text: &str) -> Vec<u8> {
    data_encoding::HEXLOWER_PERMISSIVE
        .decode(text.as_bytes())
        .unwrap()
}

#[test]
fn spec_vectors() {
    let vectors = doc_vectors();
    assert_eq!(vectors.len(), 5);
    for v in &vectors {
        let parsed = txotp::parse(v.get("txotp")).unwrap();
        let tx = &parsed.transaction;
        assert_eq!(tx.canonical_string(), v.get("canonical"), "{}", v.name);
        assert_eq!(
            transactional::challenge(tx),
            v.get("challenge"),
            "{}",
            v.name
        );
        let params = OtpParameters::totp(
            Algorithm::from_name(v.get("algorithm")).unwrap(),
            v.get("digits").parse().unwrap(),
            v.get("period").parse().unwrap(),
        )
        .unwrap();
        let account = Account::new(
            None,
            "v",
            Secret::from_bytes(hex(v.get("key_hex"))).unwrap(),
            params,
        );
        let time: u64 = v.get("time").parse().unwrap();
        let code = transactional::code(&account, tx, time).unwrap();
        assert_eq!(code.as_str(), v.get("code"), "{}", v.name);
        let found =
            transactional::verify(&account, tx, v.get("code"), time, Window::default(), None)
                .unwrap();
        assert_eq!(found.map(|m| m.offset), Some(0), "{}", v.name);
    }
}

#[test]
fn authy_example_keeps_display_order() {
    let tx = txotp::parse(&doc_vectors()[0].fields["txotp"]).unwrap();
    // The Authy docs call this example 228 characters long; it has 227.
    assert_eq!(tx.len, 227);
    assert!(!tx.is_long());
    let t = tx.transaction;
    assert_eq!(t.message, "Approve money transaction");
    let keys: Vec<&str> = t.details.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "Amount",
            "To",
            "Destination Account",
            "Source Account",
            "Reason"
        ]
    );
    assert_eq!(
        t.hidden_details,
        vec![("Transaction ID".to_owned(), "T2293".to_owned())]
    );
}

#[test]
fn changing_amount_or_payee_changes_the_code() {
    let v = &doc_vectors()[2];
    let account = Account::new(
        None,
        "v",
        Secret::from_bytes(hex(v.get("key_hex"))).unwrap(),
        OtpParameters::totp(Algorithm::Sha256, 7, 30).unwrap(),
    );
    let time: u64 = v.get("time").parse().unwrap();
    let original = txotp::parse(v.get("txotp")).unwrap().transaction;
    let code = transactional::code(&account, &original, time).unwrap();
    for (from, to) in [
        ("713.00", "718.00"),
        ("Hermione", "Hermlone"),
        ("8230985", "8230986"),
    ] {
        let altered = txotp::parse(&v.get("txotp").replace(from, to))
            .unwrap()
            .transaction;
        let ok = transactional::verify(
            &account,
            &altered,
            code.as_str(),
            time,
            Window::default(),
            None,
        )
        .unwrap();
        assert_eq!(ok, None, "{from} -> {to} must invalidate the code");
    }
    // A replay of the matched step is refused when the server passes the last used step.
    let first = transactional::verify(
        &account,
        &original,
        code.as_str(),
        time,
        Window::default(),
        None,
    )
    .unwrap()
    .unwrap();
    let replay = transactional::verify(
        &account,
        &original,
        code.as_str(),
        time,
        Window::default(),
        Some(first.step),
    )
    .unwrap();
    assert_eq!(replay, None);
}

#[test]
fn authy_error_wording_and_other_refusals() {
    let cases: &[(&str, TxotpError)] = &[
        (
            "txotp://totp?message=m&details[Name]=&details[Surname]=Doe",
            TxotpError::EmptyDetailValue,
        ),
        (
            "txotp://totp?message=m&hidden_details[ID]=&hidden_details[Account]=690239",
            TxotpError::EmptyHiddenDetailValue,
        ),
        ("txotp://totp?details[A]=1", TxotpError::MissingMessage),
        (
            "txotp://totp?message=&details[A]=1",
            TxotpError::MissingMessage,
        ),
        (
            "txotp://totp?message=a&message=b",
            TxotpError::DuplicateMessage,
        ),
        (
            "txotp://totp?message=m&details[A]=1&details[A]=2",
            TxotpError::DuplicateKey {
                section: Section::Details,
                key: "A".into(),
            },
        ),
        // "é" composed and decomposed are one key after NFC.
        (
            "txotp://totp?message=m&details[%C3%A9]=1&details[e%CC%81]=2",
            TxotpError::DuplicateKey {
                section: Section::Details,
                key: "e\u{301}".into(),
            },
        ),
        (
            "txotp://totp?message=m&details[]=1",
            TxotpError::EmptyKey(Section::Details),
        ),
        (
            "txotp://totp?message=m&amount=1",
            TxotpError::UnknownParameter {
                name: "amount".into(),
            },
        ),
        ("txotp://hotp?message=m", TxotpError::NotTxotp),
        ("otpauth://totp/a?secret=A", TxotpError::NotTxotp),
    ];
    for (text, expected) in cases {
        assert_eq!(
            txotp::parse(text).as_ref().map(|_| ()).unwrap_err(),
            expected,
            "{text}"
        );
    }
    assert_eq!(
        TxotpError::EmptyDetailValue.to_string(),
        "The param details can not have empty values."
    );
    assert_eq!(
        TxotpError::EmptyHiddenDetailValue.to_string(),
        "The param hidden details can not have empty values."
    );
    let long = format!("txotp://totp?message={}", "x".repeat(txotp::MAX_LEN));
    assert!(matches!(
        txotp::parse(&long),
        Err(TxotpError::TooLong { .. })
    ));
    let flagged = format!("txotp://totp?message={}", "x".repeat(400));
    assert!(txotp::parse(&flagged).unwrap().is_long());
}

/// Control characters triple in size when percent-encoded: a transaction that parses near
/// the limit may not be writable again, and to_uri says so instead of emitting it.
#[test]
fn to_uri_refuses_what_no_scanner_would_accept() {
    let near_limit = format!(
        "txotp://totp?message={}",
        "\u{1}".repeat(txotp::MAX_LEN - 30)
    );
    let tx = txotp::parse(&near_limit).unwrap().transaction;
    assert!(matches!(tx.to_uri(), Err(TxotpError::TooLong { .. })));
}

#[test]
fn only_totp_accounts_have_transactional_codes() {
    let tx = txotp::parse("txotp://totp?message=m").unwrap().transaction;
    for params in [
        OtpParameters::steam(),
        OtpParameters::hotp(Algorithm::Sha1, 6, 0).unwrap(),
    ] {
        let account = Account::new(None, "x", Secret::from_bytes(vec![1; 20]).unwrap(), params);
        assert_eq!(
            transactional::code(&account, &tx, 0),
            Err(TransactionalError::NotTotp)
        );
    }
}

fn arb_text() -> impl Strategy<Value = String> {
    // Unicode with the characters that matter to the encoding: separators, brackets, '+',
    // '%', spaces and combining marks.
    proptest::collection::vec(
        prop_oneof![
            4 => proptest::char::any(),
            2 => proptest::sample::select(vec!['&', '=', '[', ']', '+', '%', ' ', '\u{301}', 'e', '~', '-']),
        ],
        1..24,
    )
    .prop_map(|cs| cs.into_iter().filter(|c| !c.is_control()).collect::<String>())
    .prop_filter("non-empty", |s| !s.is_empty())
}

fn arb_transaction() -> impl Strategy<Value = Transaction> {
    let entries = || proptest::collection::vec((arb_text(), arb_text()), 0..6);
    (arb_text(), entries(), entries()).prop_map(|(message, details, hidden)| {
        // Index prefixes keep keys distinct even after normalisation.
        let number = |list: Vec<(String, String)>| {
            list.into_iter()
                .enumerate()
                .map(|(i, (k, v))| (format!("{i}{k}"), v))
                .collect()
        };
        Transaction {
            message,
            details: number(details),
            hidden_details: number(hidden),
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn to_uri_then_parse_is_identity(tx in arb_transaction()) {
        let uri = tx.to_uri().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let parsed = txotp::parse(&uri).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(parsed.transaction, tx);
    }

    #[test]
    fn parameter_order_never_changes_the_canonical_string(tx in arb_transaction(), seed in any::<u64>()) {
        let mut shuffled = tx.clone();
        let n = shuffled.details.len().max(1);
        shuffled.details.rotate_left((seed as usize) % n);
        shuffled.details.reverse();
        prop_assert_eq!(shuffled.canonical_string(), tx.canonical_string());
    }
}
