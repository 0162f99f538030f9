//! Duplicate detection in linear time. An import of n entries used to compare each new
//! account with every earlier one (n²/2 comparisons: 40,000 entries took seconds); this
//! index finds an equal account ([`same_account`]: issuer, label and secret) with one hash
//! lookup. It keeps no copy of any secret: only a keyed fingerprint (HMAC-SHA256 under a
//! random key that lives as long as the index), and every fingerprint match is confirmed
//! with [`same_account`], so a collision can never merge two different accounts.

use std::collections::HashMap;

use hmac::{KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::account::Account;
use crate::vault::same_account;

/// Positions of accounts by fingerprint; the accounts themselves stay with the caller.
pub(crate) struct AccountIndex {
    key: Zeroizing<[u8; 32]>,
    positions: HashMap<u64, Vec<usize>>,
}

impl AccountIndex {
    pub fn new() -> AccountIndex {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::fill(&mut key[..]);
        AccountIndex {
            key,
            positions: HashMap::new(),
        }
    }

    /// A keyed digest of what makes two accounts the same. Each field is length-prefixed so
    /// ("ab", "c") and ("a", "bc") differ; a missing issuer differs from an empty one.
    fn fingerprint(&self, account: &Account) -> u64 {
        let Ok(mut mac) = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(&self.key[..]) else {
            // HMAC takes keys of any length; unreachable, and a constant only costs speed.
            return 0;
        };
        let issuer = account.issuer.as_deref();
        mac.update(&[u8::from(issuer.is_some())]);
        for field in [issuer.unwrap_or("").as_bytes(), account.label.as_bytes()] {
            mac.update(&(field.len() as u64).to_be_bytes());
            mac.update(field);
        }
        mac.update(account.secret.expose());
        let digest = mac.finalize().into_bytes();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_be_bytes(first)
    }

    /// Records that `account` is at `position` of the caller's list.
    pub fn insert(&mut self, account: &Account, position: usize) {
        let fingerprint = self.fingerprint(account);
        self.positions
            .entry(fingerprint)
            .or_default()
            .push(position);
    }

    /// The position of an account equal to `account`, if one was inserted; `stored` reads the
    /// caller's list (an out-of-range position is simply not a match).
    pub fn find<'a>(
        &self,
        account: &Account,
        stored: impl Fn(usize) -> Option<&'a Account>,
    ) -> Option<usize> {
        self.positions
            .get(&self.fingerprint(account))?
            .iter()
            .copied()
            .find(|&position| stored(position).is_some_and(|other| same_account(other, account)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::OtpParameters;
    use crate::secret::Secret;

    fn account(issuer: Option<&str>, label: &str, secret: &[u8]) -> Account {
        Account::new(
            issuer.map(str::to_owned),
            label,
            Secret::from_bytes(secret.to_vec()).unwrap(),
            OtpParameters::default_totp(),
        )
    }

    #[test]
    fn finds_equal_accounts_and_only_those() {
        let stored = [
            account(Some("ab"), "c", b"secret"),
            account(None, "c", b"secret"),
            account(Some(""), "c", b"secret"),
        ];
        let mut index = AccountIndex::new();
        for (position, a) in stored.iter().enumerate() {
            index.insert(a, position);
        }
        let lookup = |a: &Account| index.find(a, |i| stored.get(i));
        assert_eq!(lookup(&account(Some("ab"), "c", b"secret")), Some(0));
        assert_eq!(lookup(&account(None, "c", b"secret")), Some(1));
        assert_eq!(lookup(&account(Some(""), "c", b"secret")), Some(2));
        assert_eq!(lookup(&account(Some("a"), "bc", b"secret")), None);
        assert_eq!(lookup(&account(Some("ab"), "c", b"other")), None);
        // Parameters are not part of an account's identity (as in `same_account`).
        let mut hotp = account(Some("ab"), "c", b"secret");
        hotp.params = OtpParameters::hotp(crate::otp::Algorithm::Sha1, 6, 1).unwrap();
        assert_eq!(lookup(&hotp), Some(0));
    }
}
