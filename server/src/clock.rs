//! The server's clock and its one-time random tokens: shared by every layer, depending on
//! none, so that the store can stamp rows without reaching up into the state.

use base64::Engine;

/// Unix seconds now (0 if the clock is before 1970).
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// 16 random bytes, base64url: nonces, lease tokens and similar one-time values.
pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes[..]);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
