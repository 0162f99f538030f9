//! QR scanning: camera frames and image files → every code found, with its corners and its
//! payload classified (docs/scanner.md).
//!
//! - [`scan_image`]: a picked file or screenshot (PNG, JPEG, WebP, GIF); thorough — every
//!   decoder in turn.
//! - [`FrameScanner`]: the camera loop. One per camera session; it remembers where the last
//!   code was and looks there first. A frame gets a budget-minded pipeline: region of interest,
//!   then a half-scale pass on large frames (cheap, finds any code with modules ≥ 4 pixels),
//!   then full resolution; each level stops at the first decoder that finds a code.
//! - [`scan_frame`]: one frame without history.

mod budget;
mod cpp_reader;
mod decode;
mod frame;
mod image_file;
mod rqrr_reader;

pub use crate::payload::{Payload, PayloadKind, classify};
pub use budget::{MAX_STAGE_PIXELS, work_limits_reached};
pub use decode::{Stage, contained_panics};
pub use frame::{LumaFrame, MAX_PIXELS, MAX_SIDE};
pub use image_file::MAX_FILE_BYTES;

use decode::Decoded;
use frame::{Region, View};

/// Scanning errors. Finding no code is not an error: the result is empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    #[error(
        "frame geometry does not fit its buffer: {width}×{height}, row stride {row_stride}, {len} bytes"
    )]
    FrameGeometry {
        width: usize,
        height: usize,
        row_stride: usize,
        len: usize,
    },
    #[error(
        "image is too large to scan: {width}×{height} pixels (limits: {MAX_PIXELS} pixels, {MAX_SIDE} a side)"
    )]
    TooLarge { width: usize, height: usize },
    #[error("image file is larger than {MAX_FILE_BYTES} bytes")]
    FileTooLarge,
    #[error("not a PNG, JPEG, WebP or GIF image")]
    UnsupportedFormat,
    #[error("the image could not be decoded: {0}")]
    ImageDecode(String),
}

/// A point in the caller's frame or image, in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f32,
    pub y: f32,
}

/// One QR code found.
#[derive(Debug, Clone, PartialEq)]
pub struct ScannedCode {
    pub text: String,
    /// The code's outline in frame pixels, in drawing order (clockwise on screen): four
    /// corners when the decoder reports the quadrilateral, else the finder-pattern centres.
    pub corners: Vec<Point>,
    pub payload: Payload,
}

/// Decoders for image files, in the order that measured best on the photo corpora.
pub const IMAGE_STAGES: &[Stage] = &[
    Stage::ZxingCpp,
    Stage::ZxingJava,
    Stage::GlobalHistogram,
    Stage::ZxingCppInverted,
    Stage::Rqrr,
];

/// Decoders for a camera frame at full resolution: the three that fit in a frame's budget.
pub const FRAME_STAGES: &[Stage] = &[Stage::ZxingCpp, Stage::ZxingCppInverted, Stage::ZxingJava];

/// Decoders for the cheap passes (region of interest, half scale).
const QUICK_STAGES: &[Stage] = &[Stage::ZxingCpp, Stage::ZxingCppInverted];

/// Frames with more pixels than this get a half-scale pass first.
const PYRAMID_ABOVE_PIXELS: usize = 1280 * 720;

/// Scans an encoded image (PNG, JPEG, WebP or GIF) with every decoder.
pub fn scan_image(encoded: &[u8]) -> Result<Vec<ScannedCode>, ScanError> {
    let plane = image_file::decode_luma(encoded)?;
    Ok(scan_view(&plane.view(), IMAGE_STAGES))
}

/// Scans a luma plane (already decoded pixels) with the given decoders, in order:
/// the entry point for benchmarks that compare decoder configurations.
pub fn scan_luma(frame: &LumaFrame<'_>, stages: &[Stage]) -> Vec<ScannedCode> {
    scan_view(&frame.view(), stages)
}

/// Scans one camera frame without history.
pub fn scan_frame(frame: &LumaFrame<'_>) -> Vec<ScannedCode> {
    FrameScanner::new().scan(frame)
}

/// The camera loop's scanner: remembers the last code's region and looks there first.
#[derive(Debug, Default)]
pub struct FrameScanner {
    last: Option<Region>,
}

impl FrameScanner {
    pub fn new() -> FrameScanner {
        FrameScanner::default()
    }

    pub fn scan(&mut self, frame: &LumaFrame<'_>) -> Vec<ScannedCode> {
        let (width, height) = (frame.width(), frame.height());
        if let Some(region) = self.last.take()
            && !region.covers_most_of(width, height)
        {
            let found = scan_view(&frame.view_of(region), QUICK_STAGES);
            if !found.is_empty() {
                self.remember(&found);
                return found;
            }
        }
        if width * height > PYRAMID_ABOVE_PIXELS {
            let half = frame.half();
            let found = scan_view(&half.view(), QUICK_STAGES);
            if !found.is_empty() {
                self.remember(&found);
                return found;
            }
        }
        let found = scan_view(&frame.view(), FRAME_STAGES);
        self.remember(&found);
        found
    }

    fn remember(&mut self, found: &[ScannedCode]) {
        let points: Vec<(f32, f32)> = found
            .iter()
            .flat_map(|code| code.corners.iter().map(|p| (p.x, p.y)))
            .collect();
        // Finder centres sit 3.5 modules inside the code: a generous margin keeps it whole
        // while the phone moves.
        self.last = Region::around(&points, 0.5, 256);
    }
}

fn scan_view(view: &View<'_>, stages: &[Stage]) -> Vec<ScannedCode> {
    let mut codes: Vec<ScannedCode> = Vec::new();
    for Decoded { text, corners } in decode::decode(view, stages) {
        if codes.iter().any(|code| code.text == text) {
            continue;
        }
        let corners = outline(corners.into_iter().map(|(x, y)| Point { x, y }));
        let payload = classify(&text);
        codes.push(ScannedCode {
            text,
            corners,
            payload,
        });
    }
    codes
}

/// Orders points by angle around their centroid, so that joining them in turn draws the
/// outline (decoders report corners in their own order, e.g. top-left, top-right, bottom-left).
fn outline(points: impl Iterator<Item = Point>) -> Vec<Point> {
    let mut points: Vec<Point> = points
        .filter(|p| p.x.is_finite() && p.y.is_finite())
        .collect();
    if points.is_empty() {
        return points;
    }
    let n = points.len() as f32;
    let cx = points.iter().map(|p| p.x).sum::<f32>() / n;
    let cy = points.iter().map(|p| p.y).sum::<f32>() / n;
    points.sort_by(|a, b| {
        let angle = |p: &Point| (p.y - cy).atan2(p.x - cx);
        angle(a).total_cmp(&angle(b))
    });
    points
}
