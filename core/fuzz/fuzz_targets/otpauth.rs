//! Any text into the otpauth parser: no panic, no hang; what parses must round-trip.
#![no_main]

use countersign_app::otpauth;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(parsed) = otpauth::parse(text) {
        let again = otpauth::parse(&otpauth::to_uri(&parsed.account)).expect("emitted URI parses");
        assert_eq!(again.account, parsed.account);
    }
});
