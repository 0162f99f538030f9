//! The scanner (issue 4): synthetic camera frames of every kind, real photos (fixtures taken
//! from the zxing and zxing-cpp corpora, two of which make rqrr panic), every file format,
//! payload classification of what is read, and hostile input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

#[path = "support/frames.rs"]
#[allow(dead_code)]
mod frames;

use std::io::Cursor;
use std::path::Path;

use countersign_app::migration;
use countersign_app::scan::{
    self, FrameScanner, LumaFrame, Payload, PayloadKind, ScanError, ScannedCode,
};
use countersign_app::{Account, OtpParameters, Secret};
use image::{GrayImage, ImageFormat};
use proptest::prelude::*;

const OTPAUTH: &str = "otpauth://totp/Example%20Bank:alice%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Example%20Bank";

fn texts(found: &[ScannedCode]) -> Vec<&str> {
    found.iter().map(|code| code.text.as_str()).collect()
}

#[test]
fn every_synthetic_frame_kind_is_read_at_720p_and_1080p() {
    let txotp = frames::txotp_text(600);
    for (width, height) in [(1280, 720), (1920, 1080)] {
        for (kind, scene) in frames::frame_kinds(width, height) {
            assert!(scene.module_px >= 3.0);
            for text in [OTPAUTH, txotp.as_str()] {
                let pixels = frames::render(&scene, Some(text));
                let frame = LumaFrame::new(&pixels, width, height, width).unwrap();
                let found = scan::scan_frame(&frame);
                assert_eq!(texts(&found), [text], "{width}×{height} {kind}");
                // The outline sits on the code: its centre is near the scene's centre.
                let corners = &found[0].corners;
                assert!(corners.len() >= 3, "{kind}: {corners:?}");
                if kind == "plain" {
                    // Four corners in drawing order enclose the code (shoelace area).
                    assert_eq!(corners.len(), 4);
                    let area: f32 = (0..4)
                        .map(|i| {
                            let (a, b) = (corners[i], corners[(i + 1) % 4]);
                            a.x * b.y - b.x * a.y
                        })
                        .sum::<f32>()
                        .abs()
                        / 2.0;
                    let side = (frames::modules(text).0 - 8) as f32 * scene.module_px;
                    assert!(
                        (area / (side * side) - 1.0).abs() < 0.15,
                        "{kind}: {area} vs {}",
                        side * side
                    );
                }
                let cx = corners.iter().map(|p| p.x).sum::<f32>() / corners.len() as f32;
                let cy = corners.iter().map(|p| p.y).sum::<f32>() / corners.len() as f32;
                let (ex, ey) = (
                    scene.centre.0 * width as f32,
                    scene.centre.1 * height as f32,
                );
                assert!(
                    (cx - ex).abs() < 0.1 * width as f32 && (cy - ey).abs() < 0.1 * height as f32,
                    "{kind}: outline centre ({cx}, {cy}) far from ({ex}, {ey})"
                );
            }
        }
        let empty = frames::render(&frames::Scene::plain(width, height, 4.0), None);
        let frame = LumaFrame::new(&empty, width, height, width).unwrap();
        assert!(scan::scan_frame(&frame).is_empty());
    }
}

#[test]
fn the_camera_loop_follows_a_moving_code_and_forgets_it_when_it_leaves() {
    let mut scanner = FrameScanner::new();
    let (width, height) = (1280, 720);
    for step in 0..6 {
        let scene = frames::Scene {
            centre: (0.3 + 0.08 * step as f32, 0.45 + 0.02 * step as f32),
            ..frames::Scene::plain(width, height, 4.0)
        };
        let pixels = frames::render(&scene, Some(OTPAUTH));
        let frame = LumaFrame::new(&pixels, width, height, width).unwrap();
        assert_eq!(texts(&scanner.scan(&frame)), [OTPAUTH], "step {step}");
    }
    let empty = frames::render(&frames::Scene::plain(width, height, 4.0), None);
    let frame = LumaFrame::new(&empty, width, height, width).unwrap();
    assert!(
        scanner.scan(&frame).is_empty(),
        "no stale result once the code is gone"
    );
    // A different code elsewhere is found again by the full pipeline.
    let scene = frames::Scene {
        centre: (0.8, 0.7),
        ..frames::Scene::plain(width, height, 3.0)
    };
    let pixels = frames::render(&scene, Some("hello"));
    let frame = LumaFrame::new(&pixels, width, height, width).unwrap();
    assert_eq!(texts(&scanner.scan(&frame)), ["hello"]);
}

#[test]
fn padded_rows_and_a_short_last_row_read_like_packed_ones() {
    let (width, height, stride) = (640, 480, 704);
    let scene = frames::Scene {
        angle_deg: 20.0,
        ..frames::Scene::plain(width, height, 4.0)
    };
    let packed = frames::render(&scene, Some(OTPAUTH));
    // Row padding full of noise that must never be read as pixels.
    let mut padded = vec![0u8; stride * height];
    for y in 0..height {
        padded[y * stride..y * stride + width].copy_from_slice(&packed[y * width..(y + 1) * width]);
        for (i, byte) in padded[y * stride + width..(y + 1) * stride]
            .iter_mut()
            .enumerate()
        {
            *byte = ((i * 37 + y * 11) % 256) as u8;
        }
    }
    let expected = scan::scan_frame(&LumaFrame::new(&packed, width, height, width).unwrap());
    assert_eq!(texts(&expected), [OTPAUTH]);
    for bytes in [&padded[..], &padded[..stride * (height - 1) + width]] {
        let frame = LumaFrame::new(bytes, width, height, stride).unwrap();
        let found = scan::scan_frame(&frame);
        assert_eq!(found, expected, "same text and same corners");
    }
}

/// Fixture photos (Apache-2.0, from the zxing / zxing-cpp test corpora; see fixtures/scan/README.md).
fn fixture_photos() -> Vec<(String, Vec<u8>, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan");
    let mut photos: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e != "txt" && e != "md"))
        .map(|path| {
            let expected = std::fs::read_to_string(path.with_extension("txt")).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap(), expected)
        })
        .collect();
    photos.sort();
    assert_eq!(photos.len(), 8);
    photos
}

#[test]
fn real_photos_are_read_at_every_rotation_including_those_that_make_rqrr_panic() {
    for (name, encoded, expected) in fixture_photos() {
        let decoded = image::load_from_memory(&encoded).unwrap();
        for (turn, rotated) in [
            decoded.clone(),
            decoded.rotate90(),
            decoded.rotate180(),
            decoded.rotate270(),
        ]
        .into_iter()
        .enumerate()
        {
            let mut png = Vec::new();
            rotated
                .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
                .unwrap();
            let found = scan::scan_image(if turn == 0 { &encoded } else { &png }).unwrap();
            assert!(
                texts(&found).contains(&expected.as_str()),
                "{name} at {}°: {:?}",
                turn * 90,
                texts(&found)
            );
        }
    }
}

#[test]
fn both_codes_of_a_code_in_a_code_are_reported() {
    // zxing-2-16: a QR code printed inside another (Shift JIS text); each is a real code.
    let photo = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scan/zxing-2-16.png"),
    )
    .unwrap();
    let found = scan::scan_image(&photo).unwrap();
    assert_eq!(found.len(), 2, "{:?}", texts(&found));
    assert!(
        found
            .iter()
            .all(|code| code.text.contains("ダブルQR") || code.text.contains("ﾀﾞﾌﾞﾙQR"))
    );
}

#[test]
fn each_file_format_is_read_and_anything_else_is_a_typed_error() {
    let (width, height) = (400, 400);
    let pixels = frames::render(&frames::Scene::plain(width, height, 4.0), Some(OTPAUTH));
    let image = image::DynamicImage::ImageLuma8(
        GrayImage::from_raw(width as u32, height as u32, pixels).unwrap(),
    );
    for format in [
        ImageFormat::Png,
        ImageFormat::Jpeg,
        ImageFormat::WebP,
        ImageFormat::Gif,
    ] {
        let mut encoded = Vec::new();
        let image = if format == ImageFormat::Png || format == ImageFormat::Jpeg {
            image.clone()
        } else {
            image::DynamicImage::ImageRgba8(image.to_rgba8())
        };
        image
            .write_to(&mut Cursor::new(&mut encoded), format)
            .unwrap();
        let found = scan::scan_image(&encoded).unwrap();
        assert_eq!(texts(&found), [OTPAUTH], "{format:?}");
        // A cut file is a decode error, not a panic.
        let cut = &encoded[..encoded.len() / 2];
        assert!(
            matches!(
                scan::scan_image(cut),
                Err(ScanError::ImageDecode(_)) | Ok(_)
            ),
            "{format:?}"
        );
    }
    // A BMP signature: a real format, not one phones hand to the scanner.
    let bmp = [b"BM".as_slice(), &[0u8; 64]].concat();
    assert_eq!(scan::scan_image(&bmp), Err(ScanError::UnsupportedFormat));
    assert_eq!(
        scan::scan_image(b"hello"),
        Err(ScanError::UnsupportedFormat)
    );
    let mut png = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .unwrap();
    assert!(matches!(
        scan::scan_image(&png[..60]),
        Err(ScanError::ImageDecode(_))
    ));
    // A PNG header claiming 100 000 × 100 000 pixels is refused before any allocation.
    let mut huge = png[..33].to_vec();
    huge[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    huge[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    assert!(matches!(
        scan::scan_image(&huge),
        Err(ScanError::TooLarge { .. } | ScanError::ImageDecode(_))
    ));
}

fn scan_text(text: &str) -> ScannedCode {
    let (width, height) = (1280, 720);
    let pixels = frames::render(&frames::Scene::plain(width, height, 3.0), Some(text));
    let frame = LumaFrame::new(&pixels, width, height, width).unwrap();
    let mut found = scan::scan_frame(&frame);
    assert_eq!(found.len(), 1, "{text}");
    found.remove(0)
}

#[test]
fn scanned_payloads_are_classified_and_parsed() {
    match scan_text(OTPAUTH).payload {
        Payload::Account(parsed) => {
            assert_eq!(parsed.account.issuer.as_deref(), Some("Example Bank"));
            assert_eq!(parsed.account.label, "alice@example.com");
        }
        other => panic!("{other:?}"),
    }

    // A full Google Authenticator export part (up to 900 characters).
    let accounts: Vec<Account> = (0..40)
        .map(|i| {
            Account::new(
                Some(format!("Service {i}")),
                format!("user{i}@example.com"),
                Secret::from_bytes((0..20).map(|b| (b * 7 + i) as u8).collect()).unwrap(),
                OtpParameters::default_totp(),
            )
        })
        .collect();
    let export = migration::encode(&accounts, migration::DEFAULT_MAX_URI_LEN, 77);
    assert!(export.uris.len() >= 2);
    let densest = export.uris.iter().max_by_key(|uri| uri.len()).unwrap();
    assert!(densest.len() > 800, "{}", densest.len());
    let index = export.uris.iter().position(|uri| uri == densest).unwrap();
    match scan_text(densest).payload {
        Payload::MigrationBatch(batch) => {
            assert_eq!(batch.batch_index as usize, index);
            assert_eq!(batch.batch_size as usize, export.uris.len());
            assert_eq!(batch.accounts, migration::decode(densest).unwrap().accounts);
        }
        other => panic!("{other:?}"),
    }

    let txotp = frames::txotp_text(600);
    match scan_text(&txotp).payload {
        Payload::Transaction(parsed) => {
            assert_eq!(parsed.transaction.message, "Approve payment");
            assert_eq!(
                parsed.transaction.details[0],
                ("Amount".into(), "713.00 EUR".into())
            );
            assert!(parsed.is_long());
        }
        other => panic!("{other:?}"),
    }

    let link = "countersign://register?v=1&server=aHR0cHM6Ly9hdXRoLmJhbmsuZXhhbXBsZQ&code=MFRGGZDFMZTWQ2LK";
    match scan_text(link).payload {
        Payload::DeviceRegistration(parsed) => {
            assert_eq!(parsed.server_url, "https://auth.bank.example");
            assert_eq!(parsed.code, "MFRGGZDFMZTWQ2LK");
        }
        other => panic!("{other:?}"),
    }

    assert_eq!(scan_text("https://example.com/x").payload, Payload::Text);
    let broken = scan_text("otpauth://totp/Bank:alice?issuer=Bank");
    assert_eq!(broken.payload.kind(), PayloadKind::Account);
    assert!(matches!(broken.payload, Payload::Malformed { .. }));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_bytes_as_an_image_file_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = scan::scan_image(&bytes);
    }

    #[test]
    fn arbitrary_pngs_prefixes_never_panic(cut in 0usize..2000, flip in any::<u8>(), at in 0usize..2000) {
        let pixels = frames::render(&frames::Scene::plain(200, 200, 3.0), Some("x"));
        let mut png = Vec::new();
        GrayImage::from_raw(200, 200, pixels).unwrap()
            .write_to(&mut Cursor::new(&mut png), ImageFormat::Png).unwrap();
        let len = png.len();
        png[at % len] ^= flip;
        png.truncate(len - cut.min(len));
        let _ = scan::scan_image(&png);
    }

    #[test]
    fn arbitrary_frames_never_panic(
        width in 1usize..96, height in 1usize..96, pad in 0usize..8,
        seed in any::<u64>(), short in 0usize..8,
    ) {
        let stride = width + pad;
        let mut state = seed | 1;
        let mut bytes: Vec<u8> = (0..stride * height).map(|_| {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            if state % 3 == 0 { 0 } else { 255 }
        }).collect();
        bytes.truncate(bytes.len() - short.min(bytes.len()));
        match LumaFrame::new(&bytes, width, height, stride) {
            Ok(frame) => { let _ = FrameScanner::new().scan(&frame); }
            Err(error) => { let geometry = matches!(error, ScanError::FrameGeometry { .. }); prop_assert!(geometry); }
        }
    }
}
