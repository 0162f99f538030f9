//! QR codes as PNG images: the modules from `qrcode`, the PNG written here (an 8-bit
//! greyscale image, one zlib-compressed IDAT chunk) over `flate2` and `crc32fast`, so the
//! server needs no image library and its decoders.
//!
//! The geometry is the one the server has always drawn: a quiet zone of 4 modules (2 for a
//! Micro QR), and square modules of `ceil(min(size, 64) / modules)` pixels — the answer's
//! image is therefore small (it scales without loss), whatever `size` is asked.

use std::io::Write;

use base64::Engine;
use flate2::Compression;
use flate2::write::ZlibEncoder;
use qrcode::{Color, EcLevel, QrCode, Version};

const DARK: u8 = 0;
const LIGHT: u8 = 255;
/// The size below which modules stop shrinking.
const MIN_SIZE: u32 = 64;
/// Largest image side drawn, in pixels (a version 40 code at the largest module is far
/// smaller): bounds the memory a caller can make the server allocate.
const MAX_SIDE: u32 = 4096;

/// A PNG of the QR code of `text`, error correction M; `None` when the text does not fit in
/// a QR code.
pub fn qr_png(text: &str, size: u32) -> Option<Vec<u8>> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let (side, pixels) = draw(&code, size)?;
    encode_png(side, &pixels)
}

/// The QR code of `text` as a `data:image/png;base64,…` URL.
pub fn qr_data_url(text: &str, size: u32) -> Option<String> {
    let png = qr_png(text, size)?;
    Some(format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    ))
}

/// The image's side and its greyscale pixels, row by row.
fn draw(code: &QrCode, size: u32) -> Option<(u32, Vec<u8>)> {
    let modules = u32::try_from(code.width()).ok()?;
    let quiet = match code.version() {
        Version::Micro(_) => 2,
        Version::Normal(_) => 4,
    };
    let across = modules + 2 * quiet;
    let unit = size.min(MIN_SIZE).div_ceil(across).max(1);
    let side = across.checked_mul(unit).filter(|s| *s <= MAX_SIDE)?;
    let colors = code.to_colors();
    let mut pixels = vec![LIGHT; (side as usize) * (side as usize)];
    for (i, color) in colors.iter().enumerate() {
        if *color == Color::Light {
            continue;
        }
        let (x, y) = (i as u32 % modules + quiet, i as u32 / modules + quiet);
        for row in y * unit..(y + 1) * unit {
            let start = (row * side + x * unit) as usize;
            pixels[start..start + unit as usize].fill(DARK);
        }
    }
    Some((side, pixels))
}

/// An 8-bit greyscale, non-interlaced PNG of a `side`×`side` image.
fn encode_png(side: u32, pixels: &[u8]) -> Option<Vec<u8>> {
    let mut header = Vec::with_capacity(13);
    header.extend_from_slice(&side.to_be_bytes());
    header.extend_from_slice(&side.to_be_bytes());
    // Bit depth 8, colour type 0 (greyscale), deflate, adaptive filtering, no interlace.
    header.extend_from_slice(&[8, 0, 0, 0, 0]);
    let mut zlib = ZlibEncoder::new(Vec::new(), Compression::default());
    for row in pixels.chunks(side as usize) {
        // Filter type 0 (none) before every scanline.
        zlib.write_all(&[0]).ok()?;
        zlib.write_all(row).ok()?;
    }
    let data = zlib.finish().ok()?;
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &header);
    chunk(&mut png, b"IDAT", &data);
    chunk(&mut png, b"IEND", &[]);
    Some(png)
}

/// Appends a chunk: length, type, data, and the CRC-32 of type and data.
fn chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    // A chunk is at most 2^31 - 1 bytes; an image of at most MAX_SIDE² pixels compresses far
    // below that.
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    png.extend_from_slice(&crc.finalize().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    /// The chunks of a PNG, each checked against its CRC.
    fn chunks(png: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let mut rest = &png[8..];
        let mut found = Vec::new();
        while !rest.is_empty() {
            let length = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
            let kind: [u8; 4] = rest[4..8].try_into().unwrap();
            let data = rest[8..8 + length].to_vec();
            let crc = u32::from_be_bytes(rest[8 + length..12 + length].try_into().unwrap());
            assert_eq!(
                crc,
                crc32fast::hash(&rest[4..8 + length]),
                "CRC of {kind:?}"
            );
            found.push((kind, data));
            rest = &rest[12 + length..];
        }
        found
    }

    /// Decodes our PNG independently: header fields, inflated scanlines, filter bytes.
    fn decode(png: &[u8]) -> (u32, Vec<Vec<u8>>) {
        let chunks = chunks(png);
        let kinds: Vec<&[u8; 4]> = chunks.iter().map(|(k, _)| k).collect();
        assert_eq!(kinds, [b"IHDR", b"IDAT", b"IEND"]);
        let header = &chunks[0].1;
        let width = u32::from_be_bytes(header[..4].try_into().unwrap());
        let height = u32::from_be_bytes(header[4..8].try_into().unwrap());
        assert_eq!(width, height);
        assert_eq!(&header[8..], &[8, 0, 0, 0, 0]);
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(&chunks[1].1[..])
            .read_to_end(&mut raw)
            .unwrap();
        let rows: Vec<Vec<u8>> = raw
            .chunks(width as usize + 1)
            .map(|line| {
                assert_eq!(line[0], 0, "filter type");
                line[1..].to_vec()
            })
            .collect();
        assert_eq!(rows.len(), height as usize);
        (width, rows)
    }

    #[test]
    fn the_png_holds_exactly_the_qr_modules_with_a_four_module_quiet_zone() {
        let text = "countersign://register?v=1&server=https%3A%2F%2Fbank.example&code=ABCDEFGH";
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).unwrap();
        let modules = code.width();
        let (side, rows) = decode(&qr_png(text, 256).unwrap());
        let across = modules + 8;
        let unit = 64usize.div_ceil(across);
        assert_eq!(side as usize, across * unit);
        let colors = code.to_colors();
        for (y, row) in rows.iter().enumerate() {
            for (x, pixel) in row.iter().enumerate() {
                let (mx, my) = (x / unit, y / unit);
                let inside = (4..modules + 4).contains(&mx) && (4..modules + 4).contains(&my);
                let dark = inside && colors[(my - 4) * modules + (mx - 4)] == Color::Dark;
                assert_eq!(*pixel, if dark { 0 } else { 255 }, "pixel ({x}, {y})");
            }
        }
    }

    #[test]
    fn small_sizes_give_one_pixel_modules_and_too_long_text_no_image() {
        let (side, _) = decode(&qr_png("x", 1).unwrap());
        let modules = QrCode::with_error_correction_level(b"x", EcLevel::M)
            .unwrap()
            .width() as u32;
        assert_eq!(side, modules + 8);
        assert!(qr_png(&"9".repeat(10_000), 256).is_none());
    }

    #[test]
    fn the_data_url_is_base64_of_the_png() {
        let url = qr_data_url("otpauth://totp/a?secret=JBSWY3DP", 128).unwrap();
        let encoded = url.strip_prefix("data:image/png;base64,").unwrap();
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .unwrap();
        assert_eq!(
            png,
            qr_png("otpauth://totp/a?secret=JBSWY3DP", 128).unwrap()
        );
    }
}
