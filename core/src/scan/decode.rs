//! The decoders behind `scan`, each tried on a view in a fixed order until one finds a code.
//!
//! All are pure Rust (no C++ toolchain in the mobile cross-builds). rxing carries two ports of
//! zxing's QR reader — of zxing-cpp (better detector, reports the code's quadrilateral) and of
//! zxing Java (finds some codes the other misses) — and rqrr (quirc's algorithm) reads some
//! photos both miss. docs/scanner.md records the measured comparison behind this order.
//!
//! Decoders are third-party code run on hostile pixels. Each stage works within the limits of
//! `budget` (the picture it sees is reduced to a bounded size first, and its work is counted),
//! and each call is contained with `catch_unwind`, so a decoder bug costs one stage, never
//! the app. (This relies on unwinding panics: no release profile here sets
//! `panic = "abort"`.)

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use rxing::common::{GlobalHistogramBinarizer, HybridBinarizer};
use rxing::{
    BarcodeFormat, Binarizer, BinaryBitmap, DecodeHints, Luma8Source, LuminanceSource, RXingResult,
    Reader,
};

use super::budget::{self, MAX_JAVA_CENTRES, MAX_STAGE_PIXELS, RQRR_MAX_PIXELS, WorkLimitReached};
use super::frame::{Plane, View};
use super::{cpp_reader, rqrr_reader};

/// One decoding attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// rxing's zxing-cpp port on a locally adaptive (hybrid) binarisation; every code found.
    ZxingCpp,
    /// rxing's zxing Java port on the same binarisation.
    ZxingJava,
    /// The zxing-cpp port on the inverted image: light modules on a dark ground.
    ZxingCppInverted,
    /// The zxing-cpp port on a global-histogram binarisation (low-contrast photos).
    GlobalHistogram,
    /// rqrr, on the grey pixels with its own binarisation.
    Rqrr,
}

/// What a decoder read; `corners` in the view's pixel coordinates until `decode` hands them
/// over in frame coordinates.
#[derive(Debug, Clone)]
pub(crate) struct Decoded {
    pub text: String,
    pub corners: Vec<(f32, f32)>,
}

/// Runs `stages` in order on `view` and returns the codes of the first stage that finds any,
/// with their corners in frame coordinates.
pub(crate) fn decode(view: &View<'_>, stages: &[Stage]) -> Vec<Decoded> {
    let reduced = within_size(view, MAX_STAGE_PIXELS);
    let view = reduced.as_ref().map_or(*view, Plane::view);
    if view.width == 0 || view.height == 0 {
        return Vec::new();
    }
    let Some(source) = luma_source(&view) else {
        return Vec::new();
    };
    let mut hybrid: Option<BinaryBitmap<HybridBinarizer<Luma8Source<'_>>>> = None;
    for &stage in stages {
        let found = contained(|| {
            let found = match stage {
                Stage::ZxingCpp => {
                    let bitmap = hybrid.get_or_insert_with(|| hybrid_bitmap(&source));
                    cpp_reader::read_codes(bitmap.get_black_matrix())
                }
                Stage::ZxingJava => {
                    let bitmap = hybrid.get_or_insert_with(|| hybrid_bitmap(&source));
                    zxing_java(bitmap)
                }
                Stage::ZxingCppInverted => {
                    // Invert the grey levels and binarise again: flipping the binarised bits
                    // instead is cheaper but reads fewer photos (the hybrid binariser treats
                    // flat blocks as background, which inverts too).
                    let mut inverted = source.clone();
                    inverted.invert();
                    cpp_reader::read_codes(hybrid_bitmap(&inverted).get_black_matrix())
                }
                Stage::GlobalHistogram => cpp_reader::read_codes(
                    BinaryBitmap::new(GlobalHistogramBinarizer::new(source.clone()))
                        .get_black_matrix(),
                ),
                Stage::Rqrr => return rqrr_in_frame(&view),
            };
            in_frame(&view, found)
        });
        if !found.is_empty() {
            return found;
        }
    }
    Vec::new()
}

/// rqrr's cost per pixel is the highest: it sees at most `RQRR_MAX_PIXELS`.
fn rqrr_in_frame(view: &View<'_>) -> Vec<Decoded> {
    let reduced = within_size(view, RQRR_MAX_PIXELS);
    let view = reduced.as_ref().map_or(*view, Plane::view);
    if view.width == 0 || view.height == 0 {
        return Vec::new();
    }
    in_frame(&view, rqrr_reader::read_codes(&view))
}

/// `view` reduced to at most `max_pixels` (and sides a decoder's run lengths can count), or
/// `None` when it is within them already. A very thin picture may reduce to nothing: it
/// holds no code, and the decoders are not asked (rqrr panics on a zero-width image).
fn within_size(view: &View<'_>, max_pixels: usize) -> Option<Plane> {
    let factor = budget::reduction_factor(view.width, view.height, max_pixels);
    (factor > 1).then(|| view.reduced(factor))
}

/// `codes` with their corners moved from `view`'s pixels to the frame's.
fn in_frame(view: &View<'_>, codes: Vec<Decoded>) -> Vec<Decoded> {
    codes
        .into_iter()
        .map(|code| Decoded {
            corners: code
                .corners
                .into_iter()
                .map(|p| view.frame_point(p))
                .collect(),
            ..code
        })
        .collect()
}

static CONTAINED_PANICS: AtomicU64 = AtomicU64::new(0);

/// How many decoder panics this process has contained (benchmarks report it). Stages stopped
/// at a work limit are counted by `work_limits_reached`, not here.
pub fn contained_panics() -> u64 {
    CONTAINED_PANICS.load(Ordering::Relaxed)
}

/// Runs `work`; a panic inside a decoder, or a decoder stopped at its work limit, reads as
/// "nothing found".
fn contained(work: impl FnOnce() -> Vec<Decoded>) -> Vec<Decoded> {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|payload| {
        if payload.is::<WorkLimitReached>() {
            budget::note_limit_reached();
        } else {
            CONTAINED_PANICS.fetch_add(1, Ordering::Relaxed);
        }
        Vec::new()
    })
}

/// The view as rxing's luminance source, borrowing the caller's bytes: the rows up to the
/// view's bottom are seen as an image `stride` wide, then cropped to the view.
fn luma_source<'a>(view: &View<'a>) -> Option<Luma8Source<'a>> {
    let rows = view.top + view.height;
    let whole = view.stride.checked_mul(rows)?;
    let source = if view.data.len() >= whole {
        Luma8Source::new_with_slice(
            &view.data[..whole],
            u32::try_from(view.stride).ok()?,
            u32::try_from(rows).ok()?,
        )
        .ok()?
    } else {
        // The platform may end the last row right after its pixels; copy only then.
        let mut pixels = Vec::with_capacity(view.width * view.height);
        for y in 0..view.height {
            let start = (view.top + y) * view.stride + view.left;
            pixels.extend_from_slice(view.data.get(start..start + view.width)?);
        }
        return Luma8Source::new(
            pixels,
            u32::try_from(view.width).ok()?,
            u32::try_from(view.height).ok()?,
        )
        .ok();
    };
    if view.left == 0 && view.top == 0 && view.width == view.stride {
        Some(source)
    } else {
        source
            .crop(view.left, view.top, view.width, view.height)
            .ok()
    }
}

fn hybrid_bitmap<'a>(source: &Luma8Source<'a>) -> BinaryBitmap<HybridBinarizer<Luma8Source<'a>>> {
    BinaryBitmap::new(HybridBinarizer::new(source.clone()))
}

fn hints() -> DecodeHints {
    DecodeHints {
        TryHarder: Some(true),
        PossibleFormats: Some(HashSet::from([BarcodeFormat::QR_CODE])),
        ..DecodeHints::default()
    }
}

/// The zxing Java port, stopped when it has collected `MAX_JAVA_CENTRES` finder-pattern
/// centres: it reports each new one through the point callback, and its search for the best
/// triple is cubic in their number.
fn zxing_java<B: Binarizer>(bitmap: &mut BinaryBitmap<B>) -> Vec<Decoded> {
    let centres = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&centres);
    let hints = DecodeHints {
        NeedResultPointCallback: Some(Arc::new(move |_| {
            if counter.fetch_add(1, Ordering::Relaxed) >= MAX_JAVA_CENTRES {
                budget::stop_decoder();
            }
        })),
        ..hints()
    };
    rxing::qrcode::QRCodeReader
        .decode_with_hints(bitmap, &hints)
        .map(|result| vec![from_rxing(&result)])
        .unwrap_or_default()
}

fn from_rxing(result: &RXingResult) -> Decoded {
    Decoded {
        text: result.getText().to_owned(),
        corners: result.getPoints().iter().map(|p| (p.x, p.y)).collect(),
    }
}
