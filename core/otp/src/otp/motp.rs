//! Mobile-OTP (mOTP, motp.sourceforge.net): 6 hexadecimal characters every 10 seconds.
//!
//! code = the first 6 characters of the lowercase hex MD5 of the text
//! `⌊unix time / 10⌋ (decimal) ‖ secret (lowercase hex) ‖ PIN`. The original midlet keeps the
//! "init secret" as the 16 hex characters the user typed; Aegis (`crypto/otp/MOTP.java`)
//! keeps it as bytes and writes them back in lowercase hex, as done here, so a secret read
//! from hex in either case gives the same codes.

use md5::{Digest, Md5};
use zeroize::Zeroizing;

use super::Code;

/// mOTP codes are 6 hex characters, made every 10 seconds; MD5 is the hash.
pub const MOTP_DIGITS: u8 = 6;
pub const MOTP_PERIOD: u32 = 10;

/// The mOTP code of time step `step` (unix time / 10).
pub fn motp_code(secret: &[u8], pin: &str, step: u64) -> Code {
    let secret_hex = Zeroizing::new(data_encoding::HEXLOWER.encode(secret));
    let message = Zeroizing::new(format!("{step}{}{pin}", secret_hex.as_str()));
    let digest = Md5::digest(message.as_bytes());
    let text = data_encoding::HEXLOWER.encode(digest.as_slice());
    Code::from_ascii(&text.as_bytes()[..usize::from(MOTP_DIGITS)])
}
