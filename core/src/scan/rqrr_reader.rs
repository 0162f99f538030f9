//! rqrr (quirc's algorithm), run on a metered image.
//!
//! rqrr has no work limit of its own, and its cost is not linear: it copies the whole image
//! for every candidate triple of finder patterns, so a picture full of them costs minutes.
//! Its pixels are handed over in [`MeteredImage`], which counts every pixel read, write and
//! copy against an allowance proportional to the image, and stops rqrr (an unwind caught at
//! the stage boundary) when it is spent. What rqrr costs on a real photo is a small multiple
//! of its pixels (docs/scanner.md), far inside the allowance.

use image::{GenericImage, GenericImageView, GrayImage, Luma};

use super::budget::{Allowance, RQRR_ACCESSES_PER_PIXEL, RQRR_MIN_ACCESSES};
use super::decode::Decoded;
use super::frame::View;

/// Every QR code rqrr reads in `view` (in the view's pixel coordinates), within the allowance.
pub(crate) fn read_codes(view: &View<'_>) -> Vec<Decoded> {
    let (Ok(width), Ok(height)) = (u32::try_from(view.width), u32::try_from(view.height)) else {
        return Vec::new();
    };
    let pixels = GrayImage::from_fn(width, height, |x, y| {
        Luma([view.pixel(x as usize, y as usize)])
    });
    let area = (view.width as u64).saturating_mul(view.height as u64);
    let allowance = Allowance::new(
        area.saturating_mul(RQRR_ACCESSES_PER_PIXEL)
            .max(RQRR_MIN_ACCESSES),
    );
    let mut image = rqrr::PreparedImage::prepare(MeteredImage {
        pixels,
        allowance: &allowance,
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

/// A grey image whose every pixel access, and every copy, is paid from an allowance.
struct MeteredImage<'a> {
    pixels: GrayImage,
    allowance: &'a Allowance,
}

impl Clone for MeteredImage<'_> {
    fn clone(&self) -> Self {
        let (width, height) = self.pixels.dimensions();
        self.allowance.spend(u64::from(width) * u64::from(height));
        MeteredImage {
            pixels: self.pixels.clone(),
            allowance: self.allowance,
        }
    }
}

impl GenericImageView for MeteredImage<'_> {
    type Pixel = Luma<u8>;

    fn dimensions(&self) -> (u32, u32) {
        self.pixels.dimensions()
    }

    // Out-of-bounds accesses panic (contained) at rqrr's call, not here: `track_caller`.
    #[track_caller]
    fn get_pixel(&self, x: u32, y: u32) -> Luma<u8> {
        self.allowance.spend(1);
        *self.pixels.get_pixel(x, y)
    }
}

impl GenericImage for MeteredImage<'_> {
    #[track_caller]
    fn get_pixel_mut(&mut self, x: u32, y: u32) -> &mut Luma<u8> {
        self.allowance.spend(1);
        self.pixels.get_pixel_mut(x, y)
    }

    #[track_caller]
    fn put_pixel(&mut self, x: u32, y: u32, pixel: Luma<u8>) {
        self.allowance.spend(1);
        self.pixels.put_pixel(x, y, pixel);
    }

    #[track_caller]
    fn blend_pixel(&mut self, x: u32, y: u32, pixel: Luma<u8>) {
        // Opaque grey: blending is replacing.
        self.put_pixel(x, y, pixel);
    }
}
