//! Encoded image files → a luma plane, with limits checked before pixels are allocated.

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};

use super::ScanError;
use super::frame::{MAX_PIXELS, Plane, check_size};

/// Largest file accepted.
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

pub(crate) fn decode_luma(encoded: &[u8]) -> Result<Plane, ScanError> {
    if encoded.len() > MAX_FILE_BYTES {
        return Err(ScanError::FileTooLarge);
    }
    let reader = ImageReader::new(Cursor::new(encoded))
        .with_guessed_format()
        .map_err(|_| ScanError::UnsupportedFormat)?;
    match reader.format() {
        Some(ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Gif) => {}
        _ => return Err(ScanError::UnsupportedFormat),
    }
    let (width, height) = reader
        .into_dimensions()
        .map_err(|error| ScanError::ImageDecode(error.to_string()))?;
    let (width, height) = (width as usize, height as usize);
    check_size(width, height)?;
    let mut reader = ImageReader::new(Cursor::new(encoded))
        .with_guessed_format()
        .map_err(|_| ScanError::UnsupportedFormat)?;
    let mut limits = Limits::default();
    // RGBA at 4 bytes per pixel plus the decoder's working room.
    limits.max_alloc = Some((MAX_PIXELS as u64) * 8);
    reader.limits(limits);
    let image = reader
        .decode()
        .map_err(|error| ScanError::ImageDecode(error.to_string()))?;
    // Grey images are taken as they are; colour ones converted once.
    let luma = image.into_luma8();
    let (width, height) = (luma.width() as usize, luma.height() as usize);
    Ok(Plane::packed(luma.into_raw(), width, height))
}
