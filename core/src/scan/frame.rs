//! Luma planes: a borrowed camera plane (any row stride), and the owned, tightly packed
//! buffers the decoders work on (crops, half-scale copies, decoded image files).

use super::ScanError;

/// Largest frame or image accepted, in pixels (a 48-megapixel photo is 8000 × 6000).
pub const MAX_PIXELS: usize = 50_000_000;

/// Longest side accepted, in pixels: the most JPEG and GIF can store. A PNG may claim more,
/// but decoding costs per row as well as per pixel, and a 1 × 50 000 000 column took 1.8 s.
pub const MAX_SIDE: usize = 65_535;

/// Refuses a picture beyond `MAX_PIXELS` or `MAX_SIDE`, before any pixel is touched.
pub(crate) fn check_size(width: usize, height: usize) -> Result<(), ScanError> {
    let too_many = width
        .checked_mul(height)
        .is_none_or(|pixels| pixels > MAX_PIXELS);
    if too_many || width > MAX_SIDE || height > MAX_SIDE {
        return Err(ScanError::TooLarge { width, height });
    }
    Ok(())
}

/// A camera luma plane borrowed from the platform (Android `YUV_420_888` Y plane, iOS
/// bi-planar 4:2:0 Y plane): `height` rows of `width` bytes, each row starting `row_stride`
/// bytes after the previous one. The last row may end right after its `width` bytes.
#[derive(Clone, Copy)]
pub struct LumaFrame<'a> {
    bytes: &'a [u8],
    width: usize,
    height: usize,
    row_stride: usize,
}

impl<'a> LumaFrame<'a> {
    pub fn new(
        bytes: &'a [u8],
        width: usize,
        height: usize,
        row_stride: usize,
    ) -> Result<LumaFrame<'a>, ScanError> {
        let geometry = ScanError::FrameGeometry {
            width,
            height,
            row_stride,
            len: bytes.len(),
        };
        if width == 0 || height == 0 || row_stride < width {
            return Err(geometry);
        }
        check_size(width, height)?;
        let needed = row_stride
            .checked_mul(height - 1)
            .and_then(|n| n.checked_add(width));
        if needed.is_none_or(|needed| bytes.len() < needed) {
            return Err(geometry);
        }
        Ok(LumaFrame {
            bytes,
            width,
            height,
            row_stride,
        })
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn height(&self) -> usize {
        self.height
    }

    /// The whole frame, borrowed.
    pub(crate) fn view(&self) -> View<'a> {
        self.view_of(Region {
            left: 0,
            top: 0,
            width: self.width,
            height: self.height,
        })
    }

    /// `region` (clamped to the frame), borrowed: a region of interest costs no copy.
    pub(crate) fn view_of(&self, region: Region) -> View<'a> {
        let region = region.clamp(self.width, self.height);
        View {
            data: self.bytes,
            stride: self.row_stride,
            left: region.left,
            top: region.top,
            width: region.width,
            height: region.height,
            scale: 1.0,
            origin: (0.0, 0.0),
        }
    }

    /// A half-size copy, each pixel the mean of a 2 × 2 block: the first pyramid level.
    pub(crate) fn half(&self) -> Plane {
        self.view().reduced(2)
    }
}

/// A rectangle of luma pixels borrowed from a frame or a plane, and how its pixels map to
/// the caller's frame: frame = origin + ((left + x) × scale, (top + y) × scale).
#[derive(Clone, Copy)]
pub(crate) struct View<'a> {
    pub data: &'a [u8],
    pub stride: usize,
    pub left: usize,
    pub top: usize,
    pub width: usize,
    pub height: usize,
    pub scale: f32,
    pub origin: (f32, f32),
}

impl View<'_> {
    /// The pixel at (`x`, `y`) of this view; callers stay inside `width` × `height`.
    pub fn pixel(&self, x: usize, y: usize) -> u8 {
        self.data[(self.top + y) * self.stride + self.left + x]
    }

    pub fn frame_point(&self, (x, y): (f32, f32)) -> (f32, f32) {
        (
            self.origin.0 + (self.left as f32 + x) * self.scale,
            self.origin.1 + (self.top as f32 + y) * self.scale,
        )
    }

    /// A copy `factor` times smaller in each direction, each pixel the mean of a
    /// `factor` × `factor` block (a partial block at the right or bottom edge is dropped).
    pub fn reduced(&self, factor: usize) -> Plane {
        let factor = factor.max(1);
        let (width, height) = (self.width / factor, self.height / factor);
        let area = (factor * factor) as u32;
        let mut pixels = Vec::with_capacity(width * height);
        let mut sums = vec![0u32; width];
        for y in 0..height {
            sums.fill(0);
            for dy in 0..factor {
                let start = (self.top + y * factor + dy) * self.stride + self.left;
                let row = &self.data[start..start + width * factor];
                for (sum, block) in sums.iter_mut().zip(row.chunks_exact(factor)) {
                    *sum += block.iter().map(|&p| u32::from(p)).sum::<u32>();
                }
            }
            pixels.extend(sums.iter().map(|&sum| (sum / area) as u8));
        }
        Plane {
            pixels,
            width,
            height,
            scale: self.scale * factor as f32,
            origin: self.frame_point((0.0, 0.0)),
        }
    }
}

/// An owned, packed luma buffer (a pyramid level, a reduced copy or a decoded image file).
pub(crate) struct Plane {
    pub pixels: Vec<u8>,
    pub width: usize,
    pub height: usize,
    /// Frame pixels per plane pixel.
    pub scale: f32,
    /// Where the plane's top-left corner is in the frame.
    pub origin: (f32, f32),
}

impl Plane {
    /// A decoded image: the plane is the frame.
    pub fn packed(pixels: Vec<u8>, width: usize, height: usize) -> Plane {
        Plane {
            pixels,
            width,
            height,
            scale: 1.0,
            origin: (0.0, 0.0),
        }
    }

    pub fn view(&self) -> View<'_> {
        View {
            data: &self.pixels,
            stride: self.width,
            left: 0,
            top: 0,
            width: self.width,
            height: self.height,
            scale: self.scale,
            origin: self.origin,
        }
    }
}

/// An axis-aligned rectangle in frame pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Region {
    pub left: usize,
    pub top: usize,
    pub width: usize,
    pub height: usize,
}

impl Region {
    /// The bounding box of `points`, grown by `margin` times its size on every side, at
    /// least `min_side` pixels wide and high.
    pub fn around(points: &[(f32, f32)], margin: f32, min_side: usize) -> Option<Region> {
        let finite = points.iter().filter(|p| p.0.is_finite() && p.1.is_finite());
        let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
        let mut any = false;
        for &(x, y) in finite {
            any = true;
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
        }
        if !any {
            return None;
        }
        let grow = |lo: f32, hi: f32| {
            let pad = ((hi - lo) * margin).max((min_side as f32 - (hi - lo)) / 2.0);
            ((lo - pad).max(0.0), (hi + pad).max(0.0))
        };
        let ((x0, x1), (y0, y1)) = (grow(x0, x1), grow(y0, y1));
        Some(Region {
            left: x0 as usize,
            top: y0 as usize,
            width: (x1 - x0).ceil() as usize,
            height: (y1 - y0).ceil() as usize,
        })
    }

    fn clamp(self, width: usize, height: usize) -> Region {
        let left = self.left.min(width.saturating_sub(1));
        let top = self.top.min(height.saturating_sub(1));
        Region {
            left,
            top,
            width: self.width.clamp(1, width - left),
            height: self.height.clamp(1, height - top),
        }
    }

    pub fn covers_most_of(&self, width: usize, height: usize) -> bool {
        self.width * self.height * 10 >= width * height * 6
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_is_checked_before_any_byte_is_read() {
        let bytes = [0u8; 100];
        assert!(LumaFrame::new(&bytes, 10, 10, 10).is_ok());
        // The last row needs only `width` bytes, not a full stride.
        assert!(LumaFrame::new(&bytes[..94], 4, 10, 10).is_ok());
        assert!(matches!(
            LumaFrame::new(&bytes[..93], 4, 10, 10),
            Err(ScanError::FrameGeometry { .. })
        ));
        assert!(
            LumaFrame::new(&bytes, 11, 9, 10).is_err(),
            "stride below width"
        );
        assert!(LumaFrame::new(&bytes, 0, 10, 10).is_err());
        assert!(matches!(
            LumaFrame::new(&bytes, usize::MAX, 2, usize::MAX),
            Err(ScanError::TooLarge { .. })
        ));
        // A side beyond MAX_SIDE is refused even when the pixel count is small.
        assert_eq!(
            LumaFrame::new(&bytes, 1, MAX_SIDE + 1, 1).err(),
            Some(ScanError::TooLarge {
                width: 1,
                height: MAX_SIDE + 1
            })
        );
    }

    #[test]
    fn views_and_halves_keep_frame_coordinates() {
        // 4 × 3 plane with stride 6: value = 10 y + x.
        let mut bytes = vec![255u8; 6 * 3];
        for y in 0..3 {
            for x in 0..4 {
                bytes[y * 6 + x] = (10 * y + x) as u8;
            }
        }
        let frame = LumaFrame::new(&bytes, 4, 3, 6).unwrap();
        let view = frame.view_of(Region {
            left: 1,
            top: 1,
            width: 9,
            height: 9,
        });
        assert_eq!((view.width, view.height), (3, 2));
        assert_eq!((view.pixel(0, 0), view.pixel(2, 1)), (11, 23));
        assert_eq!(view.frame_point((1.0, 0.0)), (2.0, 1.0));
        let half = frame.half();
        assert_eq!((half.width, half.height), (2, 1));
        assert_eq!(half.pixels, vec![5, 7]); // (0+1+10+11)/4, (2+3+12+13)/4
        assert_eq!(half.view().frame_point((1.0, 0.5)), (2.0, 1.0));
    }

    #[test]
    fn a_reduced_region_keeps_frame_coordinates() {
        // 8 × 7 plane, stride 9, value = 10 y + x; the region from (2, 1), 6 × 6, reduced 3×.
        let mut bytes = vec![0u8; 9 * 7];
        for y in 0..7 {
            for x in 0..8 {
                bytes[y * 9 + x] = (10 * y + x) as u8;
            }
        }
        let frame = LumaFrame::new(&bytes, 8, 7, 9).unwrap();
        let region = frame.view_of(Region {
            left: 2,
            top: 1,
            width: 6,
            height: 6,
        });
        let reduced = region.reduced(3);
        assert_eq!((reduced.width, reduced.height), (2, 2));
        // Means of the 3 × 3 blocks whose top-left pixels are (2, 1), (5, 1), (2, 4), (5, 4).
        assert_eq!(reduced.pixels, vec![23, 26, 53, 56]);
        let view = reduced.view();
        assert_eq!(view.frame_point((0.0, 0.0)), (2.0, 1.0));
        assert_eq!(view.frame_point((1.0, 1.0)), (5.0, 4.0));
        // Reducing again composes: one pixel of the 6× level spans 6 frame pixels.
        assert_eq!(view.reduced(2).view().frame_point((0.5, 0.5)), (5.0, 4.0));
    }
}
