//! rxing's port of zxing-cpp's QR reader, driven here with work limits.
//!
//! rxing's own entry point (`QrReader::decode_multiple`) finds every finder pattern in the
//! image, checking each new one against all earlier ones, then samples and decodes every
//! plausible triple: quadratic and unbounded in the number of patterns, which a picture
//! tiled with finder patterns makes as large as it likes. This module runs the same steps
//! with rxing's public building blocks — the same row scan, the same pattern test, the same
//! triple ranking — so that a normal picture reads exactly as before, but stops each step at
//! a limit of `budget`: row matches, confirmation attempts and patterns kept while scanning,
//! then triples sampled. Codes read before a limit are returned.

use rxing::common::cpp_essentials::{
    ConcentricPattern, FindLeftGuardBy, FixedPattern, GetPatternRowTP, IsPattern,
    LocateConcentricPattern, PatternRow, PatternView,
};
use rxing::common::{BitMatrix, DetectorRXingResult};
use rxing::point;
use rxing::qrcode::cpp_port::decoder::Decode;
use rxing::qrcode::cpp_port::detector::{GenerateFinderPatternSets, SampleQR};

use super::budget::{
    MAX_CODE_ATTEMPTS, MAX_FINDER_PATTERNS, MAX_LOCATE_ATTEMPTS, MAX_ROW_MATCHES,
    note_limit_reached,
};
use super::decode::Decoded;

/// A finder pattern crossed by a row: dark, light, dark (three modules), light, dark.
const FINDER: FixedPattern<5, 7, false> = FixedPattern::new([1, 1, 3, 1, 1]);

/// Rows scanned: every third (zxing-cpp's "try harder" spacing: a finder pattern's core is
/// at least three pixels high).
const ROW_STEP: usize = 3;

/// Every QR code found in the binarised image, within the work limits.
pub(crate) fn read_codes(image: &BitMatrix) -> Vec<Decoded> {
    let mut patterns = find_finder_patterns(image);
    let mut codes = Vec::new();
    let mut used: Vec<ConcentricPattern> = Vec::new();
    let mut attempts = 0;
    for set in GenerateFinderPatternSets(&mut patterns) {
        // A pattern that belongs to a code already read is not part of another.
        if [set.bl, set.tl, set.tr].iter().any(|p| used.contains(p)) {
            continue;
        }
        if attempts == MAX_CODE_ATTEMPTS {
            note_limit_reached();
            break;
        }
        attempts += 1;
        let Ok(detected) = SampleQR(image, &set) else {
            continue;
        };
        let Ok(decoded) = Decode(detected.getBits()) else {
            continue;
        };
        if decoded.isValid() {
            used.extend([set.bl, set.tl, set.tr]);
            codes.push(Decoded {
                text: decoded.text(),
                corners: detected.getPoints().iter().map(|p| (p.x, p.y)).collect(),
            });
        }
    }
    codes
}

/// Finder patterns in scan order, as zxing-cpp finds them, up to the limits.
fn find_finder_patterns(image: &BitMatrix) -> Vec<ConcentricPattern> {
    let mut found: Vec<ConcentricPattern> = Vec::new();
    let (mut matches, mut locate_attempts) = (0, 0);
    let mut row = PatternRow::default();
    for y in (ROW_STEP - 1..image.height() as usize).step_by(ROW_STEP) {
        GetPatternRowTP(image, y as u32, &mut row, false);
        let mut next = PatternView::new(&row);
        while let Ok(view) = FindLeftGuardBy::<5, _>(next, 5, looks_like_finder) {
            if !view.isValid() {
                break;
            }
            next = view;
            matches += 1;
            if matches > MAX_ROW_MATCHES {
                note_limit_reached();
                return found;
            }
            let run = |i: usize| f32::from(next[i]);
            let centre = point(
                f32::from(next.pixelsInFront()) + run(0) + run(1) + run(2) / 2.0,
                y as f32 + 0.5,
            );
            let inside_known = found
                .iter()
                .any(|old| centre.distance(old.p) < old.size as f32 / 2.0);
            if !inside_known {
                if locate_attempts == MAX_LOCATE_ATTEMPTS {
                    note_limit_reached();
                    return found;
                }
                locate_attempts += 1;
                // The range allows for very skewed samples (three times the row's width).
                let range = next.iter().map(i32::from).sum::<i32>() * 3;
                if let Some(pattern) =
                    LocateConcentricPattern::<true, 5, 7>(image, &FINDER.into(), centre, range)
                {
                    found.push(pattern);
                    if found.len() == MAX_FINDER_PATTERNS {
                        note_limit_reached();
                        return found;
                    }
                }
            }
            next.skipPair();
            next.skipPair();
            next.extend();
        }
    }
    found
}

/// zxing-cpp's test for a finder pattern's row: a quick plausibility check of the runs, then
/// the 1:1:3:1:1 proportions.
fn looks_like_finder(view: &PatternView, space_in_pixel: Option<f32>) -> bool {
    let run = |i: usize| view[i];
    let core = run(2);
    if core < 3 || core < 2 * run(0).max(run(4)) || core < run(1).max(run(3)) {
        return false;
    }
    IsPattern::<true, 5, 7, false>(view, &FINDER, space_in_pixel, 0.1, 0.0, 0.0) != 0.0
}
