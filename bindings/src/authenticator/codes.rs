//! Codes: every time-based account's code now (or at a given time), the next HOTP code, and
//! a transactional code bound to a scanned `txotp://` transaction.

use countersign_app::{transactional, txotp};

use super::{Authenticator, Result, entry_id, locked};
use crate::records::{CodeInfo, TransactionCode, details};

#[uniffi::export]
impl Authenticator {
    /// Codes of every time-based account now (by the authenticator's clock).
    pub fn codes(&self) -> Result<Vec<CodeInfo>> {
        self.codes_at(self.clock.now_unix())
    }

    pub fn codes_at(&self, unix_time: u64) -> Result<Vec<CodeInfo>> {
        Ok(locked(&self.vault)?
            .codes_at(unix_time)?
            .into_iter()
            .filter_map(|(id, code)| {
                code.map(|code| CodeInfo {
                    account_id: id.to_string(),
                    code: code.code.to_string(),
                    seconds_remaining: code.seconds_remaining,
                })
            })
            .collect())
    }

    /// The next code of an HOTP account; the counter is saved before the code is returned.
    pub fn next_hotp_code(&self, id: String) -> Result<CodeInfo> {
        let code = locked(&self.vault)?.next_hotp_code(entry_id(&id)?)?;
        Ok(CodeInfo {
            account_id: id,
            code: code.code.to_string(),
            seconds_remaining: None,
        })
    }

    /// The transactional code of an account for a scanned `txotp://` transaction, with the
    /// transaction to display next to it.
    pub fn transactional_code(
        &self,
        account_id: String,
        txotp_text: String,
    ) -> Result<TransactionCode> {
        let transaction = txotp::parse(&txotp_text)?.transaction;
        let vault = locked(&self.vault)?;
        let entry = vault.entry(entry_id(&account_id)?)?;
        let code = transactional::code(&entry.account, &transaction, self.clock.now_unix())?;
        Ok(TransactionCode {
            code: code.to_string(),
            message: transaction.message.clone(),
            details: details(&transaction.details),
        })
    }
}
