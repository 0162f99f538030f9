//! Google Authenticator export decoding and encoding.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use countersign_app::migration::{
    self, Added, EntryError, ExportError, MigrationCollector, MigrationError,
};
use countersign_app::otp::Algorithm;
use countersign_app::{Account, OtpParameters, Secret};

/// A one-account export as Google Authenticator writes it ("Example:alice@google.com",
/// secret "Hello!" + DEADBEEF, a negative batch id).
const GOOGLE_EXPORT: &str = "otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8SGEV4YW1wbGU6YWxpY2VAZ29vZ2xlLmNvbRoHRXhhbXBsZSABKAEwAhABGAEgACjr4JKK%2Bf%2F%2F%2F%2F8B";

#[test]
fn decodes_a_google_authenticator_export() {
    let batch = migration::decode(GOOGLE_EXPORT).unwrap();
    assert_eq!(
        (batch.version, batch.batch_size, batch.batch_index),
        (1, 1, 0)
    );
    assert!(batch.batch_id < 0);
    assert!(batch.failures.is_empty());
    let [account] = batch.accounts.as_slice() else {
        panic!("one account")
    };
    assert_eq!(account.issuer.as_deref(), Some("Example"));
    // The "Example:" prefix Google keeps in the name is dropped: the issuer says it.
    assert_eq!(account.label, "alice@google.com");
    assert_eq!(account.secret.expose(), b"Hello!\xde\xad\xbe\xef");
    assert_eq!(account.params, OtpParameters::default_totp());
}

#[test]
fn tolerates_unescaped_plus_and_form_decoded_spaces() {
    let plus = GOOGLE_EXPORT.replace("%2B", "+").replace("%2F", "/");
    let spaces = plus.replace('+', " ");
    let expected = migration::decode(GOOGLE_EXPORT).unwrap();
    assert_eq!(migration::decode(&plus).unwrap(), expected);
    assert_eq!(migration::decode(&spaces).unwrap(), expected);
}

/// A minimal protobuf writer, independent of prost, for hand-built payloads.
#[derive(Default)]
struct Pb(Vec<u8>);

impl Pb {
    fn varint(&mut self, mut v: u64) -> &mut Self {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.0.push(byte);
                return self;
            }
            self.0.push(byte | 0x80);
        }
    }
    fn int(&mut self, field: u64, v: i64) -> &mut Self {
        self.varint(field << 3).varint(v as u64)
    }
    fn bytes(&mut self, field: u64, b: &[u8]) -> &mut Self {
        self.varint((field << 3) | 2).varint(b.len() as u64);
        self.0.extend_from_slice(b);
        self
    }
}

fn entry(
    secret: &[u8],
    name: &str,
    issuer: &str,
    algorithm: i64,
    digits: i64,
    otp_type: i64,
    counter: i64,
) -> Vec<u8> {
    let mut e = Pb::default();
    e.bytes(1, secret)
        .bytes(2, name.as_bytes())
        .bytes(3, issuer.as_bytes());
    e.int(4, algorithm)
        .int(5, digits)
        .int(6, otp_type)
        .int(7, counter);
    e.0
}

fn uri(payload: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(payload);
    format!(
        "otpauth-migration://offline?data={}",
        b64.replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D")
    )
}

#[test]
fn bad_entries_are_reported_and_the_rest_kept() {
    let mut p = Pb::default();
    p.bytes(1, &entry(b"0123456789abcdef", "sha256-8", "A", 2, 2, 2, 0));
    p.bytes(1, &entry(b"0123456789abcdef", "md5", "B", 4, 1, 2, 0));
    p.bytes(1, &entry(b"0123456789abcdef", "hotp", "C", 3, 1, 1, 99));
    p.bytes(1, &entry(b"", "empty", "D", 1, 1, 2, 0));
    p.bytes(1, &entry(b"0123456789abcdef", "digits", "E", 1, 7, 2, 0));
    p.bytes(1, &entry(b"0123456789abcdef", "type", "F", 1, 1, 9, 0));
    // An unknown field (99) from a newer app version must be skipped.
    p.bytes(99, b"future")
        .int(2, 1)
        .int(3, 1)
        .int(4, 0)
        .int(5, 7);
    let batch = migration::decode(&uri(&p.0)).unwrap();

    let accounts: Vec<(&str, OtpParameters)> = batch
        .accounts
        .iter()
        .map(|a| (a.label.as_str(), a.params))
        .collect();
    assert_eq!(
        accounts,
        vec![
            (
                "sha256-8",
                OtpParameters::totp(Algorithm::Sha256, 8, 30).unwrap()
            ),
            (
                "hotp",
                OtpParameters::hotp(Algorithm::Sha512, 6, 99).unwrap()
            ),
        ]
    );
    let failures: Vec<(usize, &str, &EntryError)> = batch
        .failures
        .iter()
        .map(|f| (f.index, f.name.as_str(), &f.error))
        .collect();
    assert_eq!(
        failures,
        vec![
            (
                1,
                "md5",
                &EntryError::UnsupportedAlgorithm { name: "MD5".into() }
            ),
            (3, "empty", &EntryError::EmptySecret),
            (4, "digits", &EntryError::UnsupportedDigits { code: 7 }),
            (5, "type", &EntryError::UnsupportedType { code: 9 }),
        ]
    );
    assert_eq!(batch.batch_id, 7);
}

#[test]
fn malformed_exports_get_typed_errors() {
    assert_eq!(
        migration::decode("otpauth://totp/a?secret=AAAA"),
        Err(MigrationError::NotMigrationUri)
    );
    assert_eq!(
        migration::decode("otpauth-migration://offline?foo=bar"),
        Err(MigrationError::MissingData)
    );
    assert_eq!(
        migration::decode("otpauth-migration://offline?data=AA&data=AA"),
        Err(MigrationError::DuplicateData)
    );
    assert_eq!(
        migration::decode("otpauth-migration://offline?data=***"),
        Err(MigrationError::InvalidBase64)
    );
    assert_eq!(
        migration::decode("otpauth-migration://offline?data=%2F%2F%2F%2F"),
        Err(MigrationError::InvalidPayload)
    );
    let long = format!("otpauth-migration://offline?data={}", "A".repeat(9000));
    assert_eq!(migration::decode(&long), Err(MigrationError::TooLong));
}

fn accounts(n: usize) -> Vec<Account> {
    (0..n)
        .map(|i| {
            let params = match i % 3 {
                0 => OtpParameters::default_totp(),
                1 => OtpParameters::totp(Algorithm::Sha512, 8, 30).unwrap(),
                _ => OtpParameters::hotp(Algorithm::Sha256, 6, i as u64 * 1000).unwrap(),
            };
            let secret = Secret::from_bytes((0..20).map(|b| (b * 7 + i) as u8).collect()).unwrap();
            Account::new(
                Some(format!("Service {i}")),
                format!("user{i}@example.com"),
                secret,
                params,
            )
        })
        .collect()
}

#[test]
fn encode_splits_into_qr_sized_parts_that_decode_back() {
    let originals = accounts(40);
    let export = migration::encode(&originals, migration::DEFAULT_MAX_URI_LEN, 123456);
    assert!(export.skipped.is_empty());
    assert!(export.uris.len() > 1, "40 accounts need several QR codes");
    assert!(
        export
            .uris
            .iter()
            .all(|u| u.len() <= migration::DEFAULT_MAX_URI_LEN)
    );

    // Scanned in reverse order, with a duplicate scan, the collector tracks what is missing.
    let mut collector = MigrationCollector::new();
    let parts: Vec<_> = export
        .uris
        .iter()
        .map(|u| migration::decode(u).unwrap())
        .collect();
    let total = parts.len() as i32;
    for (scanned, part) in parts.iter().rev().enumerate() {
        assert_eq!(collector.add(part.clone()), Ok(Added::New));
        let missing = collector.missing();
        let remaining = total - 1 - scanned as i32;
        assert_eq!(missing, (0..remaining).collect::<Vec<_>>());
        let ranges = collector.missing_ranges();
        assert_eq!(
            ranges,
            (remaining > 0)
                .then_some((0, remaining - 1))
                .into_iter()
                .collect::<Vec<_>>()
        );
    }
    assert_eq!(collector.add(parts[0].clone()), Ok(Added::AlreadyScanned));
    assert!(collector.is_complete());
    let (decoded, failures) = collector.into_parts();
    assert!(failures.is_empty());
    assert_eq!(decoded, originals);
}

#[test]
fn collector_refuses_parts_of_another_export() {
    let a = migration::encode(&accounts(40), 600, 1);
    let b = migration::encode(&accounts(40), 600, 2);
    let mut collector = MigrationCollector::new();
    collector
        .add(migration::decode(&a.uris[0]).unwrap())
        .unwrap();
    assert!(
        collector
            .add(migration::decode(&b.uris[1]).unwrap())
            .is_err()
    );
    assert_eq!(collector.missing().len(), a.uris.len() - 1);
}

#[test]
fn accounts_google_cannot_hold_are_reported_not_dropped() {
    let secret = || Secret::from_bytes(vec![1; 20]).unwrap();
    let list = vec![
        Account::new(None, "ok", secret(), OtpParameters::default_totp()),
        Account::new(None, "steam", secret(), OtpParameters::steam()),
        Account::new(
            None,
            "seven",
            secret(),
            OtpParameters::totp(Algorithm::Sha1, 7, 30).unwrap(),
        ),
        Account::new(
            None,
            "minute",
            secret(),
            OtpParameters::totp(Algorithm::Sha1, 6, 60).unwrap(),
        ),
    ];
    let export = migration::encode(&list, 900, 9);
    let skipped: Vec<(usize, ExportError)> = export
        .skipped
        .into_iter()
        .map(|s| (s.index, s.error))
        .collect();
    assert_eq!(
        skipped,
        vec![
            (1, ExportError::Steam),
            (2, ExportError::Digits { digits: 7 }),
            (3, ExportError::Period { period: 60 }),
        ]
    );
    assert_eq!(export.uris.len(), 1);
    assert_eq!(
        migration::decode(&export.uris[0]).unwrap().accounts,
        vec![list[0].clone()]
    );
}

#[test]
fn missing_parts_come_as_ranges_of_what_was_not_scanned() {
    let export = migration::encode(&accounts(60), 300, 3);
    let parts: Vec<_> = export
        .uris
        .iter()
        .map(|u| migration::decode(u).unwrap())
        .collect();
    assert!(parts.len() >= 6, "{}", parts.len());
    let last = parts.len() as i32 - 1;
    let mut collector = MigrationCollector::new();
    assert!(
        collector.missing_ranges().is_empty(),
        "size unknown before the first part"
    );
    for index in [1, 3] {
        collector.add(parts[index].clone()).unwrap();
    }
    assert_eq!(collector.missing_ranges(), vec![(0, 0), (2, 2), (4, last)]);
    let expanded: Vec<i32> = collector
        .missing_ranges()
        .iter()
        .flat_map(|&(start, end)| start..=end)
        .collect();
    assert_eq!(expanded, collector.missing());
}
