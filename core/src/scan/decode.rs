//! The decoders behind `scan`, each tried on a view in a fixed order until one finds a code.
//!
//! All are pure Rust (no C++ toolchain in the mobile cross-builds). rxing carries two ports of
//! zxing's QR reader — of zxing-cpp (better detector, reports the code's quadrilateral) and of
//! zxing Java (finds some codes the other misses) — and rqrr (quirc's algorithm) reads some
//! photos both miss. docs/scanner.md records the measured comparison behind this order.
//!
//! Decoders are third-party code run on hostile pixels: each call is contained with
//! `catch_unwind`, so a decoder bug costs one stage, never the app. (This relies on unwinding
//! panics: no release profile here sets `panic = "abort"`.)

use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};

use rxing::common::{GlobalHistogramBinarizer, HybridBinarizer};
use rxing::{
    BarcodeFormat, Binarizer, BinaryBitmap, DecodeHints, Luma8Source, LuminanceSource, RXingResult,
    Reader,
};

use super::frame::View;

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

/// What a decoder read, in the view's pixel coordinates.
#[derive(Debug, Clone)]
pub(crate) struct Decoded {
    pub text: String,
    pub corners: Vec<(f32, f32)>,
}

/// Runs `stages` in order on `view` and returns the codes of the first stage that finds any.
pub(crate) fn decode(view: &View<'_>, stages: &[Stage]) -> Vec<Decoded> {
    let Some(source) = luma_source(view) else {
        return Vec::new();
    };
    let mut hybrid: Option<BinaryBitmap<HybridBinarizer<Luma8Source<'_>>>> = None;
    for &stage in stages {
        let found = contained(|| match stage {
            Stage::ZxingCpp => {
                let bitmap = hybrid.get_or_insert_with(|| hybrid_bitmap(&source));
                zxing_cpp(bitmap)
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
                zxing_cpp(&mut hybrid_bitmap(&inverted))
            }
            Stage::GlobalHistogram => zxing_cpp(&mut BinaryBitmap::new(
                GlobalHistogramBinarizer::new(source.clone()),
            )),
            Stage::Rqrr => rqrr(view),
        });
        if !found.is_empty() {
            return found;
        }
    }
    Vec::new()
}

static CONTAINED_PANICS: AtomicU64 = AtomicU64::new(0);

/// How many decoder panics this process has contained (benchmarks report it).
pub fn contained_panics() -> u64 {
    CONTAINED_PANICS.load(Ordering::Relaxed)
}

/// Runs `work`; a panic inside a decoder reads as "nothing found".
fn contained(work: impl FnOnce() -> Vec<Decoded>) -> Vec<Decoded> {
    catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|_| {
        CONTAINED_PANICS.fetch_add(1, Ordering::Relaxed);
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

fn zxing_cpp<B: Binarizer>(bitmap: &mut BinaryBitmap<B>) -> Vec<Decoded> {
    use rxing::multi::MultipleBarcodeReader;
    rxing::qrcode::cpp_port::QrReader
        .decode_multiple_with_hints(bitmap, &hints())
        .map(|results| results.iter().map(from_rxing).collect())
        .unwrap_or_default()
}

fn zxing_java<B: Binarizer>(bitmap: &mut BinaryBitmap<B>) -> Vec<Decoded> {
    rxing::qrcode::QRCodeReader
        .decode_with_hints(bitmap, &hints())
        .map(|result| vec![from_rxing(&result)])
        .unwrap_or_default()
}

fn from_rxing(result: &RXingResult) -> Decoded {
    Decoded {
        text: result.getText().to_owned(),
        corners: result.getPoints().iter().map(|p| (p.x, p.y)).collect(),
    }
}

fn rqrr(view: &View<'_>) -> Vec<Decoded> {
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(view.width, view.height, |x, y| {
        view.pixel(x, y)
    });
    image
        .detect_grids()
        .iter()
        .filter_map(|grid| {
            let mut bytes = Vec::new();
            grid.decode_to(&mut bytes).ok()?;
            Some(Decoded {
                text: text_of(bytes)?,
                corners: grid
                    .bounds
                    .iter()
                    .map(|p| (p.x as f32, p.y as f32))
                    .collect(),
            })
        })
        .collect()
}

/// rqrr hands over the payload bytes without the character-set handling zxing does (ECI,
/// Shift JIS): only UTF-8 payloads are taken from it, anything else is left to the zxing
/// stages rather than risk a misread.
fn text_of(bytes: Vec<u8>) -> Option<String> {
    String::from_utf8(bytes).ok()
}
