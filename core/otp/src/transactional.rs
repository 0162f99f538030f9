//! Transactional codes: a TOTP account's code bound to one transaction (PSD2 dynamic
//! linking). Defined in docs/transactional-totp.md:
//! code = OCRA(`OCRA-1:HOTP-<alg>-<digits>:QH64-T<period>S`, secret,
//!             Q = hex(SHA-256(canonical string)), T = floor(unix / period)).

use sha2::{Digest, Sha256};

use crate::account::{Account, OtpKind};
use crate::ocra::{Inputs, OcraError, Suite};
use crate::otp::{Code, TotpMatch, Window, verify_totp};
use crate::txotp::Transaction;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransactionalError {
    #[error("transactional codes need a TOTP account (not HOTP or Steam)")]
    NotTotp,
    #[error(transparent)]
    Ocra(#[from] OcraError),
}

/// The OCRA suite for an account, e.g. `OCRA-1:HOTP-SHA1-6:QH64-T30S`.
pub fn suite_text(account: &Account) -> Result<String, TransactionalError> {
    let OtpKind::Totp { period } = account.params.kind() else {
        return Err(TransactionalError::NotTotp);
    };
    Ok(format!(
        "OCRA-1:HOTP-{}-{}:QH64-T{period}S",
        account.params.algorithm(),
        account.params.digits()
    ))
}

/// Q: the SHA-256 of the canonical string, as 64 lowercase hex characters.
pub fn challenge(transaction: &Transaction) -> String {
    let digest = Sha256::digest(transaction.canonical_string().as_bytes());
    data_encoding::HEXLOWER.encode(&digest)
}

/// A suite and challenge prepared once, for computing or checking several time steps.
pub struct Binding {
    suite: Suite,
    challenge: String,
    period: u32,
}

impl Binding {
    pub fn new(
        account: &Account,
        transaction: &Transaction,
    ) -> Result<Binding, TransactionalError> {
        let suite = Suite::parse(&suite_text(account)?)?;
        let period = account.params.period().ok_or(TransactionalError::NotTotp)?;
        Ok(Binding {
            suite,
            challenge: challenge(transaction),
            period,
        })
    }

    pub fn code_for_step(&self, account: &Account, step: u64) -> Result<Code, TransactionalError> {
        let inputs = Inputs {
            challenge: &self.challenge,
            time_steps: Some(step),
            ..Inputs::default()
        };
        Ok(self.suite.compute(account.secret.expose(), &inputs)?)
    }
}

/// The transactional code of `transaction` at `unix_time`.
pub fn code(
    account: &Account,
    transaction: &Transaction,
    unix_time: u64,
) -> Result<Code, TransactionalError> {
    let binding = Binding::new(account, transaction)?;
    binding.code_for_step(account, unix_time / u64::from(binding.period))
}

/// Checks a typed transactional code with the same look-around window as TOTP.
pub fn verify(
    account: &Account,
    transaction: &Transaction,
    typed: &str,
    unix_time: u64,
    window: Window,
    last_used_step: Option<u64>,
) -> Result<Option<TotpMatch>, TransactionalError> {
    let binding = Binding::new(account, transaction)?;
    // The suite and challenge were validated when the binding was built, so computing a
    // step cannot fail; a failure would count as no match.
    Ok(verify_totp(
        typed,
        unix_time,
        binding.period,
        window,
        last_used_step,
        |step| binding.code_for_step(account, step).unwrap_or(Code::NONE),
    ))
}
