//! Any text, and any payload bytes, into the migration decoder: no panic, no hang.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use countersign_app::migration;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = migration::decode(text);
    }
    // The same bytes as a payload, so the protobuf decoder is reached directly.
    let uri = format!("otpauth-migration://offline?data={}", STANDARD.encode(data));
    if let Ok(batch) = migration::decode(&uri) {
        assert_eq!(batch.accounts.len() + batch.failures.len() <= data.len(), true);
    }
});
