package app.countersign.android

import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.UserNotAuthenticatedException
import app.countersign.core.CountersignException
import app.countersign.core.KeyProvider
import java.nio.ByteBuffer
import java.security.KeyStore
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

/**
 * Wraps the vault key with an AES-256-GCM key in the Android Keystore (biometric unlock).
 * Wrapped form: 12-byte IV ‖ ciphertext ‖ tag. A key invalidated by a new biometric
 * enrolment, or an unauthenticated user, is reported as [CountersignException.KeyStore], and
 * the app falls back to the passphrase.
 */
class KeystoreKeyProvider(private val alias: String = "countersign-vault-key") : KeyProvider {
    override fun providerId(): String = "android-keystore:$alias"

    override fun wrapKey(key: ByteArray): ByteArray = keystore {
        val cipher = Cipher.getInstance("AES/GCM/NoPadding").apply { init(Cipher.ENCRYPT_MODE, secretKey()) }
        val sealed = cipher.doFinal(key)
        ByteBuffer.allocate(cipher.iv.size + sealed.size).put(cipher.iv).put(sealed).array()
    }

    override fun unwrapKey(wrapped: ByteArray): ByteArray = keystore {
        if (wrapped.size < 12 + 16) throw CountersignException.Integrity("the wrapped key is truncated")
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.DECRYPT_MODE, secretKey(), GCMParameterSpec(128, wrapped, 0, 12))
        cipher.doFinal(wrapped, 12, wrapped.size - 12)
    }

    private fun <T> keystore(body: () -> T): T =
        try {
            body()
        } catch (e: UserNotAuthenticatedException) {
            throw CountersignException.KeyStore("the user did not authenticate")
        } catch (e: KeyPermanentlyInvalidatedException) {
            throw CountersignException.KeyStore("the key was invalidated by a biometric change")
        }

    private fun secretKey(): SecretKey {
        val store = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }
        (store.getKey(alias, null) as? SecretKey)?.let { return it }
        val spec = KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .setUserAuthenticationRequired(true)
            .setUserAuthenticationParameters(0, KeyProperties.AUTH_BIOMETRIC_STRONG)
            .setInvalidatedByBiometricEnrollment(true)
            .build()
        return KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, "AndroidKeyStore").run {
            init(spec)
            generateKey()
        }
    }
}
