import AVFoundation
import CountersignCore
import Foundation

/// Feeds camera frames to the core: set as the sample-buffer delegate of an
/// `AVCaptureVideoDataOutput` configured for `kCVPixelFormatType_420YpCbCr8BiPlanarFullRange`.
/// The Y plane is passed in place (no copy) with its width, height and bytes per row.
// @unchecked: immutable after init; AVFoundation calls it on one serial queue.
public final class CameraScanner: NSObject, AVCaptureVideoDataOutputSampleBufferDelegate, @unchecked Sendable {
    private let authenticator: Authenticator
    private let onCodes: ([ScannedQr]) -> Void

    public init(authenticator: Authenticator, onCodes: @escaping ([ScannedQr]) -> Void) {
        self.authenticator = authenticator
        self.onCodes = onCodes
    }

    public static let videoSettings: [String: Any] = [
        kCVPixelBufferPixelFormatTypeKey as String: kCVPixelFormatType_420YpCbCr8BiPlanarFullRange,
    ]

    public func captureOutput(
        _ output: AVCaptureOutput, didOutput sampleBuffer: CMSampleBuffer, from connection: AVCaptureConnection
    ) {
        guard let pixels = CMSampleBufferGetImageBuffer(sampleBuffer) else { return }
        if let codes = scan(pixels), !codes.isEmpty {
            onCodes(codes)
        }
    }

    /// Scans the luma plane of a bi-planar 4:2:0 pixel buffer.
    public func scan(_ pixels: CVPixelBuffer) -> [ScannedQr]? {
        CVPixelBufferLockBaseAddress(pixels, .readOnly)
        defer { CVPixelBufferUnlockBaseAddress(pixels, .readOnly) }
        guard CVPixelBufferGetPlaneCount(pixels) >= 1,
              let base = CVPixelBufferGetBaseAddressOfPlane(pixels, 0) else { return nil }
        let width = CVPixelBufferGetWidthOfPlane(pixels, 0)
        let height = CVPixelBufferGetHeightOfPlane(pixels, 0)
        let rowStride = CVPixelBufferGetBytesPerRowOfPlane(pixels, 0)
        // Borrowed for this call only: the buffer stays locked until it returns.
        let plane = Data(bytesNoCopy: base, count: rowStride * height, deallocator: .none)
        return try? authenticator.scanFrame(
            frame: plane, width: UInt32(width), height: UInt32(height), rowStride: UInt32(rowStride)
        )
    }
}
