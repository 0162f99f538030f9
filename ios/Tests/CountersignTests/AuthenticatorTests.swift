import CoreImage
import CryptoKit
import Foundation
import XCTest
@testable import Countersign
import CountersignCore

/// Mirrors the JVM tests (android/jvm): run on macOS CI with `swift test` after
/// ./build-xcframework.sh. The approval test needs a countersign-server binary
/// (COUNTERSIGN_SERVER_BIN) and is skipped without one.
final class AuthenticatorTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    private func newVault(_ name: String) throws -> Authenticator {
        try Authenticator.create(
            path: dir.appendingPathComponent(name).path, passphrase: "correct horse battery staple",
            kdf: .minimum, clock: nil
        )
    }

    func testEnrolsFromAnOtpauthUriAndItsCodesAreTheRfc6238Vectors() throws {
        let auth = try newVault("rfc.vault")
        let added = try auth.addFromUri(
            text: "otpauth://totp/RFC:6238?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=8&issuer=RFC", tags: []
        )
        XCTAssertEqual(added.count, 1)
        for (time, code) in [(UInt64(59), "94287082"), (1_111_111_109, "07081804"), (1_234_567_890, "89005924")] {
            XCTAssertEqual(try auth.codesAt(unixTime: time).first?.code, code)
        }
    }

    func testTheVaultLocksAndRefusesAWrongPassphrase() throws {
        let auth = try newVault("lock.vault")
        _ = try auth.addFromUri(text: "otpauth://totp/Bank:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Bank", tags: [])
        auth.lock()
        XCTAssertThrowsError(try auth.accounts()) { XCTAssertEqual($0 as? CountersignError, .Locked) }
        XCTAssertThrowsError(try auth.unlockWithPassphrase(passphrase: "wrong")) {
            XCTAssertEqual($0 as? CountersignError, .WrongPassphrase)
        }
        try auth.unlockWithPassphrase(passphrase: "correct horse battery staple")
        XCTAssertEqual(try auth.accounts().first?.label, "alice")
    }

    func testErrorsAreTyped() throws {
        let auth = try newVault("errors.vault")
        XCTAssertThrowsError(try auth.addFromUri(text: "otpauth://totp/Bank:alice?issuer=Bank", tags: [])) { error in
            guard case .InvalidInput(let reason)? = error as? CountersignError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("secret"))
        }
        XCTAssertThrowsError(try auth.scanFrame(frame: Data(count: 10), width: 100, height: 100, rowStride: 100))
    }

    /// A QR code rendered by Core Image, placed in a 1280×720 luma plane with row padding.
    func testScansAFrameWithRowPadding() throws {
        let auth = try newVault("scan.vault")
        let text = "otpauth://totp/Bank:alice?secret=JBSWY3DPEHPK3PXP&issuer=Bank"
        let filter = CIFilter(name: "CIQRCodeGenerator")!
        filter.setValue(Data(text.utf8), forKey: "inputMessage")
        let image = filter.outputImage!.transformed(by: CGAffineTransform(scaleX: 6, y: 6))
        let context = CIContext()
        let extent = image.extent.integral
        let (width, height, stride) = (1280, 720, 1344)
        var plane = Data(repeating: 200, count: stride * height)
        var gray = [UInt8](repeating: 0, count: Int(extent.width * extent.height))
        context.render(image, toBitmap: &gray, rowBytes: Int(extent.width), bounds: extent,
                       format: .L8, colorSpace: CGColorSpaceCreateDeviceGray())
        for y in 0..<Int(extent.height) {
            for x in 0..<Int(extent.width) {
                plane[(200 + y) * stride + 400 + x] = gray[y * Int(extent.width) + x]
            }
        }
        let found = try auth.scanFrame(frame: plane, width: UInt32(width), height: UInt32(height), rowStride: UInt32(stride))
        XCTAssertEqual(found.map(\.text), [text])
        XCTAssertEqual(found.first?.kind, .account)
    }

    func testASoftwareSignerApprovesAgainstARealServer() async throws {
        guard let binary = ProcessInfo.processInfo.environment["COUNTERSIGN_SERVER_BIN"] else {
            throw XCTSkip("set COUNTERSIGN_SERVER_BIN to a countersign-server binary")
        }
        let bank = try await BankServer(binary: binary, dir: dir)
        defer { bank.stop() }
        let user = try await bank.call("POST", "/protected/json/users/new", [
            "user[email]": "hermione@example.com", "user[cellphone]": "7700900123", "user[country_code]": "44",
        ])
        let userId = try XCTUnwrap((user["user"] as? [String: Any])?["id"] as? Int)
        let registration = try await bank.call("POST", "/protected/json/users/\(userId)/registrations", [:])
        let uri = try XCTUnwrap((registration["registration"] as? [String: Any])?["uri"] as? String)
        let auth = try newVault("phone.vault")
        let keys = SoftwareKeys()
        let device = try await auth.registerDevice(link: uri, keys: keys, name: "Mac", os: "ios", pushToken: nil)
        XCTAssertEqual(keys.aliases(), ["app.countersign.device-key.\(device.registrationId)"])
        XCTAssertEqual(device.authyId, Int64(userId))
        let created = try await bank.call("POST", "/onetouch/json/users/\(userId)/approval_requests", [
            "message": "Approve payment", "details[Amount]": "713.00 EUR", "details[Payee]": "Hermione Granger",
        ])
        let uuid = try XCTUnwrap((created["approval_request"] as? [String: Any])?["uuid"] as? String)
        let pending = try await auth.pendingApprovals(keys: keys)
        XCTAssertTrue(pending.failures.isEmpty)
        XCTAssertEqual(pending.requests.map(\.uuid), [uuid])
        XCTAssertEqual(pending.requests.first?.details.map(\.value), ["713.00 EUR", "Hermione Granger"])
        let status = try await auth.answerApproval(keys: keys, uuid: uuid, approve: true, number: nil)
        XCTAssertEqual(status, "approved")
    }
}

/// A countersign-server process on a loopback port with a fresh SQLite database.
final class BankServer {
    let baseUrl: String
    private let apiKey: String
    private let process = Process()

    init(binary: String, dir: URL) async throws {
        let port = Int.random(in: 20_000..<60_000)
        baseUrl = "http://127.0.0.1:\(port)"
        let environment = [
            "COUNTERSIGN_DATABASE_URL": "sqlite:\(dir.appendingPathComponent("bank.db").path)",
            "COUNTERSIGN_PUBLIC_URL": baseUrl,
        ]
        let create = Process()
        create.executableURL = URL(fileURLWithPath: binary)
        create.arguments = ["app", "create", "--name", "Swift Bank", "--json"]
        create.environment = environment
        let output = Pipe()
        create.standardOutput = output
        try create.run()
        create.waitUntilExit()
        let app = try JSONSerialization.jsonObject(with: output.fileHandleForReading.readDataToEndOfFile()) as? [String: Any]
        apiKey = try XCTUnwrap(app?["api_key"] as? String)
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--listen", "127.0.0.1:\(port)"]
        process.environment = environment
        try process.run()
        for _ in 0..<300 {
            if let (_, response) = try? await URLSession.shared.data(from: URL(string: "\(baseUrl)/healthz")!),
               (response as? HTTPURLResponse)?.statusCode == 200 {
                return
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        throw XCTSkip("the server did not start")
    }

    func call(_ method: String, _ path: String, _ form: [String: String]) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: baseUrl + path)!)
        request.httpMethod = method
        request.setValue(apiKey, forHTTPHeaderField: "X-Authy-API-Key")
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        request.httpBody = form.map { key, value in
            "\(key.addingPercentEncoding(withAllowedCharacters: allowed)!)=\(value.addingPercentEncoding(withAllowedCharacters: allowed)!)"
        }.joined(separator: "&").data(using: .utf8)
        let (data, _) = try await URLSession.shared.data(for: request)
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}

/// A CryptoKit key in memory with the Secure Enclave signer's interface (tests only).
final class SoftwareSigner: DeviceSigner, @unchecked Sendable {
    private let key = P256.Signing.PrivateKey()

    func publicKeySpki() throws -> Data { key.publicKey.derRepresentation }

    func signDer(message: Data) throws -> Data { try key.signature(for: message).derRepresentation }
}

/// Software keys by alias with the Secure Enclave key store's interface (tests only).
final class SoftwareKeys: DeviceKeyStore, @unchecked Sendable {
    private var keys: [String: SoftwareSigner] = [:]
    private let lock = NSLock()

    func createKey(alias: String) throws -> DeviceSigner {
        lock.lock()
        defer { lock.unlock() }
        guard keys[alias] == nil else { throw CountersignError.KeyStore(reason: "\(alias) exists") }
        let signer = SoftwareSigner()
        keys[alias] = signer
        return signer
    }

    func key(alias: String) throws -> DeviceSigner {
        lock.lock()
        defer { lock.unlock() }
        guard let signer = keys[alias] else { throw CountersignError.KeyStore(reason: "no key \(alias)") }
        return signer
    }

    func deleteKey(alias: String) throws {
        lock.lock()
        defer { lock.unlock() }
        keys[alias] = nil
    }

    func aliases() -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return Array(keys.keys)
    }
}
