//! The scanner's work budget (issue 10, finding 4).
//!
//! The decoders' work grows with what they find, not only with the pixel count: every
//! finder-pattern candidate is compared with the others, every plausible triple is sampled
//! and decoded, rqrr copies the whole image for each candidate triple. A picture tiled with
//! finder patterns made one scan take minutes. So every stage has limits stated in units of
//! work — candidates, combinations, attempts, pixel accesses — and the largest picture a stage
//! sees is bounded too. Counts rather than a clock: the same input does the same work on every
//! phone, results do not depend on the load, and the worst case is bounded by construction.
//! docs/scanner.md states the limits and the measured worst case.
//!
//! Where the work happens inside a third-party decoder that offers no limit, the decoder is
//! stopped from a hook it calls (a callback, a pixel access) by unwinding with
//! [`WorkLimitReached`]; `decode::contained` catches it at the stage boundary. The unwind
//! skips the panic hook (`resume_unwind`), so nothing is printed and nothing is left running.

use std::cell::Cell;
use std::panic::resume_unwind;
use std::sync::atomic::{AtomicU64, Ordering};

/// Largest picture a decoding stage sees, in pixels (4 megapixels: 2048 × 2048, twice a
/// 1080p frame). Larger images and frames are first reduced by an integer factor (mean of
/// each block): a code in a bigger photo has modules large enough to survive it.
pub const MAX_STAGE_PIXELS: usize = 2048 * 2048;

/// Longest side a decoding stage sees: rxing counts run lengths in 16 bits.
pub(crate) const MAX_STAGE_SIDE: usize = 16_384;

/// rqrr's largest picture (its cost per pixel is the highest; the photos it adds are small).
pub(crate) const RQRR_MAX_PIXELS: usize = 1920 * 1080;

/// The smallest integer factor that brings a `width` × `height` picture within `max_pixels`
/// and `MAX_STAGE_SIDE` (1: no reduction needed).
pub(crate) fn reduction_factor(width: usize, height: usize, max_pixels: usize) -> usize {
    let fits = |factor: usize| {
        let (w, h) = (width / factor, height / factor);
        w.saturating_mul(h) <= max_pixels && w <= MAX_STAGE_SIDE && h <= MAX_STAGE_SIDE
    };
    // Start near the answer; the loop then takes at most a few steps.
    let area_ratio = width.saturating_mul(height) / max_pixels.max(1);
    let mut factor = (area_ratio as f64).sqrt().floor().max(1.0) as usize;
    while !fits(factor) {
        factor += 1;
    }
    factor
}

/// zxing-cpp port: finder patterns kept per stage (the corpus photos have at most 60).
pub(crate) const MAX_FINDER_PATTERNS: usize = 128;
/// zxing-cpp port: 1:1:3:1:1 row matches examined per stage (each is checked against the
/// patterns kept so far).
pub(crate) const MAX_ROW_MATCHES: usize = 1 << 15;
/// zxing-cpp port: attempts to confirm a row match as a finder pattern, per stage.
pub(crate) const MAX_LOCATE_ATTEMPTS: usize = 4096;
/// zxing-cpp port: finder-pattern triples sampled and decoded, per stage.
pub(crate) const MAX_CODE_ATTEMPTS: usize = 128;

/// zxing Java port: distinct finder-pattern centres (its triple search is cubic in them).
pub(crate) const MAX_JAVA_CENTRES: usize = 128;

/// rqrr: pixel reads and writes (each image copy counts its pixels) per pixel of the input.
pub(crate) const RQRR_ACCESSES_PER_PIXEL: u64 = 32;
/// rqrr: the same for tiny images, where fixed costs dominate.
pub(crate) const RQRR_MIN_ACCESSES: u64 = 1 << 23;

/// The unwind payload that stops a third-party decoder at its limit.
#[derive(Debug)]
pub(crate) struct WorkLimitReached;

/// Stops the decoder that called this hook (caught by `decode::contained`).
pub(crate) fn stop_decoder() -> ! {
    resume_unwind(Box::new(WorkLimitReached))
}

static LIMITS_REACHED: AtomicU64 = AtomicU64::new(0);

/// How many times a stage of this process stopped at a work limit (benchmarks report it).
/// A stage that stops keeps what it had read.
pub fn work_limits_reached() -> u64 {
    LIMITS_REACHED.load(Ordering::Relaxed)
}

pub(crate) fn note_limit_reached() {
    LIMITS_REACHED.fetch_add(1, Ordering::Relaxed);
}

/// A countdown of work units, for hooks called from inside one decoder on this thread.
#[derive(Debug)]
pub(crate) struct Allowance {
    left: Cell<u64>,
}

impl Allowance {
    pub fn new(units: u64) -> Allowance {
        Allowance {
            left: Cell::new(units),
        }
    }

    /// Takes `units`; stops the decoder when the allowance is spent.
    pub fn spend(&self, units: u64) {
        match self.left.get().checked_sub(units) {
            Some(left) => self.left.set(left),
            None => stop_decoder(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reduction_brings_any_shape_within_the_limits() {
        assert_eq!(reduction_factor(1920, 1080, MAX_STAGE_PIXELS), 1);
        assert_eq!(reduction_factor(2048, 2048, MAX_STAGE_PIXELS), 1);
        assert_eq!(reduction_factor(2049, 2048, MAX_STAGE_PIXELS), 2);
        assert_eq!(reduction_factor(8000, 6000, MAX_STAGE_PIXELS), 4);
        for (width, height) in [(7071, 7071), (65_535, 762), (762, 65_535), (50_000_000, 1)] {
            let factor = reduction_factor(width, height, MAX_STAGE_PIXELS);
            let (w, h) = (width / factor, height / factor);
            assert!(w * h <= MAX_STAGE_PIXELS && w <= MAX_STAGE_SIDE && h <= MAX_STAGE_SIDE);
            // The smallest such factor.
            let (w, h) = (width / (factor - 1), height / (factor - 1));
            assert!(w * h > MAX_STAGE_PIXELS || w > MAX_STAGE_SIDE || h > MAX_STAGE_SIDE);
        }
    }

    #[test]
    fn an_allowance_stops_its_decoder_when_spent() {
        let allowance = Allowance::new(10);
        allowance.spend(4);
        allowance.spend(6);
        let stopped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| allowance.spend(1)));
        assert!(stopped.is_err_and(|payload| payload.is::<WorkLimitReached>()));
    }
}
