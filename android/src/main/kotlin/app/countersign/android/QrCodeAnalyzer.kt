package app.countersign.android

import androidx.camera.core.ImageAnalysis
import androidx.camera.core.ImageProxy
import app.countersign.core.Authenticator
import app.countersign.core.CountersignException
import app.countersign.core.ScannedQr
import app.countersign.shell.scanLuma

/**
 * A CameraX analyzer: hands each frame's Y plane to the core in place (no copy) and reports
 * the codes found. Use with `ImageAnalysis.STRATEGY_KEEP_ONLY_LATEST` and the default
 * `YUV_420_888` output; the core keeps its own region of interest between frames.
 */
class QrCodeAnalyzer(
    private val authenticator: Authenticator,
    private val onCodes: (List<ScannedQr>) -> Unit,
) : ImageAnalysis.Analyzer {
    override fun analyze(image: ImageProxy) {
        image.use {
            val luma = it.planes[0]
            val codes = try {
                authenticator.scanLuma(luma.buffer, it.width, it.height, luma.rowStride)
            } catch (e: CountersignException) {
                emptyList() // an odd frame is skipped, never a crash
            }
            if (codes.isNotEmpty()) onCodes(codes)
        }
    }
}
