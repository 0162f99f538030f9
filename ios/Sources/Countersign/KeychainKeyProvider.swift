import CountersignCore
import CryptoKit
import Foundation
import Security

/// Wraps the vault key with a 256-bit key kept in the Keychain behind biometrics
/// (`.biometryCurrentSet`: a new enrolment invalidates it). Wrapped form: AES-GCM combined
/// (nonce ‖ ciphertext ‖ tag).
public final class KeychainKeyProvider: KeyProvider {
    private let account: String

    public init(account: String = "app.countersign.vault-key") {
        self.account = account
    }

    public func providerId() -> String { "ios-keychain:\(account)" }

    public func wrapKey(key: Data) throws -> Data {
        let sealed = try AES.GCM.seal(key, using: try wrappingKey(create: true))
        guard let combined = sealed.combined else {
            throw CountersignError.Internal(reason: "AES-GCM produced no output")
        }
        return combined
    }

    public func unwrapKey(wrapped: Data) throws -> Data {
        do {
            let box = try AES.GCM.SealedBox(combined: wrapped)
            return try AES.GCM.open(box, using: try wrappingKey(create: false))
        } catch let error as CountersignError {
            throw error
        } catch {
            throw CountersignError.Integrity(reason: "the wrapped vault key does not open")
        }
    }

    private func wrappingKey(create: Bool) throws -> SymmetricKey {
        let query: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrAccount as String: account,
            kSecReturnData as String: true,
        ]
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        if status == errSecSuccess, let data = item as? Data {
            return SymmetricKey(data: data)
        }
        if status == errSecUserCanceled || status == errSecAuthFailed {
            throw CountersignError.KeyStore(reason: "the user did not authenticate")
        }
        guard create, status == errSecItemNotFound else {
            throw CountersignError.KeyStore(reason: "keychain status \(status)")
        }
        let key = SymmetricKey(size: .bits256)
        var error: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(
            nil, kSecAttrAccessibleWhenUnlockedThisDeviceOnly, .biometryCurrentSet, &error
        ) else {
            throw CountersignError.KeyStore(reason: "access control unavailable")
        }
        let add: [String: Any] = [
            kSecClass as String: kSecClassGenericPassword,
            kSecAttrAccount as String: account,
            kSecAttrAccessControl as String: access,
            kSecValueData as String: key.withUnsafeBytes { Data($0) },
        ]
        let added = SecItemAdd(add as CFDictionary, nil)
        guard added == errSecSuccess else {
            throw CountersignError.KeyStore(reason: "keychain status \(added)")
        }
        return key
    }
}
