//! Vault bars (issue 3): unlock after the KDF plus decrypting 1,000 accounts ≤ 20 ms;
//! adding one account durably ≤ 5 ms; codes for all 1,000 accounts ≤ 2 ms. Also the
//! Argon2id default cost (target ≈ 0.5 s).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use std::hint::black_box;

use countersign_app::vault::{EntryMeta, KdfParams, SoftwareKeyProvider, Vault};
use countersign_app::{Account, OtpParameters, Secret};
use criterion::{Criterion, criterion_group, criterion_main};

fn account(i: usize) -> Account {
    let secret = Secret::from_bytes((0..20).map(|b| (b * 31 + i * 7) as u8).collect()).unwrap();
    Account::new(
        Some(format!("Service {i}")),
        format!("user{i}@example.com"),
        secret,
        OtpParameters::default_totp(),
    )
}

fn vault_with(dir: &std::path::Path, n: usize, provider: &SoftwareKeyProvider) -> Vault {
    let mut vault = Vault::create(&dir.join("bench.db"), "bench", KdfParams::MINIMUM).unwrap();
    let accounts = (0..n)
        .map(|i| {
            (
                account(i),
                EntryMeta {
                    tags: vec!["tag".into()],
                    notes: "note".into(),
                    icon: None,
                },
            )
        })
        .collect();
    vault.add_many(accounts, true).unwrap();
    vault.add_platform_slot(provider).unwrap();
    vault
}

fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let provider = SoftwareKeyProvider::new("bench-keystore");
    let mut vault = vault_with(dir.path(), 1000, &provider);

    c.bench_function(
        "unlock (platform slot, no KDF) + decrypt 1000 accounts",
        |b| {
            b.iter(|| {
                vault.lock();
                vault.unlock_with_provider(&provider).unwrap();
                black_box(vault.entries().unwrap().len())
            })
        },
    );

    c.bench_function("codes for 1000 accounts", |b| {
        b.iter(|| black_box(vault.codes_at(black_box(1_795_000_000)).unwrap()))
    });

    let mut n = 1000;
    c.bench_function("add one account durably (vault of 1000+)", |b| {
        b.iter(|| {
            n += 1;
            vault.add(account(n), EntryMeta::default()).unwrap()
        })
    });

    let mut group = c.benchmark_group("argon2id");
    group.sample_size(10);
    group.bench_function("default KDF (128 MiB, t=5, p=1)", |b| {
        b.iter(|| {
            KdfParams::DEFAULT
                .derive(b"a passphrase", b"salt-of-16-bytes")
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(vault_benches, benches);
criterion_main!(vault_benches);
