//! Synthetic camera frames for the scanner's tests and benchmark: a QR code rendered into a
//! luma plane the way a phone camera sees a code on a monitor or paper — placed anywhere,
//! scaled, rotated, tilted (perspective), blurred, inverted, with lighting gradient and sensor
//! noise. Deterministic (seeded), so every run measures the same frames.

use qrcode::{Color, EcLevel, QrCode};

/// How a code appears in the frame.
#[derive(Clone, Debug)]
pub struct Scene {
    /// Frame size in pixels.
    pub width: usize,
    pub height: usize,
    /// Code centre as a fraction of the frame (0.5, 0.5 = centred).
    pub centre: (f32, f32),
    /// Pixels per module at the code's nearer edge.
    pub module_px: f32,
    /// In-plane rotation, degrees.
    pub angle_deg: f32,
    /// Perspective: the far edge is this fraction shorter than the near edge (0 = flat).
    pub tilt: f32,
    /// Box-blur radius in pixels, applied twice (close to a Gaussian).
    pub blur: usize,
    /// Light modules on a dark ground (dark-mode screens).
    pub inverted: bool,
    /// Luma of dark and light modules.
    pub dark: u8,
    pub light: u8,
    pub seed: u64,
}

impl Scene {
    pub fn plain(width: usize, height: usize, module_px: f32) -> Scene {
        Scene {
            width,
            height,
            centre: (0.5, 0.5),
            module_px,
            angle_deg: 0.0,
            tilt: 0.0,
            blur: 0,
            inverted: false,
            dark: 30,
            light: 215,
            seed: 1,
        }
    }
}

/// The named frame kinds of the benchmark, for a frame of `width` × `height`.
/// `None` as the text means a frame with no code.
pub fn frame_kinds(width: usize, height: usize) -> Vec<(&'static str, Scene)> {
    let base = |module_px: f32| Scene::plain(width, height, module_px);
    vec![
        ("plain", base(6.0)),
        (
            "off-centre",
            Scene {
                centre: (0.2, 0.3),
                ..base(4.0)
            },
        ),
        (
            "small",
            Scene {
                centre: (0.62, 0.58),
                ..base(3.0)
            },
        ),
        (
            "rotated+blurred",
            Scene {
                angle_deg: 33.0,
                blur: 1,
                dark: 55,
                light: 190,
                ..base(5.0)
            },
        ),
        (
            "perspective",
            Scene {
                angle_deg: -12.0,
                tilt: 0.3,
                ..base(5.0)
            },
        ),
        (
            "inverted",
            Scene {
                inverted: true,
                dark: 25,
                light: 200,
                ..base(5.0)
            },
        ),
    ]
}

/// The modules of `text` as a QR code (error correction M), with a 4-module quiet zone.
/// Returns the side in modules and the dark flags row by row.
pub fn modules(text: &str) -> (usize, Vec<bool>) {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .expect("benchmark texts fit in a QR code");
    let inner = code.width();
    let side = inner + 8;
    let colors = code.to_colors();
    let mut dark = vec![false; side * side];
    for y in 0..inner {
        for x in 0..inner {
            dark[(y + 4) * side + x + 4] = colors[y * inner + x] == Color::Dark;
        }
    }
    (side, dark)
}

/// Renders `text` (or no code) into a luma frame of `scene`'s size, row stride = width.
pub fn render(scene: &Scene, text: Option<&str>) -> Vec<u8> {
    let (w, h) = (scene.width, scene.height);
    let mut rng = XorShift(scene.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    // Background: a soft lighting gradient, like a monitor or a sheet under a lamp.
    let mut frame: Vec<f32> = (0..w * h)
        .map(|i| {
            let (x, y) = ((i % w) as f32 / w as f32, (i / w) as f32 / h as f32);
            120.0 + 60.0 * x - 30.0 * y
        })
        .collect();
    if let Some(text) = text {
        let (side, dark) = modules(text);
        let quad = code_quad(scene, side);
        let to_code = homography_unit_square_to(&quad)
            .inverse()
            .expect("a non-degenerate code quad");
        let (min_x, max_x, min_y, max_y) = bounds(&quad, w, h);
        let (dark_luma, light_luma) = if scene.inverted {
            (scene.light as f32, scene.dark as f32)
        } else {
            (scene.dark as f32, scene.light as f32)
        };
        for y in min_y..max_y {
            for x in min_x..max_x {
                // 2 × 2 supersampling stands in for the lens's area sampling.
                let mut sum = 0.0;
                let mut inside = 0;
                for (dx, dy) in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)] {
                    let (u, v) = to_code.apply(x as f32 + dx, y as f32 + dy);
                    if (0.0..1.0).contains(&u) && (0.0..1.0).contains(&v) {
                        inside += 1;
                        let (mx, my) = ((u * side as f32) as usize, (v * side as f32) as usize);
                        sum += if dark[my * side + mx] {
                            dark_luma
                        } else {
                            light_luma
                        };
                    } else {
                        sum += frame[y * w + x];
                    }
                }
                if inside > 0 {
                    frame[y * w + x] = sum / 4.0;
                }
            }
        }
    }
    for _ in 0..2 {
        box_blur(&mut frame, w, h, scene.blur);
    }
    frame
        .iter()
        .map(|&v| (v + rng.noise(6.0)).clamp(0.0, 255.0) as u8)
        .collect()
}

/// Corners (top-left, top-right, bottom-right, bottom-left) of the code with its quiet zone.
fn code_quad(scene: &Scene, side: usize) -> [(f32, f32); 4] {
    let size = side as f32 * scene.module_px;
    let (cx, cy) = (
        scene.centre.0 * scene.width as f32,
        scene.centre.1 * scene.height as f32,
    );
    let half = size / 2.0;
    let far = half * (1.0 - scene.tilt);
    // The top edge recedes: narrower, and the code looks shorter.
    let height_scale = 1.0 - scene.tilt / 2.0;
    let local = [
        (-far, -half * height_scale),
        (far, -half * height_scale),
        (half, half * height_scale),
        (-half, half * height_scale),
    ];
    let (sin, cos) = scene.angle_deg.to_radians().sin_cos();
    local.map(|(x, y)| (cx + x * cos - y * sin, cy + x * sin + y * cos))
}

fn bounds(quad: &[(f32, f32); 4], w: usize, h: usize) -> (usize, usize, usize, usize) {
    let xs = quad.iter().map(|p| p.0);
    let ys = quad.iter().map(|p| p.1);
    let clamp = |v: f32, max: usize| (v.max(0.0) as usize).min(max);
    (
        clamp(xs.clone().fold(f32::MAX, f32::min).floor(), w),
        clamp(xs.fold(f32::MIN, f32::max).ceil() + 1.0, w),
        clamp(ys.clone().fold(f32::MAX, f32::min).floor(), h),
        clamp(ys.fold(f32::MIN, f32::max).ceil() + 1.0, h),
    )
}

/// A 3 × 3 projective transform.
#[derive(Clone, Copy)]
struct Homography([f64; 9]);

impl Homography {
    fn apply(&self, x: f32, y: f32) -> (f32, f32) {
        let m = &self.0;
        let (x, y) = (x as f64, y as f64);
        let w = m[6] * x + m[7] * y + m[8];
        (
            ((m[0] * x + m[1] * y + m[2]) / w) as f32,
            ((m[3] * x + m[4] * y + m[5]) / w) as f32,
        )
    }

    fn inverse(&self) -> Option<Homography> {
        let m = &self.0;
        let cof = [
            m[4] * m[8] - m[5] * m[7],
            m[2] * m[7] - m[1] * m[8],
            m[1] * m[5] - m[2] * m[4],
            m[5] * m[6] - m[3] * m[8],
            m[0] * m[8] - m[2] * m[6],
            m[2] * m[3] - m[0] * m[5],
            m[3] * m[7] - m[4] * m[6],
            m[1] * m[6] - m[0] * m[7],
            m[0] * m[4] - m[1] * m[3],
        ];
        let det = m[0] * cof[0] + m[1] * cof[3] + m[2] * cof[6];
        (det.abs() > 1e-12).then(|| Homography(cof.map(|c| c / det)))
    }
}

/// The projective map taking the unit square's corners (0,0) (1,0) (1,1) (0,1) to `quad`
/// (Heckbert's closed form).
fn homography_unit_square_to(quad: &[(f32, f32); 4]) -> Homography {
    let [(x0, y0), (x1, y1), (x2, y2), (x3, y3)] = quad.map(|(x, y)| (x as f64, y as f64));
    let (sx, sy) = (x0 - x1 + x2 - x3, y0 - y1 + y2 - y3);
    let (dx1, dx2, dy1, dy2) = (x1 - x2, x3 - x2, y1 - y2, y3 - y2);
    let den = dx1 * dy2 - dx2 * dy1;
    let g = (sx * dy2 - dx2 * sy) / den;
    let hh = (dx1 * sy - sx * dy1) / den;
    Homography([
        x1 - x0 + g * x1,
        x3 - x0 + hh * x3,
        x0,
        y1 - y0 + g * y1,
        y3 - y0 + hh * y3,
        y0,
        g,
        hh,
        1.0,
    ])
}

fn box_blur(frame: &mut [f32], w: usize, h: usize, radius: usize) {
    if radius == 0 {
        return;
    }
    let mut tmp = vec![0.0; frame.len()];
    let window = (2 * radius + 1) as f32;
    for y in 0..h {
        for x in 0..w {
            let (a, b) = (x.saturating_sub(radius), (x + radius).min(w - 1));
            let s: f32 = frame[y * w + a..=y * w + b].iter().sum();
            tmp[y * w + x] = s / window.min((b - a + 1) as f32);
        }
    }
    for y in 0..h {
        for x in 0..w {
            let (a, b) = (y.saturating_sub(radius), (y + radius).min(h - 1));
            let s: f32 = (a..=b).map(|yy| tmp[yy * w + x]).sum();
            frame[y * w + x] = s / (b - a + 1) as f32;
        }
    }
}

struct XorShift(u64);

impl XorShift {
    /// Roughly uniform noise in ±`amplitude`.
    fn noise(&mut self, amplitude: f32) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * amplitude
    }
}

/// A `txotp://` payment string of exactly `len` characters (dense: about version 20 at level M).
pub fn txotp_text(len: usize) -> String {
    let mut text = String::from(
        "txotp://totp?message=Approve%20payment&details[Amount]=713.00%20EUR&details[Payee]=Hermione%20Granger",
    );
    let mut i = 0;
    loop {
        let next = format!("&hidden_details[ref{i}]=R{i:04}");
        if text.len() + next.len() > len {
            break;
        }
        text.push_str(&next);
        i += 1;
    }
    // Lengthen the last value to land exactly on `len`.
    while text.len() < len {
        text.push('X');
    }
    text
}
