import CountersignCore
import Foundation
import LocalAuthentication
import Security

/// Device keys in the Secure Enclave, one per registration under the tag the core picks
/// (`app.countersign.device-key.<registration id>`), so no two banks see the same public key.
/// Registrations made before keys were per registration name `app.countersign.device-key`,
/// `SecureEnclaveSigner`'s default tag, and keep using that key.
public final class SecureEnclaveKeys: DeviceKeyStore, @unchecked Sendable {
    private let context: LAContext?

    public init(context: LAContext? = nil) {
        self.context = context
    }

    public func createKey(alias: String) throws -> DeviceSigner {
        if try SecureEnclaveSigner.exists(tag: alias, context: context) {
            throw CountersignError.KeyStore(reason: "a key named \(alias) already exists")
        }
        return try SecureEnclaveSigner(tag: alias, context: context)
    }

    public func key(alias: String) throws -> DeviceSigner {
        guard try SecureEnclaveSigner.exists(tag: alias, context: context) else {
            throw CountersignError.KeyStore(reason: "the device key \(alias) is gone")
        }
        return try SecureEnclaveSigner(tag: alias, context: context)
    }

    public func deleteKey(alias: String) throws {
        let query: [String: Any] = [
            kSecClass as String: kSecClassKey,
            kSecAttrApplicationTag as String: Data(alias.utf8),
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
        ]
        let status = SecItemDelete(query as CFDictionary)
        guard status == errSecSuccess || status == errSecItemNotFound else {
            throw CountersignError.KeyStore(reason: "keychain status \(status)")
        }
    }
}
