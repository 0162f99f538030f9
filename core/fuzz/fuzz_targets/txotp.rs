//! Any text into the txotp parser: no panic, no hang; what parses must round-trip and
//! have a transactional code.
#![no_main]

use countersign_app::{Account, OtpParameters, Secret, transactional, txotp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(parsed) = txotp::parse(text) {
        let tx = parsed.transaction;
        // Percent-encoding may push a string near the limit over it: then to_uri refuses.
        if let Ok(uri) = tx.to_uri() {
            let again = txotp::parse(&uri).expect("emitted transaction parses");
            assert_eq!(again.transaction, tx);
        }
        let account = Account::new(None, "f", Secret::from_bytes(vec![7; 20]).unwrap(), OtpParameters::default_totp());
        transactional::code(&account, &tx, 1_700_000_000).expect("TOTP accounts have codes");
    }
});
