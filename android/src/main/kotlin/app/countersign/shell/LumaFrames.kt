package app.countersign.shell

import app.countersign.core.Authenticator
import app.countersign.core.ScannedQr
import java.nio.ByteBuffer

/**
 * Feeds a camera luma plane to [Authenticator.scanFrame]. Camera APIs hand out direct
 * buffers (Android `ImageProxy.planes[0].buffer`), which Rust reads in place for the duration
 * of the call; a heap buffer is copied once into a direct one first.
 *
 * [rowStride] is the plane's bytes per row (≥ [width]); the Y plane's pixel stride is 1 on
 * every Android device (`YUV_420_888` guarantees it), so only the row stride varies.
 */
fun Authenticator.scanLuma(plane: ByteBuffer, width: Int, height: Int, rowStride: Int): List<ScannedQr> {
    require(width > 0 && height > 0 && rowStride >= width) { "bad plane geometry" }
    val direct = if (plane.isDirect) {
        plane.slice()
    } else {
        ByteBuffer.allocateDirect(plane.remaining()).put(plane.duplicate()).flip() as ByteBuffer
    }
    return scanFrame(direct, width.toUInt(), height.toUInt(), rowStride.toUInt())
}
