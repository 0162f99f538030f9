//! Bounds on the key derivation an import file may ask for. Encrypted exports carry their own
//! KDF parameters and the derivation must run before a wrong password can be told from a
//! hostile file, so every parameter is checked — and the whole file's work added up — before
//! the first derivation starts. Out of bounds is an error that says so, never a silent try.
//!
//! One derivation may use at most [`KdfParams::MAX_MEMORY_KIB`] of memory and
//! [`KdfParams::MAX_WORK_KIB`] of memory traffic (memory-hard KDFs) or
//! [`MAX_PBKDF2_ITERATIONS`] (PBKDF2). One import tries at most [`MAX_PASSWORD_ATTEMPTS`]
//! password slots and spends at most the work of two of the largest derivations allowed.
//! Formats that encrypt every entry under its own salt (Authy) need one derivation per
//! entry: those are charged together, once, to a separate allowance of
//! [`MAX_PER_ENTRY_PBKDF2_ITERATIONS`], so a large file of such entries is refused as a whole
//! before the first one runs.
//! The figures and the apps' own settings they leave room for are in docs/transfer.md.

use super::ImportError;
use crate::vault::KdfParams;

/// Most password slots tried for one file. Aegis writes one password slot, plus one per
/// backup password; more than this is not a file an app wrote.
pub const MAX_PASSWORD_ATTEMPTS: usize = 4;

/// Most PBKDF2 iterations accepted from a file: above OWASP's recommendations (600,000 for
/// SHA-256, 1,300,000 for SHA-1) and far above what andOTP (140,000–160,000) and 2FAS
/// (10,000) write.
pub const MAX_PBKDF2_ITERATIONS: u32 = 2_000_000;

/// Most PBKDF2 iterations one import may run for per-entry derivations: 300 tokens at the
/// 100,000 iterations Authy's own backups use (its older app storage uses 1,000).
pub const MAX_PER_ENTRY_PBKDF2_ITERATIONS: u64 = 30_000_000;

/// Costs are counted in millionths of the largest derivation allowed.
const FULL: u64 = 1_000_000;

/// Total work of one import: that of two of the largest derivations allowed.
const MAX_IMPORT_WORK: u64 = 2 * FULL;

const KIB: u64 = 1024;

/// A key derivation a file asks for, before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kdf {
    /// scrypt with N = 2^`log_n` (Aegis).
    Scrypt { log_n: u8, r: u32, p: u32 },
    /// Argon2id (Countersign backups).
    Argon2id(KdfParams),
    /// PBKDF2-HMAC (andOTP, 2FAS, WinZip AES).
    Pbkdf2 { iterations: u32 },
    /// One PBKDF2-HMAC per entry (Authy): `largest` iterations for the costliest entry,
    /// `total` over all entries of the file.
    Pbkdf2PerEntry { largest: u32, total: u64 },
    /// libsodium's `crypto_pwhash` Argon2id with its own limits (Ente Auth): `memlimit` in
    /// bytes, `opslimit` passes, one lane. Bounded apart from [`Kdf::Argon2id`] because Ente
    /// writes more than a vault may use (below).
    SodiumArgon2id { memlimit: u64, opslimit: u64 },
}

/// Most memory of one libsodium Argon2id derivation: libsodium's MEMLIMIT_SENSITIVE, 1 GiB,
/// which Ente Auth uses on every device not found to be low-spec (`deriveSensitiveKey`).
pub const MAX_SODIUM_MEMLIMIT: u64 = 1 << 30;

/// Most memory traffic (memlimit × opslimit) of one libsodium Argon2id derivation: 4 GiB,
/// the constant product Ente keeps while it halves memory and doubles passes on phones
/// that cannot give 1 GiB (1 GiB × 4, 256 MiB × 16, …).
pub const MAX_SODIUM_WORK: u64 = 4 << 30;

/// libsodium's smallest Argon2id memory (crypto_pwhash_argon2id_MEMLIMIT_MIN).
const MIN_SODIUM_MEMLIMIT: u64 = 8192;

impl Kdf {
    /// scrypt as Aegis stores it: N itself, not its logarithm. `None` when N is not a power
    /// of two above 1 or r or p is 0: no valid scrypt setting.
    pub(crate) fn scrypt(n: u64, r: u32, p: u32) -> Option<Kdf> {
        (n >= 2 && n.is_power_of_two() && r > 0 && p > 0).then(|| Kdf::Scrypt {
            log_n: n.trailing_zeros() as u8,
            r,
            p,
        })
    }

    /// This derivation's cost in millionths of the largest allowed, or why it is refused.
    fn cost(&self) -> Result<u64, String> {
        let max_memory = u128::from(KdfParams::MAX_MEMORY_KIB) * u128::from(KIB);
        let max_work = u128::from(KdfParams::MAX_WORK_KIB) * u128::from(KIB);
        match *self {
            Kdf::Scrypt { log_n, r, p } => {
                // ROMix holds N blocks of 128·r bytes and sweeps them twice, once per lane.
                let memory = (128u128 * u128::from(r)).checked_shl(u32::from(log_n));
                let memory = memory.filter(|_| log_n < 64).unwrap_or(u128::MAX);
                let work = memory.saturating_mul(2 * u128::from(p));
                if memory > max_memory || work > max_work {
                    return Err(format!(
                        "scrypt N=2^{log_n} r={r} p={p} needs {} MiB and {} MiB of work",
                        memory >> 20,
                        work >> 20
                    ));
                }
                Ok(share(work, max_work))
            }
            Kdf::Argon2id(params) => {
                if !params.is_acceptable() {
                    return Err(format!(
                        "Argon2id {} KiB × {} passes × {} lanes",
                        params.memory_kib, params.iterations, params.parallelism
                    ));
                }
                Ok(share(
                    params.work_kib().into(),
                    KdfParams::MAX_WORK_KIB.into(),
                ))
            }
            Kdf::SodiumArgon2id { memlimit, opslimit } => {
                let work = u128::from(memlimit) * u128::from(opslimit);
                if !(MIN_SODIUM_MEMLIMIT..=MAX_SODIUM_MEMLIMIT).contains(&memlimit)
                    || opslimit == 0
                    || work > u128::from(MAX_SODIUM_WORK)
                {
                    return Err(format!(
                        "Argon2id {} KiB × {opslimit} passes",
                        memlimit / KIB
                    ));
                }
                Ok(share(work, MAX_SODIUM_WORK.into()))
            }
            Kdf::Pbkdf2 { iterations }
            | Kdf::Pbkdf2PerEntry {
                largest: iterations,
                ..
            } => {
                if iterations == 0 || iterations > MAX_PBKDF2_ITERATIONS {
                    return Err(format!("PBKDF2 with {iterations} iterations"));
                }
                Ok(share(iterations.into(), MAX_PBKDF2_ITERATIONS.into()))
            }
        }
    }
}

/// `part / whole` in millionths, at least 1 so every derivation counts.
fn share(part: u128, whole: u128) -> u64 {
    let millionths = part.saturating_mul(u128::from(FULL)) / whole.max(1);
    u64::try_from(millionths).unwrap_or(u64::MAX).max(1)
}

/// The key derivation one import may still spend.
#[derive(Debug, Clone)]
pub struct KdfBudget {
    attempts: usize,
    spent: u64,
    limit: u64,
    /// PBKDF2 iterations still allowed for per-entry derivations.
    per_entry_iterations: u64,
}

impl KdfBudget {
    /// The default: [`MAX_PASSWORD_ATTEMPTS`] derivations, together at most the work of two
    /// of the largest allowed.
    pub fn per_import() -> KdfBudget {
        KdfBudget {
            attempts: 0,
            spent: 0,
            limit: MAX_IMPORT_WORK,
            per_entry_iterations: MAX_PER_ENTRY_PBKDF2_ITERATIONS,
        }
    }

    /// This budget's total work divided by `divisor`: for slower devices, and for fuzzing,
    /// where every input must finish in milliseconds.
    pub fn scaled_down(self, divisor: u32) -> KdfBudget {
        KdfBudget {
            limit: self.limit / u64::from(divisor.max(1)),
            per_entry_iterations: self.per_entry_iterations / u64::from(divisor.max(1)),
            ..self
        }
    }

    /// Reserves one derivation, or says why the file asks for too much.
    pub(crate) fn charge(&mut self, kdf: Kdf) -> Result<(), ImportError> {
        let cost = kdf
            .cost()
            .map_err(|reason| ImportError::ExcessiveKdf { reason })?;
        if self.attempts >= MAX_PASSWORD_ATTEMPTS {
            return Err(ImportError::ExcessiveKdf {
                reason: format!("more than {MAX_PASSWORD_ATTEMPTS} password slots"),
            });
        }
        if let Kdf::Pbkdf2PerEntry { total, .. } = kdf {
            return self.charge_per_entry(total);
        }
        let spent = self.spent.saturating_add(cost);
        if spent > self.limit {
            return Err(ImportError::ExcessiveKdf {
                reason: format!(
                    "more key derivation than one import may run ({}% of the allowance)",
                    spent.saturating_mul(100) / self.limit.max(1)
                ),
            });
        }
        self.attempts += 1;
        self.spent = spent;
        Ok(())
    }

    /// Reserves `total` iterations of per-entry PBKDF2 (one password, so one attempt).
    fn charge_per_entry(&mut self, total: u64) -> Result<(), ImportError> {
        if total > self.per_entry_iterations {
            return Err(ImportError::ExcessiveKdf {
                reason: format!(
                    "{total} PBKDF2 iterations over its entries, more than the {} one import may run",
                    self.per_entry_iterations
                ),
            });
        }
        self.attempts += 1;
        self.per_entry_iterations -= total;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charge(kdf: Kdf) -> Result<(), ImportError> {
        KdfBudget::per_import().charge(kdf)
    }

    #[test]
    fn the_apps_own_settings_fit() {
        // Aegis: N=2^15, r=8, p=1; andOTP: up to 160,000; 2FAS: 10,000; ours: the default.
        assert_eq!(charge(Kdf::scrypt(1 << 15, 8, 1).unwrap()), Ok(()));
        assert_eq!(
            charge(Kdf::Pbkdf2 {
                iterations: 160_000
            }),
            Ok(())
        );
        assert_eq!(charge(Kdf::Pbkdf2 { iterations: 10_000 }), Ok(()));
        assert_eq!(charge(Kdf::Argon2id(KdfParams::DEFAULT)), Ok(()));
        // Ente Auth: 1 GiB × 4 by default, 256 MiB × 16 on low-spec phones; our Ente export.
        let ours = (
            super::super::ente::EXPORT_MEMLIMIT,
            super::super::ente::EXPORT_OPSLIMIT,
        );
        for (memlimit, opslimit) in [(1 << 30, 4), (256 << 20, 16), ours] {
            assert_eq!(charge(Kdf::SodiumArgon2id { memlimit, opslimit }), Ok(()));
        }
        // The largest scrypt a phone is asked for: 256 MiB.
        assert_eq!(charge(Kdf::scrypt(1 << 18, 8, 1).unwrap()), Ok(()));
    }

    #[test]
    fn excessive_settings_are_refused_before_any_work() {
        let refused = |kdf: Kdf| matches!(charge(kdf), Err(ImportError::ExcessiveKdf { .. }));
        assert!(refused(Kdf::scrypt(1 << 18, 32, 16).unwrap()), "1 GiB");
        assert!(refused(Kdf::scrypt(1 << 19, 8, 1).unwrap()), "512 MiB");
        assert!(
            refused(Kdf::scrypt(1 << 15, 8, 64).unwrap()),
            "4 GiB of work"
        );
        assert!(refused(Kdf::Scrypt {
            log_n: 63,
            r: u32::MAX,
            p: u32::MAX
        }));
        assert!(refused(Kdf::Pbkdf2 {
            iterations: MAX_PBKDF2_ITERATIONS + 1
        }));
        assert!(refused(Kdf::Pbkdf2 { iterations: 0 }));
        for (memlimit, opslimit) in [(2 << 30, 1), (1 << 30, 5), (1 << 20, 0), (4096, 1)] {
            assert!(refused(Kdf::SodiumArgon2id { memlimit, opslimit }));
        }
        assert!(refused(Kdf::SodiumArgon2id {
            memlimit: u64::MAX,
            opslimit: u64::MAX
        }));
        assert_eq!(Kdf::scrypt(1 << 15, 0, 1), None);
        assert_eq!(Kdf::scrypt(3, 8, 1), None);
    }

    #[test]
    fn attempts_and_total_work_are_capped() {
        let aegis = Kdf::scrypt(1 << 15, 8, 1).unwrap();
        let mut budget = KdfBudget::per_import();
        for _ in 0..MAX_PASSWORD_ATTEMPTS {
            assert_eq!(budget.charge(aegis), Ok(()));
        }
        assert!(budget.charge(aegis).is_err(), "one attempt too many");

        let largest = Kdf::scrypt(1 << 18, 8, 2).unwrap();
        let mut budget = KdfBudget::per_import();
        assert_eq!(budget.charge(largest), Ok(()));
        assert_eq!(budget.charge(largest), Ok(()));
        assert!(budget.charge(aegis).is_err(), "work beyond two largest");

        // A sixteenth of the budget still admits Aegis's own setting, twice.
        let mut small = KdfBudget::per_import().scaled_down(16);
        assert_eq!(small.charge(aegis), Ok(()));
        assert_eq!(small.charge(aegis), Ok(()));
        assert!(small.charge(aegis).is_err());
    }

    #[test]
    fn per_entry_derivations_have_their_own_allowance() {
        // 300 Authy tokens at 100,000 iterations fit, once; one more iteration does not.
        let authy = |total| Kdf::Pbkdf2PerEntry {
            largest: 100_000,
            total,
        };
        let mut budget = KdfBudget::per_import();
        assert_eq!(
            budget.charge(authy(MAX_PER_ENTRY_PBKDF2_ITERATIONS)),
            Ok(())
        );
        assert!(budget.charge(authy(1)).is_err());
        assert!(matches!(
            charge(authy(MAX_PER_ENTRY_PBKDF2_ITERATIONS + 1)),
            Err(ImportError::ExcessiveKdf { .. })
        ));
        // Each entry's own count is bounded like any PBKDF2.
        assert!(
            charge(Kdf::Pbkdf2PerEntry {
                largest: MAX_PBKDF2_ITERATIONS + 1,
                total: u64::from(MAX_PBKDF2_ITERATIONS) + 1,
            })
            .is_err()
        );
        // The ordinary allowance is untouched by per-entry work, and scaling applies.
        let mut budget = KdfBudget::per_import();
        assert_eq!(budget.charge(authy(1_000_000)), Ok(()));
        assert_eq!(budget.charge(Kdf::scrypt(1 << 18, 8, 2).unwrap()), Ok(()));
        let mut small = KdfBudget::per_import().scaled_down(256);
        assert!(
            small
                .charge(authy(MAX_PER_ENTRY_PBKDF2_ITERATIONS / 255))
                .is_err()
        );
    }
}
