//! Image file bytes, and camera planes of fuzzed geometry, into the scanner: no panic of
//! ours, no hang (libFuzzer's -timeout), memory bounded by the pixel limit.
//!
//! The first byte picks the input: even → the rest is an image file for `scan_image`; odd →
//! the next six bytes are a frame's width, height (u16 each, little-endian), row padding and
//! how many bytes the buffer lacks, and the rest is its pixels, repeated to fill the plane.
//!
//! The decoders (rxing, rqrr) are third-party code that panics on some inputs; the scanner
//! contains those panics at each stage (docs/scanner.md). libfuzzer-sys aborts on every
//! panic, caught or not, so this target installs a hook that lets panics raised inside the
//! decoders' own sources unwind to the scanner's containment, and aborts on any other panic:
//! a crash reported here is a panic of the scanner's code (or one that escaped it).
#![no_main]

use std::sync::Once;

use countersign_app::scan::{self, FrameScanner, LumaFrame, ScanError};
use libfuzzer_sys::fuzz_target;

/// Largest plane built from a fuzz input: enough for every stage, small enough to run fast.
const MAX_PLANE_BYTES: usize = 1 << 20;

/// Source folders of the decoders whose panics the scanner contains.
const CONTAINED_CRATES: [&str; 2] = ["/rxing-", "/rqrr-"];

fn contain_decoder_panics_only() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let in_decoder = info.location().is_some_and(|location| {
                CONTAINED_CRATES
                    .iter()
                    .any(|name| location.file().contains(name))
            });
            if !in_decoder {
                eprintln!("{info}");
                std::process::abort();
            }
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    contain_decoder_panics_only();
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    if selector % 2 == 0 {
        // Any bytes: a typed error or codes, never a panic.
        let _ = scan::scan_image(rest);
        return;
    }
    let Some((header, pixels)) = rest.split_at_checked(6) else {
        return;
    };
    let width = usize::from(u16::from_le_bytes([header[0], header[1]]));
    let height = usize::from(u16::from_le_bytes([header[2], header[3]]));
    let stride = width + usize::from(header[4]);
    let missing = usize::from(header[5]);
    let needed = stride.saturating_mul(height);
    if pixels.is_empty() || needed > MAX_PLANE_BYTES {
        return;
    }
    let mut plane: Vec<u8> = pixels.iter().copied().cycle().take(needed).collect();
    plane.truncate(needed.saturating_sub(missing));
    match LumaFrame::new(&plane, width, height, stride) {
        Ok(frame) => {
            // A camera loop: the second scan starts from what the first one found.
            let mut scanner = FrameScanner::new();
            let first = scanner.scan(&frame);
            let _ = scanner.scan(&frame);
            // Work limits are counts, not clocks: the same frame reads the same every time.
            assert_eq!(scan::scan_frame(&frame), first);
        }
        Err(error) => assert!(
            matches!(
                error,
                ScanError::FrameGeometry { .. } | ScanError::TooLarge { .. }
            ),
            "{error:?}"
        ),
    }
});
