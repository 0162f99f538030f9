import CountersignCore
import Foundation
import LocalAuthentication
import Security

/// A device key in the Secure Enclave: P-256, created once under `tag`, never exportable.
/// Apps hand the core a `SecureEnclaveKeys`, which makes one of these per registration.
/// Signing asks for Face ID / Touch ID / the passcode (`.userPresence`); a refusal reaches the
/// core as `CountersignError.KeyStore`, which comes back to the caller typed.
// @unchecked: the only state is an immutable SecKey, which Security.framework makes thread-safe.
public final class SecureEnclaveSigner: DeviceSigner, @unchecked Sendable {
    private let privateKey: SecKey

    public init(tag: String = "app.countersign.device-key", context: LAContext? = nil) throws {
        if let existing = try SecureEnclaveSigner.find(tag: tag, context: context) {
            privateKey = existing
            return
        }
        var error: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(
            nil, kSecAttrAccessibleWhenUnlockedThisDeviceOnly, [.privateKeyUsage, .userPresence], &error
        ) else {
            throw CountersignError.KeyStore(reason: "access control: \(String(describing: error?.takeRetainedValue()))")
        }
        let attributes: [String: Any] = [
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecAttrKeySizeInBits as String: 256,
            kSecAttrTokenID as String: kSecAttrTokenIDSecureEnclave,
            kSecPrivateKeyAttrs as String: [
                kSecAttrIsPermanent as String: true,
                kSecAttrApplicationTag as String: Data(tag.utf8),
                kSecAttrAccessControl as String: access,
            ],
        ]
        guard let key = SecKeyCreateRandomKey(attributes as CFDictionary, &error) else {
            throw CountersignError.KeyStore(reason: "key creation: \(String(describing: error?.takeRetainedValue()))")
        }
        privateKey = key
    }

    /// Whether a key exists under `tag`.
    static func exists(tag: String, context: LAContext?) throws -> Bool {
        try find(tag: tag, context: context) != nil
    }

    private static func find(tag: String, context: LAContext?) throws -> SecKey? {
        var query: [String: Any] = [
            kSecClass as String: kSecClassKey,
            kSecAttrApplicationTag as String: Data(tag.utf8),
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecReturnRef as String: true,
        ]
        if let context { query[kSecUseAuthenticationContext as String] = context }
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        if status == errSecItemNotFound { return nil }
        guard status == errSecSuccess, let item else {
            throw CountersignError.KeyStore(reason: "keychain status \(status)")
        }
        return (item as! SecKey)
    }

    public func publicKeySpki() throws -> Data {
        guard let publicKey = SecKeyCopyPublicKey(privateKey),
              let raw = SecKeyCopyExternalRepresentation(publicKey, nil) as Data? else {
            throw CountersignError.KeyStore(reason: "no public key")
        }
        // X9.63 uncompressed point → SubjectPublicKeyInfo: the fixed P-256 prefix, then the point.
        let prefix: [UInt8] = [
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01,
            0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
        ]
        return Data(prefix) + raw
    }

    public func signDer(message: Data) throws -> Data {
        var error: Unmanaged<CFError>?
        guard let signature = SecKeyCreateSignature(
            privateKey, .ecdsaSignatureMessageX962SHA256, message as CFData, &error
        ) as Data? else {
            let reason = error.map { String(describing: $0.takeRetainedValue()) } ?? "unknown"
            throw CountersignError.KeyStore(reason: "the user did not authenticate or the key is unavailable: \(reason)")
        }
        return signature // DER, as the core expects
    }
}
