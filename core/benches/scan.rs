//! Scanner benchmark (issue 4), one run, decoder configurations side by side:
//! 1. decode rate, misreads and contained panics on the photo corpora (`../shared/qr-corpus`,
//!    or `COUNTERSIGN_QR_CORPUS`), every image at 0°, 90°, 180° and 270°, with per-photo times;
//! 2. milliseconds per synthetic camera frame (1280×720 and 1920×1080; otpauth and
//!    600-character txotp codes, each frame kind of `tests/support/frames.rs`, and no code);
//! 3. the worst case (issue 10, finding 4): milliseconds per adversarial image file and 1080p
//!    frame of `tests/support/adversarial.rs`, against the stated budgets (1 s per file,
//!    250 ms per 1080p frame), with the work limits reached.
//!
//! `cargo bench -p countersign-app --bench scan`. Under `cargo test` it runs as a smoke test
//! on a few images and one repetition.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a test fails by panicking

#[path = "../tests/support/adversarial.rs"]
mod adversarial;
#[path = "../tests/support/frames.rs"]
mod frames;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use countersign_app::scan::{
    self, FRAME_STAGES, FrameScanner, IMAGE_STAGES, LumaFrame, Stage, contained_panics,
    work_limits_reached,
};

const CONFIGS: &[(&str, &[Stage])] = &[
    ("rqrr", &[Stage::Rqrr]),
    ("rxing zxing-cpp port", &[Stage::ZxingCpp]),
    (
        "rxing cpp+java (its reader)",
        &[Stage::ZxingCpp, Stage::ZxingJava],
    ),
    ("countersign frame stages", FRAME_STAGES),
    ("countersign image stages", IMAGE_STAGES),
];

/// A corpus photo as a packed luma plane: pixels, width, height, expected text.
type Photo = (Vec<u8>, usize, usize, String);

fn main() {
    // Contained decoder panics are counted, not printed.
    std::panic::set_hook(Box::new(|_| {}));
    let smoke = !std::env::args().any(|a| a == "--bench");
    corpus(smoke);
    camera_frames(smoke);
    worst_case(smoke);
}

fn corpus(smoke: bool) {
    let root = std::env::var_os("COUNTERSIGN_QR_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/qr-corpus"));
    if !root.is_dir() {
        println!(
            "corpus: {} not found (set COUNTERSIGN_QR_CORPUS); skipping the photo part",
            root.display()
        );
        assert!(smoke, "the benchmark needs the QR corpus");
        return;
    }
    println!(
        "## Photo corpora, all four rotations (pass = a decoded text equals the expected text)"
    );
    println!(
        "{:<28} {:>16} {:>16} {:>9} {:>7} {:>9} {:>9}",
        "configuration", "zxing", "zxing-cpp", "misreads", "panics", "median ms", "p95 ms"
    );
    let sets: Vec<(&str, Vec<Photo>)> = ["zxing", "zxing-cpp"]
        .iter()
        .map(|name| {
            (
                *name,
                load_set(&root.join(name), if smoke { 3 } else { usize::MAX }),
            )
        })
        .collect();
    let rotations = if smoke { 1 } else { 4 };
    for (config, stages) in CONFIGS {
        let panics_before = contained_panics();
        let (mut misreads, mut times, mut rates) = (0, Vec::new(), Vec::new());
        for (_, images) in &sets {
            let (mut pass, mut total) = (0, 0);
            for (luma, width, height, expected) in images {
                for turn in 0..rotations {
                    let (pixels, w, h) = rotate(luma, *width, *height, turn);
                    let frame = LumaFrame::new(&pixels, w, h, w).expect("a valid plane");
                    let start = Instant::now();
                    let found = scan::scan_luma(&frame, stages);
                    times.push(start.elapsed().as_secs_f64() * 1e3);
                    total += 1;
                    if found.iter().any(|code| &code.text == expected) {
                        pass += 1;
                    } else if !found.is_empty() {
                        misreads += 1;
                    }
                }
            }
            rates.push(format!(
                "{pass}/{total} {:.1}%",
                100.0 * pass as f64 / total as f64
            ));
        }
        let (median, p95) = percentiles(&mut times);
        println!(
            "{config:<28} {:>16} {:>16} {misreads:>9} {:>7} {median:>9.2} {p95:>9.2}",
            rates[0],
            rates[1],
            contained_panics() - panics_before
        );
    }
}

/// Images of one corpus folder as luma planes, each with its expected text.
fn load_set(dir: &Path, limit: usize) -> Vec<Photo> {
    let mut paths = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("corpus folder readable") {
            let path = entry.expect("corpus entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("png" | "jpg" | "jpeg" | "webp" | "gif")
            ) {
                paths.push(path);
            }
        }
    }
    paths.sort();
    paths
        .into_iter()
        .take(limit)
        .map(|path| {
            let expected = std::fs::read(path.with_extension("txt")).expect("expected text");
            let luma = image::open(&path).expect("corpus image decodes").to_luma8();
            let (w, h) = (luma.width() as usize, luma.height() as usize);
            (
                luma.into_raw(),
                w,
                h,
                String::from_utf8_lossy(&expected).into_owned(),
            )
        })
        .collect()
}

/// Rotates a packed plane by `turns` × 90° clockwise.
fn rotate(luma: &[u8], width: usize, height: usize, turns: usize) -> (Vec<u8>, usize, usize) {
    match turns % 4 {
        0 => (luma.to_vec(), width, height),
        2 => (luma.iter().rev().copied().collect(), width, height),
        turn => {
            let mut out = vec![0; luma.len()];
            for y in 0..height {
                for x in 0..width {
                    let (nx, ny) = if turn == 1 {
                        (height - 1 - y, x)
                    } else {
                        (y, width - 1 - x)
                    };
                    out[ny * height + nx] = luma[y * width + x];
                }
            }
            (out, height, width)
        }
    }
}

fn camera_frames(smoke: bool) {
    let otpauth = "otpauth://totp/Example%20Bank:alice%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Example%20Bank&algorithm=SHA1&digits=6&period=30";
    let txotp = frames::txotp_text(600);
    let repeats = if smoke { 1 } else { 15 };
    println!("\n## Camera frames (ms per frame; every frame decoded unless listed)");
    for (width, height) in [(1280, 720), (1920, 1080)] {
        let mut scenes: Vec<(String, Vec<u8>, Option<&str>)> = Vec::new();
        for (kind, scene) in frames::frame_kinds(width, height) {
            for (label, text) in [("otpauth", otpauth), ("txotp-600", txotp.as_str())] {
                scenes.push((
                    format!("{kind}/{label}"),
                    frames::render(&scene, Some(text)),
                    Some(text),
                ));
            }
        }
        scenes.push((
            "no code".into(),
            frames::render(&frames::Scene::plain(width, height, 4.0), None),
            None,
        ));
        println!("{width}×{height}: {} frames", scenes.len());
        let run = |name: &str, scan: &mut dyn FnMut(&LumaFrame<'_>) -> Vec<scan::ScannedCode>| {
            let (mut times, mut missed) = (Vec::new(), Vec::new());
            for (label, pixels, expected) in &scenes {
                let frame = LumaFrame::new(pixels, width, height, width).expect("a valid frame");
                for _ in 0..repeats {
                    let start = Instant::now();
                    let found = scan(&frame);
                    times.push(start.elapsed().as_secs_f64() * 1e3);
                    let ok = match expected {
                        Some(text) => found.iter().any(|code| code.text == *text),
                        None => found.is_empty(),
                    };
                    if !ok && !missed.contains(label) {
                        missed.push(label.clone());
                    }
                }
            }
            let (median, p95) = percentiles(&mut times);
            println!(
                "  {name:<36} median {median:6.2}  p95 {p95:6.2}  missed: {}",
                if missed.is_empty() {
                    "none".to_owned()
                } else {
                    missed.join(", ")
                }
            );
        };
        for (config, stages) in CONFIGS.iter().take(2) {
            run(config, &mut |frame| scan::scan_luma(frame, stages));
        }
        run("countersign scan_frame (no history)", &mut |frame| {
            scan::scan_frame(frame)
        });
        // The camera loop: the same scene frame after frame, so the region of interest is hot.
        let mut scanner = FrameScanner::new();
        run("countersign FrameScanner (camera loop)", &mut |frame| {
            scanner.scan(frame)
        });
    }
}

fn percentiles(times: &mut [f64]) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.95))
}

/// Release budgets stated in docs/scanner.md.
const FILE_BUDGET: Duration = Duration::from_secs(1);
const FRAME_BUDGET: Duration = Duration::from_millis(250);

/// Every adversarial image file and 1080p frame, timed against its budget. The smoke run
/// (under `cargo test`) takes the frames and the files below 5 megapixels once.
fn worst_case(smoke: bool) {
    let repeats = if smoke { 1 } else { 3 };
    println!(
        "\n## Worst case: adversarial inputs (slowest of {repeats} runs; budget {} ms per file, {} ms per 1080p frame)",
        FILE_BUDGET.as_millis(),
        FRAME_BUDGET.as_millis()
    );
    let mut over = Vec::new();
    for case in adversarial::image_files() {
        if smoke && case.width * case.height > 5_000_000 {
            continue;
        }
        let file = case.file();
        let timed = Timed::run(repeats, || {
            scan::scan_image(&file).map_or(0, |codes| codes.len())
        });
        timed.report("file", &case.name, FILE_BUDGET, &mut over);
    }
    for case in adversarial::frames_1080p() {
        let (bytes, stride) = case.padded_frame(64);
        let frame = LumaFrame::new(&bytes, case.width, case.height, stride).expect("a valid frame");
        let timed = Timed::run(repeats, || scan::scan_frame(&frame).len());
        timed.report("frame", &case.name, FRAME_BUDGET, &mut over);
    }
    let over = if over.is_empty() {
        "none".to_owned()
    } else {
        over.join(", ")
    };
    println!("over budget: {over}");
}

/// The slowest of a few scans of one input, the codes it read and the work limits reached.
struct Timed {
    slowest: Duration,
    codes: usize,
    limits_reached: u64,
}

impl Timed {
    fn run(repeats: usize, mut scan: impl FnMut() -> usize) -> Timed {
        let limits_before = work_limits_reached();
        let (mut slowest, mut codes) = (Duration::ZERO, 0);
        for _ in 0..repeats {
            let start = Instant::now();
            codes = scan();
            slowest = slowest.max(start.elapsed());
        }
        Timed {
            slowest,
            codes,
            limits_reached: (work_limits_reached() - limits_before) / repeats as u64,
        }
    }

    fn report(&self, kind: &str, name: &str, budget: Duration, over: &mut Vec<String>) {
        let verdict = if self.slowest <= budget { "ok" } else { "OVER" };
        println!(
            "  {kind:<5} {name:<50} {:>8.1} ms  {verdict:<4}  codes {:>3}  limits reached {}",
            self.slowest.as_secs_f64() * 1e3,
            self.codes,
            self.limits_reached
        );
        if self.slowest > budget {
            over.push(format!("{kind} {name}"));
        }
    }
}
