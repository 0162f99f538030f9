//! Import figures (issue 10): a 40,000-entry import with duplicates (finding 10: it took
//! 5.3 s while duplicate detection compared every pair), and the key derivation an
//! encrypted Aegis vault costs at Aegis's own setting and at the largest one accepted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use std::hint::black_box;

use countersign_app::transfer::{self, ImportError, ImportFormat};
use countersign_app::vault::{Entry, EntryId, EntryMeta};
use countersign_app::{Account, OtpParameters, Secret};
use criterion::{Criterion, criterion_group, criterion_main};

/// 40,000 accounts sharing issuer and label, then every tenth one again.
fn large_list() -> String {
    let line = |i: u64| {
        let secret = Secret::from_bytes(i.to_be_bytes().repeat(2)).unwrap();
        format!(
            "otpauth://totp/Bank:alice?secret={}&issuer=Bank\n",
            secret.to_base32()
        )
    };
    let mut file: String = (0..40_000).map(line).collect();
    file.extend((0..40_000).step_by(10).map(line));
    file
}

fn one_entry() -> Vec<Entry> {
    let account = Account::new(
        Some("Bank".into()),
        "alice",
        Secret::from_bytes(vec![7; 20]).unwrap(),
        OtpParameters::default_totp(),
    );
    vec![Entry {
        id: EntryId::parse("01010101010101010101010101010101").unwrap(),
        account,
        meta: EntryMeta::default(),
        sort_order: 0,
        created_at: 0,
        updated_at: 0,
    }]
}

fn benches(c: &mut Criterion) {
    let list = large_list();
    let mut group = c.benchmark_group("import");
    group.sample_size(10);
    group.bench_function("otpauth list, 40,000 entries + 4,000 duplicates", |b| {
        b.iter(|| {
            let report =
                transfer::import(ImportFormat::OtpauthList, black_box(list.as_bytes()), None)
                    .unwrap();
            assert_eq!(report.duplicates.len(), 4_000);
        })
    });

    let aegis = transfer::export_aegis(&one_entry(), Some("pw"));
    group.bench_function("encrypted Aegis vault, scrypt N=2^15 r=8 p=1", |b| {
        b.iter(|| transfer::import(ImportFormat::Aegis, aegis.as_bytes(), Some("pw")).unwrap())
    });

    // The largest slot accepted (256 MiB, two sweeps): the zero key does not open, so this
    // is the derivation plus one failed unwrap.
    let largest = aegis
        .replace("\"n\": 32768", "\"n\": 262144")
        .replace("\"p\": 1", "\"p\": 2");
    assert_ne!(largest, *aegis);
    group.bench_function("Aegis slot at the bound, scrypt N=2^18 r=8 p=2", |b| {
        b.iter(|| {
            let result = transfer::import(ImportFormat::Aegis, largest.as_bytes(), Some("pw"));
            assert_eq!(result, Err(ImportError::WrongPassword));
        })
    });
    group.finish();
}

criterion_group!(transfer_benches, benches);
criterion_main!(transfer_benches);
