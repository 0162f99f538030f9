//! TOTP generation for 1,000 accounts at one instant (the app's main screen).
//! Bar (issue 2): ≤ 1 µs per SHA-1 code on the 2-core development machine.
//! Criterion reports time per 1,000 codes and codes per second; divide by 1,000 for µs/code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

use std::hint::black_box;

use countersign_otp::otp::Algorithm;
use countersign_otp::{Account, OtpParameters, Secret};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const ACCOUNTS: usize = 1000;
const NOW: u64 = 1_795_000_000;

fn accounts(algorithm: Algorithm) -> Vec<Account> {
    (0..ACCOUNTS)
        .map(|i| {
            let secret =
                Secret::from_bytes((0..20).map(|b| (b * 31 + i * 7) as u8).collect()).unwrap();
            Account::new(
                None,
                format!("user{i}"),
                secret,
                OtpParameters::totp(algorithm, 6, 30).unwrap(),
            )
        })
        .collect()
}

fn generation(c: &mut Criterion) {
    let mut group = c.benchmark_group("totp_1000_accounts");
    group.throughput(Throughput::Elements(ACCOUNTS as u64));
    for algorithm in Algorithm::ALL {
        let list = accounts(algorithm);
        group.bench_function(algorithm.name(), |b| {
            b.iter(|| {
                for account in &list {
                    black_box(account.code_at(black_box(NOW)));
                }
            })
        });
    }
    // The design's named crate, for comparison on the same work.
    let reference: Vec<totp_rs::TOTP> = accounts(Algorithm::Sha1)
        .iter()
        .map(|a| {
            totp_rs::TOTP::new_unchecked(
                totp_rs::Algorithm::SHA1,
                6,
                1,
                30,
                a.secret.expose().to_vec(),
            )
        })
        .collect();
    group.bench_function("SHA1 totp-rs", |b| {
        b.iter(|| {
            for totp in &reference {
                black_box(totp.generate(black_box(NOW)));
            }
        })
    });
    group.finish();
}

fn verification(c: &mut Criterion) {
    let list = accounts(Algorithm::Sha1);
    let codes: Vec<String> = list
        .iter()
        .map(|a| a.code_at(NOW - 30).code.to_string())
        .collect();
    let mut group = c.benchmark_group("verify_window_1");
    group.throughput(Throughput::Elements(ACCOUNTS as u64));
    group.bench_function("SHA1 previous step", |b| {
        b.iter(|| {
            for (account, code) in list.iter().zip(&codes) {
                black_box(account.verify_totp(code, NOW, Default::default(), None));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, generation, verification);
criterion_main!(benches);
