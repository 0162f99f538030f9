//! QR scanning: camera frames (borrowed, never copied) and image files.

use countersign_app::scan::{self, LumaFrame};

use super::{Authenticator, Result, locked};
use crate::records::ScannedQr;

#[uniffi::export]
impl Authenticator {
    /// Scans one camera frame's luma plane (Android `YUV_420_888` Y plane, iOS 4:2:0 Y plane)
    /// without copying it: `frame` is borrowed for this call only. Remembers where the last
    /// code was, so call it from one camera session.
    pub fn scan_frame(
        &self,
        frame: &[u8],
        width: u32,
        height: u32,
        row_stride: u32,
    ) -> Result<Vec<ScannedQr>> {
        let frame = LumaFrame::new(frame, width as usize, height as usize, row_stride as usize)?;
        let found = locked(&self.frames)?.scan(&frame);
        Ok(found.into_iter().map(ScannedQr::from).collect())
    }

    /// Scans an image file (PNG, JPEG, WebP, GIF), e.g. a screenshot.
    pub fn scan_image(&self, encoded: Vec<u8>) -> Result<Vec<ScannedQr>> {
        Ok(scan::scan_image(&encoded)?
            .into_iter()
            .map(ScannedQr::from)
            .collect())
    }
}
