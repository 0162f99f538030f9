//! Arbitrary input never panics any parser: it is accepted or gets a typed error. The
//! cargo-fuzz targets in core/fuzz explore the same entry points with coverage guidance.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use countersign_app::migration;
use countersign_app::ocra::Suite;
use countersign_app::{Secret, otpauth, txotp};
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

// ---- Issue 10, findings 5 and 6: sizes and key-derivation costs taken from the file ----
//
// Each hostile input is built here byte by byte; each must be refused with a typed error
// and quickly, before the claimed size or cost turns into memory or time.

mod bounds {
    use std::time::{Duration, Instant};

    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use countersign_app::migration::{
        self, CollectorError, MAX_MIGRATION_PARTS, MigrationBatch, MigrationCollector,
        MigrationError,
    };
    use countersign_app::transfer::{self, ImportError, ImportFormat};
    use serde_json::json;

    /// Refusing a hostile file takes microseconds; a generous bound that the unbounded code
    /// (seconds to hours of key derivation, gigabytes of allocation) cannot meet.
    const REFUSAL_BUDGET: Duration = Duration::from_secs(2);

    fn timed<T>(work: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let result = work();
        let elapsed = start.elapsed();
        assert!(elapsed < REFUSAL_BUDGET, "took {elapsed:?}");
        result
    }

    fn varint(out: &mut Vec<u8>, mut value: u64) {
        while value >= 0x80 {
            out.push((value as u8) | 0x80);
            value >>= 7;
        }
        out.push(value as u8);
    }

    /// The review's link: one account and `batch_size` = i32::MAX, about 120 characters.
    fn link_claiming_parts(size: i32, index: i32) -> String {
        link_of_export(size, index, 7)
    }

    fn link_of_export(size: i32, index: i32, batch_id: i32) -> String {
        let mut account = vec![0x0a, 10];
        account.extend_from_slice(b"0123456789");
        account.extend_from_slice(&[0x12, 5]);
        account.extend_from_slice(b"alice");
        let mut payload = vec![0x0a, account.len() as u8];
        payload.extend_from_slice(&account);
        for (field, value) in [
            (2u64, 1i64),
            (3, size.into()),
            (4, index.into()),
            (5, batch_id.into()),
        ] {
            varint(&mut payload, field << 3);
            varint(&mut payload, value as u64);
        }
        let data = STANDARD
            .encode(&payload)
            .replace('+', "%2B")
            .replace('/', "%2F");
        format!("otpauth-migration://offline?data={data}")
    }

    #[test]
    fn a_migration_link_claiming_billions_of_parts_is_refused() {
        let link = link_claiming_parts(i32::MAX, 0);
        assert!(link.len() < 130, "{}", link.len());
        assert_eq!(
            migration::decode(&link),
            Err(MigrationError::BadBatchFields {
                index: 0,
                size: i32::MAX
            })
        );
        for (size, index) in [(-1, 0), (MAX_MIGRATION_PARTS + 1, 0), (3, 3), (3, -1)] {
            assert!(
                migration::decode(&link_claiming_parts(size, index)).is_err(),
                "{size} {index}"
            );
        }
        // The largest export accepted still decodes, and its bookkeeping stays small.
        let largest = migration::decode(&link_claiming_parts(MAX_MIGRATION_PARTS, 999)).unwrap();
        let mut collector = MigrationCollector::new();
        collector.add(largest).unwrap();
        assert_eq!(collector.missing().len(), MAX_MIGRATION_PARTS as usize - 1);
    }

    #[test]
    fn the_collector_refuses_a_hand_built_batch_claiming_billions_of_parts() {
        // Batches are public structs: the collector does not rely on `decode` alone.
        let batch = MigrationBatch {
            version: 1,
            batch_size: i32::MAX,
            batch_index: 0,
            batch_id: 1,
            accounts: Vec::new(),
            failures: Vec::new(),
        };
        let mut collector = MigrationCollector::new();
        assert_eq!(
            collector.add(batch),
            Err(CollectorError::TooManyParts { size: i32::MAX })
        );
        assert!(collector.missing().is_empty());
    }

    #[test]
    fn an_import_of_hostile_migration_links_stays_small_and_fast() {
        // The link itself, plus 2,000 exports of 1,000 parts with one part each: the
        // "missing" report must not grow with the claimed part counts.
        let mut file = link_claiming_parts(i32::MAX, 0);
        for batch_id in 0..2000 {
            file.push('\n');
            file.push_str(&link_of_export(MAX_MIGRATION_PARTS, 500, batch_id));
        }
        let report = timed(|| {
            transfer::import(ImportFormat::GoogleAuthenticator, file.as_bytes(), None).unwrap()
        });
        assert!(report.failures[0].reason.contains("part 0 of 2147483647"));
        let report_bytes: usize = report.failures.iter().map(|f| f.reason.len()).sum();
        assert!(
            report_bytes < 2 * file.len(),
            "{report_bytes} bytes of report"
        );
    }

    fn excessive(result: Result<transfer::ImportReport, ImportError>) -> String {
        match result {
            Err(ImportError::ExcessiveKdf { reason }) => reason,
            other => panic!("expected ExcessiveKdf, got {other:?}"),
        }
    }

    /// An encrypted Aegis vault whose password slots have the given (N, r, p); the wrapped
    /// keys are zeros, so any derivation that ran would end in "wrong password".
    fn aegis_with_slots(slots: &[(u64, u32, u32)]) -> Vec<u8> {
        let zeros = |bytes: usize| "00".repeat(bytes);
        let slots: Vec<_> = slots
            .iter()
            .map(|&(n, r, p)| {
                json!({"type": 1, "uuid": "slot", "key": zeros(32),
                       "key_params": {"nonce": zeros(12), "tag": zeros(16)},
                       "n": n, "r": r, "p": p, "salt": zeros(32)})
            })
            .collect();
        json!({"version": 1,
               "header": {"slots": slots, "params": {"nonce": zeros(12), "tag": zeros(16)}},
               "db": "AAAA"})
        .to_string()
        .into_bytes()
    }

    fn import_aegis(file: &[u8]) -> Result<transfer::ImportReport, ImportError> {
        timed(|| transfer::import(ImportFormat::Aegis, file, Some("password")))
    }

    #[test]
    fn aegis_with_a_thousand_password_slots_is_refused_before_any_derivation() {
        // Aegis's own setting in every slot: only the count is hostile.
        let file = aegis_with_slots(&vec![(1 << 15, 8, 1); 1000]);
        let reason = excessive(import_aegis(&file));
        assert!(reason.contains("password slots"), "{reason}");
        // Up to the attempt cap, the same slots are tried (and the zero keys do not open).
        let file = aegis_with_slots(&[(1 << 15, 8, 1); transfer::MAX_PASSWORD_ATTEMPTS]);
        assert_eq!(
            transfer::import(ImportFormat::Aegis, &file, Some("password")),
            Err(ImportError::WrongPassword)
        );
    }

    #[test]
    fn aegis_slots_asking_for_more_than_a_phone_has_are_refused() {
        for (n, r, p) in [
            (1u64 << 18, 32, 16), // 1 GiB, 16 sweeps: the review's 31 s slot
            (1 << 20, 8, 1),      // 1 GiB
            (1 << 19, 8, 1),      // 512 MiB
            (1 << 15, 8, 64),     // 32 MiB, 64 sweeps
            (1 << 62, 1 << 20, 1),
        ] {
            excessive(import_aegis(&aegis_with_slots(&[(n, r, p)])));
        }
        // Each of these fits alone; together they exceed the work of one import.
        excessive(import_aegis(&aegis_with_slots(&[(1 << 18, 8, 2); 3])));
    }

    /// A Countersign backup header asking for the given Argon2id cost, then a dummy body.
    fn backup_asking(memory_kib: u32, passes: u32, lanes: u32) -> Vec<u8> {
        let mut file = b"CSBACKUP\x01".to_vec();
        for value in [memory_kib, passes, lanes] {
            file.extend_from_slice(&value.to_be_bytes());
        }
        file.extend_from_slice(&[0u8; 16 + 24 + 32]);
        file
    }

    #[test]
    fn backup_headers_asking_for_gigabytes_are_refused() {
        for (memory_kib, passes, lanes) in [
            (4 * 1024 * 1024, 64, 16), // the review's 4 GiB × 64 × 16
            (512 * 1024, 2, 1),        // 512 MiB: more than a phone app gets
            (256 * 1024, 16, 1),       // 256 MiB but 4 GiB of work
            (64 * 1024, 2, 64),        // 64 lanes
        ] {
            let file = backup_asking(memory_kib, passes, lanes);
            excessive(timed(|| {
                transfer::import(ImportFormat::Countersign, &file, Some("pw"))
            }));
        }
    }

    #[test]
    fn andotp_iteration_counts_beyond_any_app_are_refused() {
        let mut file = 10_000_000u32.to_be_bytes().to_vec();
        file.extend_from_slice(&[0u8; 12 + 12 + 32]);
        excessive(timed(|| {
            transfer::import(ImportFormat::AndOtp, &file, Some("pw"))
        }));
        file[..4].copy_from_slice(&(transfer::MAX_PBKDF2_ITERATIONS + 1).to_be_bytes());
        excessive(transfer::import(ImportFormat::AndOtp, &file, Some("pw")));
    }

    #[test]
    fn a_json_document_of_millions_of_values_is_refused_before_parsing() {
        // 3 MB of text that would parse into 1.5 million values (48 MB of tree).
        let file = format!("{{\"items\": [{}0]}}", "0,".repeat(1_500_000));
        let result = timed(|| transfer::import(ImportFormat::BitwardenJson, file.as_bytes(), None));
        assert!(
            matches!(result, Err(ImportError::InvalidFile { ref reason, .. }) if reason.contains("JSON values")),
            "{result:?}"
        );
        let oversized = vec![b' '; transfer::MAX_IMPORT_FILE_LEN + 1];
        assert_eq!(
            transfer::import(ImportFormat::OtpauthList, &oversized, None),
            Err(ImportError::TooLarge)
        );
    }

    #[test]
    fn a_group_name_is_not_copied_into_every_reference() {
        // One 100 KB group name, referred to 50 times by each of 20 entries: 100 MB of tags
        // from a 2 MB file if every reference copied it.
        let long_name = "é".repeat(50_000);
        let entries: Vec<_> = (0..20)
            .map(|i| {
                json!({"type": "totp", "name": format!("account {i}"), "issuer": "Bank",
                       "info": {"secret": "JBSWY3DPEHPK3PXP", "algo": "SHA1", "digits": 6, "period": 30},
                       "groups": vec!["g"; 50]})
            })
            .collect();
        let file = json!({"version": 1, "header": {"slots": null, "params": null},
                          "db": {"version": 3, "entries": entries,
                                 "groups": [{"uuid": "g", "name": long_name}]}});
        let report = timed(|| {
            transfer::import(ImportFormat::Aegis, file.to_string().as_bytes(), None).unwrap()
        });
        assert_eq!(report.accounts.len(), 20);
        for imported in &report.accounts {
            let [tag] = imported.meta.tags.as_slice() else {
                panic!("one tag per entry, got {}", imported.meta.tags.len())
            };
            assert_eq!(tag.len(), transfer::MAX_TAG_BYTES);
            assert!(long_name.starts_with(tag.as_str()));
        }
    }
}
