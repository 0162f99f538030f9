//! Adversarial scanner inputs (issue 10, finding 4): pictures built to make a QR detector do
//! as much work as it can — finder patterns tiled so that every triple looks like a code,
//! real codes tiled so that every attempt succeeds, noise and checkerboards that are all
//! edges, and the largest and most lopsided dimensions the pixel limit allows — as PNG files
//! and as 1080p camera frames with padded rows. Deterministic, so every run measures the
//! same inputs; rendering is plain loops, cheap enough for the test profile.

use std::io::Cursor;

pub use image::ExtendedColorType;
use image::ImageEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use qrcode::{Color, EcLevel, QrCode, Version};

/// What a picture is made of.
#[derive(Clone, Copy, Debug)]
pub enum Picture {
    /// Finder patterns (7 × 7 modules), one every `pitch` modules in both directions. At a
    /// pitch of 8 they are packed as tightly as they can be; from 12 on, any three neighbours
    /// form a plausible code outline.
    FinderTiling { module: usize, pitch: usize },
    /// Vertical stripes in a finder pattern's 1:1:3:1:1 rhythm (and a light module): every
    /// row matches, and every match must be checked and rejected.
    FinderStripes { module: usize },
    /// Version-1 codes with distinct texts side by side: every detection attempt succeeds.
    CodeTiling { module: usize },
    /// Independent dark or light squares of `grain` pixels.
    Noise { grain: usize, seed: u64 },
    /// Alternating squares of `cell` pixels.
    Checkerboard { cell: usize },
    /// One grey level, no structure.
    Flat,
}

/// Grey levels of the dark and light parts.
#[derive(Clone, Copy, Debug)]
pub struct Tone {
    pub dark: u8,
    pub light: u8,
}

impl Tone {
    pub const NORMAL: Tone = Tone {
        dark: 20,
        light: 230,
    };
    /// Light patterns on a dark ground (what the inverted decoding stage looks for).
    pub const INVERTED: Tone = Tone {
        dark: 230,
        light: 20,
    };
    /// A range below 24 grey levels: flat to a block-wise (hybrid) binariser, still patterns to
    /// a global or row-average threshold.
    pub const LOW_CONTRAST: Tone = Tone {
        dark: 118,
        light: 134,
    };
}

/// How an image file stores the picture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    GreyPng,
    /// Four bytes a pixel to inflate and convert: the costliest decode per pixel.
    RgbaPng,
    GreyJpeg,
}

/// One adversarial input: a picture at a size.
#[derive(Clone, Debug)]
pub struct Case {
    pub name: String,
    pub width: usize,
    pub height: usize,
    pub picture: Picture,
    pub tone: Tone,
    /// For image files.
    pub format: Format,
}

impl Case {
    pub fn new(width: usize, height: usize, picture: Picture, tone: Tone) -> Case {
        let tone_name = match (tone.dark, tone.light) {
            (20, 230) => "",
            (230, 20) => " inverted",
            _ => " low-contrast",
        };
        Case {
            name: format!("{picture:?}{tone_name} {width}×{height}"),
            width,
            height,
            picture,
            tone,
            format: Format::GreyPng,
        }
    }

    fn stored_as(self, format: Format) -> Case {
        Case {
            name: format!("{} {format:?}", self.name),
            format,
            ..self
        }
    }

    /// The picture as a packed luma plane (row stride = width).
    pub fn luma(&self) -> Vec<u8> {
        render(self.picture, self.tone, self.width, self.height)
    }

    /// The picture as an image file in the case's format.
    pub fn file(&self) -> Vec<u8> {
        let luma = self.luma();
        match self.format {
            Format::GreyPng => encode_png(&luma, self.width, self.height, ExtendedColorType::L8),
            Format::RgbaPng => {
                let rgba: Vec<u8> = luma.iter().flat_map(|&v| [v, v, v, 255]).collect();
                encode_png(&rgba, self.width, self.height, ExtendedColorType::Rgba8)
            }
            Format::GreyJpeg => {
                let mut jpeg = Vec::new();
                JpegEncoder::new_with_quality(&mut jpeg, 90)
                    .write_image(
                        &luma,
                        side(self.width),
                        side(self.height),
                        ExtendedColorType::L8,
                    )
                    .expect("JPEG encodes");
                jpeg
            }
        }
    }

    /// The picture as a camera plane: each row followed by `padding` bytes of unrelated
    /// content (never pixels), and the last row ending right after its pixels, as Android's
    /// planes often do. Returns the bytes and the row stride.
    pub fn padded_frame(&self, padding: usize) -> (Vec<u8>, usize) {
        let packed = self.luma();
        let stride = self.width + padding;
        let mut bytes = Vec::with_capacity(stride * self.height);
        for (y, row) in packed.chunks_exact(self.width).enumerate() {
            bytes.extend_from_slice(row);
            if y + 1 < self.height {
                bytes.extend((0..padding).map(|i| if (i + y) % 3 == 0 { 0 } else { 255 }));
            }
        }
        (bytes, stride)
    }
}

/// Largest side of a square within the scanner's 50-megapixel limit.
pub const LIMIT_SQUARE: usize = 7071;
/// Longest side the scanner accepts (`scan::MAX_SIDE`).
pub const MAX_SIDE: usize = 65_535;

/// Shorthands for the case lists.
fn tiling(module: usize, pitch: usize) -> Picture {
    Picture::FinderTiling { module, pitch }
}

fn stripes(module: usize) -> Picture {
    Picture::FinderStripes { module }
}

fn codes(module: usize) -> Picture {
    Picture::CodeTiling { module }
}

fn noise(grain: usize, seed: u64) -> Picture {
    Picture::Noise { grain, seed }
}

fn checkerboard(cell: usize) -> Picture {
    Picture::Checkerboard { cell }
}

/// Image files: every picture kind, growing sizes up to the pixel limit, the most lopsided
/// shapes within it, and the costliest formats to decode.
pub fn image_files() -> Vec<Case> {
    let n = Tone::NORMAL;
    let square = |side, picture| Case::new(side, side, picture, n);
    let mut cases: Vec<Case> = [250, 500, 1000, 2000]
        .into_iter()
        .map(|side| square(side, tiling(1, 8)))
        .collect();
    cases.extend([
        square(1000, tiling(1, 14)),
        square(2000, tiling(2, 14)),
        square(4000, tiling(3, 12)),
        square(4000, tiling(1, 8)),
        square(2000, stripes(1)),
        square(4000, stripes(60)),
        square(1000, codes(1)),
        square(2000, codes(2)),
        square(2000, noise(1, 7)),
        square(4000, noise(2, 8)),
        square(4000, checkerboard(1)),
        square(2000, checkerboard(3)),
        Case::new(2000, 2000, tiling(2, 12), Tone::LOW_CONTRAST),
        Case::new(2000, 2000, tiling(1, 12), Tone::INVERTED),
    ]);
    // At the pixel limit: square, wide and tall, and the formats costliest to decode.
    let limit = LIMIT_SQUARE;
    cases.extend([
        square(limit, Picture::Flat),
        square(limit, tiling(1, 8)),
        square(limit, tiling(2, 12)),
        square(limit, noise(1, 9)),
        square(limit, codes(2)),
        square(limit, stripes(2)),
        square(limit, Picture::Flat).stored_as(Format::RgbaPng),
        square(limit, noise(4, 10)).stored_as(Format::GreyJpeg),
        Case::new(25_000, 2_000, tiling(1, 12), n),
        Case::new(MAX_SIDE, 762, noise(1, 11), n),
        Case::new(762, MAX_SIDE, checkerboard(1), n),
    ]);
    cases
}

/// 1920 × 1080 camera frames: every picture kind at module sizes a phone would see.
pub fn frames_1080p() -> Vec<Case> {
    let frame = |picture, tone| Case::new(1920, 1080, picture, tone);
    let n = Tone::NORMAL;
    let mut cases: Vec<Case> = [(1, 8), (2, 8), (3, 8), (1, 12), (2, 12), (3, 14), (4, 12)]
        .into_iter()
        .map(|(module, pitch)| frame(tiling(module, pitch), n))
        .collect();
    cases.extend([
        frame(stripes(1), n),
        frame(stripes(3), n),
        frame(stripes(40), n),
        frame(codes(1), n),
        frame(codes(2), n),
        frame(codes(3), n),
        frame(noise(1, 1), n),
        frame(noise(2, 2), n),
        frame(noise(3, 3), n),
        frame(checkerboard(1), n),
        frame(checkerboard(2), n),
        frame(tiling(2, 12), Tone::INVERTED),
        frame(tiling(2, 12), Tone::LOW_CONTRAST),
        frame(Picture::Flat, n),
    ]);
    cases
}

/// Renders `picture` into a packed luma plane.
pub fn render(picture: Picture, tone: Tone, width: usize, height: usize) -> Vec<u8> {
    let paint = |dark: bool| if dark { tone.dark } else { tone.light };
    match picture {
        Picture::FinderTiling { module, pitch } => {
            let finder = finder_modules(pitch);
            fill(width, height, module * pitch, |x, y| {
                let (mx, my) = ((x / module) % pitch, (y / module) % pitch);
                paint(finder[my * pitch + mx])
            })
        }
        Picture::FinderStripes { module } => {
            // Dark, light, three dark, light, dark, then a light separator: 8 modules.
            const RHYTHM: [bool; 8] = [true, false, true, true, true, false, true, false];
            fill(width, height, 1, |x, _| paint(RHYTHM[(x / module) % 8]))
        }
        Picture::CodeTiling { module } => render_code_tiling(width, height, module, &paint),
        Picture::Noise { grain, seed } => {
            let cells_across = width.div_ceil(grain);
            let cells: Vec<bool> = {
                let mut rng = XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
                (0..cells_across * height.div_ceil(grain))
                    .map(|_| rng.next() & 1 == 1)
                    .collect()
            };
            fill(width, height, usize::MAX, |x, y| {
                paint(cells[(y / grain) * cells_across + x / grain])
            })
        }
        Picture::Checkerboard { cell } => fill(width, height, 2 * cell, |x, y| {
            paint((x / cell + y / cell) % 2 == 0)
        }),
        Picture::Flat => vec![128; width * height],
    }
}

/// A plane of `pixel(x, y)`; rows repeat every `period` rows, which are copied rather than
/// computed again (the tests render 50-megapixel pictures unoptimised).
fn fill(width: usize, height: usize, period: usize, pixel: impl Fn(usize, usize) -> u8) -> Vec<u8> {
    let mut plane = Vec::with_capacity(width * height);
    for y in 0..height {
        if y >= period {
            let start = (y - period) * width;
            plane.extend_from_within(start..start + width);
        } else {
            plane.extend((0..width).map(|x| pixel(x, y)));
        }
    }
    plane
}

/// One finder pattern in the top-left corner of a `pitch` × `pitch` module cell.
fn finder_modules(pitch: usize) -> Vec<bool> {
    let mut cell = vec![false; pitch * pitch];
    for y in 0..7 {
        for x in 0..7 {
            let ring = x.min(y).min(6 - x).min(6 - y);
            cell[y * pitch + x] = ring != 1;
        }
    }
    cell
}

/// Distinct version-1 codes (21 modules, 2-module quiet zone) tiled across the plane.
fn render_code_tiling(
    width: usize,
    height: usize,
    module: usize,
    paint: &impl Fn(bool) -> u8,
) -> Vec<u8> {
    const KINDS: usize = 61;
    const PITCH: usize = 25;
    let codes: Vec<Vec<bool>> = (0..KINDS)
        .map(|i| {
            let code = QrCode::with_version(format!("TILE{i:03}"), Version::Normal(1), EcLevel::L)
                .expect("a short text fits version 1");
            code.to_colors().iter().map(|c| *c == Color::Dark).collect()
        })
        .collect();
    let across = width.div_ceil(module * PITCH);
    fill(width, height, usize::MAX, |x, y| {
        let (mx, my) = (x / module, y / module);
        let code = &codes[((my / PITCH) * across + mx / PITCH) % KINDS];
        let (cx, cy) = (mx % PITCH, my % PITCH);
        let inside = (2..23).contains(&cx) && (2..23).contains(&cy);
        paint(inside && code[(cy - 2) * 21 + cx - 2])
    })
}

/// A PNG, compressed fast (the tests encode 50-megapixel ones).
pub fn encode_png(pixels: &[u8], width: usize, height: usize, color: ExtendedColorType) -> Vec<u8> {
    let mut png = Vec::new();
    PngEncoder::new_with_quality(
        Cursor::new(&mut png),
        CompressionType::Fast,
        FilterType::Sub,
    )
    .write_image(pixels, side(width), side(height), color)
    .expect("PNG encodes");
    png
}

fn side(pixels: usize) -> u32 {
    u32::try_from(pixels).expect("image sides fit u32")
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
