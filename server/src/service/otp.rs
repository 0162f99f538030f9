//! The server's one-time codes, all from a user's random seed:
//! - app codes: TOTP(seed), the app's token length, 30 s, accepted ±1 step while a device
//!   that received the seed is registered;
//! - SMS and voice codes: the TOTP function of HMAC(seed, "countersign-sms") at a number
//!   chosen per message (sent_codes.rs), accepted only if that message was sent, for 10 min;
//! - custom-action codes: the same over HMAC(seed, "countersign-action:" + action), valid
//!   only when the same action is given;
//! - transactional codes: docs/transactional-totp.md over the app account;
//! - generic authenticator codes: a separate secret (6 digits, SHA-1, 30 s) from
//!   `POST users/{id}/secret`.

use countersign_otp::otp::{Algorithm, TotpMatch, Window};
use countersign_otp::{Account, OtpParameters, Secret};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub const APP_WINDOW: Window = Window {
    behind: 1,
    ahead: 1,
};

fn derived(seed: &[u8], label: &str) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(seed)
        .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
    mac.update(label.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn account(key: Vec<u8>, digits: u32) -> Option<Account> {
    let params = OtpParameters::totp(Algorithm::Sha1, digits, 30).ok()?;
    Some(Account::new(
        None,
        "",
        Secret::from_bytes(key).ok()?,
        params,
    ))
}

pub fn app_account(seed: &[u8], digits: u32) -> Option<Account> {
    account(seed.to_vec(), digits)
}

pub fn sms_account(seed: &[u8], digits: u32, action: Option<&str>) -> Option<Account> {
    let label = match action {
        Some(action) => format!("countersign-action:{action}"),
        None => "countersign-sms".to_owned(),
    };
    account(derived(seed, &label), digits)
}

pub fn authenticator_account(secret: &[u8]) -> Option<Account> {
    account(secret.to_vec(), 6)
}

pub fn check(
    account: &Account,
    token: &str,
    now: i64,
    window: Window,
    last_step: i64,
) -> Option<TotpMatch> {
    let last = u64::try_from(last_step).ok().filter(|s| *s > 0);
    account.verify_totp(token, now.max(0) as u64, window, last)
}
